package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestIndexActivityMissesNothing appends records from several goroutines while others index
// the lookup tables; afterwards every record is found through them exactly once, by
// customer, actor and object.
func TestIndexActivityMissesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each+40)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					cust, actor := int64(w%2+1), int64(w+1)
					errs <- db.InTx(ctx, func(tx *store.Tx) error {
						return tx.AppendActivity(ctx, &store.Activity{At: t0, ActorID: &actor, ActorUsername: "u", CustomerID: &cust,
							Action: "x", ObjectType: "device", ObjectID: fmt.Sprint(w*100 + i), Result: "success"})
					})
				}
			}()
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					errs <- db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.IndexActivity(ctx); return err })
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.IndexActivity(ctx); return err }); err != nil {
			t.Fatal(err)
		}
		q := db.Read()
		count := func(f store.ActivityFilter) int {
			_, n, err := q.ListActivity(ctx, f, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		all := store.ActivityFilter{Visibility: "1=1"}
		if n := count(all); n != writers*each {
			t.Fatalf("%d records, want %d", n, writers*each)
		}
		for c := int64(1); c <= 2; c++ {
			f := all
			f.CustomerID = &c
			if n := count(f); n != 2*each {
				t.Errorf("customer %d: %d records through the lookup table, want %d", c, n, 2*each)
			}
		}
		for a := int64(1); a <= writers; a++ {
			vis, args, err := store.ActivityVisibility(a, (&authz.Grants{Active: true, Customers: map[int64]*authz.CustomerGrants{}}).AdminFilter("x.customer_id"))
			if err != nil {
				t.Fatal(err)
			}
			if n := count(store.ActivityFilter{Visibility: vis, VisibilityArgs: args}); n != each {
				t.Errorf("actor %d sees %d own records, want %d", a, n, each)
			}
		}
		f := all
		f.ObjectType, f.ObjectID = "device", "203"
		if n := count(f); n != 1 {
			t.Errorf("object device/203: %d records", n)
		}
		if bad, n, err := q.VerifyChain(ctx); err != nil || bad != 0 || n != writers*each {
			t.Fatalf("chain: bad %d of %d, %v", bad, n, err)
		}
	})
}
