package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// editWorld is the seeds' world with a way to check the edits.
type editWorld struct{ *world }

// refused posts form to path as each user and wants one of the statuses, a well-formed page
// and no redirect.
func (w editWorld) refused(t *testing.T, path string, form url.Values, users map[string][]int) {
	t.Helper()
	for user, want := range users {
		status, body, _ := adminPost(t, w.env, w.client(t, user), path, form)
		if !slices.Contains(want, status) {
			t.Errorf("%s POST %s: %d, want one of %v: %s", user, path, status, want, body)
		}
		wellFormed(t, user+" refused "+path, body)
	}
}

// saved posts form to path as user and wants a redirect to loc.
func (w editWorld) saved(t *testing.T, user, path string, form url.Values, loc string) {
	t.Helper()
	status, body, got := adminPost(t, w.env, w.client(t, user), path, form)
	if status != http.StatusSeeOther || got != loc {
		t.Fatalf("%s POST %s %v: %d to %q, want 303 to %q: %s", user, path, form, status, got, loc, body)
	}
}

// invalid posts form to path as user and wants 400 (or want) with msg on a well-formed page
// that shows the form again.
func (w editWorld) invalid(t *testing.T, user, path string, form url.Values, want int, msgs ...string) string {
	t.Helper()
	status, body, _ := adminPost(t, w.env, w.client(t, user), path, form)
	if status != want {
		t.Fatalf("%s POST %s %v: %d, want %d: %s", user, path, form, status, want, body)
	}
	wellFormed(t, "refused "+path, body)
	for _, m := range msgs {
		if !strings.Contains(body, m) {
			t.Errorf("POST %s %v: the page lacks %q", path, form, m)
		}
	}
	return body
}

// groupRole is a device-group role as the API shows it.
type groupRole struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// groupRoles are the roles of device group id, as root sees them through the API.
func groupRoles(t *testing.T, w *world, id int64) []groupRole {
	t.Helper()
	var roles struct {
		Results []groupRole `json:"results"`
	}
	w.api(t, w.root, "GET", fmt.Sprintf("/api/device-group-roles/?device_group=%d", id), "", 200, &roles)
	return roles.Results
}

// audited wants an audit record of action by actor with result.
func (w editWorld) audited(t *testing.T, action, actor, result string) {
	t.Helper()
	var log struct {
		Results []struct {
			Actor string `json:"actor_username"`
		} `json:"results"`
	}
	w.api(t, w.root, "GET", "/api/audit-log/?action="+action+"&result="+result, "", 200, &log)
	for _, r := range log.Results {
		if r.Actor == actor {
			return
		}
	}
	t.Errorf("%s by %s (%s) not audited: %+v", action, actor, result, log)
}

func TestAdminEditDeviceGroupAndRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := editWorld{newWorld(t, newEnv(t, db))}
		path := fmt.Sprintf("/groups/%d/edit", w.core)
		body := page(t, w.env, w.client(t, "admin"), fmt.Sprintf("/groups/%d", w.core), 200)
		if !strings.Contains(body, `action="`+path+`"`) {
			t.Fatalf("no edit form on the group page")
		}
		// Refused: the name is required, shown next to the field with what was typed.
		body = w.invalid(t, "admin", path, url.Values{"name": {" "}, "description": {"kept text"}}, 400, "This field is required.", `value="kept text"`)
		if !strings.Contains(body, `<details class="admin-edit" open>`) {
			t.Errorf("the refused form is not open")
		}
		// Not for a member (no such group for them), syncer (sees it, may not manage it) or
		// another customer's admin.
		w.refused(t, path, url.Values{"name": {"x"}}, map[string][]int{"member": {404}, "syncer": {403}, "operator": {403, 404}, "globexadm": {404}})
		w.saved(t, "admin", path, url.Values{"name": {"backbone"}, "description": {"the core routers"}}, fmt.Sprintf("/groups/%d?notice=saved", w.core))
		var g struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/device-groups/%d/", w.core), "", 200, &g)
		if g.Name != "backbone" || g.Description != "the core routers" {
			t.Fatalf("device group after the edit: %+v", g)
		}
		w.audited(t, "device_group.update", "admin", "success")
		w.audited(t, "device_group.update", "syncer", "denied")

		// The role: its name and permissions change; unchecked permissions are removed.
		role := groupRoles(t, w.world, w.core)[0].ID
		rpath := fmt.Sprintf("/groups/roles/%d/edit", role)
		body = w.invalid(t, "admin", rpath, url.Values{"name": {"sync"}, "permissions": {"view_backups", "fly"}}, 400, "Not device-group permissions: fly.")
		// The refused form keeps what was checked: view_backups, not sync_device_inventory.
		form := body[strings.Index(body, `action="`+rpath+`"`):]
		form = form[:strings.Index(form, "</form>")]
		if !strings.Contains(form, `value="view_backups" checked`) || strings.Contains(form, `value="sync_device_inventory" checked`) {
			t.Errorf("the refused role form does not show what was checked: %s", form)
		}
		w.refused(t, rpath, url.Values{"name": {"x"}}, map[string][]int{"member": {404}, "syncer": {404}, "globexadm": {404}})
		w.saved(t, "admin", rpath, url.Values{"name": {"backups"}, "description": {"reads backups"}, "permissions": {"view_backups"}},
			fmt.Sprintf("/groups/%d?notice=saved", w.core))
		if r := groupRoles(t, w.world, w.core)[0]; r.Name != "backups" || strings.Join(r.Permissions, ",") != "view_backups" {
			t.Fatalf("role after the edit: %+v", r)
		}
		w.audited(t, "device_group_role.update", "admin", "success")
		body = page(t, w.env, w.client(t, "admin"), fmt.Sprintf("/groups/%d", w.core), 200)
		if !strings.Contains(body, `data-role="backups"`) || !strings.Contains(body, "Device group backbone") {
			t.Errorf("the group page does not show the edits")
		}
	})
}

func TestAdminEditMembershipAndUserGroupGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := editWorld{newWorld(t, newEnv(t, db))}
		readers := w.create(t, "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"readers","permissions":["view_device"]}`, w.acme))
		gxb := w.create(t, "/api/permission-bundles/", fmt.Sprintf(`{"customer":%d,"name":"gxb","permissions":["view_device"]}`, w.globex))
		var ms struct {
			Results []struct {
				ID          int64    `json:"id"`
				Permissions []string `json:"permissions"`
				Bundles     []int64  `json:"bundles"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/memberships/?user=%d", w.ids["operator"]), "", 200, &ms)
		mpath := fmt.Sprintf("/admin/memberships/%d/grants", ms.Results[0].ID)
		mpage := fmt.Sprintf("/admin/memberships/%d", ms.Results[0].ID)
		if !strings.Contains(page(t, w.env, w.client(t, "admin"), "/admin/users", 200), `href="`+mpage+`"`) {
			t.Fatalf("the users page does not link to the membership's grants")
		}
		body := page(t, w.env, w.client(t, "admin"), mpage, 200)
		if !strings.Contains(body, `action="`+mpath+`"`) || strings.Contains(body, "gxb") || !strings.Contains(body, "readers") {
			t.Fatalf("the membership page lacks the grants form, or offers globex's bundle")
		}
		page(t, w.env, w.client(t, "globexadm"), mpage, 404)
		page(t, w.env, w.client(t, "operator"), mpage, 403)
		body = w.invalid(t, "admin", mpath, url.Values{"permissions": {"view_backups", "fly"}}, 400, "Unknown permission: fly.")
		if !strings.Contains(body, `value="view_backups" checked`) {
			t.Errorf("the refused grants form does not keep what was checked")
		}
		w.invalid(t, "admin", mpath, url.Values{"bundles": {"x"}}, 400, "Choose from the list.")
		w.invalid(t, "admin", mpath, url.Values{"bundles": {fmt.Sprint(gxb)}}, 404, "No such bundle for this customer")
		w.refused(t, mpath, url.Values{"permissions": {"view_backups"}}, map[string][]int{"operator": {403, 404}, "member": {403, 404}, "globexadm": {404}})
		w.saved(t, "admin", mpath, url.Values{"permissions": {"view_backups", "view_device"}, "bundles": {fmt.Sprint(readers)}}, "/admin/users?notice=saved")
		w.api(t, w.root, "GET", fmt.Sprintf("/api/memberships/?user=%d", w.ids["operator"]), "", 200, &ms)
		if m := ms.Results[0]; strings.Join(m.Permissions, ",") != "view_device,view_backups" || len(m.Bundles) != 1 || m.Bundles[0] != readers {
			t.Fatalf("membership after the edit: %+v", m)
		}
		w.audited(t, "membership.update", "admin", "success")
		body = page(t, w.env, w.client(t, "admin"), "/admin/users", 200)
		if !strings.Contains(body, "bundle readers") {
			t.Errorf("the users page does not show the new grants")
		}

		ug := w.create(t, "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"nightshift","users":[%d]}`, w.acme, w.ids["operator"]))
		gpath := fmt.Sprintf("/admin/user-groups/%d/edit", ug)
		page(t, w.env, w.client(t, "admin"), "/admin/user-groups", 200)
		w.invalid(t, "admin", gpath, url.Values{"name": {""}, "permissions": {"sync_device_inventory"}}, 400, "This field is required.")
		w.invalid(t, "admin", gpath, url.Values{"name": {"night"}, "bundles": {fmt.Sprint(gxb)}}, 404, "No such bundle for this customer")
		w.refused(t, gpath, url.Values{"name": {"x"}}, map[string][]int{"operator": {403, 404}, "globexadm": {404}})
		w.saved(t, "admin", gpath, url.Values{"name": {"night"}, "permissions": {"sync_device_inventory"}, "bundles": {fmt.Sprint(readers)}}, "/admin/user-groups?notice=saved")
		var g struct {
			Name        string   `json:"name"`
			Users       []int64  `json:"users"`
			Permissions []string `json:"permissions"`
			Bundles     []int64  `json:"bundles"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/groups/%d/", ug), "", 200, &g)
		if g.Name != "night" || strings.Join(g.Permissions, ",") != "sync_device_inventory" || len(g.Bundles) != 1 || len(g.Users) != 1 {
			t.Fatalf("user group after the edit: %+v", g)
		}
		w.audited(t, "group.update", "admin", "success")
		body = page(t, w.env, w.client(t, "admin"), "/admin/user-groups", 200)
		if !strings.Contains(body, `data-user-group="night"`) || !strings.Contains(body, "Bundles: readers") {
			t.Errorf("the user groups page does not show the edit")
		}
	})
}

func TestAdminEditFirmwareModel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := editWorld{newWorld(t, newEnv(t, db))}
		b, ct := firmwareForm(t, [][2]string{{"customer", fmt.Sprint(w.acme)}, {"platform", "cisco_iosxe"}, {"version", "17.9"}}, "image bytes")
		resp, err := w.client(t, "admin").Post(w.srv.URL+"/admin/firmware", ct, b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var images struct {
			Results []struct {
				ID    int64  `json:"id"`
				Model string `json:"model"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", "/api/firmware-images/", "", 200, &images)
		if len(images.Results) != 1 {
			t.Fatalf("upload: %d, images %+v", resp.StatusCode, images)
		}
		path := fmt.Sprintf("/admin/firmware/%d/model", images.Results[0].ID)
		body := w.invalid(t, "admin", path, url.Values{"model": {"no spaces!"}}, 400, "Use 1-64 letters, digits")
		if !strings.Contains(body, `value="no spaces!"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("the refused model is not shown again, marked invalid")
		}
		w.refused(t, path, url.Values{"model": {"ISR4331"}}, map[string][]int{"operator": {403}, "member": {403, 404}, "globexadm": {404}})
		w.saved(t, "admin", path, url.Values{"model": {"ISR4331"}}, "/admin/firmware?notice=saved")
		w.api(t, w.root, "GET", "/api/firmware-images/", "", 200, &images)
		if images.Results[0].Model != "ISR4331" {
			t.Fatalf("model after the edit: %+v", images.Results[0])
		}
		w.audited(t, "firmware_image.update", "admin", "success")
		if body := page(t, w.env, w.client(t, "admin"), "/admin/firmware", 200); !strings.Contains(body, `value="ISR4331"`) {
			t.Errorf("the firmware page does not show the model")
		}
		// Blank: every model again.
		w.saved(t, "admin", path, url.Values{"model": {""}}, "/admin/firmware?notice=saved")
		w.api(t, w.root, "GET", "/api/firmware-images/", "", 200, &images)
		if images.Results[0].Model != "" {
			t.Fatalf("model after clearing: %+v", images.Results[0])
		}
	})
}

func TestAdminCustomersCreatedByStaffOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := editWorld{newWorld(t, newEnv(t, db))}
		body := page(t, w.env, w.client(t, "staff"), "/admin/customers", 200)
		if !strings.Contains(body, `data-customer="acme"`) || !strings.Contains(body, `data-customer="globex"`) || !strings.Contains(body, "Add a customer") {
			t.Fatalf("staff's customers page")
		}
		body = page(t, w.env, w.client(t, "admin"), "/admin/customers", 200)
		if strings.Contains(body, "Add a customer") || strings.Contains(body, "globex") || !strings.Contains(body, "Only staff create customers.") {
			t.Fatalf("admin's customers page offers the form or shows globex")
		}
		page(t, w.env, w.client(t, "member"), "/admin/customers", 403)
		w.invalid(t, "staff", "/admin/customers", url.Values{"name": {"Initech"}, "slug": {"Not A Slug"}}, 400, "Use 1 to 100 lower-case letters", `value="Initech"`)
		w.invalid(t, "root", "/admin/customers", url.Values{"name": {""}, "slug": {"initech"}}, 400, "This field is required.")
		w.invalid(t, "staff", "/admin/customers", url.Values{"name": {"Acme again"}, "slug": {"acme"}}, 409)
		w.refused(t, "/admin/customers", url.Values{"name": {"Initech"}, "slug": {"initech"}}, map[string][]int{"admin": {403}, "member": {403}, "outsider": {403}})
		w.saved(t, "staff", "/admin/customers", url.Values{"name": {"Initech"}, "slug": {"initech"}}, "/admin/customers?notice=admin-created")
		if body := page(t, w.env, w.client(t, "root"), "/admin/customers", 200); !strings.Contains(body, `data-customer="initech"`) {
			t.Fatalf("the new customer is not listed")
		}
		w.audited(t, "customer.create", "staff", "success")
		w.audited(t, "customer.create", "admin", "denied")
		// Renaming: staff only; bad input is refused next to its field.
		if body := page(t, w.env, w.client(t, "admin"), "/admin/customers", 200); strings.Contains(body, "/edit\"") || !strings.Contains(body, "Only staff rename customers.") {
			t.Fatalf("admin's customers page offers renaming")
		}
		rename := fmt.Sprintf("/admin/customers/%d/edit", w.acme)
		w.invalid(t, "staff", rename, url.Values{"name": {"Acme Corp"}, "slug": {"Bad Slug"}}, 400, "Use 1 to 100 lower-case letters")
		w.invalid(t, "staff", rename, url.Values{"name": {"Acme Corp"}, "slug": {"globex"}}, 409)
		w.refused(t, rename, url.Values{"name": {"Acme Corp"}, "slug": {"acme"}}, map[string][]int{"admin": {403}, "globexadm": {404}, "member": {403}})
		w.saved(t, "staff", rename, url.Values{"name": {"Acme Corp"}, "slug": {"acme-corp"}}, "/admin/customers?notice=saved")
		if body := page(t, w.env, w.client(t, "root"), "/admin/customers", 200); !strings.Contains(body, `data-customer="acme-corp"`) || !strings.Contains(body, "Acme Corp") {
			t.Fatalf("the renamed customer is not listed")
		}
		w.audited(t, "customer.update", "staff", "success")
		w.audited(t, "customer.update", "admin", "denied")
	})
}

func TestAdminCredentialSecretCleared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := editWorld{newWorld(t, newEnv(t, db))}
		id := w.create(t, "/api/credentials/", fmt.Sprintf(`{"customer":%d,"name":"lab","username":"netops","password":"pa55-SECRET","enable_secret":"en-SECRET"}`, w.acme))
		path := fmt.Sprintf("/admin/credentials/%d", id)
		body := page(t, w.env, w.client(t, "admin"), "/admin/credentials", 200)
		if !strings.Contains(body, `name="clear_password"`) || !strings.Contains(body, `name="clear_enable_secret"`) || strings.Contains(body, `name="clear_private_key"`) {
			t.Fatalf("the clear boxes are not offered for exactly the secrets that are set")
		}
		type view struct {
			Password bool `json:"has_password"`
			Enable   bool `json:"has_enable_secret"`
		}
		var v view
		// Typing a secret and ticking its clear box is refused, and the typed secret is not
		// shown again.
		body = w.invalid(t, "admin", path, url.Values{"name": {"lab"}, "username": {"netops"}, "password": {"new-SECRET"}, "clear_password": {"true"}}, 400,
			"Type a new value or clear it, not both.")
		if strings.Contains(body, "new-SECRET") {
			t.Fatalf("the typed secret is in the page")
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/credentials/%d/", id), "", 200, &v)
		if !v.Password || !v.Enable {
			t.Fatalf("a refused change changed the secrets: %+v", v)
		}
		// Not for another customer's admin or a non-admin: and the not-both check comes after
		// theirs.
		w.refused(t, path, url.Values{"name": {"lab"}, "clear_password": {"true"}}, map[string][]int{"operator": {403}, "globexadm": {404}})
		w.refused(t, path, url.Values{"name": {"lab"}, "password": {"x"}, "clear_password": {"true"}}, map[string][]int{"operator": {403}, "globexadm": {404}})
		// Blank leaves a secret as it is; the clear box clears it.
		w.saved(t, "admin", path, url.Values{"name": {"lab"}, "username": {"netops"}, "clear_password": {"true"}}, "/admin/credentials?notice=saved")
		w.api(t, w.root, "GET", fmt.Sprintf("/api/credentials/%d/", id), "", 200, &v)
		if v.Password || !v.Enable {
			t.Fatalf("after clearing the password: %+v", v)
		}
		w.audited(t, "credential.update", "admin", "success")
		body = page(t, w.env, w.client(t, "admin"), "/admin/credentials", 200)
		if !strings.Contains(body, "password not set") || strings.Contains(body, `name="clear_password"`) {
			t.Errorf("the credentials page does not show the password cleared")
		}
	})
}
