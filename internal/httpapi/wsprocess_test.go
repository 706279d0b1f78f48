package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// listening runs db's notification listener until the test ends and waits until it is
// connected.
func listening(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Listen(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listener: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !db.NotificationsReliable() {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not connect within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return db
}

// TestLiveAcrossProcesses runs two webnet processes on one PostgreSQL database: a browser on
// A watches a job whose lines and status a worker in B writes. When A's listener loses its
// connection, A's clients are told to reconnect and resume, and nothing is lost.
func TestLiveAcrossProcesses(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	a, b := listening(t, storetest.OpenProcess(t, cfg)), listening(t, storetest.OpenProcess(t, cfg))
	w := newWorld(t, newEnv(t, a))
	job := w.startJob(t, "operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.e1))
	c := w.ws(t, w.tokens["grouped"]) // sees r1, not e1
	c.subscribeJob(job, 0)
	c.logsThrough(job, 1)

	// B's worker: the job runs and logs about both devices.
	ctx := context.Background()
	if err := b.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetJobStatus(ctx, job, webnet.JobQueued, webnet.JobRunning, time.Now().UTC())
	}); err != nil {
		t.Fatal(err)
	}
	c.until("running, from B", func(m wsMsg) bool { return m.Type == "job" && m.jobObject(t).Status == webnet.JobRunning })
	last := appendLines(t, b, job, 30, w.r1, w.e1, 0)
	var want []int64
	for s := int64(2); s <= last; s++ {
		if (s-2)%3 != 1 { // not the lines about e1
			want = append(want, s)
		}
	}
	checkSeqs(t, "lines written by B, seen on A", c.logsThrough(job, last), want)

	// The listeners lose their connections (both: nothing tells A's from B's): A may have
	// missed changes, so its clients reconnect.
	var killed int
	if err := a.SQL().QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query = 'LISTEN ' || $1`, a.NotifyChannel()).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminate the listeners: %v (%d)", err, killed)
	}
	var ce websocket.CloseError
	if err := c.drain(); !errors.As(err, &ce) || ce.Code != 4000 {
		t.Fatalf("after A's listener dropped: %v, want close code 4000", err)
	}
	more := appendLines(t, b, job, 3, w.r1)
	again := w.ws(t, w.tokens["grouped"])
	again.subscribeJob(job, last)
	checkSeqs(t, "resumed on A", again.logsThrough(job, more), seqRange(last+1, more))
}
