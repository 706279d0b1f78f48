package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// adminPost posts form to path with c and returns the status, the body and the redirect.
func adminPost(t testing.TB, e *env, c *http.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	status, location, body := e.post(t, c, path, form)
	return status, body, location
}

// page fetches path as c, wants status and a well-formed page, and returns it.
func page(t testing.TB, e *env, c *http.Client, path string, want int) string {
	t.Helper()
	status, body := e.get(t, c, path)
	if status != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, status, want, body)
	}
	wellFormed(t, path, body)
	return body
}

func TestGroupsPageShowsCountsAndAssignmentsPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		for _, tc := range []struct {
			user      string
			want, not []string
		}{
			// acme's admin: both acme groups with their counts, the role and its holder.
			{"admin", []string{`data-group="core"`, `data-group="edge"`, `data-role="sync"`, "syncer", "sync_device_inventory", "Add a device group"},
				[]string{`data-group="gx"`, "globex"}},
			// a plain member sees no group (no role, no view_device) and no form.
			{"member", []string{"No device groups you can see."}, []string{`data-group=`, "Add a device group"}},
			// syncer sees core through their role, but not who holds which role.
			{"syncer", []string{`data-group="core"`, "Only the customer's admins see roles."}, []string{`data-group="edge"`, `data-role=`, "Add a device group"}},
			// globex's admin: only gx, nothing of acme.
			{"globexadm", []string{`data-group="gx"`}, []string{`data-group="core"`, "acme", "syncer"}},
		} {
			body := page(t, w.env, w.client(t, tc.user), "/groups", 200)
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("%s: /groups lacks %q", tc.user, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(body, s) {
					t.Errorf("%s: /groups shows %q", tc.user, s)
				}
			}
		}
		// Device counts: core has two devices, edge one.
		body := page(t, w.env, w.client(t, "admin"), "/groups", 200)
		for name, n := range map[string]int{"core": 2, "edge": 1} {
			row := body[strings.Index(body, `data-group="`+name+`"`):]
			row = row[:strings.Index(row, "</tr>")]
			if !strings.Contains(row, fmt.Sprintf(`<td class="admin-count">%d</td>`, n)) {
				t.Errorf("%s: device count is not %d: %s", name, n, row)
			}
		}
		// A group of another customer is not found, as in the API.
		page(t, w.env, w.client(t, "globexadm"), fmt.Sprintf("/groups/%d", w.core), 404)
		page(t, w.env, w.client(t, "admin"), fmt.Sprintf("/groups/%d", w.core), 200)
	})
}

func TestGroupsAddRoleAndAssignmentIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		// A role without a name is refused with the reason next to the field.
		status, body, _ := adminPost(t, w.env, c, fmt.Sprintf("/groups/%d/roles", w.core), url.Values{"name": {""}})
		if status != 400 || !strings.Contains(body, "This field is required.") {
			t.Fatalf("role without name: %d %s", status, body)
		}
		wellFormed(t, "role refused", body)
		status, _, loc := adminPost(t, w.env, c, fmt.Sprintf("/groups/%d/roles", w.core),
			url.Values{"name": {"ops"}, "permissions": {"check_device_readiness", "view_backups"}})
		if status != 303 || loc != fmt.Sprintf("/groups/%d?notice=admin-created", w.core) {
			t.Fatalf("add role: %d to %q", status, loc)
		}
		roles := groupRoles(t, w, w.core)
		var ops int64
		for _, r := range roles {
			if r.Name == "ops" {
				ops = r.ID
				if strings.Join(r.Permissions, ",") != "view_backups,check_device_readiness" {
					t.Errorf("ops permissions: %v", r.Permissions)
				}
			}
		}
		if ops == 0 {
			t.Fatalf("no role ops: %+v", roles)
		}
		// A bad holder is refused on the page; a user of another customer is not found.
		status, body, _ = adminPost(t, w.env, c, fmt.Sprintf("/groups/roles/%d/assignments", ops), url.Values{"holder": {"nobody"}})
		if status != 400 || !strings.Contains(body, "Choose a user or a user group.") {
			t.Fatalf("bad holder: %d", status)
		}
		status, body, _ = adminPost(t, w.env, c, fmt.Sprintf("/groups/roles/%d/assignments", ops), url.Values{"holder": {fmt.Sprintf("user:%d", w.ids["globexadm"])}})
		if status != 404 || !strings.Contains(body, "No such user in the role&#39;s customer.") {
			t.Fatalf("holder of another customer: %d %s", status, body)
		}
		status, _, _ = adminPost(t, w.env, c, fmt.Sprintf("/groups/roles/%d/assignments", ops), url.Values{"holder": {fmt.Sprintf("user:%d", w.ids["operator"])}})
		if status != 303 {
			t.Fatalf("assign: %d", status)
		}
		body = page(t, w.env, c, fmt.Sprintf("/groups/%d", w.core), 200)
		if !strings.Contains(body, `data-role="ops"`) || !strings.Contains(body, `<span class="admin-holder">operator</span>`) {
			t.Fatalf("group page lacks the new role or its holder")
		}
		for _, action := range []string{"device_group_role.create", "user_device_group_role.create"} {
			var log struct {
				Count   int `json:"count"`
				Results []struct {
					Actor string `json:"actor_username"`
				} `json:"results"`
			}
			w.api(t, w.root, "GET", "/api/audit-log/?action="+action+"&result=success", "", 200, &log)
			found := false
			for _, r := range log.Results {
				found = found || r.Actor == "admin"
			}
			if !found {
				t.Errorf("%s by admin not audited: %+v", action, log)
			}
		}
		// A member may not add roles: the service's refusal is an error page.
		status, body, _ = adminPost(t, w.env, w.client(t, "member"), fmt.Sprintf("/groups/%d/roles", w.core), url.Values{"name": {"x"}})
		if status != 404 && status != 403 {
			t.Fatalf("member adds a role: %d", status)
		}
		wellFormed(t, "member refused", body)
	})
}

func TestGroupsCreateAndDeleteWithConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		status, _, _ := adminPost(t, w.env, c, "/groups", url.Values{"customer": {fmt.Sprint(w.acme)}, "name": {"spare"}})
		if status != 303 {
			t.Fatalf("create group: %d", status)
		}
		status, body, _ := adminPost(t, w.env, c, "/groups", url.Values{"customer": {fmt.Sprint(w.acme)}, "name": {"spare"}})
		if status != 409 || !strings.Contains(body, "Already taken.") {
			t.Fatalf("duplicate group: %d", status)
		}
		status, body, _ = adminPost(t, w.env, c, "/groups", url.Values{"customer": {""}, "name": {"x"}})
		if status != 400 || !strings.Contains(body, "Choose a customer.") {
			t.Fatalf("group without customer: %d", status)
		}
		var groups struct {
			Results []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/device-groups/?customer=%d", w.acme), "", 200, &groups)
		var spare int64
		for _, g := range groups.Results {
			if g.Name == "spare" {
				spare = g.ID
			}
		}
		body = page(t, w.env, c, fmt.Sprintf("/groups/%d/delete", spare), 200)
		if !strings.Contains(body, "Delete device group spare?") {
			t.Fatalf("no confirmation: %s", body)
		}
		// The edge group still has a device: the deletion is refused with the reason.
		status, body, _ = adminPost(t, w.env, c, fmt.Sprintf("/groups/%d/delete", w.edge), nil)
		if status != 409 || !strings.Contains(body, "move or delete them first") {
			t.Fatalf("delete non-empty group: %d %s", status, body)
		}
		status, _, loc := adminPost(t, w.env, c, fmt.Sprintf("/groups/%d/delete", spare), nil)
		if status != 303 || loc != "/groups?notice=admin-deleted" {
			t.Fatalf("delete: %d %q", status, loc)
		}
		page(t, w.env, c, fmt.Sprintf("/groups/%d", spare), 404)
	})
}

func TestGroupsAccessExplainer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.client(t, "admin")
		body := page(t, w.env, admin, fmt.Sprintf("/groups/access?user=%d&device=acme-r1", w.ids["syncer"]), 200)
		for _, s := range []string{
			"syncer may sync acme-r1 because they are a member of acme and have the role &#39;sync&#39; on group core.",
			"syncer may view the backups of acme-r1 because they are a member of acme and have the role &#39;sync&#39; on group core.",
			"syncer may not upgrade the firmware of acme-r1: no role, permission, bundle or device-group role of theirs grants upgrade_device_firmware.",
		} {
			if !strings.Contains(body, s) {
				t.Errorf("explainer lacks %q", s)
			}
		}
		body = page(t, w.env, admin, fmt.Sprintf("/groups/access?user=%d&device=acme-r1", w.ids["operator"]), 200)
		if !strings.Contains(body, "operator may sync acme-r1 because they are an operator of acme, and that role grants sync_device_inventory on grouped devices.") {
			t.Errorf("operator's explanation missing")
		}
		// acme's admin cannot ask about someone outside acme: not found, said by the field.
		body = page(t, w.env, admin, fmt.Sprintf("/groups/access?user=%d&device=acme-r1", w.ids["outsider"]), 404)
		if !strings.Contains(body, "not a member of the device&#39;s customer") {
			t.Errorf("outsider for admin: %s", body)
		}
		// The superuser may: outsider is simply not a member.
		body = page(t, w.env, w.client(t, "root"), fmt.Sprintf("/groups/access?user=%d&device=acme-r1", w.ids["outsider"]), 200)
		if !strings.Contains(body, "outsider may not sync acme-r1: they are not a member of acme.") ||
			!strings.Contains(body, "outsider cannot see acme-r1") {
			t.Errorf("outsider for root: %s", body)
		}
		// Bad input is said next to the fields; a device of another customer does not exist.
		body = page(t, w.env, admin, "/groups/access?user=&device=", 200)
		if strings.Contains(body, "Choose a user.") {
			t.Errorf("empty form is an error")
		}
		body = page(t, w.env, admin, "/groups/access?user=x&device=acme-r1", 400)
		if !strings.Contains(body, "Choose a user.") {
			t.Errorf("bad user not said")
		}
		body = page(t, w.env, admin, fmt.Sprintf("/groups/access?user=%d&device=globex-g1", w.ids["syncer"]), 400)
		if !strings.Contains(body, "No device you can see has that name.") {
			t.Errorf("globex device for acme admin: %s", body)
		}
		// A member may not explain access.
		page(t, w.env, w.client(t, "operator"), fmt.Sprintf("/groups/access?user=%d&device=acme-r1", w.ids["syncer"]), 403)
	})
}
