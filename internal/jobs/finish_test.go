package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"webnet/internal/jobs"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestConcurrentJobEndsAreEachExact: many job ends arriving at once are committed in shared
// transactions (group commit), yet each is decided on its own: the worker's jobs end with
// their own status and summary line, a job cancelled meanwhile stays cancelled and one
// another worker holds is left alone — whichever batch each lands in.
func TestConcurrentJobEndsAreEachExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 0)
		ctx := context.Background()
		const n = 40
		var ids []int64
		for range n {
			ids = append(ids, f.enqueue(t, "noop", nil))
		}
		claims, err := f.queue.Claim(ctx, "w1", n, time.Minute)
		if err != nil || len(claims) != n {
			t.Fatalf("claim: %d, %v", len(claims), err)
		}
		// Every fifth job is cancelled while w1 runs it; job 3 is taken over by w2.
		cancelled := map[int64]bool{}
		for i := 0; i < n; i += 5 {
			cancelled[ids[i]] = true
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetJobStatus(ctx, ids[i], webnet.JobRunning, webnet.JobCancelled, time.Now())
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SQL().ExecContext(ctx, rebindFor(db, `UPDATE jobs SET worker = 'w2' WHERE id = ?`), ids[3]); err != nil {
			t.Fatal(err)
		}
		statuses := make([]string, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				var err error
				statuses[i], err = f.queue.FinishJob(ctx, "w1", id, []webnet.JobLogLine{{At: time.Now(), Level: "info", Message: "done"}})
				if err != nil {
					t.Errorf("finish %d: %v", id, err)
				}
			})
		}
		wg.Wait()
		for i, id := range ids {
			j, err := db.Read().JobByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			lines := f.logs(t, id)
			last := lines[len(lines)-1].Message
			switch {
			case cancelled[id]:
				if statuses[i] != "" || j.Status != webnet.JobCancelled || last == "Finished succeeded: 0 succeeded, 0 failed, 0 skipped." {
					t.Errorf("cancelled job %d: finish said %q, status %s, last line %q", id, statuses[i], j.Status, last)
				}
			case i == 3:
				if statuses[i] != "" || j.Status != webnet.JobRunning {
					t.Errorf("w2's job %d: finish said %q, status %s", id, statuses[i], j.Status)
				}
			default:
				if statuses[i] != webnet.JobSucceeded || j.Status != webnet.JobSucceeded || j.FinishedAt == nil ||
					last != "Finished succeeded: 0 succeeded, 0 failed, 0 skipped." || lines[len(lines)-2].Message != "done" {
					t.Errorf("job %d: finish said %q, status %s, last lines %+v", id, statuses[i], j.Status, lines[max(0, len(lines)-2):])
				}
				for k, l := range lines {
					if l.Seq != int64(k+1) {
						t.Errorf("job %d: line %d has seq %d", id, k, l.Seq)
					}
				}
			}
		}
	})
}

// rebindFor turns ? into $n on PostgreSQL for a raw test statement.
func rebindFor(db *store.DB, q string) string {
	if db.Dialect() != store.Postgres {
		return q
	}
	out, n := []byte{}, 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, []byte("$"+string(rune('0'+n)))...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// TestMaxFailuresCountsAcrossAResume: failures recorded under a worker that died count
// towards the job's max_failures when another worker resumes it.
func TestMaxFailuresCountsAcrossAResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFleet(t, db, 3)
		id := f.enqueue(t, "noop", map[string]any{"max_failures": 1, "concurrency": 1}, f.devices...)
		ctx := context.Background()
		if claims, err := f.queue.Claim(ctx, "dead-worker", 1, 300*time.Millisecond); err != nil || len(claims) != 1 {
			t.Fatalf("claim: %v %+v", err, claims)
		}
		// The dead worker saw its first device fail before it died.
		if err := f.queue.StartTarget(ctx, "dead-worker", id, f.devices[0], nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.queue.FinishTarget(ctx, "dead-worker", id, f.devices[0], webnet.TargetFailed, "connection refused", nil); err != nil {
			t.Fatal(err)
		}
		f.start(t, jobs.Config{Lease: 3 * time.Second})
		j := f.finished(t, id)
		for _, d := range f.devices[1:] {
			if tg := targetOf(j, d); tg.Status != webnet.TargetSkipped ||
				tg.Message != "Not started: 1 targets of this job failed, its limit (max_failures 1)." {
				t.Fatalf("device %d after the resume: %+v", d, tg)
			}
		}
	})
}
