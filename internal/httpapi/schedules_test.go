package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// scheduleIDs lists the ids GET /api/schedules/ shows the user.
func (w *world) scheduleIDs(t *testing.T, user, query string) []int64 {
	t.Helper()
	r := w.do(t, "GET", "/api/schedules/?limit=1000"+query, "", as(w.tokens[user])...)
	if r.status != 200 {
		t.Fatalf("list schedules as %s: %d %s", user, r.status, r.raw)
	}
	var out []int64
	for _, s := range r.body["results"].([]any) {
		out = append(out, idOf(s.(map[string]any)))
	}
	if int(r.body["count"].(float64)) != len(out) {
		t.Fatalf("count %v but %d results", r.body["count"], len(out))
	}
	slices.Sort(out)
	return out
}

// TestScheduleAccess: who may create, see, change and delete schedules (design.md §1-§3).
func TestScheduleAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sync := func(name string, target string) string {
			return fmt.Sprintf(`{"customer":%d,"name":%q,"kind":"sync","cron":"0 2 * * *",%s}`, w.acme, name, target)
		}
		onCore := fmt.Sprintf(`"device_group":%d`, w.core)
		send := func(user, method, path, body string, want int) result {
			t.Helper()
			r := w.do(t, method, path, body, as(w.tokens[user])...)
			if r.status != want {
				t.Fatalf("%s %s %s as %s: %d %s; want %d", method, path, body, user, r.status, r.raw, want)
			}
			return r
		}

		// An operator schedules a sync of a group they may sync; a member holding a role with
		// sync_device_inventory on the group may too.
		op := send("operator", "POST", "/api/schedules/", sync("op-nightly", onCore), 201).body
		if op["owner"] != float64(w.ids["operator"]) || op["next_run_at"] == nil || op["enabled"] != true ||
			op["timezone"] != "UTC" || op["last_job"] != nil {
			t.Fatalf("created %v", op)
		}
		syncer := send("syncer", "POST", "/api/schedules/", sync("syncer-nightly", fmt.Sprintf(`"devices":[%d,%d]`, w.r1, w.r2)), 201).body
		opID, syncerID := idOf(op), idOf(syncer)

		// Refusals: the action's sentence (403) where the target is visible, 404 where not.
		wantError(t, send("syncer", "POST", "/api/schedules/", fmt.Sprintf(`{"customer":%d,"name":"r","kind":"readiness","cron":"@daily",%s}`, w.acme, onCore), 403), 403, "forbidden")
		r := send("viewer", "POST", "/api/schedules/", sync("v", onCore), 403)
		if r.body["error"] != "You do not have permission to sync device inventory" {
			t.Errorf("viewer: %s", r.raw)
		}
		r = send("viewer", "POST", "/api/schedules/", sync("v", fmt.Sprintf(`"devices":[%d]`, w.r1)), 403)
		if fmt.Sprint(r.body["devices"]) != fmt.Sprintf("[%d]", w.r1) {
			t.Errorf("viewer on a device list: %s", r.raw)
		}
		send("syncer", "POST", "/api/schedules/", sync("s", fmt.Sprintf(`"device_group":%d`, w.edge)), 404)
		send("operator", "POST", "/api/schedules/", sync("u", fmt.Sprintf(`"devices":[%d]`, w.u1)), 404) // ungrouped: admins only
		send("globexadm", "POST", "/api/schedules/", sync("g", onCore), 404)
		send("outsider", "POST", "/api/schedules/", sync("o", onCore), 404)

		// Who sees what: admins and staff all of the customer's, members their own.
		both := []int64{opID, syncerID}
		for user, want := range map[string][]int64{"admin": both, "staff": both, "operator": {opID}, "syncer": {syncerID},
			"viewer": nil, "grouped": nil, "globexadm": nil, "outsider": nil} {
			if got := w.scheduleIDs(t, user, ""); !slices.Equal(got, want) {
				t.Errorf("%s sees schedules %v; want %v", user, got, want)
			}
		}
		if got := w.scheduleIDs(t, "admin", fmt.Sprintf("&owner=%d", w.ids["syncer"])); !slices.Equal(got, []int64{syncerID}) {
			t.Errorf("admin, ?owner=syncer: %v", got)
		}
		if got := w.scheduleIDs(t, "admin", fmt.Sprintf("&device_group=%d&kind=sync&enabled=true", w.core)); !slices.Equal(got, []int64{opID}) {
			t.Errorf("admin, ?device_group=core: %v", got)
		}
		opPath, syncerPath := fmt.Sprintf("/api/schedules/%d/", opID), fmt.Sprintf("/api/schedules/%d/", syncerID)
		send("admin", "GET", opPath, "", 200)
		send("operator", "GET", opPath, "", 200)
		for _, user := range []string{"syncer", "viewer", "globexadm", "outsider"} {
			send(user, "GET", opPath, "", 404)
			send(user, "PATCH", opPath, `{"enabled":false}`, 404)
			send(user, "DELETE", opPath, "", 404)
		}

		// An admin renaming keeps the owner; changing the timing makes the admin the owner,
		// and the operator no longer sees it.
		if r := send("admin", "PATCH", opPath, `{"name":"renamed"}`, 200); r.body["owner"] != float64(w.ids["operator"]) {
			t.Errorf("renamed: %s", r.raw)
		}
		if r := send("admin", "PATCH", opPath, `{"cron":"30 3 * * *"}`, 200); r.body["owner"] != float64(w.ids["admin"]) {
			t.Errorf("retimed: %s", r.raw)
		}
		send("operator", "GET", opPath, "", 404)

		// The syncer's role loses sync_device_inventory: they may still switch their schedule
		// off, not on.
		send("admin", "PATCH", fmt.Sprintf("/api/device-group-roles/%d/", w.syncRole), `{"permissions":["view_backups"]}`, 200)
		if r := send("syncer", "PATCH", syncerPath, `{"enabled":false}`, 200); r.body["next_run_at"] != nil || r.body["owner"] != float64(w.ids["syncer"]) {
			t.Errorf("switched off: %s", r.raw)
		}
		r = send("syncer", "PATCH", syncerPath, `{"enabled":true}`, 403)
		if r.body["error"] != "You do not have permission to sync device inventory" {
			t.Errorf("switched on without the role: %s", r.raw)
		}
		send("syncer", "DELETE", syncerPath, "", 204)
		send("admin", "GET", syncerPath, "", 404)
	})
}

// TestScheduleKindsAndTargets: upgrades only as dry runs; a device group that schedules
// target cannot be deleted.
func TestScheduleKindsAndTargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := as(w.tokens["admin"])
		body := func(kind, extra string) string {
			return fmt.Sprintf(`{"customer":%d,"name":%q,"kind":%q,"cron":"@weekly","devices":[%d,%d]%s}`, w.acme, kind, kind, w.r1, w.u1, extra)
		}
		img := w.image(t)
		r := w.do(t, "POST", "/api/schedules/", body("upgrade", fmt.Sprintf(`,"params":{"image":%d}`, img)), admin...)
		wantError(t, r, 400, "invalid")
		if f, _ := r.body["fields"].(map[string]any); f["dry_run"] == nil {
			t.Errorf("upgrade without dry_run: %s", r.raw)
		}
		// The image must be one the caller sees, global or of the schedule's customer.
		up := w.upload(t, w.root, imageForm(w.globex, "globex.bin", imageBytes(9, 300))...)
		globexImage := idOf(up.body)
		if r := w.do(t, "POST", "/api/schedules/", body("readiness", fmt.Sprintf(`,"params":{"image":%d}`, globexImage)), admin...); r.status != 404 {
			t.Errorf("another customer's image as admin: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "POST", "/api/schedules/", body("readiness", fmt.Sprintf(`,"params":{"image":%d}`, globexImage)), as(w.root)...); r.status != 400 {
			t.Errorf("another customer's image as root: %d %s", r.status, r.raw)
		}
		for kind, extra := range map[string]string{
			"upgrade":     fmt.Sprintf(`,"params":{"image":%d},"dry_run":true`, img),
			"readiness":   ``,
			"config_push": `,"params":{"config":"ntp server 192.0.2.123"}`,
		} {
			if r := w.do(t, "POST", "/api/schedules/", body(kind, extra), admin...); r.status != 201 {
				t.Errorf("%s: %d %s", kind, r.status, r.raw)
			}
		}

		spare := idOf(w.post(t, w.root, "/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":"spare"}`, w.acme)))
		s := idOf(w.post(t, w.tokens["admin"], "/api/schedules/", fmt.Sprintf(
			`{"customer":%d,"name":"spare sync","kind":"sync","cron":"@hourly","device_group":%d}`, w.acme, spare)))
		group := fmt.Sprintf("/api/device-groups/%d/", spare)
		wantError(t, w.do(t, "DELETE", group, "", admin...), 409, "conflict")
		if r := w.do(t, "DELETE", fmt.Sprintf("/api/schedules/%d/", s), "", admin...); r.status != 204 {
			t.Fatalf("delete schedule: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "DELETE", group, "", admin...); r.status != 204 {
			t.Fatalf("delete group: %d %s", r.status, r.raw)
		}
	})
}

// TestScheduledRunThroughTheAPI: a due schedule's run shows on the schedule (last_job) and
// as a job of the owner's with the schedule's id.
func TestScheduledRunThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		op := as(w.tokens["operator"])
		s := idOf(w.post(t, w.tokens["operator"], "/api/schedules/", fmt.Sprintf(
			`{"customer":%d,"name":"hourly","kind":"readiness","cron":"@hourly","device_group":%d}`, w.acme, w.core)))
		w.clock.Advance(time.Hour)
		if n, err := w.env.core.RunDueSchedules(context.Background()); err != nil || n != 1 {
			t.Fatalf("RunDueSchedules: %d, %v", n, err)
		}
		got := w.do(t, "GET", fmt.Sprintf("/api/schedules/%d/", s), "", op...)
		job, ok := got.body["last_job"].(float64)
		if got.status != 200 || !ok || got.body["last_error"] != "" || got.body["last_run_at"] == nil {
			t.Fatalf("schedule after its run: %s", got.raw)
		}
		j := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/", int64(job)), "", op...)
		if j.status != 200 || j.body["schedule"] != float64(s) || j.body["requested_by"] != float64(w.ids["operator"]) ||
			j.body["kind"] != "readiness" || len(j.body["targets"].([]any)) != 2 {
			t.Fatalf("the scheduled job: %s", j.raw)
		}
	})
}
