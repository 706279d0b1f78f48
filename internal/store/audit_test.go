package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// everyActivity is the visibility condition of a test that reads every record.
var everyActivity = store.ActivityFilter{Visibility: "1=1"}

// TestAuditChainConcurrentAppends appends 50 records from several goroutines at once: the
// chain head (locked FOR UPDATE on PostgreSQL, the single writer on SQLite) must serialise
// them so that every record links to the one before it and the chain verifies.
func TestAuditChainConcurrentAppends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers, each = 5, 10
		var g errgroup.Group
		for w := range writers {
			g.Go(func() error {
				for i := range each {
					a := &store.Activity{At: t0.Add(time.Duration(w*each+i) * time.Millisecond), ActorUsername: fmt.Sprintf("writer%d", w),
						Action: "test.append", ObjectType: "test", ObjectID: fmt.Sprint(i), ObjectRepr: "record", Result: "success",
						// Keys out of order and nested: PostgreSQL's jsonb reorders them, the hash must not care.
						Details: json.RawMessage(fmt.Sprintf(`{"z": %d, "a": {"y": [1, 2], "b": "x"}}`, i))}
					if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendActivity(ctx, a) }); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		bad, checked, err := db.Read().VerifyChain(ctx)
		if err != nil || bad != 0 || checked != writers*each {
			t.Fatalf("verify: bad %d, checked %d, err %v; want an intact chain of %d", bad, checked, err, writers*each)
		}
		prev, n := "", 0
		err = db.Read().EachActivity(ctx, everyActivity, func(a *store.Activity) error {
			n++
			if a.PrevHash != prev {
				return fmt.Errorf("record %d: prev_hash %q, want the previous record's hash %q", a.ID, a.PrevHash, prev)
			}
			prev = a.Hash
			return nil
		})
		if err != nil || n != writers*each {
			t.Fatalf("walk: %d records, %v", n, err)
		}
	})
}

// TestAuditChainDetectsTampering edits, then removes records behind the store's back.
func TestAuditChainDetectsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := range 4 {
			a := &store.Activity{At: t0.Add(time.Duration(i) * time.Second), ActorUsername: "system", Action: "test.append",
				ObjectType: "test", ObjectRepr: fmt.Sprint("record ", i+1), Result: "success"}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendActivity(ctx, a) }); err != nil {
				t.Fatal(err)
			}
		}
		exec := func(q string) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return store.ExecForTest(ctx, tx, q) }); err != nil {
				t.Fatal(err)
			}
		}
		verify := func(wantBad int64, wantChecked int) {
			t.Helper()
			bad, checked, err := db.Read().VerifyChain(ctx)
			if err != nil || bad != wantBad || checked != wantChecked {
				t.Fatalf("verify: bad %d checked %d err %v; want bad %d checked %d", bad, checked, err, wantBad, wantChecked)
			}
		}
		verify(0, 4)
		// The anchor covers the newest record once the log is indexed (reads and serve's
		// janitor do it; on PostgreSQL every append moves it anyway).
		index := func() error {
			return db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.IndexActivity(ctx); return err })
		}
		if err := index(); err != nil {
			t.Fatal(err)
		}
		exec(`DELETE FROM activity_log WHERE id = 4`)
		verify(4, 3)
		// Indexing refuses to move the anchor past the missing record: that would hide it.
		a := &store.Activity{At: t0, ActorUsername: "system", Action: "test.append", ObjectType: "test", Result: "success"}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendActivity(ctx, a) }); err != nil {
			t.Fatal(err)
		}
		if err := index(); db.Dialect() == store.SQLite && (err == nil || !strings.Contains(err.Error(), "tampered")) {
			t.Fatalf("indexing over a removed anchor: %v", err)
		}
		// On PostgreSQL the append chained onto the head that still named record 4.
		if bad, _, err := db.Read().VerifyChain(ctx); err != nil || bad == 0 {
			t.Fatalf("verify after appending past a removed record: bad %d, %v", bad, err)
		}
		exec(`UPDATE activity_log SET object_repr = 'x' WHERE id = 2`)
		verify(2, 2)
	})
}

// TestActivityNeedsVisibility proves the store refuses to list audit records without the
// caller's visibility condition.
func TestActivityNeedsVisibility(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if _, _, err := db.Read().ListActivity(ctx, store.ActivityFilter{}, 10, 0); err == nil {
		t.Error("ListActivity without visibility: no error")
	}
	if err := db.Read().EachActivity(ctx, store.ActivityFilter{}, func(*store.Activity) error { return nil }); err == nil {
		t.Error("EachActivity without visibility: no error")
	}
}
