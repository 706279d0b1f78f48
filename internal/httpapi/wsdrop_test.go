package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// Connections that end: too slow, too chatty, shut down, or whose access changed.

// drain reads until the server ends the connection and returns its close error, failing if
// the server keeps it open.
func (c *wsClient) drain() error {
	c.t.Helper()
	for {
		_, err := c.read(10 * time.Second)
		if errors.Is(err, context.DeadlineExceeded) {
			c.t.Fatal("the server kept the connection open")
		}
		if err != nil {
			return err
		}
	}
}

// TestLiveLimits: subscriptions are capped; a flood or an oversized message ends the
// connection with the matching close code.
func TestLiveLimits(t *testing.T) {
	e := newEnvWith(t, storetest.Open(t, store.SQLite), func(_ *httpapi.Config, f *service.FeedConfig) { f.MaxSubscriptions = 3 })
	w := newWorld(t, e)
	j1 := w.startJob(t, "admin", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "")
	j2 := w.startJob(t, "admin", fmt.Sprintf("/api/devices/%d/sync/", w.e1), "")
	c := w.ws(t, w.tokens["admin"])
	for _, topic := range []string{"jobs", "devices"} {
		c.send(fmt.Sprintf(`{"subscribe":%q}`, topic))
		c.until("subscribed to "+topic, func(m wsMsg) bool { // the jobs stream may speak first
			return m.Type == "subscribed" && m.Subscription == topic
		})
	}
	c.subscribeJob(j1, 0)
	c.send(fmt.Sprintf(`{"subscribe":"job:%d"}`, j2))
	c.until("the limit", func(m wsMsg) bool {
		if m.Type == "subscribed" && m.Subscription == fmt.Sprintf("job:%d", j2) {
			t.Fatalf("a fourth subscription was accepted")
		}
		return m.Type == "error" && m.Error == "Too many subscriptions (at most 3)."
	})
	// Making room lets it in.
	c.send(`{"unsubscribe":"devices"}`)
	c.until("unsubscribed", func(m wsMsg) bool { // the jobs stream may speak first
		return m.Type == "unsubscribed" && m.Subscription == "devices"
	})
	c.subscribeJob(j2, 0)

	flood := w.ws(t, w.tokens["admin"])
	// Far past the burst (20) even if the server reads slowly (a loaded machine refills 5 a
	// second).
	for range 200 {
		if flood.conn.Write(context.Background(), websocket.MessageText, []byte(`{"unsubscribe":"jobs"}`)) != nil {
			break // already closed
		}
	}
	if err := flood.drain(); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("flooding: %v, want close code 1008", err)
	}
	huge := w.ws(t, w.tokens["admin"])
	_ = huge.conn.Write(context.Background(), websocket.MessageText, []byte(`{"subscribe":"`+strings.Repeat("j", 2048)+`"}`))
	if err := huge.drain(); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("a 2 KiB message: %v, want close code 1009", err)
	}
}

// TestLiveShutdown: when the server shuts down its feed, clients are told to come back later
// (1001), and new connections are refused with 503 until it is back.
func TestLiveShutdown(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	key := e.token(t)
	c := e.ws(t, key)
	c.send(`{"subscribe":"jobs"}`)
	c.next(5 * time.Second)
	e.stopFeed()
	if err := c.drain(); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("on shutdown: %v, want close code 1001", err)
	}
	if _, resp, err := e.dialWS(t, "Authorization", "Token "+key); err == nil || resp.StatusCode != 503 {
		t.Errorf("after shutdown: %v", err)
	}
}

// TestLiveAccessChanges: a change to a user's membership ends their connections (4000:
// reconnect and resume) so that they authenticate again; a role given through a device
// group applies at once, with a fresh snapshot.
func TestLiveAccessChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		job := w.startJob(t, "operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.e1))
		c := w.ws(t, w.tokens["grouped"])
		if snap := c.subscribeJob(job, 0); len(snap.Targets) != 1 {
			t.Fatalf("grouped sees targets %+v", snap.Targets)
		}
		c.logsThrough(job, 1)

		// A role on edge: e1 becomes visible, and its lines with it.
		look := idOf(w.post(t, w.root, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"look","permissions":[]}`, w.edge)))
		w.post(t, w.root, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["grouped"], look))
		c.until("a snapshot with e1", func(m wsMsg) bool { return m.Type == "job" && len(m.jobObject(t).Targets) == 2 })
		last := appendLines(t, db, job, 1, w.e1)
		if lines := c.logsThrough(job, last); len(lines) != 1 || *lines[0].DeviceID != w.e1 {
			t.Fatalf("the line about e1: %+v", lines)
		}

		// The user's own membership changes: reconnect.
		var membership int64
		r := w.do(t, "GET", fmt.Sprintf("/api/memberships/?user=%d", w.ids["grouped"]), "", as(w.root)...)
		for _, m := range r.body["results"].([]any) {
			membership = idOf(m.(map[string]any))
		}
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/memberships/%d/", membership), `{"role":"viewer"}`, as(w.root)...); r.status != 200 {
			t.Fatalf("PATCH membership: %d %s", r.status, r.raw)
		}
		err := c.drain()
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "Your access changed; reconnect." {
			t.Fatalf("after a membership change: %v, want close code 4000", err)
		}
		again := w.ws(t, w.tokens["grouped"])
		again.subscribeJob(job, last)
	})
}
