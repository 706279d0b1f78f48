package jobs

// This file is the scheduler loop: it asks the service, at a steady interval, to run the
// schedules whose tick has come. What a run does, and that each tick runs exactly once
// however many processes ask, is the service's (service.Core.RunDueSchedules).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultSchedulerInterval is how often a Scheduler looks for due schedules unless told
// otherwise: a schedule's tick fires at most this long after its time.
const DefaultSchedulerInterval = 15 * time.Second

// maxSchedulerInterval bounds the interval: schedules may tick once a minute, and a scan
// less often than that would merge such ticks (a missed tick fires once, late, and the
// schedule moves on).
const maxSchedulerInterval = time.Minute

// ScheduleRunner runs the schedules whose tick has come and says how many jobs that
// created (service.Core.RunDueSchedules).
type ScheduleRunner interface {
	RunDueSchedules(ctx context.Context) (int, error)
}

// SchedulerConfig configures a Scheduler. Runner is required.
type SchedulerConfig struct {
	Runner ScheduleRunner
	// Interval is the time between two scans (default DefaultSchedulerInterval, at most a
	// minute).
	Interval time.Duration
	Logger   *slog.Logger
}

// Scheduler scans for due schedules at a steady interval. Every webnet process may run one
// against the same database: the runner makes each tick run once whichever process sees it
// first.
type Scheduler struct {
	runner   ScheduleRunner
	interval time.Duration
	log      *slog.Logger
}

// NewScheduler returns a Scheduler, refusing a config without a runner or with an interval
// outside (0, 1m].
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Runner == nil {
		return nil, errors.New("scheduler: Runner is required")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultSchedulerInterval
	}
	if cfg.Interval < 0 || cfg.Interval > maxSchedulerInterval {
		return nil, fmt.Errorf("scheduler: interval %s is outside (0, %s]", cfg.Interval, maxSchedulerInterval)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{runner: cfg.Runner, interval: cfg.Interval, log: cfg.Logger}, nil
}

// Run scans at once and then every interval until ctx is done, and returns nil then. It
// starts no goroutine: a scan runs in the caller's, and Run returns only after the scan in
// progress (which sees ctx cancelled) has. A failed scan is logged and the next one tries
// again.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.scan(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// scan runs the due schedules once.
func (s *Scheduler) scan(ctx context.Context) {
	start := time.Now()
	n, err := s.runner.RunDueSchedules(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: the tick is still due, and the next process to scan runs it.
	case err != nil:
		s.log.ErrorContext(ctx, "run due schedules", "err", err, "jobs", n)
	case n > 0:
		s.log.InfoContext(ctx, "scheduled jobs created", "jobs", n, "took", time.Since(start).Round(time.Millisecond).String())
	}
}
