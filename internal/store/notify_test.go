package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestNotificationsReachOtherProcesses: on PostgreSQL, a committed transaction's Notify and
// Announce reach a second process's subscribers, and a rolled-back one's reach nobody.
func TestNotificationsReachOtherProcesses(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *store.DB {
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		lctx, stop := context.WithCancel(ctx)
		wg.Go(func() { db.Listen(lctx) })
		t.Cleanup(func() { stop(); wg.Wait() })
		return db
	}
	a, b := open(), open()
	got := make(chan string, 100)
	defer b.Subscribe(func(n store.Notification) {
		if !n.Reset && (n.Topic == "test" || n.Topic == "testa") {
			got <- n.Topic + " " + n.Payload
		}
	})()
	deadline := time.Now().Add(10 * time.Second)
	for !b.NotificationsReliable() || !a.NotificationsReliable() {
		if time.Now().After(deadline) {
			t.Fatal("listeners never connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.InTx(ctx, func(tx *store.Tx) error {
		tx.Notify(ctx, "test", "rolled back")
		tx.Announce("testa", "rolled back")
		return context.Canceled
	})
	if err := a.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Notify(ctx, "test", "1"); err != nil {
			return err
		}
		return tx.Announce("testa", "2")
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"test 1": true, "testa 2": true}
	for len(want) > 0 {
		select {
		case m := <-got:
			if !want[m] {
				t.Fatalf("unexpected notification %q", m)
			}
			delete(want, m)
		case <-time.After(5 * time.Second):
			t.Fatalf("not delivered to the other process: %v", want)
		}
	}
}
