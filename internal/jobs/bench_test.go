package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webnet/internal/jobs"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var backends = []struct {
	name string
	d    store.Dialect
}{{"sqlite", store.SQLite}, {"postgres", store.Postgres}}

// finishedCount counts the jobs in status.
func finishedCount(b *testing.B, db *store.DB, status string) int {
	_, n, err := db.Read().ListJobs(context.Background(), "1=1", nil, webnet.JobQuery{Status: status}, webnet.Page{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkNoopJobs measures enqueue-to-completion throughput of no-op jobs: eight producers
// create jobs one transaction each (as API requests do), one worker with the default
// settings runs them; the clock stops when the last has succeeded. Targets per job: 0 (the
// queue alone) or 1 (a device each: start, finish and the device lock too).
func BenchmarkNoopJobs(b *testing.B) {
	for _, be := range backends {
		for _, targets := range []int{0, 1} {
			b.Run(fmt.Sprintf("%s/targets=%d", be.name, targets), func(b *testing.B) {
				db := openDefault(b, be.d)
				f := newFleet(b, db, max(targets*b.N, 1))
				r, err := jobs.New(jobs.Config{Queue: f.queue, Kinds: []jobs.Kind{jobs.Noop()}})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); r.Run(ctx) }()
				defer func() { cancel(); <-done }()
				b.ResetTimer()
				start := time.Now()
				// Eight producers, as concurrent API requests would be.
				var next atomic.Int64
				var producers sync.WaitGroup
				for range 8 {
					producers.Go(func() {
						for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
							var devices []int64
							if targets == 1 {
								devices = f.devices[i : i+1]
							}
							f.enqueue(b, "noop", nil, devices...)
						}
					})
				}
				producers.Wait()
				for finishedCount(b, db, webnet.JobSucceeded) < b.N {
					time.Sleep(20 * time.Millisecond)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
			})
		}
	}
}

// BenchmarkJobLogLines measures log lines persisted per second: one target writes b.N lines
// through the worker's batched log; the clock stops when the job (and so every line) is
// committed.
func BenchmarkJobLogLines(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := openDefault(b, be.d)
			f := newFleet(b, db, 1)
			n := b.N
			chatty := jobs.Kind{Name: "noop", Run: func(_ context.Context, t *jobs.Target) error {
				for i := range n {
					t.Infof("line %d of the configuration backup of %s, long enough to be a realistic line", i, t.Device.Name)
				}
				return nil
			}}
			r, err := jobs.New(jobs.Config{Queue: f.queue, Kinds: []jobs.Kind{chatty}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); r.Run(ctx) }()
			defer func() { cancel(); <-done }()
			b.ResetTimer()
			start := time.Now()
			id := f.enqueue(b, "noop", nil, f.devices...)
			for {
				j, err := db.Read().JobByID(context.Background(), id)
				if err != nil {
					b.Fatal(err)
				}
				if webnet.JobFinished(j.Status) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lines/s")
			lines, err := db.Read().JobLogs(context.Background(), id, 0, n+10)
			if err != nil || len(lines) < n {
				b.Fatalf("persisted %d lines of %d: %v", len(lines), n, err)
			}
		})
	}
}

// openDefault opens a fresh database with the production pool size (tests use a smaller one).
func openDefault(b *testing.B, d store.Dialect) *store.DB {
	b.Helper()
	cfg := storetest.Config(b, d)
	cfg.MaxOpenConns = 0 // the default: 20 on PostgreSQL
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}
