package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestLiveTargetsFollowDevices: the feed reads only the targets that changed since it last
// looked, and still follows the devices: a target whose device leaves the groups a watcher
// may see disappears from the watcher's job (a fresh snapshot), and its later changes are not
// sent; one whose device comes in appears. In the "jobs" stream, a job is sent to whoever may
// see its devices where they are now, not where they were at its first event.
func TestLiveTargetsFollowDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		ctx := context.Background()
		setTarget := func(job, device int64, from, to string) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetTargetStatus(ctx, job, device, from, to, "")
			}); err != nil {
				t.Fatal(err)
			}
		}
		moveTo := func(device, group int64) {
			t.Helper()
			if r := w.do(t, "PATCH", fmt.Sprintf("/api/devices/%d/", device), fmt.Sprintf(`{"device_group":%d}`, group), as(w.root)...); r.status != 200 {
				t.Fatalf("move device %d: %d %s", device, r.status, r.raw)
			}
		}
		devicesOf := func(ts []webnet.JobTarget) []int64 {
			var ids []int64
			for _, tg := range ts {
				ids = append(ids, tg.DeviceID)
			}
			slices.Sort(ids)
			return ids
		}
		snapshotOf := func(want ...int64) func(wsMsg) bool {
			slices.Sort(want)
			return func(m wsMsg) bool {
				if m.Type != "job" {
					return false
				}
				j := m.jobObject(t)
				return j.Targets != nil && slices.Equal(devicesOf(j.Targets), want)
			}
		}
		targetOf := func(device int64, status string) func(wsMsg) bool {
			return func(m wsMsg) bool {
				return m.Type == "targets" && slices.ContainsFunc(m.Targets, func(tg webnet.JobTarget) bool {
					return tg.DeviceID == device && tg.Status == status
				})
			}
		}
		never := func(who string, msgs []wsMsg, device int64) {
			t.Helper()
			for _, m := range msgs {
				ts := m.Targets
				if m.Type == "job" {
					ts = m.jobObject(t).Targets
				}
				if slices.Contains(devicesOf(ts), device) {
					t.Fatalf("%s was sent device %d's target: %s", who, device, m)
				}
			}
		}

		// "grouped" may see core (r1, r2), not edge (e1).
		job := w.startJob(t, "operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d,%d]}`, w.r1, w.r2, w.e1))
		c := w.ws(t, w.tokens["grouped"])
		if snap := c.subscribeJob(job, 0); !slices.Equal(devicesOf(snap.Targets), []int64{w.r1, w.r2}) {
			t.Fatalf("grouped's snapshot: %+v", snap.Targets)
		}
		setTarget(job, w.r2, webnet.TargetPending, webnet.TargetRunning)
		c.until("r2 running", targetOf(w.r2, webnet.TargetRunning))

		// r2 leaves for edge: a snapshot without it, and its end is not sent.
		moveTo(w.r2, w.edge)
		c.until("a snapshot without r2", snapshotOf(w.r1))
		setTarget(job, w.r2, webnet.TargetRunning, webnet.TargetSucceeded)
		setTarget(job, w.r1, webnet.TargetPending, webnet.TargetRunning)
		never("grouped", c.until("r1 running", targetOf(w.r1, webnet.TargetRunning)), w.r2)

		// e1 comes to core: it appears, with its changes.
		moveTo(w.e1, w.core)
		c.until("a snapshot with e1", snapshotOf(w.r1, w.e1))
		setTarget(job, w.e1, webnet.TargetPending, webnet.TargetRunning)
		never("grouped", c.until("e1 running", targetOf(w.e1, webnet.TargetRunning)), w.r2)

		// The "jobs" stream: a job on a device in edge is not grouped's, until the device
		// comes to core.
		s := w.ws(t, w.tokens["grouped"])
		s.send(`{"subscribe":"jobs"}`)
		s.until("subscribed to jobs", func(m wsMsg) bool { return m.Type == "subscribed" && m.Subscription == "jobs" })
		e2 := idOf(w.post(t, w.root, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"acme-e2","address":"192.0.2.12","platform":"cisco_iosxe"}`, w.acme, w.edge)))
		edgeJob := w.startJob(t, "operator", fmt.Sprintf("/api/devices/%d/sync/", e2), "")
		r3 := idOf(w.post(t, w.root, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"acme-r3","address":"192.0.2.13","platform":"cisco_iosxe"}`, w.acme, w.core)))
		probe := w.startJob(t, "operator", fmt.Sprintf("/api/devices/%d/sync/", r3), "")
		for _, m := range s.until("the probe job", func(m wsMsg) bool { return m.Type == "job" && m.jobObject(t).ID == probe }) {
			if m.Type == "job" && m.jobObject(t).ID == edgeJob {
				t.Fatalf("grouped was sent the job on e2 while e2 was in edge: %s", m)
			}
		}
		moveTo(e2, w.core)
		setTarget(edgeJob, e2, webnet.TargetPending, webnet.TargetSkipped)
		s.until("the job on e2, now in core", func(m wsMsg) bool {
			return m.Type == "job" && m.jobObject(t).ID == edgeJob && m.jobObject(t).ProgressDone == 1
		})
	})
}
