package httpapi_test

import (
	"fmt"
	"strconv"
	"testing"

	"webnet/internal/webnet"
)

// world is the scenario of seeds 003/004 as restated in design.md §2: two customers, acme
// (groups core and edge, an ungrouped device) and globex, and one user per kind of standing.
type world struct {
	*env
	acme, globex     int64
	core, edge, gx   int64 // device groups
	r1, r2, e1, u1   int64 // acme devices: r1, r2 in core, e1 in edge, u1 ungrouped
	g1               int64 // globex device in gx
	root             string
	tokens           map[string]string
	ids              map[string]int64
	syncRole, noRole int64 // roles on core: one with sync_device_inventory, one with nothing
	img              int64 // a global firmware image (image), uploaded when first needed
}

// image returns a global firmware image's id, uploading one as root the first time: readiness
// and upgrade requests must name an image that exists.
func (w *world) image(t testing.TB) int64 {
	t.Helper()
	if w.img == 0 {
		r := w.upload(t, w.root, imageForm(0, "global-ios.bin", imageBytes(102, 1000))...)
		if r.status != 201 {
			t.Fatalf("upload a global image: %d %s", r.status, r.raw)
		}
		w.img = idOf(r.body)
	}
	return w.img
}

func (w *world) post(t testing.TB, token, path, body string) map[string]any {
	t.Helper()
	r := w.do(t, "POST", path, body, as(token)...)
	if r.status != 201 {
		t.Fatalf("POST %s %s: %d %s", path, body, r.status, r.raw)
	}
	return r.body
}

func idOf(m map[string]any) int64 { return int64(m["id"].(float64)) }

func newWorld(t testing.TB, e *env) *world {
	t.Helper()
	w := &world{env: e, tokens: map[string]string{}, ids: map[string]int64{}}
	w.root = e.token(t)
	w.acme, w.globex = e.customer(t, "acme"), e.customer(t, "globex")
	group := func(cust int64, name string) int64 {
		return idOf(w.post(t, w.root, "/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":%q}`, cust, name)))
	}
	w.core, w.edge, w.gx = group(w.acme, "core"), group(w.acme, "edge"), group(w.globex, "gx")
	device := func(cust, grp int64, name string) int64 {
		g := "null"
		if grp != 0 {
			g = strconv.FormatInt(grp, 10)
		}
		return idOf(w.post(t, w.root, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%s,"name":%q,"address":"192.0.2.%d","platform":"cisco_iosxe"}`,
			cust, g, name, len(name))))
	}
	w.r1, w.r2, w.e1, w.u1 = device(w.acme, w.core, "acme-r1"), device(w.acme, w.core, "acme-r2"), device(w.acme, w.edge, "acme-e1"), device(w.acme, 0, "acme-u1")
	w.g1 = device(w.globex, w.gx, "globex-g1")
	for name, standing := range map[string]struct {
		staff, super bool
		m            map[int64]webnet.Role
	}{
		"staff":     {true, false, nil},
		"admin":     {false, false, map[int64]webnet.Role{w.acme: webnet.RoleAdmin}},
		"viewer":    {false, false, map[int64]webnet.Role{w.acme: webnet.RoleViewer}},
		"operator":  {false, false, map[int64]webnet.Role{w.acme: webnet.RoleOperator}},
		"member":    {false, false, map[int64]webnet.Role{w.acme: webnet.RoleMember}},
		"syncer":    {false, false, map[int64]webnet.Role{w.acme: webnet.RoleMember}},
		"grouped":   {false, false, map[int64]webnet.Role{w.acme: webnet.RoleMember}},
		"globexadm": {false, false, map[int64]webnet.Role{w.globex: webnet.RoleAdmin}},
		"outsider":  {false, false, nil},
	} {
		w.ids[name], w.tokens[name] = e.user(t, name, standing.staff, standing.super, standing.m)
	}
	w.syncRole = idOf(w.post(t, w.root, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"sync","permissions":["sync_device_inventory","view_backups"]}`, w.core)))
	w.noRole = idOf(w.post(t, w.root, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"look","permissions":[]}`, w.core)))
	w.post(t, w.root, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["syncer"], w.syncRole))
	w.post(t, w.root, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["grouped"], w.noRole))
	return w
}

// deviceIDs lists the ids GET /api/devices/ shows the user.
func (w *world) deviceIDs(t testing.TB, user string) map[int64]bool {
	t.Helper()
	r := w.do(t, "GET", "/api/devices/?limit=1000", "", as(w.tokens[user])...)
	if r.status != 200 {
		t.Fatalf("list as %s: %d %s", user, r.status, r.raw)
	}
	out := map[int64]bool{}
	for _, d := range r.body["results"].([]any) {
		out[idOf(d.(map[string]any))] = true
	}
	if int(r.body["count"].(float64)) != len(out) {
		t.Fatalf("count %v but %d results", r.body["count"], len(out))
	}
	return out
}
