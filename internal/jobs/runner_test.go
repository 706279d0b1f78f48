package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// fleet is one customer with devices on a real database, and a queue over it.
type fleet struct {
	db      *store.DB
	queue   *service.JobQueue
	devices []int64
	cust    int64
}

func newFleet(t testing.TB, db *store.DB, n int) *fleet {
	t.Helper()
	ctx := context.Background()
	f := &fleet{db: db}
	now := time.Now().UTC()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		c := &webnet.Customer{Name: "Acme", Slug: "acme", CreatedAt: now}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		f.cust = c.ID
		for i := range n {
			d := &webnet.Device{CustomerID: c.ID, Name: fmt.Sprintf("r%d", i), Address: "192.0.2.1", Port: 22,
				Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
			f.devices = append(f.devices, d.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.queue, err = service.NewJobQueue(service.JobQueueConfig{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// enqueue creates a job as an API request would, in its own transaction.
func (f *fleet) enqueue(t testing.TB, kind string, params map[string]any, devices ...int64) int64 {
	t.Helper()
	var id int64
	ctx := context.Background()
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		j, err := service.QueuedJobs{}.CreateJob(ctx, tx, service.NewJob{CustomerID: f.cust, Kind: kind, Params: params, DeviceIDs: devices})
		if err == nil {
			id = j.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// start runs a worker until the test ends.
func (f *fleet) start(t *testing.T, cfg jobs.Config) *jobs.Runner {
	t.Helper()
	cfg.Queue = f.queue
	if cfg.Kinds == nil {
		cfg.Kinds = []jobs.Kind{jobs.Noop()}
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	cfg.FlushEvery = 20 * time.Millisecond
	r, err := jobs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// wait polls until job id satisfies cond, or fails the test after 20 s.
func (f *fleet) wait(t *testing.T, id int64, what string, cond func(j *webnet.Job) bool) *webnet.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := f.db.Read().JobByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d never %s: %+v", id, what, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fleet) finished(t *testing.T, id int64) *webnet.Job {
	t.Helper()
	return f.wait(t, id, "finished", func(j *webnet.Job) bool { return webnet.JobFinished(j.Status) })
}

func (f *fleet) logs(t *testing.T, id int64) []webnet.JobLogLine {
	t.Helper()
	lines, err := f.db.Read().JobLogs(context.Background(), id, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) {
			t.Fatalf("job %d log: line %d has seq %d (gap or disorder)", id, i, l.Seq)
		}
	}
	return lines
}

func targetOf(j *webnet.Job, device int64) webnet.JobTarget {
	for _, t := range j.Targets {
		if t.DeviceID == device {
			return t
		}
	}
	return webnet.JobTarget{}
}

func count(lines []webnet.JobLogLine, device int64, prefix string) int {
	n := 0
	for _, l := range lines {
		if l.DeviceID != nil && *l.DeviceID == device && len(l.Message) >= len(prefix) && l.Message[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

func TestJobRunsToCompletion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 3)
		f.start(t, jobs.Config{})
		id := f.enqueue(t, "noop", map[string]any{"sleep_ms": 5}, f.devices...)
		j := f.finished(t, id)
		if j.Status != webnet.JobSucceeded || j.ProgressDone != 3 || j.ProgressTotal != 3 || j.StartedAt == nil || j.FinishedAt == nil {
			t.Fatalf("job: %+v", j)
		}
		lines := f.logs(t, id)
		for _, d := range f.devices {
			if tg := targetOf(j, d); tg.Status != webnet.TargetSucceeded || tg.Message != "No-op done." {
				t.Fatalf("target %d: %+v", d, tg)
			}
			if count(lines, d, "Started on") != 1 || count(lines, d, "Sleeping") != 1 || count(lines, d, "Succeeded: No-op done.") != 1 {
				t.Fatalf("log of device %d: %+v", d, lines)
			}
		}
		if first, last := lines[0].Message, lines[len(lines)-1].Message; first != "Queued: noop of 3 devices." ||
			last != "Finished succeeded: 3 succeeded, 0 failed, 0 skipped." {
			t.Fatalf("log starts %q and ends %q", first, last)
		}
		// The devices are free again: a new job on them is accepted and runs.
		if j := f.finished(t, f.enqueue(t, "noop", nil, f.devices...)); j.Status != webnet.JobSucceeded {
			t.Fatalf("second job: %+v", j)
		}
	})
}

func TestPartialAndFailedJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 3)
		boom := jobs.Kind{Name: "boom", Run: func(context.Context, *jobs.Target) error { panic("kaboom") }}
		f.start(t, jobs.Config{Kinds: []jobs.Kind{jobs.Noop(), boom}})
		id := f.enqueue(t, "noop", map[string]any{"fail": []int64{f.devices[1]}}, f.devices...)
		j := f.finished(t, id)
		if j.Status != webnet.JobPartial || j.ProgressDone != 3 {
			t.Fatalf("job with one failing target: %+v", j)
		}
		bad := targetOf(j, f.devices[1])
		if bad.Status != webnet.TargetFailed || bad.Message == "" {
			t.Fatalf("failing target: %+v", bad)
		}
		for _, d := range []int64{f.devices[0], f.devices[2]} {
			if targetOf(j, d).Status != webnet.TargetSucceeded {
				t.Fatalf("the other targets must succeed: %+v", j.Targets)
			}
		}
		all := f.finished(t, f.enqueue(t, "noop", map[string]any{"fail": f.devices}, f.devices...))
		if all.Status != webnet.JobFailed {
			t.Fatalf("job whose targets all fail: %+v", all)
		}
		// A kind this worker does not know fails its targets with a sentence, not a crash.
		unknown := f.finished(t, f.enqueue(t, "sync", nil, f.devices[0]))
		if unknown.Status != webnet.JobFailed || targetOf(unknown, f.devices[0]).Message != "this worker cannot run sync jobs" {
			t.Fatalf("unknown kind: %+v", unknown)
		}
		// A panicking kind fails its target and the worker goes on.
		pj := f.finished(t, f.enqueue(t, "boom", nil, f.devices[1]))
		if pj.Status != webnet.JobFailed || targetOf(pj, f.devices[1]).Message != "internal error in the boom job kind" {
			t.Fatalf("panicking kind: %+v", pj)
		}
	})
}

func TestConcurrencyIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 12)
		var now, peak atomic.Int32
		probe := jobs.Kind{Name: "probe", Run: func(ctx context.Context, t *jobs.Target) error {
			n := now.Add(1)
			defer now.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
			return nil
		}}
		f.start(t, jobs.Config{Kinds: []jobs.Kind{probe}, Concurrency: 5})
		if j := f.finished(t, f.enqueue(t, "probe", nil, f.devices[:6]...)); j.Status != webnet.JobSucceeded {
			t.Fatalf("job: %+v", j)
		}
		if p := peak.Load(); p < 2 || p > 5 {
			t.Fatalf("peak concurrency %d with a limit of 5", p)
		}
		peak.Store(0)
		if j := f.finished(t, f.enqueue(t, "probe", map[string]any{"concurrency": 3}, f.devices[6:]...)); j.Status != webnet.JobSucceeded {
			t.Fatalf("job: %+v", j)
		}
		if p := peak.Load(); p > 3 {
			t.Fatalf("peak concurrency %d with the job's limit of 3", p)
		}
	})
}

func TestCancelStopsRunningTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 3)
		f.start(t, jobs.Config{Concurrency: 2})
		id := f.enqueue(t, "noop", map[string]any{"sleep_ms": 600000}, f.devices...)
		f.wait(t, id, "running two targets", func(j *webnet.Job) bool {
			n := 0
			for _, tg := range j.Targets {
				if tg.Status == webnet.TargetRunning {
					n++
				}
			}
			return n == 2
		})
		ctx := context.Background()
		cancelled := time.Now()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetJobStatus(ctx, id, webnet.JobRunning, webnet.JobCancelled, time.Now()); err != nil {
				return err
			}
			if err := tx.UnlockPendingDevices(ctx, id); err != nil {
				return err
			}
			if err := tx.CancelPendingTargets(ctx, id); err != nil {
				return err
			}
			return tx.NotifyCancelled(ctx, id)
		})
		if err != nil {
			t.Fatal(err)
		}
		// The running targets stop within a moment: their devices are released once they
		// have, and their sleep ends with the cancellation's cause in the log.
		deadline := time.Now().Add(2 * time.Second)
		for {
			var n int
			busy, err := db.Read().TargetsInStatus(ctx, id, webnet.TargetRunning)
			if err != nil {
				t.Fatal(err)
			}
			n = len(busy)
			lines := f.logs(t, id)
			stopped := 0
			for _, l := range lines {
				if l.DeviceID != nil && l.Message == "Failed: stopped while sleeping: the job was cancelled" {
					stopped++
				}
			}
			if n == 0 && stopped == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("running targets not stopped 2 s after the cancellation: %+v", lines)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("targets stopped %s after the cancellation", time.Since(cancelled))
		j := f.finished(t, id)
		if j.Status != webnet.JobCancelled {
			t.Fatalf("job: %+v", j)
		}
		for _, tg := range j.Targets {
			if tg.Status != webnet.TargetCancelled {
				t.Fatalf("targets of a cancelled job: %+v", j.Targets)
			}
		}
		// Every device is free: a new job on all of them runs.
		f.wait(t, id, "devices released", func(*webnet.Job) bool {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, err := service.QueuedJobs{}.CreateJob(ctx, tx, service.NewJob{CustomerID: f.cust, Kind: "noop", DeviceIDs: f.devices})
				return err
			})
			return err == nil
		})
	})
}

func TestIllegalTransitionsAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 1)
		id := f.enqueue(t, "noop", nil, f.devices[0])
		ctx := context.Background()
		try := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		for _, c := range []struct {
			name string
			fn   func(tx *store.Tx) error
		}{
			{"queued → succeeded", func(tx *store.Tx) error {
				return tx.SetJobStatus(ctx, id, webnet.JobQueued, webnet.JobSucceeded, time.Now())
			}},
			{"queued → partial", func(tx *store.Tx) error {
				return tx.SetJobStatus(ctx, id, webnet.JobQueued, webnet.JobPartial, time.Now())
			}},
			{"pending → succeeded", func(tx *store.Tx) error {
				return tx.SetTargetStatus(ctx, id, f.devices[0], webnet.TargetPending, webnet.TargetSucceeded, "")
			}},
			{"running (it is pending) → failed", func(tx *store.Tx) error {
				return tx.SetTargetStatus(ctx, id, f.devices[0], webnet.TargetRunning, webnet.TargetFailed, "")
			}},
		} {
			if err := try(c.fn); webnet.ErrorCode(err) != webnet.EConflict {
				t.Errorf("%s: %v, want conflict", c.name, err)
			}
		}
		if err := try(func(tx *store.Tx) error {
			return tx.SetJobStatus(ctx, id, webnet.JobQueued, webnet.JobCancelled, time.Now())
		}); err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{webnet.JobQueued, webnet.JobRunning, webnet.JobSucceeded} {
			if err := try(func(tx *store.Tx) error {
				return tx.SetJobStatus(ctx, id, webnet.JobCancelled, to, time.Now())
			}); webnet.ErrorCode(err) != webnet.EConflict {
				t.Errorf("cancelled → %s: %v, want conflict", to, err)
			}
		}
		if j, _ := db.Read().JobByID(ctx, id); j.Status != webnet.JobCancelled {
			t.Fatalf("status after refused transitions: %s", j.Status)
		}
	})
}

// TestResumeAfterWorkerStops: a worker claims a job, starts one target and stops renewing
// (as if killed); another worker resumes the job once the lease has run out: the
// interrupted target fails with the reason, the rest run.
func TestResumeAfterWorkerStops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 3)
		id := f.enqueue(t, "noop", nil, f.devices...)
		ctx := context.Background()
		claims, err := f.queue.Claim(ctx, "dead-worker", 1, 300*time.Millisecond)
		if err != nil || len(claims) != 1 || len(claims[0].Pending) != 3 {
			t.Fatalf("claim: %v %+v", err, claims)
		}
		if err := f.queue.StartTarget(ctx, "dead-worker", id, f.devices[0], nil); err != nil {
			t.Fatal(err)
		}
		r := f.start(t, jobs.Config{Lease: 3 * time.Second})
		j := f.finished(t, id)
		if j.Status != webnet.JobPartial || j.Attempts != 2 {
			t.Fatalf("resumed job: %+v", j)
		}
		if tg := targetOf(j, f.devices[0]); tg.Status != webnet.TargetFailed ||
			tg.Message != "Interrupted: worker dead-worker stopped while this target was running; what it did to the device is unknown, so it was not run again." {
			t.Fatalf("interrupted target: %+v", tg)
		}
		lines := f.logs(t, id)
		want := fmt.Sprintf("Worker dead-worker stopped renewing its lease on this job (crashed, killed or cut off); worker %s resumes it (attempt 2). 1 interrupted target(s) failed.", r.Name())
		found := false
		for _, l := range lines {
			found = found || l.Message == want
		}
		if !found {
			t.Fatalf("no takeover line in %+v", lines)
		}
		// The dead worker, were it to come back, can change nothing.
		if _, err := f.queue.FinishTarget(ctx, "dead-worker", id, f.devices[1], webnet.TargetFailed, "late", nil); err != nil {
			t.Fatal(err)
		}
		if j2, _ := db.Read().JobByID(ctx, id); targetOf(j2, f.devices[1]).Status != webnet.TargetSucceeded {
			t.Fatalf("a stale worker changed a target: %+v", j2.Targets)
		}
	})
}

// TestShutdownHandsJobsOn: a stopping worker stops its targets after the grace period and
// releases the job at once; another worker resumes it.
func TestShutdownHandsJobsOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 2)
		r, err := jobs.New(jobs.Config{Queue: f.queue, Kinds: []jobs.Kind{jobs.Noop()}, Poll: 50 * time.Millisecond,
			ShutdownGrace: 100 * time.Millisecond, Concurrency: 1, Name: "leaving"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx) }()
		id := f.enqueue(t, "noop", map[string]any{"sleep_ms": 600000}, f.devices...)
		f.wait(t, id, "running", func(j *webnet.Job) bool { return targetOf(j, f.devices[0]).Status == webnet.TargetRunning })
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("worker did not stop")
		}
		// Resume with a worker whose kind does not sleep.
		fast := jobs.Kind{Name: "noop", Run: func(context.Context, *jobs.Target) error { return nil }}
		f.start(t, jobs.Config{Kinds: []jobs.Kind{fast}})
		j := f.finished(t, id)
		if j.Status != webnet.JobPartial || targetOf(j, f.devices[1]).Status != webnet.TargetSucceeded ||
			targetOf(j, f.devices[0]).Status != webnet.TargetFailed {
			t.Fatalf("job handed on: %+v", j)
		}
	})
}

// TestTwoWorkersRunEachJobOnce: two processes' workers share the queue; every job runs
// exactly once.
func TestTwoWorkersRunEachJobOnce(t *testing.T) {
	for name, d := range map[string]store.Dialect{"sqlite": store.SQLite, "postgres": store.Postgres} {
		t.Run(name, func(t *testing.T) {
			cfg := storetest.Config(t, d)
			ctx := context.Background()
			a, b := openProcess(t, ctx, cfg), openProcess(t, ctx, cfg)
			f := newFleet(t, a, 40)
			fb := &fleet{db: b, cust: f.cust, devices: f.devices}
			fb.queue, _ = service.NewJobQueue(service.JobQueueConfig{DB: b})
			var runs sync.Map
			var dup atomic.Int32
			counting := jobs.Kind{Name: "noop", Run: func(_ context.Context, t *jobs.Target) error {
				if _, loaded := runs.LoadOrStore(fmt.Sprint(t.Job.ID, "/", t.Device.ID), true); loaded {
					dup.Add(1)
				}
				return nil
			}}
			f.start(t, jobs.Config{Kinds: []jobs.Kind{counting}, Name: "a"})
			fb.start(t, jobs.Config{Kinds: []jobs.Kind{counting}, Name: "b"})
			var ids []int64
			for round := range 5 {
				for i, dev := range f.devices {
					if (i+round)%2 == 0 {
						ids = append(ids, f.enqueue(t, "noop", nil, dev))
					} else {
						ids = append(ids, fb.enqueue(t, "noop", nil, dev))
					}
				}
				for _, id := range ids[len(ids)-len(f.devices):] {
					f.finished(t, id)
				}
			}
			byWorker := map[string]int{}
			for _, id := range ids {
				j := f.finished(t, id)
				if j.Status != webnet.JobSucceeded || j.Attempts != 1 {
					t.Fatalf("job %d: %+v", id, j)
				}
				lines := f.logs(t, id)
				if count(lines, j.Targets[0].DeviceID, "Started on") != 1 {
					t.Fatalf("job %d started %d times", id, count(lines, j.Targets[0].DeviceID, "Started on"))
				}
				byWorker[j.Worker]++
			}
			if dup.Load() != 0 {
				t.Fatalf("%d targets ran twice", dup.Load())
			}
			t.Logf("jobs per worker: %v", byWorker)
		})
	}
}

func openProcess(t *testing.T, ctx context.Context, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	listenCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); db.Listen(listenCtx) }()
	t.Cleanup(func() { stop(); <-done })
	return db
}
