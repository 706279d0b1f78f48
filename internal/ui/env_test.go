package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/password"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/ui"
	"webnet/internal/webnet"
)

// env is the whole web application (API and pages, the same wiring as `webnet serve`) over
// a real database, on a test server.
type env struct {
	srv    *httptest.Server
	id     *service.Identity
	core   *service.Core
	feed   *service.Feed
	db     *store.DB
	clock  webnet.Clock
	hasher *password.Hasher
	root   string // root's API token
}

// testPassword is every test user's password.
const testPassword = "a long enough password"

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	h, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := webnet.SystemClock{}
	id, err := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: clock,
		Throttle: service.ThrottlePolicy{PerUser: 50, PerAddress: 1000, Window: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.LoadKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, Keyring: keyring,
		Hasher: h, Jobs: service.QueuedJobs{Clock: clock}, DataDir: t.TempDir(), FirmwareMaxSize: 1 << 20,
		PublicURL: "http://webnet.test:8080"})
	if err != nil {
		t.Fatal(err)
	}
	health, _ := service.NewHealth(db)
	feed, err := service.NewFeed(service.FeedConfig{DB: db, Access: access})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Identity: id, Core: core, Health: health, Version: "test", Live: feed})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := ui.New(ui.Config{Identity: id, Core: core, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	pages.Register(mux)
	srv := httptest.NewServer(httpapi.Wrap(httpapi.JSONFallback(mux), httpapi.MiddlewareConfig{Identity: id}))
	t.Cleanup(srv.Close)
	ctx, stop := context.WithCancel(context.Background())
	fed := make(chan error, 1)
	go func() { fed <- feed.Run(ctx) }()
	t.Cleanup(sync.OnceFunc(func() {
		stop()
		if err := <-fed; err != nil {
			t.Errorf("feed: %v", err)
		}
	}))
	sys := service.WithSubject(context.Background(), service.System())
	if _, err := id.CreateSuperuser(sys, "root", "", testPassword); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, id: id, core: core, feed: feed, db: db, clock: clock, hasher: h}
	e.root = e.token(t, "root")
	return e
}

// token signs username in through the API and returns an API token.
func (e *env) token(t testing.TB, username string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	e.api(t, "", "POST", "/api/auth/token/", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword), 200, &out)
	return out.Token
}

// api makes a JSON API request (as token, when not "") and decodes the answer into out
// (when not nil); any other status than want fails the test.
func (e *env) api(t testing.TB, token, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// create POSTs body to path as root and returns the new object's id.
func (e *env) create(t testing.TB, path, body string) int64 {
	t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	e.api(t, e.root, "POST", path, body, 201, &out)
	return out.ID
}

// user creates an active user with memberships (customer id → role); its password is
// testPassword.
func (e *env) user(t testing.TB, username string, staff, superuser bool, memberships map[int64]webnet.Role) int64 {
	t.Helper()
	hash, err := e.hasher.Hash(context.Background(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := &webnet.User{Username: username, PasswordHash: hash, IsActive: true, IsStaff: staff, IsSuperuser: superuser, CreatedAt: e.clock.Now()}
	err = e.db.InTx(context.Background(), func(tx *store.Tx) error {
		ctx := context.Background()
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		for cid, role := range memberships {
			if err := tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: cid, Role: role, CreatedAt: e.clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// customer creates a customer and returns its id.
func (e *env) customer(t testing.TB, slug string) int64 {
	t.Helper()
	c := &webnet.Customer{Name: slug, Slug: slug, CreatedAt: e.clock.Now()}
	if err := e.db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// world is the scenario of seeds 003/004 (design.md §2): customers acme (groups core and
// edge, an ungrouped device) and globex, and one user per kind of standing, each signed in
// with testPassword.
type world struct {
	*env
	acme, globex   int64
	core, edge, gx int64
	r1, r2, e1, u1 int64 // acme devices: r1, r2 in core, e1 in edge, u1 ungrouped
	g1             int64 // globex device
	ids            map[string]int64
}

// users of the world and their standing: superuser root (made by newEnv), staff, acme's
// admin, operator, member and viewer, syncer (a member with a device-group role on core
// granting sync_device_inventory and view_backups), globexadm and outsider (no customer).
func newWorld(t testing.TB, e *env) *world {
	t.Helper()
	w := &world{env: e, ids: map[string]int64{}}
	w.acme, w.globex = e.customer(t, "acme"), e.customer(t, "globex")
	group := func(cust int64, name string) int64 {
		return e.create(t, "/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":%q}`, cust, name))
	}
	w.core, w.edge, w.gx = group(w.acme, "core"), group(w.acme, "edge"), group(w.globex, "gx")
	device := func(cust, grp int64, name string, n int) int64 {
		g := "null"
		if grp != 0 {
			g = fmt.Sprint(grp)
		}
		return e.create(t, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%s,"name":%q,"address":"192.0.2.%d","platform":"cisco_iosxe"}`,
			cust, g, name, n))
	}
	w.r1, w.r2, w.e1, w.u1 = device(w.acme, w.core, "acme-r1", 1), device(w.acme, w.core, "acme-r2", 2), device(w.acme, w.edge, "acme-e1", 3), device(w.acme, 0, "acme-u1", 4)
	w.g1 = device(w.globex, w.gx, "globex-g1", 5)
	w.ids["root"] = 1
	for name, s := range map[string]struct {
		staff bool
		m     map[int64]webnet.Role
	}{
		"staff":     {true, nil},
		"admin":     {false, map[int64]webnet.Role{w.acme: webnet.RoleAdmin}},
		"operator":  {false, map[int64]webnet.Role{w.acme: webnet.RoleOperator}},
		"member":    {false, map[int64]webnet.Role{w.acme: webnet.RoleMember}},
		"viewer":    {false, map[int64]webnet.Role{w.acme: webnet.RoleViewer}},
		"syncer":    {false, map[int64]webnet.Role{w.acme: webnet.RoleMember}},
		"globexadm": {false, map[int64]webnet.Role{w.globex: webnet.RoleAdmin}},
		"outsider":  {false, nil},
	} {
		w.ids[name] = e.user(t, name, s.staff, false, s.m)
	}
	role := e.create(t, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"sync","permissions":["sync_device_inventory","view_backups"]}`, w.core))
	e.create(t, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["syncer"], role))
	return w
}

// client is a browser-like HTTP client signed in as username through the sign-in form
// (cookies kept, redirects not followed).
func (e *env) client(t testing.TB, username string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"username": {username}, "password": {testPassword}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", username, resp.StatusCode)
	}
	return c
}

// post submits a form with c and returns the status, the Location and the body.
func (e *env) post(t testing.TB, c *http.Client, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(e.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// get fetches path with c and returns the status and body.
func (e *env) get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
