package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

func TestDeviceVisibilityByStanding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		w.tokens["root"] = w.root
		all := []int64{w.r1, w.r2, w.e1, w.u1, w.g1}
		for user, want := range map[string][]int64{
			"root":      all,
			"staff":     all,
			"admin":     {w.r1, w.r2, w.e1, w.u1},
			"viewer":    {w.r1, w.r2, w.e1},
			"operator":  {w.r1, w.r2, w.e1},
			"member":    {},
			"syncer":    {w.r1, w.r2},
			"grouped":   {w.r1, w.r2},
			"globexadm": {w.g1},
			"outsider":  {},
		} {
			got := w.deviceIDs(t, user)
			if len(got) != len(want) {
				t.Errorf("%s sees %v, want %v", user, got, want)
				continue
			}
			for _, id := range want {
				if !got[id] {
					t.Errorf("%s does not see device %d", user, id)
				}
			}
			// Detail agrees with the list: visible → 200, otherwise 404.
			for _, id := range all {
				r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/", id), "", as(w.tokens[user])...)
				if got[id] != (r.status == 200) || (!got[id] && r.status != 404) {
					t.Errorf("%s GET device %d: %d (listed: %v)", user, id, r.status, got[id])
				}
			}
		}
	})
}

func TestCustomActionsAndTheDeniedSentence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sync := func(user string, ids ...int64) result {
			list := make([]string, len(ids))
			for i, id := range ids {
				list[i] = fmt.Sprint(id)
			}
			return w.do(t, "POST", "/api/devices/sync/", `{"devices":[`+strings.Join(list, ",")+`]}`, as(w.tokens[user])...)
		}
		jobsBefore, _ := db.Read().CountJobs(t.Context())
		// Viewer: visible devices, no sync: 403 with the exact sentence and the ids.
		r := sync("viewer", w.r1, w.e1)
		if r.status != 403 || r.body["error"] != "You do not have permission to sync device inventory" {
			t.Fatalf("viewer sync: %d %s", r.status, r.raw)
		}
		if ids := r.body["devices"].([]any); len(ids) != 2 {
			t.Fatalf("denied ids: %v", ids)
		}
		// Single-device form: same sentence.
		r = w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["viewer"])...)
		if r.status != 403 || r.body["error"] != "You do not have permission to sync device inventory" {
			t.Fatalf("viewer single sync: %d %s", r.status, r.raw)
		}
		// An invisible id anywhere: 404 naming it, nothing queued.
		r = sync("syncer", w.r1, w.e1)
		if r.status != 404 || fmt.Sprint(r.body["devices"]) != fmt.Sprintf("[%d]", w.e1) {
			t.Fatalf("syncer with an invisible device: %d %s", r.status, r.raw)
		}
		r = sync("operator", w.r1, w.g1)
		if r.status != 404 {
			t.Fatalf("operator with another tenant's device: %d %s", r.status, r.raw)
		}
		if n, _ := db.Read().CountJobs(t.Context()); n != jobsBefore {
			t.Fatalf("jobs queued by refused requests: %d → %d", jobsBefore, n)
		}
		// Operator role and a device-group role both allow sync; ungrouped stays hidden.
		for user, ids := range map[string][]int64{"operator": {w.r1, w.e1}, "syncer": {w.r1, w.r2}, "admin": {w.u1}} {
			r := sync(user, ids...)
			if r.status != 202 || r.body["job"] == nil {
				t.Fatalf("%s sync: %d %s", user, r.status, r.raw)
			}
			job := r.body["job"].(map[string]any)
			if job["status"] != "queued" || job["kind"] != "sync" || len(job["targets"].([]any)) != len(ids) {
				t.Fatalf("%s job: %v", user, job)
			}
			// One device job per device: a second request on a busy device is a conflict
			// naming it; cancelling the first frees it.
			if again := sync(user, ids[0]); again.status != 409 || fmt.Sprint(again.body["devices"]) != fmt.Sprintf("[%d]", ids[0]) {
				t.Fatalf("%s sync of a busy device: %d %s", user, again.status, again.raw)
			}
			if c := w.do(t, "POST", fmt.Sprintf("/api/jobs/%v/cancel/", job["id"]), "", as(w.tokens[user])...); c.status != 200 {
				t.Fatalf("%s cancel: %d %s", user, c.status, c.raw)
			}
		}
		// Readiness: operator yes; syncer (role has no readiness) 403 with its sentence.
		r = w.do(t, "POST", fmt.Sprintf("/api/devices/%d/readiness/", w.r1), "", as(w.tokens["syncer"])...)
		if r.status != 403 || r.body["error"] != "You do not have permission to check device readiness" {
			t.Fatalf("syncer readiness: %d %s", r.status, r.raw)
		}
		// Upgrade: nobody but admin; without confirm the admin gets the plan.
		r = w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d}`, w.r1, w.image(t)), as(w.tokens["operator"])...)
		if r.status != 403 || r.body["error"] != "You do not have permission to upgrade device firmware" {
			t.Fatalf("operator upgrade: %d %s", r.status, r.raw)
		}
		r = w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d}`, w.r1, w.image(t)), as(w.tokens["admin"])...)
		if r.status != 400 || r.body["plan"] == nil {
			t.Fatalf("admin upgrade without confirm: %d %s", r.status, r.raw)
		}
		r = w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true}`, w.r1, w.image(t)), as(w.tokens["admin"])...)
		if r.status != 202 {
			t.Fatalf("admin upgrade: %d %s", r.status, r.raw)
		}
		// A device without a credential is still accepted.
		if r := sync("admin", w.u1); r.status != 202 {
			t.Fatalf("sync of a device without credential: %d", r.status)
		}
		// Denials are audited.
		acts, _, _ := db.Read().ListActivity(t.Context(), store.ActivityFilter{Visibility: "1=1", Result: "denied", Action: "device.sync"}, 100, 0)
		if len(acts) < 3 {
			t.Fatalf("denied sync attempts audited: %d", len(acts))
		}
	})
}

func TestUserPermissionsAndForbiddenVersusNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		perms := func(user string, id int64) string {
			r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/", id), "", as(w.tokens[user])...)
			if r.status != 200 {
				t.Fatalf("%s GET %d: %d", user, id, r.status)
			}
			return fmt.Sprint(r.body["user_permissions"])
		}
		for _, c := range []struct {
			user string
			id   int64
			want string
		}{
			{"viewer", w.r1, "[view_device]"},
			{"operator", w.r1, "[view_device sync_device_inventory check_device_readiness]"},
			{"syncer", w.r1, "[view_device view_backups sync_device_inventory]"},
			{"grouped", w.r1, "[view_device]"},
		} {
			if got := perms(c.user, c.id); got != c.want {
				t.Errorf("%s on %d: %s, want %s", c.user, c.id, got, c.want)
			}
		}
		if got := perms("admin", w.u1); !strings.Contains(got, "upgrade_device_firmware") || !strings.Contains(got, "delete_device") {
			t.Errorf("admin permissions: %s", got)
		}
		// Visible but not allowed → 403; invisible → 404; both audited as denied.
		for _, c := range []struct {
			user, method, path string
			status             int
		}{
			{"viewer", "DELETE", fmt.Sprintf("/api/devices/%d/", w.r1), 403},
			{"viewer", "POST", fmt.Sprintf("/api/devices/%d/disable/", w.r1), 403},
			{"viewer", "DELETE", fmt.Sprintf("/api/devices/%d/", w.u1), 404},
			{"operator", "PATCH", fmt.Sprintf("/api/devices/%d/", w.r1), 403},
			{"globexadm", "DELETE", fmt.Sprintf("/api/devices/%d/", w.r1), 404},
			{"outsider", "GET", fmt.Sprintf("/api/devices/%d/", w.g1), 404},
		} {
			r := w.do(t, c.method, c.path, `{"name":"x"}`, as(w.tokens[c.user])...)
			if r.status != c.status {
				t.Errorf("%s %s %s: %d %s, want %d", c.user, c.method, c.path, r.status, r.raw, c.status)
			}
		}
	})
}

func TestRevokingAGroupRoleStopsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		if !w.deviceIDs(t, "syncer")[w.r1] {
			t.Fatal("syncer does not see r1")
		}
		list := w.do(t, "GET", "/api/user-device-group-roles/", "", as(w.root)...)
		for _, a := range list.body["results"].([]any) {
			am := a.(map[string]any)
			if int64(am["user"].(float64)) == w.ids["syncer"] {
				if r := w.do(t, "DELETE", fmt.Sprintf("/api/user-device-group-roles/%d/", idOf(am)), "", as(w.root)...); r.status != 204 {
					t.Fatalf("revoke: %d %s", r.status, r.raw)
				}
			}
		}
		if got := w.deviceIDs(t, "syncer"); len(got) != 0 {
			t.Fatalf("after revocation syncer still sees %v", got)
		}
		r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["syncer"])...)
		if r.status != 404 {
			t.Fatalf("sync after revocation: %d", r.status)
		}
		// Changing a role's permissions reaches its holders on the next request too.
		w.post(t, w.root, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["syncer"], w.noRole))
		if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["syncer"])...); r.status != 403 {
			t.Fatalf("sync with an empty role: %d", r.status)
		}
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/device-group-roles/%d/", w.noRole), `{"permissions":["sync_device_inventory"]}`, as(w.root)...); r.status != 200 {
			t.Fatalf("patch role: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["syncer"])...); r.status != 202 {
			t.Fatalf("sync after the role gained it: %d %s", r.status, r.raw)
		}
	})
}

func TestAccessExplainer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/access/?user=%d", w.r1, w.ids["syncer"]), "", as(w.tokens["admin"])...)
		if r.status != 200 || r.body["visible"] != true {
			t.Fatalf("explain: %d %s", r.status, r.raw)
		}
		byPerm := map[string]map[string]any{}
		for _, p := range r.body["permissions"].([]any) {
			pm := p.(map[string]any)
			byPerm[pm["permission"].(string)] = pm
		}
		if len(byPerm) != 11 {
			t.Fatalf("%d permissions explained", len(byPerm))
		}
		sync := byPerm["sync_device_inventory"]
		if sync["allowed"] != true || sync["step"] != 8.0 || !strings.Contains(fmt.Sprint(sync["grants"]), "sync") {
			t.Fatalf("sync explained as %v", sync)
		}
		if up := byPerm["upgrade_device_firmware"]; up["allowed"] != false || up["step"] != 9.0 {
			t.Fatalf("upgrade explained as %v", up)
		}
		for _, c := range []struct {
			user   string
			status int
		}{{"viewer", 403}, {"globexadm", 404}} {
			r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/access/?user=%d", w.r1, w.ids["syncer"]), "", as(w.tokens[c.user])...)
			if r.status != c.status {
				t.Errorf("%s asks: %d", c.user, r.status)
			}
		}
		if r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/access/?user=%d", w.r1, w.ids["globexadm"]), "", as(w.tokens["admin"])...); r.status != 404 {
			t.Errorf("explaining a user of another customer: %d", r.status)
		}
	})
}

// membershipOf returns the id of user's membership in customer, as root sees it.
func (w *world) membershipOf(t *testing.T, user string, customer int64) int64 {
	t.Helper()
	r := w.do(t, "GET", fmt.Sprintf("/api/memberships/?user=%d&customer=%d", w.ids[user], customer), "", as(w.root)...)
	if r.status != 200 || r.body["count"] != 1.0 {
		t.Fatalf("membership of %s: %d %s", user, r.status, r.raw)
	}
	return idOf(r.body["results"].([]any)[0].(map[string]any))
}

func (w *world) bundleID(t *testing.T, name string) int64 {
	t.Helper()
	r := w.do(t, "GET", "/api/permission-bundles/?limit=1000", "", as(w.root)...)
	for _, b := range r.body["results"].([]any) {
		if bm := b.(map[string]any); bm["name"] == name {
			return idOf(bm)
		}
	}
	t.Fatalf("no bundle %q in %s", name, r.raw)
	return 0
}

func TestFullCRUDNeverImpliesCustomActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		m := w.membershipOf(t, "member", w.acme)
		patch := fmt.Sprintf(`{"bundles":[%d],"permissions":["change_device","enable_device","view_configuration","view_backups","edit_configuration"]}`, w.bundleID(t, "Device Manager"))
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/memberships/%d/", m), patch, as(w.root)...); r.status != 200 {
			t.Fatalf("grant CRUD: %d %s", r.status, r.raw)
		}
		// Every CRUD permission works on grouped devices …
		if got := w.deviceIDs(t, "member"); len(got) != 3 || got[w.u1] {
			t.Fatalf("member with CRUD sees %v (ungrouped must stay hidden)", got)
		}
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/devices/%d/", w.r1), `{"port":2222}`, as(w.tokens["member"])...); r.status != 200 {
			t.Fatalf("change: %d %s", r.status, r.raw)
		}
		// … but no custom action, in either form, and the sentence names it.
		for path, sentence := range map[string]string{
			"sync":      "You do not have permission to sync device inventory",
			"readiness": "You do not have permission to check device readiness",
			"upgrade":   "You do not have permission to upgrade device firmware",
		} {
			r := w.do(t, "POST", "/api/devices/"+path+"/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true}`, w.r1, w.image(t)), as(w.tokens["member"])...)
			if r.status != 403 || r.body["error"] != sentence {
				t.Errorf("bulk %s: %d %s", path, r.status, r.raw)
			}
			r = w.do(t, "POST", fmt.Sprintf("/api/devices/%d/%s/", w.r1, path), fmt.Sprintf(`{"image":%d,"confirm":true}`, w.image(t)), as(w.tokens["member"])...)
			if r.status != 403 || r.body["error"] != sentence {
				t.Errorf("single %s: %d %s", path, r.status, r.raw)
			}
		}
		if r := w.do(t, "DELETE", fmt.Sprintf("/api/devices/%d/", w.r2), "", as(w.tokens["member"])...); r.status != 204 {
			t.Fatalf("delete with CRUD: %d %s", r.status, r.raw)
		}
		// Taking the bundle away works on the next request.
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/memberships/%d/", m), `{"bundles":[],"permissions":[]}`, as(w.root)...); r.status != 200 {
			t.Fatalf("revoke: %d %s", r.status, r.raw)
		}
		if got := w.deviceIDs(t, "member"); len(got) != 0 {
			t.Fatalf("after revocation member sees %v", got)
		}
	})
}

func TestGroupInheritedRolesAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		g := idOf(w.post(t, w.root, "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"noc","users":[%d]}`, w.acme, w.ids["member"])))
		a := idOf(w.post(t, w.root, "/api/group-device-group-roles/", fmt.Sprintf(`{"group":%d,"role":%d}`, g, w.syncRole)))
		if got := w.deviceIDs(t, "member"); len(got) != 2 || !got[w.r1] || !got[w.r2] {
			t.Fatalf("through the group member sees %v", got)
		}
		if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["member"])...); r.status != 202 {
			t.Fatalf("sync through the group: %d %s", r.status, r.raw)
		}
		// The access explainer names the group the role came through.
		r := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/access/?user=%d", w.r1, w.ids["member"]), "", as(w.tokens["admin"])...)
		if !strings.Contains(r.raw, `"via_group_name":"noc"`) {
			t.Fatalf("explainer does not name the group: %s", r.raw)
		}
		// Leaving the group ends it on the next request.
		if r := w.do(t, "PATCH", fmt.Sprintf("/api/groups/%d/", g), `{"users":[]}`, as(w.root)...); r.status != 200 {
			t.Fatalf("remove from group: %d %s", r.status, r.raw)
		}
		if got := w.deviceIDs(t, "member"); len(got) != 0 {
			t.Fatalf("after leaving the group member sees %v", got)
		}
		// So does deleting the assignment (back in the group first).
		w.do(t, "PATCH", fmt.Sprintf("/api/groups/%d/", g), fmt.Sprintf(`{"users":[%d]}`, w.ids["member"]), as(w.root)...)
		if got := w.deviceIDs(t, "member"); len(got) != 2 {
			t.Fatalf("back in the group: %v", got)
		}
		if r := w.do(t, "DELETE", fmt.Sprintf("/api/group-device-group-roles/%d/", a), "", as(w.root)...); r.status != 204 {
			t.Fatalf("delete assignment: %d %s", r.status, r.raw)
		}
		if got := w.deviceIDs(t, "member"); len(got) != 0 {
			t.Fatalf("after the assignment went member sees %v", got)
		}
	})
}

func TestGrantsNeverCrossCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		// globex's admin is also a plain member of acme; everything granted in globex (admin,
		// a full bundle) means nothing in acme.
		w.post(t, w.root, "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member"}`, w.ids["globexadm"], w.acme))
		m := w.membershipOf(t, "globexadm", w.globex)
		w.do(t, "PATCH", fmt.Sprintf("/api/memberships/%d/", m), fmt.Sprintf(`{"bundles":[%d]}`, w.bundleID(t, "Device Administrator")), as(w.root)...)
		if got := w.deviceIDs(t, "globexadm"); len(got) != 1 || !got[w.g1] {
			t.Fatalf("globexadm sees %v", got)
		}
		for _, id := range []int64{w.r1, w.u1} {
			if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", id), "", as(w.tokens["globexadm"])...); r.status != 404 {
				t.Errorf("sync acme device %d as globex admin: %d", id, r.status)
			}
		}
		// A device-group role of globex cannot be given to acme-only users.
		gxRole := idOf(w.post(t, w.root, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"gxsync","permissions":["sync_device_inventory"]}`, w.gx)))
		r := w.do(t, "POST", "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], gxRole), as(w.root)...)
		if r.status != 404 {
			t.Fatalf("assigning a globex role to an acme-only user: %d %s", r.status, r.raw)
		}
	})
}

func TestMeListsHeldRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		g := idOf(w.post(t, w.root, "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"noc","users":[%d]}`, w.acme, w.ids["syncer"])))
		w.post(t, w.root, "/api/group-device-group-roles/", fmt.Sprintf(`{"group":%d,"role":%d}`, g, w.noRole))
		r := w.do(t, "GET", "/api/me/", "", as(w.tokens["syncer"])...)
		held := r.body["device_group_roles"].([]any)
		if r.status != 200 || len(held) != 2 {
			t.Fatalf("me: %d %s", r.status, r.raw)
		}
		got := map[string]string{}
		for _, h := range held {
			hm := h.(map[string]any)
			got[hm["role_name"].(string)] = fmt.Sprint(hm["permissions"], " via ", hm["via_group"])
		}
		if got["sync"] != "[view_backups sync_device_inventory] via <nil>" || got["look"] != fmt.Sprintf("[] via %d", g) {
			t.Fatalf("held roles: %v", got)
		}
	})
}
