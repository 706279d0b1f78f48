// Package jobs runs webnet's jobs: workers claim queued jobs from the durable queue (the jobs
// table, through the Queue interface the service layer implements), run each job's targets
// with bounded concurrency, keep a lease on what they run so that a crashed worker's jobs are
// resumed by another, and stop targets promptly when a job is cancelled. A job kind is a
// function over one target. The package never touches SQL or HTTP (architecture test).
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"webnet/internal/webnet"
)

// Kind is one kind of job: what it does to one target device.
type Kind struct {
	// Name is the job kind (webnet.JobSync, …).
	Name string
	// Run does the work on one target. It must return promptly when ctx is done (the job was
	// cancelled, the target timed out, or the worker is stopping). nil means succeeded;
	// Skipped(reason) means there was nothing to do; any other error fails the target with
	// its text as the target's message — so it must never contain a secret.
	Run func(ctx context.Context, t *Target) error
	// Timeout bounds one target (default 10 minutes).
	Timeout time.Duration
	// Concurrency is how many targets of one job run at once (default: the worker's).
	Concurrency int
}

// Target is one device of a running job, handed to Kind.Run.
type Target struct {
	Job    *webnet.Job
	Device webnet.Device
	log    *logBuffer
	mu     sync.Mutex
	result string
	// step records progress (set by the runner; nil: log only).
	step func(step, steps int, message string)
}

// Params decodes the job's parameters into v.
func (t *Target) Params(v any) error {
	if len(t.Job.Params) == 0 {
		return nil
	}
	if err := json.Unmarshal(t.Job.Params, v); err != nil {
		return fmt.Errorf("job parameters: %w", err)
	}
	return nil
}

// Infof adds an info line about this target's device to the job's log.
func (t *Target) Infof(format string, args ...any) { t.logf("info", format, args...) }

// Warnf adds a warning line about this target's device to the job's log.
func (t *Target) Warnf(format string, args ...any) { t.logf("warn", format, args...) }

// Errorf adds an error line about this target's device to the job's log.
func (t *Target) Errorf(format string, args ...any) { t.logf("error", format, args...) }

// Debugf adds a debug line about this target's device to the job's log.
func (t *Target) Debugf(format string, args ...any) { t.logf("debug", format, args...) }

func (t *Target) logf(level, format string, args ...any) {
	id := t.Device.ID
	t.log.add(level, &id, fmt.Sprintf(format, args...))
}

// Step logs the start of step (1-based) of steps with a message and records it as the
// target's progress, at once: a long kind (an upgrade) shows where each device is.
func (t *Target) Step(step, steps int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if t.step == nil {
		t.logf("info", "%s", msg)
		return
	}
	t.step(step, steps, msg)
}

// Result sets the message a succeeded target ends with ("Collected facts; backup unchanged").
func (t *Target) Result(message string) {
	t.mu.Lock()
	t.result = message
	t.mu.Unlock()
}

func (t *Target) resultMessage() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.result
}

// skipped is the error of a target with nothing to do.
type skipped struct{ reason string }

func (s skipped) Error() string { return s.reason }

// Skipped returns the error a Kind's Run returns when the target needs nothing (a device
// already on the target version, say): the target ends skipped with reason as its message.
func Skipped(reason string) error { return skipped{reason} }

// outcome maps what Run returned to the target's final status and message.
func outcome(err error, result string) (status, message string) {
	var s skipped
	switch {
	case err == nil:
		if result == "" {
			result = "Done."
		}
		return webnet.TargetSucceeded, result
	case errors.As(err, &s):
		return webnet.TargetSkipped, s.reason
	default:
		return webnet.TargetFailed, err.Error()
	}
}

// Noop is the built-in no-op kind: each target waits sleep_ms milliseconds (default 0,
// at most 10 minutes) and succeeds, or fails when its device is listed in fail. Tests and
// benchmarks use it; real kinds plug in the same way.
func Noop() Kind {
	return Kind{Name: "noop", Timeout: 11 * time.Minute, Run: func(ctx context.Context, t *Target) error {
		var p struct {
			SleepMS int     `json:"sleep_ms"`
			Fail    []int64 `json:"fail"`
		}
		if err := t.Params(&p); err != nil {
			return err
		}
		if p.SleepMS < 0 || p.SleepMS > 600_000 {
			return fmt.Errorf("sleep_ms must be between 0 and 600000")
		}
		if p.SleepMS > 0 {
			t.Infof("Sleeping %d ms.", p.SleepMS)
			select {
			case <-ctx.Done():
				return fmt.Errorf("stopped while sleeping: %w", context.Cause(ctx))
			case <-time.After(time.Duration(p.SleepMS) * time.Millisecond):
			}
		}
		for _, id := range p.Fail {
			if id == t.Device.ID {
				return fmt.Errorf("failed on purpose (no-op job told to fail on device %d)", id)
			}
		}
		t.Result("No-op done.")
		return nil
	}}
}
