package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// admWorld is two customers, acme (a) and globex (b), with one user per standing in tenant
// administration: root (superuser), staffer (staff), alice (admin of acme), mallory (viewer
// of acme), carol (viewer of both), bob (admin of globex), gina (operator of globex), olivia
// (no membership). Each customer has an auth group and a bundle named after it.
type admWorld struct {
	*env
	a, b                int64
	tok                 map[string]string
	id                  map[string]int64
	groupA, groupB      int64
	bundleA, bundleB    int64
	viewerBundle        int64 // the global "Device Viewer"
	managerBundle       int64 // the global "Device Manager"
	memberA, memberBobB int64 // memberships: mallory in acme, bob in globex
	globexNames         []string
}

func newAdmWorld(t *testing.T, db *store.DB) *admWorld {
	t.Helper()
	e := newEnv(t, db)
	w := &admWorld{env: e, tok: map[string]string{"root": e.token(t)}, id: map[string]int64{}}
	w.a, w.b = e.customer(t, "acme"), e.customer(t, "globex")
	adm, view := webnet.RoleAdmin, webnet.RoleViewer
	for _, u := range []struct {
		name         string
		staff, super bool
		m            map[int64]webnet.Role
	}{
		{"staffer", true, false, nil},
		{"alice", false, false, map[int64]webnet.Role{w.a: adm}},
		{"mallory", false, false, map[int64]webnet.Role{w.a: view}},
		{"carol", false, false, map[int64]webnet.Role{w.a: view, w.b: view}},
		{"bob", false, false, map[int64]webnet.Role{w.b: adm}},
		{"gina", false, false, map[int64]webnet.Role{w.b: webnet.RoleOperator}},
		{"olivia", false, false, nil},
	} {
		w.id[u.name], w.tok[u.name] = e.user(t, u.name, u.staff, u.super, u.m)
	}
	root, _ := e.db.Read().UserByUsername(context.Background(), "root")
	w.id["root"] = root.ID
	w.groupA = w.created(t, "root", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"acme-noc","users":[%d]}`, w.a, w.id["mallory"]))
	w.groupB = w.created(t, "root", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"globex-noc","users":[%d]}`, w.b, w.id["gina"]))
	w.bundleA = w.created(t, "root", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"acme-bundle","permissions":["view_device"]}`, w.a))
	w.bundleB = w.created(t, "root", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"globex-bundle","permissions":["view_device"]}`, w.b))
	for _, b := range w.results(t, "root", "/api/permission-bundles/") {
		switch b["name"] {
		case "Device Viewer":
			w.viewerBundle = int64(b["id"].(float64))
		case "Device Manager":
			w.managerBundle = int64(b["id"].(float64))
		}
	}
	w.memberA = w.membershipOf(t, "mallory", w.a)
	w.memberBobB = w.membershipOf(t, "bob", w.b)
	w.globexNames = []string{"globex", "bob", "gina"}
	return w
}

func (w *admWorld) req(t *testing.T, who, method, path, body string) result {
	t.Helper()
	return w.do(t, method, path, body, as(w.tok[who])...)
}

// created POSTs as who, wants 201 and returns the new id.
func (w *admWorld) created(t *testing.T, who, path, body string) int64 {
	t.Helper()
	r := w.req(t, who, "POST", path, body)
	if r.status != 201 {
		t.Fatalf("POST %s %s as %s: %d %s", path, body, who, r.status, r.raw)
	}
	return int64(r.body["id"].(float64))
}

// results GETs a list as who and returns its results, checking the page shape.
func (w *admWorld) results(t *testing.T, who, path string) []map[string]any {
	t.Helper()
	r := w.req(t, who, "GET", path, "")
	if r.status != 200 || r.body["count"] == nil {
		t.Fatalf("GET %s as %s: %d %s", path, who, r.status, r.raw)
	}
	var out []map[string]any
	for _, x := range r.body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	if int(r.body["count"].(float64)) != len(out) {
		t.Fatalf("GET %s: count %v but %d results", path, r.body["count"], len(out))
	}
	return out
}

// values collects a field of list items as strings, sorted.
func values(items []map[string]any, key string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it[key]))
	}
	slices.Sort(out)
	return out
}

func (w *admWorld) membershipOf(t *testing.T, user string, customer int64) int64 {
	t.Helper()
	for _, m := range w.results(t, "root", fmt.Sprintf("/api/memberships/?user=%d&customer=%d", w.id[user], customer)) {
		return int64(m["id"].(float64))
	}
	t.Fatalf("no membership of %s in %d", user, customer)
	return 0
}

// activity returns every audit record, newest first.
func (w *admWorld) activity(t *testing.T) []store.Activity {
	t.Helper()
	all, _, err := w.db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1"}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// mutate sends a request as who, wants status, and checks the audit trail grew by exactly the
// record audit names ("success user.create", "denied group.update") or, for "", by none. A
// success record must carry before/after details.
func (w *admWorld) mutate(t *testing.T, who, method, path, body string, status int, audit string) result {
	t.Helper()
	before := len(w.activity(t))
	r := w.req(t, who, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s %s as %s: %d %s; want %d", method, path, body, who, r.status, r.raw, status)
	}
	if status >= 400 {
		wantError(t, r, status, r.body["code"].(string))
	}
	all := w.activity(t)
	fresh := all[:len(all)-before]
	if audit == "" {
		if len(fresh) != 0 {
			t.Fatalf("%s %s: unexpected audit records %+v", method, path, fresh)
		}
		return r
	}
	result, action, _ := strings.Cut(audit, " ")
	if len(fresh) != 1 || fresh[0].Result != result || fresh[0].Action != action {
		t.Fatalf("%s %s as %s: audit records %+v; want one %q", method, path, who, fresh, audit)
	}
	if result == "success" {
		checkBeforeAfter(t, fresh[0])
	}
	return r
}

// checkBeforeAfter checks a success record's details: "after" for a creation, "before" for a
// deletion, {before, after} per changed field for an update.
func checkBeforeAfter(t *testing.T, a store.Activity) {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(a.Details, &d); err != nil || len(d) == 0 {
		t.Fatalf("%s: details %s", a.Action, a.Details)
	}
	switch {
	case strings.HasSuffix(a.Action, ".create"):
		if _, ok := d["after"].(map[string]any); !ok {
			t.Fatalf("%s: no after in %s", a.Action, a.Details)
		}
	case strings.HasSuffix(a.Action, ".delete"):
		if _, ok := d["before"].(map[string]any); !ok {
			t.Fatalf("%s: no before in %s", a.Action, a.Details)
		}
	default:
		for k, v := range d {
			m, ok := v.(map[string]any)
			if _, hasB := m["before"]; !ok || !hasB || m["after"] == nil && m["before"] == nil {
				t.Fatalf("%s: field %s is not {before, after}: %s", a.Action, k, a.Details)
			}
		}
	}
}

// counts is how many rows each administration table holds, and how many success records.
func (w *admWorld) counts(t *testing.T) [6]int {
	t.Helper()
	ctx, q, all, one := context.Background(), w.db.Read(), authz.All(), webnet.Page{Limit: 1}
	var c [6]int
	var errs [6]error
	_, c[0], errs[0] = q.ListCustomers(ctx, all, one)
	c[1], errs[1] = q.CountUsers(ctx)
	_, c[2], errs[2] = q.ListMemberships(ctx, all, 0, store.MembershipFilter{}, one)
	_, c[3], errs[3] = q.ListAuthGroups(ctx, all, nil, one)
	_, c[4], errs[4] = q.ListBundles(ctx, all, nil, one)
	_, c[5], errs[5] = q.ListActivity(ctx, store.ActivityFilter{Visibility: "a.result = 'success'"}, 1, 0)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestAdminEachRoleSeesItsTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		a, b := fmt.Sprint(w.a), fmt.Sprint(w.b)
		uid := func(names ...string) []string {
			out := []string{}
			for _, n := range names {
				out = append(out, fmt.Sprint(w.id[n]))
			}
			slices.Sort(out)
			return out
		}
		everyone := uid("root", "staffer", "alice", "mallory", "carol", "bob", "gina", "olivia")
		cases := []struct {
			who, path, key string
			want           []string
		}{
			{"root", "/api/customers/", "id", []string{a, b}},
			{"staffer", "/api/customers/", "id", []string{a, b}},
			{"alice", "/api/customers/", "id", []string{a}},
			{"carol", "/api/customers/", "id", []string{a, b}},
			{"olivia", "/api/customers/", "id", []string{}},
			{"root", "/api/users/", "id", everyone},
			{"staffer", "/api/users/", "id", everyone},
			{"alice", "/api/users/", "id", uid("alice", "mallory", "carol")},
			{"bob", "/api/users/", "id", uid("bob", "carol", "gina")},
			{"mallory", "/api/users/", "id", uid("mallory")},
			{"olivia", "/api/users/", "id", uid("olivia")},
			{"alice", "/api/users/?customer=" + b, "id", []string{fmt.Sprint(w.id["carol"])}},
			{"alice", "/api/memberships/", "user", uid("alice", "mallory", "carol")},
			{"alice", "/api/memberships/", "customer", []string{a, a, a}},
			{"mallory", "/api/memberships/", "user", uid("mallory")},
			{"carol", "/api/memberships/", "customer", []string{a, b}},
			{"root", "/api/memberships/", "user", uid("alice", "mallory", "carol", "carol", "bob", "gina")},
			{"alice", "/api/groups/", "name", []string{"acme-noc"}},
			{"bob", "/api/groups/", "name", []string{"globex-noc"}},
			{"mallory", "/api/groups/", "name", []string{}},
			{"staffer", "/api/groups/", "name", []string{"acme-noc", "globex-noc"}},
			{"alice", "/api/permission-bundles/?customer=" + a, "name", []string{"acme-bundle"}},
			{"alice", "/api/permission-bundles/", "name", []string{"Device Administrator", "Device Manager", "Device Operator", "Device Viewer", "acme-bundle"}},
			{"mallory", "/api/permission-bundles/", "name", []string{"Device Administrator", "Device Manager", "Device Operator", "Device Viewer"}},
			{"olivia", "/api/permission-bundles/?customer=" + b, "name", []string{}},
		}
		for _, c := range cases {
			got := values(w.results(t, c.who, c.path), c.key)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s GET %s %s: %v; want %v", c.who, c.path, c.key, got, c.want)
			}
		}
		// Nothing of globex ever shows in acme's admin's answers.
		for _, path := range []string{"/api/customers/", "/api/users/", "/api/memberships/", "/api/groups/", "/api/permission-bundles/"} {
			r := w.req(t, "alice", "GET", path, "")
			for _, name := range w.globexNames {
				if strings.Contains(r.raw, name) {
					t.Errorf("alice GET %s shows %q: %s", path, name, r.raw)
				}
			}
			if strings.Contains(r.raw, fmt.Sprintf(`"customer":%d,`, w.b)) {
				t.Errorf("alice GET %s shows an object of globex: %s", path, r.raw)
			}
		}
		// Details: 404 across tenants, 403 for a member who is not an admin, 200 otherwise.
		for _, c := range []struct {
			who, path string
			status    int
		}{
			{"alice", "/api/customers/" + b + "/", 404},
			{"carol", "/api/customers/" + b + "/", 200},
			{"alice", fmt.Sprintf("/api/users/%d/", w.id["gina"]), 404},
			{"alice", fmt.Sprintf("/api/users/%d/", w.id["olivia"]), 404},
			{"alice", fmt.Sprintf("/api/users/%d/", w.id["carol"]), 200},
			{"mallory", fmt.Sprintf("/api/users/%d/", w.id["alice"]), 404},
			{"alice", fmt.Sprintf("/api/memberships/%d/", w.memberBobB), 404},
			{"mallory", fmt.Sprintf("/api/memberships/%d/", w.memberA), 200},
			{"alice", fmt.Sprintf("/api/groups/%d/", w.groupB), 404},
			{"mallory", fmt.Sprintf("/api/groups/%d/", w.groupA), 403},
			{"alice", fmt.Sprintf("/api/groups/%d/", w.groupA), 200},
			{"alice", fmt.Sprintf("/api/permission-bundles/%d/", w.bundleB), 404},
			{"mallory", fmt.Sprintf("/api/permission-bundles/%d/", w.bundleA), 403},
			{"mallory", fmt.Sprintf("/api/permission-bundles/%d/", w.viewerBundle), 200},
			{"olivia", "/api/customers/999999/", 404},
		} {
			if r := w.req(t, c.who, "GET", c.path, ""); r.status != c.status {
				t.Errorf("%s GET %s: %d %s; want %d", c.who, c.path, r.status, r.raw, c.status)
			}
		}
	})
}

func TestAdminRefusalsAreAuditedAndWriteNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		before := w.counts(t)
		a, b := w.a, w.b
		for _, c := range []struct {
			who, method, path, body string
			status                  int
			audit                   string
		}{
			// A plain member of acme: 403 in acme.
			{"mallory", "POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x"}`, a), 403, "denied group.create"},
			{"mallory", "PATCH", fmt.Sprintf("/api/groups/%d/", w.groupA), `{"name":"x"}`, 403, "denied group.update"},
			{"mallory", "DELETE", fmt.Sprintf("/api/groups/%d/", w.groupA), "", 403, "denied group.delete"},
			{"mallory", "POST", "/api/memberships/", fmt.Sprintf(`{"customer":%d,"user":%d,"role":"admin"}`, a, w.id["olivia"]), 403, "denied membership.create"},
			{"mallory", "PATCH", fmt.Sprintf("/api/memberships/%d/", w.memberA), `{"role":"admin"}`, 403, "denied membership.update"},
			{"mallory", "DELETE", fmt.Sprintf("/api/memberships/%d/", w.memberA), "", 403, "denied membership.delete"},
			{"mallory", "POST", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"x"}`, a), 403, "denied bundle.create"},
			{"mallory", "PATCH", fmt.Sprintf("/api/permission-bundles/%d/", w.bundleA), `{"name":"x"}`, 403, "denied bundle.update"},
			{"mallory", "POST", "/api/users/", fmt.Sprintf(`{"username":"x","password":"long enough 123","customer":%d,"role":"viewer"}`, a), 403, "denied user.create"},
			{"mallory", "POST", "/api/customers/", `{"name":"x","slug":"x"}`, 403, "denied customer.create"},
			{"alice", "POST", "/api/customers/", `{"name":"x","slug":"x"}`, 403, "denied customer.create"},
			{"olivia", "POST", "/api/users/", `{"username":"x","password":"long enough 123"}`, 403, "denied user.create"},
			// Only staff manage global bundles; only superusers make staff.
			{"alice", "POST", "/api/permission-bundles/", `{"name":"x"}`, 403, "denied bundle.create"},
			{"alice", "DELETE", fmt.Sprintf("/api/permission-bundles/%d/", w.viewerBundle), "", 403, "denied bundle.delete"},
			{"alice", "POST", "/api/users/", fmt.Sprintf(`{"username":"x","password":"long enough 123","customer":%d,"role":"viewer","is_staff":true}`, a), 403, "denied user.create"},
			{"staffer", "POST", "/api/users/", `{"username":"x","password":"long enough 123","is_superuser":true}`, 403, "denied user.create"},
			{"staffer", "PATCH", fmt.Sprintf("/api/users/%d/", w.id["root"]), `{"email":"x@example.net"}`, 403, "denied user.update"},
			{"staffer", "PATCH", fmt.Sprintf("/api/users/%d/", w.id["mallory"]), `{"is_staff":true}`, 403, "denied user.update"},
			// acme's admin may not change carol, who is also globex's.
			{"alice", "PATCH", fmt.Sprintf("/api/users/%d/", w.id["carol"]), `{"is_active":false}`, 403, "denied user.update"},
			{"alice", "PATCH", fmt.Sprintf("/api/users/%d/", w.id["mallory"]), `{"is_superuser":true}`, 403, "denied user.update"},
			// Other tenants' objects: 404, in the URL or in the body.
			{"mallory", "POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x"}`, b), 404, "denied group.create"},
			{"alice", "PATCH", fmt.Sprintf("/api/groups/%d/", w.groupB), `{"name":"x"}`, 404, ""},
			{"alice", "DELETE", fmt.Sprintf("/api/memberships/%d/", w.memberBobB), "", 404, ""},
			{"mallory", "DELETE", fmt.Sprintf("/api/memberships/%d/", w.memberBobB), "", 404, ""},
			{"alice", "PATCH", fmt.Sprintf("/api/permission-bundles/%d/", w.bundleB), `{"name":"x"}`, 404, ""},
			{"alice", "PATCH", fmt.Sprintf("/api/users/%d/", w.id["bob"]), `{"email":"x@example.net"}`, 404, ""},
			{"alice", "POST", "/api/users/", fmt.Sprintf(`{"username":"x","password":"long enough 123","customer":%d,"role":"viewer"}`, b), 404, "denied user.create"},
			{"alice", "POST", "/api/memberships/", fmt.Sprintf(`{"customer":%d,"user":%d,"role":"viewer"}`, a, w.id["gina"]), 404, "denied membership.create"},
			{"alice", "POST", "/api/memberships/", fmt.Sprintf(`{"customer":%d,"user":%d,"role":"viewer"}`, b, w.id["alice"]), 404, "denied membership.create"},
			{"alice", "PATCH", fmt.Sprintf("/api/memberships/%d/", w.memberA), fmt.Sprintf(`{"bundles":[%d]}`, w.bundleB), 404, "denied membership.update"},
			{"alice", "PATCH", fmt.Sprintf("/api/groups/%d/", w.groupA), fmt.Sprintf(`{"bundles":[%d]}`, w.bundleB), 404, "denied group.update"},
			{"alice", "POST", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"x"}`, b), 404, "denied bundle.create"},
		} {
			w.mutate(t, c.who, c.method, c.path, c.body, c.status, c.audit)
		}
		after := w.counts(t)
		if before != after {
			t.Fatalf("refused requests wrote: counts %v → %v", before, after)
		}
	})
}

func TestAdminBadInputWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		a, b, olivia := w.a, w.b, w.id["olivia"]
		mallory := fmt.Sprintf("/api/users/%d/", w.id["mallory"])
		member := fmt.Sprintf("/api/memberships/%d/", w.memberA)
		group := fmt.Sprintf("/api/groups/%d/", w.groupA)
		bundle := fmt.Sprintf("/api/permission-bundles/%d/", w.bundleA)
		pw := `"password":"long enough 123"`
		before := w.counts(t)
		for _, c := range []struct {
			method, path, body string
			status             int
			field, audit       string
		}{
			{"POST", "/api/customers/", `{"name":"x","slug":"x","extra":1}`, 400, "extra", ""},
			{"POST", "/api/customers/", `{"name":1,"slug":"x"}`, 400, "name", ""},
			{"POST", "/api/customers/", `{"name":"Initech"}`, 400, "slug", ""},
			{"POST", "/api/customers/", `{"name":"Initech","slug":"-bad"}`, 400, "slug", ""},
			{"POST", "/api/customers/", `{"name":"","slug":"initech"}`, 400, "name", ""},
			{"POST", "/api/customers/", `{"name":"Acme again","slug":"acme"}`, 409, "slug", ""},
			{"POST", "/api/users/", `{"username":"zed",` + pw + `,"admin":true}`, 400, "admin", ""},
			{"POST", "/api/users/", `{"username":"zed","password":123}`, 400, "password", ""},
			{"POST", "/api/users/", `{"username":"zed"}`, 400, "password", ""},
			{"POST", "/api/users/", `{"username":"no spaces",` + pw + `}`, 400, "username", ""},
			{"POST", "/api/users/", `{"username":"zed","password":"short"}`, 400, "password", ""},
			{"POST", "/api/users/", `{"username":"zed",` + pw + `,"email":"nope"}`, 400, "email", ""},
			{"POST", "/api/users/", `{"username":"zed",` + pw + `,"role":"viewer"}`, 400, "customer", ""},
			{"POST", "/api/users/", fmt.Sprintf(`{"username":"zed",%s,"customer":%d}`, pw, a), 400, "role", ""},
			{"POST", "/api/users/", `{"username":"zed",` + pw + `,"customer":999999,"role":"viewer"}`, 404, "customer", ""},
			{"POST", "/api/users/", `{"username":"alice",` + pw + `}`, 409, "username", ""},
			{"PATCH", mallory, `{"username":"x"}`, 400, "username", ""},
			{"PATCH", mallory, `{"email":"nope"}`, 400, "email", ""},
			{"PATCH", mallory, `{"password":"short"}`, 400, "password", ""},
			{"PATCH", mallory, `{"is_active":"no"}`, 400, "is_active", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member","x":1}`, olivia, a), 400, "x", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":"5","customer":%d,"role":"member"}`, a), 400, "user", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"customer":%d,"role":"member"}`, a), 400, "user", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"role":"member"}`, olivia), 400, "customer", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"owner"}`, olivia, a), 400, "role", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member","permissions":["fly"]}`, olivia, a), 400, "permissions", ""},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member","bundles":[%d]}`, olivia, a, w.bundleB), 404, "bundles", "denied membership.create"},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":999999,"customer":%d,"role":"member"}`, a), 404, "user", "denied membership.create"},
			{"POST", "/api/memberships/", fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member"}`, w.id["mallory"], a), 409, "user", ""},
			{"PATCH", member, `{"role":"owner"}`, 400, "role", ""},
			{"PATCH", member, `{"permissions":"view_device"}`, 400, "permissions", ""},
			{"PATCH", member, fmt.Sprintf(`{"customer":%d}`, b), 400, "customer", ""},
			{"PATCH", member, `{"bundles":[999999]}`, 404, "bundles", "denied membership.update"},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x","extra":1}`, a), 400, "extra", ""},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d}`, a), 400, "name", ""},
			{"POST", "/api/groups/", `{"name":"x"}`, 400, "customer", ""},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x","users":[%d]}`, a, w.id["gina"]), 400, "users", ""},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x","users":["1"]}`, a), 400, "users", ""},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x","permissions":["nope"]}`, a), 400, "permissions", ""},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"x","bundles":[%d]}`, a, w.bundleB), 404, "bundles", "denied group.create"},
			{"POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"acme-noc"}`, a), 409, "name", ""},
			{"PATCH", group, fmt.Sprintf(`{"customer":%d}`, b), 400, "customer", ""},
			{"PATCH", group, `{"name":"  "}`, 400, "name", ""},
			{"PATCH", group, fmt.Sprintf(`{"users":[%d]}`, olivia), 400, "users", ""},
			{"POST", "/api/permission-bundles/", `{"name":"x","extra":1}`, 400, "extra", ""},
			{"POST", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d}`, a), 400, "name", ""},
			{"POST", "/api/permission-bundles/", `{"name":"x","description":5}`, 400, "description", ""},
			{"POST", "/api/permission-bundles/", `{"name":"x","permissions":["nope"]}`, 400, "permissions", ""},
			{"POST", "/api/permission-bundles/", `{"name":"Device Viewer"}`, 409, "name", ""},
			{"POST", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"acme-bundle"}`, a), 409, "name", ""},
			{"POST", "/api/permission-bundles/", `{"customer":999999,"name":"x"}`, 404, "customer", ""},
			{"PATCH", bundle, `{"customer":null}`, 400, "customer", ""},
			{"PATCH", bundle, `{"permissions":["nope"]}`, 400, "permissions", ""},
			{"PATCH", fmt.Sprintf("/api/permission-bundles/%d/", w.managerBundle), `{"name":"Device Viewer"}`, 409, "name", ""},
		} {
			r := w.mutate(t, "root", c.method, c.path, c.body, c.status, c.audit)
			if f, _ := r.body["fields"].(map[string]any); f[c.field] == nil {
				t.Errorf("%s %s %s: no fields.%s in %s", c.method, c.path, c.body, c.field, r.raw)
			}
		}
		if after := w.counts(t); before != after {
			t.Fatalf("bad input wrote: counts %v → %v", before, after)
		}
	})
}

// login signs username in with pw and returns the status and token.
func (w *admWorld) login(t *testing.T, username, pw string) (int, string) {
	t.Helper()
	r := w.do(t, "POST", "/api/auth/token/", fmt.Sprintf(`{"username":%q,"password":%q}`, username, pw))
	tok, _ := r.body["token"].(string)
	return r.status, tok
}

func TestAdminUserLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		const first, second = "dave's first password", "dave's second password"
		r := w.mutate(t, "alice", "POST", "/api/users/", fmt.Sprintf(`{"username":"dave","email":"d@example.net","password":%q,"customer":%d,"role":"viewer"}`, first, w.a), 201, "success user.create")
		if _, leaked := r.body["password"]; leaked || r.body["is_staff"] != false || r.body["is_active"] != true {
			t.Fatalf("created user: %s", r.raw)
		}
		dave := fmt.Sprintf("/api/users/%v/", r.body["id"])
		if got := values(w.results(t, "alice", fmt.Sprintf("/api/memberships/?user=%v", r.body["id"])), "role"); !slices.Equal(got, []string{"viewer"}) {
			t.Fatalf("dave's memberships: %v", got)
		}
		status, tok := w.login(t, "dave", first)
		if status != 200 {
			t.Fatalf("dave signs in: %d", status)
		}
		w.mutate(t, "alice", "PATCH", dave, `{"email":"dave@example.net"}`, 200, "success user.update")
		w.mutate(t, "alice", "PATCH", dave, `{"is_active":false}`, 200, "success user.update")
		wantError(t, w.do(t, "GET", "/api/me/", "", as(tok)...), 401, "unauthenticated")
		w.mutate(t, "alice", "PATCH", dave, fmt.Sprintf(`{"is_active":true,"password":%q}`, second), 200, "success user.update")
		if s, _ := w.login(t, "dave", first); s != 400 {
			t.Fatalf("old password still works: %d", s)
		}
		if s, _ := w.login(t, "dave", second); s != 200 {
			t.Fatalf("new password refused: %d", s)
		}
		// Staff create users without a membership; only superusers make staff.
		erin := w.mutate(t, "staffer", "POST", "/api/users/", `{"username":"erin","password":"erin's password"}`, 201, "success user.create")
		wantError(t, w.req(t, "alice", "GET", fmt.Sprintf("/api/users/%v/", erin.body["id"]), ""), 404, "not_found")
		if r := w.mutate(t, "root", "POST", "/api/users/", `{"username":"frank","password":"frank's password","is_staff":true}`, 201, "success user.create"); r.body["is_staff"] != true {
			t.Fatalf("frank: %s", r.raw)
		}
		w.mutate(t, "root", "PATCH", dave, `{"is_staff":true}`, 200, "success user.update")
		w.mutate(t, "alice", "PATCH", dave, `{"email":"x@example.net"}`, 403, "denied user.update")
		// No password, hash or hash parameters anywhere in the audit trail.
		u, _ := w.db.Read().UserByUsername(context.Background(), "dave")
		redacted := 0
		for _, a := range w.activity(t) {
			d := string(a.Details)
			for _, secret := range []string{first, second, "erin's password", "frank's password", u.PasswordHash, "argon2"} {
				if strings.Contains(d, secret) {
					t.Fatalf("audit record %s leaks %q: %s", a.Action, secret, d)
				}
			}
			redacted += strings.Count(d, "[redacted]")
		}
		if redacted < 4 {
			t.Fatalf("password changes not recorded as redacted (%d)", redacted)
		}
	})
}

func TestAdminMembershipGroupBundleLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		body := fmt.Sprintf(`{"user":%d,"customer":%d,"role":"member","permissions":["devices.view_device","sync_device_inventory"],"bundles":[%d,%d]}`,
			w.id["olivia"], w.a, w.viewerBundle, w.viewerBundle)
		r := w.mutate(t, "root", "POST", "/api/memberships/", body, 201, "success membership.create")
		if fmt.Sprint(r.body["permissions"]) != "[view_device sync_device_inventory]" || fmt.Sprint(r.body["bundles"]) != fmt.Sprintf("[%d]", w.viewerBundle) {
			t.Fatalf("membership: %s", r.raw)
		}
		m := fmt.Sprintf("/api/memberships/%v/", r.body["id"])
		w.mutate(t, "root", "POST", "/api/memberships/", body, 409, "")
		w.mutate(t, "alice", "PATCH", m, fmt.Sprintf(`{"role":"operator","bundles":[%d]}`, w.bundleA), 200, "success membership.update")
		if r := w.req(t, "olivia", "GET", m, ""); r.body["role"] != "operator" || fmt.Sprint(r.body["bundles"]) != fmt.Sprintf("[%d]", w.bundleA) {
			t.Fatalf("olivia's own membership: %s", r.raw)
		}
		w.mutate(t, "alice", "DELETE", m, "", 204, "success membership.delete")
		if got := w.results(t, "olivia", "/api/customers/"); len(got) != 0 {
			t.Fatalf("olivia still sees %v", got)
		}

		g := w.mutate(t, "alice", "POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"acme-ops","users":[%d,%d],"permissions":["view_backups"],"bundles":[%d]}`,
			w.a, w.id["mallory"], w.id["carol"], w.bundleA), 201, "success group.create")
		gp := fmt.Sprintf("/api/groups/%v/", g.body["id"])
		w.mutate(t, "alice", "POST", "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"acme-ops"}`, w.a), 409, "")
		r = w.mutate(t, "alice", "PATCH", gp, fmt.Sprintf(`{"name":"acme-ops2","users":[%d]}`, w.id["carol"]), 200, "success group.update")
		if r.body["name"] != "acme-ops2" || fmt.Sprint(r.body["users"]) != fmt.Sprintf("[%d]", w.id["carol"]) || fmt.Sprint(r.body["permissions"]) != "[view_backups]" {
			t.Fatalf("patched group: %s", r.raw)
		}
		w.mutate(t, "alice", "DELETE", gp, "", 204, "success group.delete")
		wantError(t, w.req(t, "alice", "GET", gp, ""), 404, "not_found")

		bu := w.mutate(t, "alice", "POST", "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"acme-ops","description":"Upgrades.","permissions":["upgrade_device_firmware"]}`, w.a), 201, "success bundle.create")
		global := w.mutate(t, "staffer", "POST", "/api/permission-bundles/", `{"name":"Global Ops","permissions":["devices.check_device_readiness"]}`, 201, "success bundle.create")
		if global.body["customer"] != nil || fmt.Sprint(global.body["permissions"]) != "[check_device_readiness]" {
			t.Fatalf("global bundle: %s", global.raw)
		}
		if got := values(w.results(t, "gina", "/api/permission-bundles/"), "name"); !slices.Contains(got, "Global Ops") || slices.Contains(got, "acme-ops") {
			t.Fatalf("gina's bundles: %v", got)
		}
		bp := fmt.Sprintf("/api/permission-bundles/%v/", bu.body["id"])
		w.mutate(t, "alice", "PATCH", bp, `{"description":"Firmware upgrades."}`, 200, "success bundle.update")
		w.mutate(t, "alice", "DELETE", bp, "", 204, "success bundle.delete")
		w.mutate(t, "staffer", "DELETE", fmt.Sprintf("/api/permission-bundles/%v/", global.body["id"]), "", 204, "success bundle.delete")

		c := w.mutate(t, "staffer", "POST", "/api/customers/", `{"name":"Initech","slug":"initech"}`, 201, "success customer.create")
		if c.body["slug"] != "initech" {
			t.Fatalf("customer: %s", c.raw)
		}
		w.mutate(t, "root", "POST", "/api/customers/", `{"name":"Initech 2","slug":"initech"}`, 409, "")
	})
}

func TestAdminRevokedGrantStopsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		now := w.clock.Now()
		w.tx(t, func(ctx context.Context, tx *store.Tx) error {
			dg := &webnet.DeviceGroup{CustomerID: w.a, Name: "core", CreatedAt: now}
			if err := tx.CreateDeviceGroup(ctx, dg); err != nil {
				return err
			}
			return tx.CreateDevice(ctx, &webnet.Device{CustomerID: w.a, DeviceGroupID: &dg.ID, Name: "r1", Address: "192.0.2.1",
				Port: 22, Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now})
		})
		mia, tok := w.user(t, "mia", false, false, map[int64]webnet.Role{w.a: webnet.RoleMember})
		w.id["mia"], w.tok["mia"] = mia, tok
		// devices counts what GET /api/devices/ shows mia, on her next request.
		devices := func() int {
			t.Helper()
			return len(w.results(t, "mia", "/api/devices/"))
		}
		m := fmt.Sprintf("/api/memberships/%d/", w.membershipOf(t, "mia", w.a))
		bundle := fmt.Sprintf("/api/permission-bundles/%d/", w.bundleA)
		steps := []struct {
			method, path, body string
			want               int
		}{
			{"PATCH", m, `{"permissions":["view_device"]}`, 1},
			{"PATCH", m, `{"permissions":[]}`, 0},
			{"PATCH", m, fmt.Sprintf(`{"bundles":[%d]}`, w.bundleA), 1},
			{"PATCH", bundle, `{"permissions":["view_backups"]}`, 0},
			{"PATCH", bundle, `{"permissions":["view_device"]}`, 1},
			{"DELETE", bundle, "", 0},
			{"PATCH", fmt.Sprintf("/api/groups/%d/", w.groupA), fmt.Sprintf(`{"users":[%d],"permissions":["view_device"]}`, mia), 1},
			{"PATCH", fmt.Sprintf("/api/groups/%d/", w.groupA), `{"users":[]}`, 0},
			{"PATCH", m, `{"role":"viewer"}`, 1},
			{"DELETE", m, "", 0},
		}
		if devices() != 0 {
			t.Fatal("mia sees a device before any grant")
		}
		for _, s := range steps {
			if r := w.req(t, "alice", s.method, s.path, s.body); r.status >= 300 {
				t.Fatalf("%s %s: %d %s", s.method, s.path, r.status, r.raw)
			}
			if got := devices(); got != s.want {
				t.Fatalf("after %s %s %s mia sees %d devices; want %d", s.method, s.path, s.body, got, s.want)
			}
		}
	})
}

// getArray GETs a plain JSON array as token.
func (w *admWorld) getArray(t *testing.T, token, path string) (int, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode, out
}

func TestAdminPermissionCatalog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newAdmWorld(t, db)
		status, perms := w.getArray(t, w.tok["olivia"], "/api/permissions/")
		if status != 200 || len(perms) != 11 {
			t.Fatalf("permissions: %d %v", status, perms)
		}
		custom := 0
		for _, p := range perms {
			if len(p) != 5 || p["app"] != "devices" || p["codename"] == "" || p["name"] == "" || p["description"] == "" {
				t.Fatalf("permission entry %v", p)
			}
			if p["custom_action"] == true {
				custom++
			}
		}
		if custom != 3 {
			t.Fatalf("%d custom actions", custom)
		}
		status, codes := w.getArray(t, w.tok["olivia"], "/api/device-group-permissions/")
		if status != 200 || len(codes) != 9 || len(codes[0]) != 3 || codes[0]["code"] == "view_device" {
			t.Fatalf("device-group permissions: %d %v", status, codes)
		}
		for _, path := range []string{"/api/permissions/", "/api/device-group-permissions/"} {
			if status, _ := w.getArray(t, "", path); status != 401 {
				t.Fatalf("%s without credentials: %d", path, status)
			}
		}
	})
}
