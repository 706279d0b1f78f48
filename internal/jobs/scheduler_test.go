package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"webnet/internal/jobs"
)

// countingRunner counts scans; the first fail scans return an error.
type countingRunner struct {
	scans atomic.Int64
	fail  int64
	// block, when set, makes a scan wait for ctx to be done.
	block bool
}

func (r *countingRunner) RunDueSchedules(ctx context.Context) (int, error) {
	n := r.scans.Add(1)
	if r.block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if n <= r.fail {
		return 0, errors.New("database unreachable")
	}
	return 1, nil
}

func TestNewSchedulerRefusesBadConfig(t *testing.T) {
	for _, cfg := range []jobs.SchedulerConfig{
		{},
		{Runner: &countingRunner{}, Interval: -time.Second},
		{Runner: &countingRunner{}, Interval: 2 * time.Minute},
	} {
		if _, err := jobs.NewScheduler(cfg); err == nil {
			t.Errorf("NewScheduler(%+v) accepted", cfg)
		}
	}
	if _, err := jobs.NewScheduler(jobs.SchedulerConfig{Runner: &countingRunner{}}); err != nil {
		t.Errorf("default interval: %v", err)
	}
}

// TestSchedulerScansUntilCancelled: a scan at once, then one per interval; failed scans do
// not stop the loop; Run returns nil soon after ctx is done.
func TestSchedulerScansUntilCancelled(t *testing.T) {
	r := &countingRunner{fail: 2}
	s, err := jobs.NewScheduler(jobs.SchedulerConfig{Runner: r, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for r.scans.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d scans in 5s", r.scans.Load())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	waitReturn(t, done)
	after := r.scans.Load()
	time.Sleep(20 * time.Millisecond)
	if r.scans.Load() != after {
		t.Fatal("scans went on after Run returned")
	}
}

// TestSchedulerStopsDuringAScan: a scan in progress sees ctx done, and Run returns once it
// has.
func TestSchedulerStopsDuringAScan(t *testing.T) {
	r := &countingRunner{block: true}
	s, err := jobs.NewScheduler(jobs.SchedulerConfig{Runner: r, Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for r.scans.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	waitReturn(t, done)
	if n := r.scans.Load(); n != 1 {
		t.Fatalf("%d scans; want 1", n)
	}
}

// waitReturn waits for Run's result on done: nil, within 5 s.
func waitReturn(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
