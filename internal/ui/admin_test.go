package ui_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// adminPages are the admin section's pages.
var adminPages = []string{"/admin", "/admin/users", "/admin/user-groups", "/admin/bundles", "/admin/credentials",
	"/admin/firmware", "/admin/compliance", "/admin/schedules"}

func TestAdminPagesAreForAdminsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		for _, user := range []string{"member", "operator", "viewer", "syncer", "outsider"} {
			c := w.client(t, user)
			for _, p := range adminPages {
				body := page(t, w.env, c, p, http.StatusForbidden)
				if !strings.Contains(body, "Only customer admins and staff may use the admin pages.") {
					t.Errorf("%s %s: no reason given", user, p)
				}
			}
			// Nor may they post to it: the service refuses.
			status, _, _ := adminPost(t, w.env, c, "/admin/users", url.Values{"username": {"x"}, "password": {testPassword}})
			if status != http.StatusForbidden {
				t.Errorf("%s creates a user: %d", user, status)
			}
		}
		for _, user := range []string{"admin", "globexadm", "staff", "root"} {
			c := w.client(t, user)
			for _, p := range adminPages {
				page(t, w.env, c, p, http.StatusOK)
			}
		}
		// No leak across customers: globex's admin sees none of acme's people.
		body := page(t, w.env, w.client(t, "globexadm"), "/admin/users", 200)
		if strings.Contains(body, "syncer") || strings.Contains(body, "acme") || !strings.Contains(body, `data-user="globexadm"`) {
			t.Errorf("globexadm's users page: %s", body)
		}
		body = page(t, w.env, w.client(t, "admin"), "/admin/users", 200)
		if !strings.Contains(body, `data-user="syncer"`) || strings.Contains(body, `data-user="globexadm"`) {
			t.Errorf("admin's users page")
		}
	})
}

func TestAdminUsersAndMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		status, body, _ := adminPost(t, w.env, c, "/admin/users", url.Values{"username": {""}, "password": {"pw"}, "customer": {fmt.Sprint(w.acme)}, "role": {"viewer"}})
		if status != 400 || !strings.Contains(body, `class="error"`) || strings.Contains(body, `value="pw"`) {
			t.Fatalf("user without name: %d", status)
		}
		wellFormed(t, "user refused", body)
		status, _, _ = adminPost(t, w.env, c, "/admin/users", url.Values{"username": {"newbie"}, "email": {"n@example.com"},
			"password": {testPassword}, "customer": {fmt.Sprint(w.acme)}, "role": {"viewer"}})
		if status != 303 {
			t.Fatalf("create user: %d", status)
		}
		var ms struct {
			Results []struct {
				ID   int64  `json:"id"`
				User int64  `json:"user"`
				Role string `json:"role"`
			} `json:"results"`
		}
		var users struct {
			Results []struct {
				ID       int64  `json:"id"`
				Username string `json:"username"`
				Active   bool   `json:"is_active"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/users/?customer=%d&limit=100", w.acme), "", 200, &users)
		var newbie int64
		for _, u := range users.Results {
			if u.Username == "newbie" {
				newbie = u.ID
			}
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/memberships/?user=%d", newbie), "", 200, &ms)
		if len(ms.Results) != 1 || ms.Results[0].Role != "viewer" {
			t.Fatalf("newbie's memberships: %+v", ms)
		}
		status, body, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/memberships/%d", ms.Results[0].ID), url.Values{"role": {"boss"}})
		if status != 400 {
			t.Fatalf("bad role: %d", status)
		}
		wellFormed(t, "role refused", body)
		if status, _, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/memberships/%d", ms.Results[0].ID), url.Values{"role": {"operator"}}); status != 303 {
			t.Fatalf("set role: %d", status)
		}
		if status, _, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/users/%d/active", newbie), url.Values{"active": {"false"}}); status != 303 {
			t.Fatalf("deactivate: %d", status)
		}
		body = page(t, w.env, c, "/admin/users", 200)
		row := body[strings.Index(body, `data-user="newbie"`):]
		row = row[:strings.Index(row, "</tr>")]
		if !strings.Contains(row, "<strong>inactive</strong>") || !strings.Contains(row, "<option selected>operator</option>") {
			t.Errorf("newbie's row: %s", row)
		}
		// globex's admin cannot touch acme's membership.
		status, _, _ = adminPost(t, w.env, w.client(t, "globexadm"), fmt.Sprintf("/admin/memberships/%d", ms.Results[0].ID), url.Values{"role": {"admin"}})
		if status != 404 {
			t.Errorf("globexadm changes acme's membership: %d", status)
		}
		page(t, w.env, c, fmt.Sprintf("/admin/memberships/%d/delete", ms.Results[0].ID), 200)
		if status, _, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/memberships/%d/delete", ms.Results[0].ID), nil); status != 303 {
			t.Fatalf("remove membership: %d", status)
		}
	})
}

func TestAdminCredentialSecretsNeverInHTML(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		secrets := url.Values{"password": {"pa55-SECRET-one"}, "enable_secret": {"en-SECRET-two"}, "private_key": {pemKey}}
		form := url.Values{"customer": {fmt.Sprint(w.acme)}, "name": {""}, "username": {"netops"}}
		for k, v := range secrets {
			form[k] = v
		}
		status, body, _ := adminPost(t, w.env, c, "/admin/credentials", form)
		if status != 400 {
			t.Fatalf("credential without name: %d", status)
		}
		noSecrets := func(name, body string) {
			t.Helper()
			wellFormed(t, name, body)
			for _, v := range secrets {
				// The key's body line, not its armour, is the secret.
				if secret := strings.Split(v[0], "\n")[min(1, strings.Count(v[0], "\n"))]; strings.Contains(body, secret) {
					t.Fatalf("%s shows a secret", name)
				}
			}
		}
		noSecrets("refused credential", body)
		form.Set("name", "lab")
		if status, body, _ = adminPost(t, w.env, c, "/admin/credentials", form); status != 303 {
			t.Fatalf("create credential: %d %s", status, body)
		}
		body = page(t, w.env, c, "/admin/credentials", 200)
		noSecrets("credentials", body)
		if !strings.Contains(body, "password set · enable secret set · private key set") {
			t.Fatalf("credential state not shown")
		}
		var creds struct {
			Results []struct {
				ID          int64 `json:"id"`
				HasPassword bool  `json:"has_password"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", "/api/credentials/", "", 200, &creds)
		id := creds.Results[0].ID
		// Blank secrets leave them as they are; the name changes.
		status, _, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/credentials/%d", id), url.Values{"name": {"lab2"}, "username": {"netops"}, "password": {""}})
		if status != 303 {
			t.Fatalf("update: %d", status)
		}
		body = page(t, w.env, c, "/admin/credentials", 200)
		noSecrets("credentials after update", body)
		if !strings.Contains(body, `data-credential="lab2"`) || !strings.Contains(body, "password set") {
			t.Fatalf("after a blank update")
		}
		// A refused update does not echo the new secret either.
		status, body, _ = adminPost(t, w.env, c, fmt.Sprintf("/admin/credentials/%d", id), url.Values{"name": {""}, "password": {"pa55-SECRET-one"}})
		if status != 400 {
			t.Fatalf("update without name: %d", status)
		}
		noSecrets("refused update", body)
		// Another customer's admin cannot see or change it.
		body = page(t, w.env, w.client(t, "globexadm"), "/admin/credentials", 200)
		if strings.Contains(body, "lab2") {
			t.Fatalf("globexadm sees acme's credential")
		}
		status, _, _ = adminPost(t, w.env, w.client(t, "globexadm"), fmt.Sprintf("/admin/credentials/%d", id), url.Values{"name": {"x"}})
		if status != 404 {
			t.Fatalf("globexadm updates acme's credential: %d", status)
		}
	})
}

func TestAdminGroupsBundlesRulesSchedules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		acme := fmt.Sprint(w.acme)
		for _, step := range []struct {
			path   string
			form   url.Values
			status int
			want   string // on the list page afterwards, or in the refusal
		}{
			{"/admin/user-groups", url.Values{"customer": {acme}, "name": {"nightshift"}, "users": {fmt.Sprint(w.ids["operator"])}}, 303, `data-user-group="nightshift"`},
			{"/admin/user-groups", url.Values{"customer": {acme}, "name": {"bad"}, "users": {fmt.Sprint(w.ids["globexadm"])}}, 0, "error"},
			{"/admin/bundles", url.Values{"customer": {acme}, "name": {"readers"}, "permissions": {"view_device", "view_backups"}}, 303, `data-bundle="readers"`},
			{"/admin/bundles", url.Values{"customer": {acme}, "name": {"odd"}, "permissions": {"fly"}}, 400, "fly"},
			{"/admin/bundles", url.Values{"customer": {""}, "name": {"global"}}, 403, ""},
			{"/admin/compliance", url.Values{"customer": {acme}, "name": {"ntp"}, "kind": {"must_contain"}, "pattern": {"ntp server"}, "severity": {"high"}}, 303, `data-rule="ntp"`},
			{"/admin/compliance", url.Values{"customer": {acme}, "name": {"bad"}, "kind": {"must_contain"}, "pattern": {""}, "severity": {"high"}}, 400, "This field is required."},
			{"/admin/schedules", url.Values{"customer": {acme}, "name": {"nightly"}, "kind": {"sync"}, "cron": {"0 3 * * *"}, "device_group": {fmt.Sprint(w.core)}, "enabled": {"true"}}, 303, `data-schedule="nightly"`},
			{"/admin/schedules", url.Values{"customer": {acme}, "name": {"bad"}, "kind": {"sync"}, "cron": {"whenever"}, "device_group": {fmt.Sprint(w.core)}}, 400, "cron"},
			{"/admin/schedules", url.Values{"customer": {acme}, "name": {"bad"}, "kind": {"sync"}, "cron": {"0 3 * * *"}}, 400, "Choose the device group it runs on."},
		} {
			status, body, _ := adminPost(t, w.env, c, step.path, step.form)
			if step.status != 0 && status != step.status {
				t.Fatalf("POST %s %v: %d, want %d: %s", step.path, step.form, status, step.status, body)
			}
			if status == 303 {
				body = page(t, w.env, c, step.path, 200)
			} else {
				wellFormed(t, step.path+" refused", body)
			}
			if !strings.Contains(body, step.want) {
				t.Errorf("POST %s %v: page lacks %q", step.path, step.form, step.want)
			}
		}
		// The schedule is switched off and on, and everything deleted after confirmation.
		var schedules struct {
			Results []struct {
				ID      int64 `json:"id"`
				Enabled bool  `json:"enabled"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", "/api/schedules/", "", 200, &schedules)
		sid := schedules.Results[0].ID
		if status, _, _ := adminPost(t, w.env, c, fmt.Sprintf("/admin/schedules/%d/enabled", sid), url.Values{"enabled": {"false"}}); status != 303 {
			t.Fatalf("disable: %d", status)
		}
		w.api(t, w.root, "GET", "/api/schedules/", "", 200, &schedules)
		if schedules.Results[0].Enabled {
			t.Fatalf("still enabled")
		}
		for _, kind := range []string{"schedules", "compliance", "bundles", "user-groups"} {
			body := page(t, w.env, c, "/admin/"+kind, 200)
			i := strings.Index(body, `href="/admin/`+kind+`/`)
			if i < 0 {
				t.Fatalf("%s: no delete link", kind)
			}
			link := body[i+len(`href="`):]
			link = link[:strings.Index(link, `"`)]
			if !strings.Contains(page(t, w.env, c, link, 200), "This cannot be undone.") {
				t.Fatalf("%s: no confirmation", kind)
			}
			if status, _, loc := adminPost(t, w.env, c, link, nil); status != 303 || loc != "/admin/"+kind+"?notice=admin-deleted" {
				t.Fatalf("delete %s: %d %s", link, status, loc)
			}
		}
		var log struct {
			Count int `json:"count"`
		}
		w.api(t, w.root, "GET", "/api/audit-log/?action=schedule.delete", "", 200, &log)
		if log.Count != 1 {
			t.Errorf("schedule deletion not audited")
		}
	})
}

// firmwareForm is a multipart upload form with the fields first and the file last.
func firmwareForm(t *testing.T, fields [][2]string, content string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if content != "" {
		fw, err := mw.CreateFormFile("file", "ios-17.bin")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestAdminFirmwareUploadWithoutJavaScript(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		c := w.client(t, "admin")
		post := func(fields [][2]string, content string) (int, string) {
			b, ct := firmwareForm(t, fields, content)
			resp, err := c.Post(w.srv.URL+"/admin/firmware", ct, b)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out bytes.Buffer
			out.ReadFrom(resp.Body)
			return resp.StatusCode, out.String()
		}
		acme := fmt.Sprint(w.acme)
		status, body := post([][2]string{{"customer", acme}, {"platform", "cisco_iosxe"}, {"version", "17.9"}}, "")
		if status != 400 || !strings.Contains(body, "Choose the image file.") {
			t.Fatalf("no file: %d", status)
		}
		wellFormed(t, "upload refused", body)
		// A global image is for staff: acme's admin is refused.
		if status, _ = post([][2]string{{"platform", "cisco_iosxe"}, {"version", "17.9"}}, "image bytes"); status != 403 {
			t.Fatalf("global upload by a customer admin: %d", status)
		}
		status, _ = post([][2]string{{"customer", acme}, {"platform", "cisco_iosxe"}, {"version", "17.9"}, {"golden", "true"}}, "image bytes")
		if status != 303 {
			t.Fatalf("upload: %d", status)
		}
		body = page(t, w.env, c, "/admin/firmware", 200)
		if !strings.Contains(body, `data-image="ios-17.bin"`) || !strings.Contains(body, "<strong>golden</strong>") {
			t.Fatalf("uploaded image not listed as golden")
		}
		var images struct {
			Results []struct {
				ID     int64 `json:"id"`
				Golden bool  `json:"golden"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", "/api/firmware-images/", "", 200, &images)
		id := images.Results[0].ID
		if status, _, _ := adminPost(t, w.env, c, fmt.Sprintf("/admin/firmware/%d/golden", id), url.Values{"golden": {"false"}}); status != 303 {
			t.Fatalf("unmark golden: %d", status)
		}
		w.api(t, w.root, "GET", "/api/firmware-images/", "", 200, &images)
		if images.Results[0].Golden {
			t.Fatalf("still golden")
		}
		// globex's admin neither sees nor deletes it.
		if strings.Contains(page(t, w.env, w.client(t, "globexadm"), "/admin/firmware", 200), "ios-17.bin") {
			t.Fatalf("globexadm sees acme's image")
		}
		if status, _, _ := adminPost(t, w.env, w.client(t, "globexadm"), fmt.Sprintf("/admin/firmware/%d/delete", id), nil); status != 404 {
			t.Fatalf("globexadm deletes acme's image: %d", status)
		}
		if status, _, _ := adminPost(t, w.env, c, fmt.Sprintf("/admin/firmware/%d/delete", id), nil); status != 303 {
			t.Fatalf("delete image: %d", status)
		}
	})
}
