package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestLiveTargetRevisions: every change of a job's targets stamps them with the job's next
// revision, so that LiveTargets after the last revision seen returns exactly what changed
// since; a change refused as a conflict leaves neither revision nor progress behind.
func TestLiveTargetRevisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		j := &webnet.Job{Kind: "noop", Status: webnet.JobQueued, CreatedAt: now}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			customer, devices, err := createFleet(ctx, tx, 5)
			if err != nil {
				return err
			}
			j.CustomerID = customer
			for _, d := range devices {
				j.Targets = append(j.Targets, webnet.JobTarget{DeviceID: d, Status: webnet.TargetPending})
			}
			return tx.CreateJob(ctx, j)
		})
		if err != nil {
			t.Fatal(err)
		}
		dev := func(i int) int64 { return j.Targets[i].DeviceID }
		inTx := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		// changedSince checks the job's revision and what changed after after.
		changedSince := func(after, wantRev int64, want ...int64) {
			t.Helper()
			lj, err := db.Read().LiveJob(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := db.Read().LiveTargets(ctx, j.ID, after)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, tg := range ts {
				got = append(got, tg.DeviceID)
				if tg.Rev <= after || tg.Rev > lj.TargetsRev {
					t.Fatalf("target %d has revision %d, outside (%d, %d]", tg.DeviceID, tg.Rev, after, lj.TargetsRev)
				}
			}
			if lj.TargetsRev != wantRev || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after revision %d: revision %d, targets %v; want %d, %v", after, lj.TargetsRev, got, wantRev, want)
			}
		}
		changedSince(-1, 0, dev(0), dev(1), dev(2), dev(3), dev(4))
		changedSince(0, 0)

		if err := inTx(func(tx *store.Tx) error {
			return tx.SetTargetStatus(ctx, j.ID, dev(1), webnet.TargetPending, webnet.TargetRunning, "")
		}); err != nil {
			t.Fatal(err)
		}
		changedSince(0, 1, dev(1))
		// A refused change: no revision, no progress.
		err = inTx(func(tx *store.Tx) error {
			return tx.SetTargetStatus(ctx, j.ID, dev(2), webnet.TargetRunning, webnet.TargetSucceeded, "")
		})
		if webnet.ErrorCode(err) != webnet.EConflict {
			t.Fatalf("ending a pending target: %v, want a conflict", err)
		}
		changedSince(1, 1)
		if err := inTx(func(tx *store.Tx) error {
			if err := tx.SetTargetStatus(ctx, j.ID, dev(1), webnet.TargetRunning, webnet.TargetFailed, "no"); err != nil {
				return err
			}
			return tx.SetTargetStatus(ctx, j.ID, dev(3), webnet.TargetPending, webnet.TargetSkipped, "busy")
		}); err != nil {
			t.Fatal(err)
		}
		changedSince(1, 3, dev(1), dev(3))
		changedSince(2, 3, dev(3))
		// A bulk change stamps every target it changes with one revision.
		if err := inTx(func(tx *store.Tx) error { return tx.CancelPendingTargets(ctx, j.ID) }); err != nil {
			t.Fatal(err)
		}
		changedSince(3, 4, dev(0), dev(2), dev(4))
		got, err := db.Read().JobByID(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ProgressDone != 2 {
			t.Fatalf("progress %d, want 2 (the failed and the skipped target)", got.ProgressDone)
		}
	})
}
