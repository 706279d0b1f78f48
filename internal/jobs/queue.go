package jobs

import (
	"context"
	"sync"
	"time"

	"webnet/internal/webnet"
)

// Queue is the durable queue as workers see it; service.JobQueue implements it over the
// database. Each method is one transaction, and each takes the worker's name so that a worker
// that lost a job (cancelled, or taken over after its lease ran out) cannot change it.
type Queue interface {
	// Claim claims up to n jobs: queued ones, and running ones whose worker stopped renewing
	// its lease. A resumed job comes with its interrupted targets already failed and a log
	// line saying why; a job resumed too many times comes back finished (not returned).
	Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]Claim, error)
	// Renew extends the lease of the worker's jobs and returns those it still holds.
	Renew(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error)
	// Release ends the lease of a job at once so that another worker resumes it.
	Release(ctx context.Context, worker string, id int64) error
	// StartTarget moves a pending target to running (conflict when it is no longer pending)
	// after appending lines to the job's log.
	StartTarget(ctx context.Context, worker string, jobID, deviceID int64, lines []webnet.JobLogLine) error
	// FinishTarget appends lines, then moves a running target to status with message and
	// releases its device. A target cancelled meanwhile keeps its status; its device is
	// released all the same. When it was the job's last unfinished target, the job ends in
	// the same transaction and FinishTarget returns the job's final status ("" otherwise).
	FinishTarget(ctx context.Context, worker string, jobID, deviceID int64, status, message string, lines []webnet.JobLogLine) (string, error)
	// TargetStep appends lines, then records that a running target is at step of steps
	// (nothing when the job is no longer the worker's).
	TargetStep(ctx context.Context, worker string, jobID, deviceID int64, step, steps int, lines []webnet.JobLogLine) error
	// AppendLog appends lines to the job's log.
	AppendLog(ctx context.Context, jobID int64, lines []webnet.JobLogLine) error
	// FinishJob appends lines and ends the running job with the status its targets add up
	// to: succeeded, partial or failed. It returns that status, or "" when the job is no
	// longer the worker's (cancelled meanwhile).
	FinishJob(ctx context.Context, worker string, jobID int64, lines []webnet.JobLogLine) (string, error)
	// Subscribe calls fn for queue events from every process until cancel is called; fn must
	// not block.
	Subscribe(fn func(Event)) (cancel func())
}

// Claim is a job a worker has claimed, with the devices of its pending targets.
type Claim struct {
	Job *webnet.Job
	// Pending lists the devices still to run, in order.
	Pending []webnet.Device
	// Failed counts the job's targets that failed before this claim (a resumed job's).
	Failed int
}

// Event is news for workers: a job was enqueued somewhere (Enqueued), a job was cancelled
// (Cancelled, its id), or notifications may have been lost (Reset: poll now).
type Event struct {
	Enqueued  bool
	Cancelled int64
	Reset     bool
}

// logBuffer collects a job's log lines between writes. Lines are written in the order they
// were added: whoever writes (the periodic flush, a target finishing) holds write while it
// takes the lines and commits them, so a later batch never commits before an earlier one.
type logBuffer struct {
	clock webnet.Clock
	mu    sync.Mutex
	lines []webnet.JobLogLine
	full  chan struct{} // signalled when enough lines wait to be worth a write now
	write sync.Mutex
}

// flushAt is the number of waiting lines that triggers a write before the next tick.
const flushAt = 512

func newLogBuffer(clock webnet.Clock) *logBuffer {
	return &logBuffer{clock: clock, full: make(chan struct{}, 1)}
}

func (b *logBuffer) add(level string, device *int64, message string) {
	b.mu.Lock()
	b.lines = append(b.lines, webnet.JobLogLine{At: b.clock.Now(), Level: level, DeviceID: device, Message: message})
	n := len(b.lines)
	b.mu.Unlock()
	if n >= flushAt {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
}

// take removes and returns the waiting lines, plus extra lines after them.
func (b *logBuffer) take(extra ...webnet.JobLogLine) []webnet.JobLogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append(b.lines, extra...)
	b.lines = nil
	return out
}

// line makes one log line stamped now.
func (b *logBuffer) line(level string, device *int64, message string) webnet.JobLogLine {
	return webnet.JobLogLine{At: b.clock.Now(), Level: level, DeviceID: device, Message: message}
}
