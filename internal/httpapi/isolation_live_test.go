package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// isSocket reports whether rt is the live-updates WebSocket: not a list, and checked by
// checkLive rather than by requests.
func isSocket(rt httpapi.Route) bool { return rt.Method == "GET" && rt.Path == "/api/ws" }

// checkLive: over the WebSocket, callers outside globex cannot subscribe to globex's job (the
// answer is that of a job that does not exist) and are sent no job, log line or device event
// of globex's. Every message they receive joins the run's answers checked for globex's names.
func (w *isoWorld) checkLive(t *testing.T) {
	gxJob, g1, g2 := w.objs[kJob][0], w.objs[kDevice][0], w.objs[kDevice][1]
	clients := map[string]*wsClient{}
	keep := func(caller string, m wsMsg) {
		w.bodies = append(w.bodies, m.raw)
		w.noGlobexObjects(t, "a live message to "+caller, "", m.raw)
	}
	for _, caller := range w.callers {
		c := w.ws(t, w.tokens[caller])
		for _, topic := range []string{"jobs", "devices", fmt.Sprintf("job:%d", gxJob)} {
			c.send(fmt.Sprintf(`{"subscribe":%q}`, topic))
			m := c.next(10 * time.Second)
			keep(caller, m)
			if topic[0] == 'j' && topic != "jobs" {
				if m.Type != "error" || m.Error != "Job not found." {
					t.Errorf("%s subscribes to globex's job: %s", caller, m)
				}
			} else if m.Type != "subscribed" {
				t.Errorf("%s subscribes to %s: %s", caller, topic, m)
			}
		}
		clients[caller] = c
	}

	// Globex at work: a device renamed, a job started, a line in its old job.
	gxadm := w.tokens["globexadm"]
	if r := w.do(t, "PATCH", fmt.Sprintf("/api/devices/%d/", g1), `{"name":"globex-g1-renamed"}`, as(gxadm)...); r.status != 200 {
		t.Fatalf("rename g1: %d %s", r.status, r.raw)
	}
	if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", g2), "", as(gxadm)...); r.status != 202 {
		t.Fatalf("sync g2: %d %s", r.status, r.raw)
	}
	appendLines(t, w.db, gxJob, 1, g1)

	// Then a job every caller may see (on acme's r1, requested by the outsider): events come
	// in order, so once it arrives, globex's would have.
	outsider := w.callerID["outsider"]
	sentinel := &webnet.Job{CustomerID: w.acme, Kind: "sync", Status: webnet.JobQueued, RequestedBy: &outsider,
		Params: []byte("{}"), CreatedAt: w.clock.Now(), Targets: []webnet.JobTarget{{DeviceID: w.r1, Status: webnet.TargetPending}}}
	w.tx(t, func(ctx context.Context, tx *store.Tx) error { return tx.CreateJob(ctx, sentinel) })
	for caller, c := range clients {
		for _, m := range c.until(caller+" sees the acme job", func(m wsMsg) bool {
			return m.Type == "job" && m.jobObject(t).ID == sentinel.ID
		}) {
			keep(caller, m)
			if m.Type != "job" || m.jobObject(t).ID != sentinel.ID {
				t.Errorf("%s was sent %s", caller, m)
			}
		}
	}
}
