package store_test

import (
	"context"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// BenchmarkLiveTargets is what live updates read of a running 10,000-target job after a
// change: "whole" all its targets (what every change cost before revisions), "one-changed"
// the job's row and the one target changed since the revision last seen. Run it alone:
//
//	go test -run XXX -bench LiveTargets -benchtime 50x ./internal/store/
func BenchmarkLiveTargets(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			seedDevices(b, db, 20, 10000)
			now := time.Now()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := store.ExecForTest(ctx, tx, `INSERT INTO jobs (customer_id, kind, status, worker, params, progress_total, created_at, log_seq) VALUES (1, 'noop', 'running', 'w', '{}', 10000, ?, 0)`, now); err != nil {
					return err
				}
				return store.ExecForTest(ctx, tx, `INSERT INTO job_targets (job_id, device_id, status, message) SELECT 1, id, 'running', '' FROM devices`)
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("whole", func(b *testing.B) {
				for b.Loop() {
					ts, err := db.Read().LiveTargets(ctx, 1, -1)
					if err != nil || len(ts) != 10000 {
						b.Fatal(err)
					}
				}
			})
			b.Run("one-changed", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					var id int64 = 5000
					if err := db.InTx(ctx, func(tx *store.Tx) error {
						_, err := tx.SetTargetStep(ctx, 1, id, "w", 1, 2)
						return err
					}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					lj, err := db.Read().LiveJob(ctx, 1)
					if err != nil {
						b.Fatal(err)
					}
					ts, err := db.Read().LiveTargets(ctx, 1, lj.TargetsRev-1)
					if err != nil || len(ts) != 1 {
						b.Fatal(len(ts), err)
					}
				}
			})
		})
	}
}
