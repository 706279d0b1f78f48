package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// startJob runs a custom action as user and returns the id of the job it queued.
func (w *world) startJob(t testing.TB, user, path, body string) int64 {
	t.Helper()
	r := w.do(t, "POST", path, body, as(w.tokens[user])...)
	if r.status != 202 {
		t.Fatalf("%s %s: %d %s", user, path, r.status, r.raw)
	}
	return idOf(r.body["job"].(map[string]any))
}

// subscribeJob subscribes to a job after seq after and checks the answer: "subscribed", then
// a snapshot of the job (messages of other subscriptions may come between). It returns the
// snapshot.
func (c *wsClient) subscribeJob(job, after int64) webnet.Job {
	c.t.Helper()
	topic := fmt.Sprintf("job:%d", job)
	c.send(fmt.Sprintf(`{"subscribe":%q,"after":%d}`, topic, after))
	var snap webnet.Job
	subscribed := false
	c.until("the snapshot of "+topic, func(m wsMsg) bool {
		switch {
		case m.Subscription == topic && m.Type != "subscribed":
			c.t.Fatalf("subscribe to %s: %s", topic, m)
		case m.Subscription == topic:
			subscribed = true
		case m.Type == "job" && subscribed:
			snap = m.jobObject(c.t)
			return snap.ID == job && snap.Targets != nil
		}
		return false
	})
	return snap
}

// TestLiveJobLogResume: a subscriber receives every line in order, from the database and
// then live; after its connection drops and lines are appended meanwhile, it reconnects with
// its last seq and receives the rest, with no gap and no line twice. The feed keeps only 8
// lines in memory, so the resume and the backfill come from the database.
func TestLiveJobLogResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvWith(t, db, func(_ *httpapi.Config, f *service.FeedConfig) { f.RecentLines = 8 })
		w := newWorld(t, e)
		job := w.startJob(t, "operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.e1))
		backlog := appendLines(t, db, job, 20, 0, w.r1, w.e1)

		c := w.ws(t, w.tokens["operator"])
		if snap := c.subscribeJob(job, 0); len(snap.Targets) != 2 || snap.Status != webnet.JobQueued {
			t.Fatalf("snapshot: %+v", snap)
		}
		got := c.logsThrough(job, backlog)
		seen := appendLines(t, db, job, 10, w.r1)
		got = append(got, c.logsThrough(job, seen)...)
		checkSeqs(t, "first connection", got, seqRange(1, seen))

		// The connection drops; the job goes on.
		c.conn.CloseNow()
		missed := appendLines(t, db, job, 25, w.e1, 0)
		c2 := w.ws(t, w.tokens["operator"])
		c2.subscribeJob(job, seen)
		rest := c2.logsThrough(job, missed)
		last := appendLines(t, db, job, 5)
		rest = append(rest, c2.logsThrough(job, last)...)
		checkSeqs(t, fmt.Sprintf("after reconnecting with after=%d", seen), rest, seqRange(seen+1, last))

		// State changes arrive too: the job's status and a target's.
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetJobStatus(ctx, job, webnet.JobQueued, webnet.JobRunning, time.Now().UTC()); err != nil {
				return err
			}
			return tx.SetTargetStatus(ctx, job, w.r1, webnet.TargetPending, webnet.TargetRunning, "connecting")
		}); err != nil {
			t.Fatal(err)
		}
		var running, target bool
		c2.until("the job and target running", func(m wsMsg) bool {
			switch m.Type {
			case "job":
				running = running || m.jobObject(t).Status == webnet.JobRunning
			case "targets":
				for _, tg := range m.Targets {
					target = target || (tg.DeviceID == w.r1 && tg.Status == webnet.TargetRunning && tg.Message == "connecting")
				}
			}
			return running && target
		})
	})
}

// TestLiveAuthorization: a user who can see the job (one of its targets) but not device e1
// is never sent a line or a target about e1, neither from the database nor live; users who
// cannot see the job are told it does not exist, as for a job that does not.
func TestLiveAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		job := w.startJob(t, "operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.e1))
		backlog := appendLines(t, db, job, 9, 0, w.r1, w.e1)

		// "grouped" holds a role on core (r1's group), none on edge (e1's).
		c := w.ws(t, w.tokens["grouped"])
		snap := c.subscribeJob(job, 0)
		if len(snap.Targets) != 1 || snap.Targets[0].DeviceID != w.r1 {
			t.Fatalf("grouped's snapshot shows targets %+v, want r1's only", snap.Targets)
		}
		lines := c.logsThrough(job, backlog)
		last := appendLines(t, db, job, 6, w.e1, w.r1, 0)
		lines = append(lines, c.logsThrough(job, last)...)
		// Every line but those about e1, as the whole log (read by root) says.
		all, err := db.Read().JobLogs(context.Background(), job, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, l := range all {
			if l.DeviceID == nil || *l.DeviceID != w.e1 {
				want = append(want, l.Seq)
			}
		}
		if len(want) == len(all) || int64(len(all)) != last {
			t.Fatalf("the log has %d lines, %d of them not about e1", len(all), len(want))
		}
		checkSeqs(t, "grouped's lines", lines, want)
		// The REST endpoint agrees line for line.
		r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/logs/", job), "", as(w.tokens["grouped"])...)
		if n := len(r.body["results"].([]any)); r.status != 200 || n != len(want) {
			t.Fatalf("REST shows grouped %d lines: %d %s", n, r.status, r.raw)
		}

		// Target changes: e1's is not sent, r1's is.
		ctx := context.Background()
		for _, d := range []int64{w.e1, w.r1} {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetTargetStatus(ctx, job, d, webnet.TargetPending, webnet.TargetRunning, "")
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range c.until("r1's target", func(m wsMsg) bool { return m.Type == "targets" && len(m.Targets) > 0 && m.Targets[0].DeviceID == w.r1 }) {
			for _, tg := range m.Targets {
				if tg.DeviceID == w.e1 {
					t.Fatalf("grouped was sent e1's target: %s", m)
				}
			}
		}

		// Invisible and absent jobs answer alike.
		for _, user := range []string{"member", "globexadm", "outsider"} {
			for _, id := range []int64{job, job + 1000} {
				c := w.ws(t, w.tokens[user])
				c.send(fmt.Sprintf(`{"subscribe":"job:%d"}`, id))
				m := c.next(10 * time.Second)
				if m.Type != "error" || m.Subscription != fmt.Sprintf("job:%d", id) || m.Error != "Job not found." {
					t.Fatalf("%s subscribes to job %d: %s", user, id, m)
				}
			}
		}
	})
}

// TestLiveStreams: the "jobs" and "devices" subscriptions carry only what the user may see.
func TestLiveStreams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		subscribe := func(user string, topics ...string) *wsClient {
			c := w.ws(t, w.tokens[user])
			for _, topic := range topics {
				c.send(fmt.Sprintf(`{"subscribe":%q}`, topic))
				if m := c.next(10 * time.Second); m.Type != "subscribed" || m.Subscription != topic {
					t.Fatalf("%s subscribes to %s: %s", user, topic, m)
				}
			}
			return c
		}
		gx := subscribe("globexadm", "jobs")
		grouped := subscribe("grouped", "jobs", "devices")
		jobEvent := func(id int64) func(wsMsg) bool {
			return func(m wsMsg) bool { return m.Type == "job" && m.jobObject(t).ID == id }
		}
		noJob := func(who string, msgs []wsMsg, ids ...int64) {
			t.Helper()
			for _, m := range msgs {
				for _, id := range ids {
					if m.Type == "job" && m.jobObject(t).ID == id {
						t.Fatalf("%s was sent job %d: %s", who, id, m)
					}
				}
			}
		}
		// Events come in order: once the visible job arrives, the invisible ones would have.
		edgeJob := w.startJob(t, "operator", fmt.Sprintf("/api/devices/%d/sync/", w.e1), "")
		gxJob := w.startJob(t, "globexadm", fmt.Sprintf("/api/devices/%d/sync/", w.g1), "")
		coreJob := w.startJob(t, "operator", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "")
		noJob("globexadm", gx.until("globex's job", jobEvent(gxJob)), edgeJob)
		noJob("grouped", grouped.until("the job on r1", jobEvent(coreJob)), edgeJob, gxJob)

		deviceEvent := func(typ string, id int64) func(wsMsg) bool {
			return func(m wsMsg) bool {
				if m.Type != typ {
					return false
				}
				var d struct{ ID int64 }
				if typ == "device" {
					_ = json.Unmarshal(m.Device, &d)
				} else {
					_ = json.Unmarshal(m.Device, &d.ID)
				}
				return d.ID == id
			}
		}
		patch := func(id int64, body string) {
			t.Helper()
			if r := w.do(t, "PATCH", fmt.Sprintf("/api/devices/%d/", id), body, as(w.root)...); r.status != 200 {
				t.Fatalf("PATCH device %d: %d %s", id, r.status, r.raw)
			}
		}
		patch(w.e1, `{"address":"192.0.2.200"}`)
		patch(w.r1, `{"address":"192.0.2.201"}`)
		for _, m := range grouped.until("r1 changed", deviceEvent("device", w.r1)) {
			if deviceEvent("device", w.e1)(m) || m.Type == "device_removed" {
				t.Fatalf("grouped was sent %s", m)
			}
		}
		// r2 leaves core for edge: gone, for grouped. A new device in core appears, and goes.
		patch(w.r2, fmt.Sprintf(`{"device_group":%d}`, w.edge))
		grouped.until("r2 gone", deviceEvent("device_removed", w.r2))
		d := idOf(w.post(t, w.root, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"acme-r9","address":"192.0.2.9","platform":"cisco_iosxe"}`, w.acme, w.core)))
		grouped.until("r9 created", deviceEvent("device", d))
		if r := w.do(t, "DELETE", fmt.Sprintf("/api/devices/%d/", d), "", as(w.root)...); r.status >= 300 {
			t.Fatalf("delete r9: %d %s", r.status, r.raw)
		}
		grouped.until("r9 deleted", deviceEvent("device_removed", d))
	})
}

// TestLiveHandshake: who may open the socket, from where, and what a bad request gets.
func TestLiveHandshake(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	key := e.token(t)
	for _, c := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"no credentials", nil, 401},
		{"bad token", []string{"Authorization", "Token wn_nonsense"}, 401},
		{"foreign Origin", []string{"Authorization", "Token " + key, "Origin", "https://evil.example"}, 403},
	} {
		_, resp, err := e.dialWS(t, c.hdr...)
		if err == nil || resp == nil || resp.StatusCode != c.status {
			t.Errorf("%s: %v, response %+v; want %d", c.name, err, resp, c.status)
		}
	}
	// A browser: the session cookie, from this site only.
	sys := service.WithSubject(context.Background(), service.System())
	u, err := e.id.Login(sys, "root", rootPassword, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := e.id.StartSession(sys, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.dialWS(t, "Cookie", service.SessionCookie+"="+cookie, "Origin", e.srv.URL); err != nil {
		t.Errorf("same-origin browser: %v", err)
	}
	if _, resp, err := e.dialWS(t, "Cookie", service.SessionCookie+"="+cookie, "Origin", "https://evil.example"); err == nil || resp.StatusCode != 403 {
		t.Errorf("cross-origin browser: %v", err)
	}
	// Not a WebSocket request.
	wantError(t, e.do(t, "GET", "/api/ws", "", as(key)...), 400, "invalid")

	// Bad requests are answered, and the socket stays open.
	c := e.ws(t, key)
	for _, req := range []struct{ send, want string }{
		{`nonsense`, "Malformed message"},
		{`{"subscribe":"job:1","extra":1}`, "Malformed message"},
		{`{"subscribe":"job:1","unsubscribe":"jobs"}`, "Malformed message"},
		{`{"subscribe":"job:x"}`, `Unknown subscription "job:x"`},
		{`{"subscribe":"everything"}`, `Unknown subscription "everything"`},
		{`{"subscribe":"job:1","after":-1}`, "after must be a log seq"},
	} {
		c.send(req.send)
		if m := c.next(5 * time.Second); m.Type != "error" || !strings.Contains(m.Error, req.want) {
			t.Errorf("%s: %s; want an error saying %q", req.send, m, req.want)
		}
	}
	c.send(`{"unsubscribe":"job:5"}`)
	if m := c.next(5 * time.Second); m.Type != "unsubscribed" || m.Subscription != "job:5" {
		t.Errorf("unsubscribe: %s", m)
	}
}
