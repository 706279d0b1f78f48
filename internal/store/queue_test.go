package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestClaimUsesTheUnfinishedIndex: workers claim from the partial index of unfinished jobs,
// never by scanning the finished ones, which are nearly all of the table.
func TestClaimUsesTheUnfinishedIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c := &webnet.Customer{Name: "A", Slug: "a", CreatedAt: now}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			return store.ExecForTest(ctx, tx, `INSERT INTO jobs (customer_id, kind, status, params, created_at)
				SELECT ?, 'noop', 'succeeded', '{}', ? FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
				WHERE i < 20000) SELECT i FROM n) x`, c.ID, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AnalyzeForTest(ctx, db); err != nil {
			t.Fatal(err)
		}
		plan, err := store.ExplainForTest(ctx, db, store.ClaimQueryForTest, now, 4)
		if err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, " "); !strings.Contains(p, "jobs_unfinished") {
			t.Fatalf("claim does not use jobs_unfinished: %s", p)
		}
	})
}
