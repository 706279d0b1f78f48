package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var (
	devicesRowRE    = regexp.MustCompile(`id="devices-row-(\d+)"`)
	devicesActionRE = regexp.MustCompile(`data-action="([a-z]+)"`)
)

// devicesRows returns the device ids of the list's rows in page order.
func devicesRows(t testing.TB, page string) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range devicesRowRE.FindAllStringSubmatch(page, -1) {
		var id int64
		fmt.Sscan(m[1], &id)
		ids = append(ids, id)
	}
	return ids
}

// devicesActions returns the bar's buttons (data-action) in order.
func devicesActions(page string) []string {
	out := []string{}
	for _, m := range devicesActionRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// devicesPost posts the device ids (and extra fields) to path with c, as htmx would when
// hx is set (asking for the element hx), and returns the response's status, Location and
// body.
func (e *env) devicesPost(t testing.TB, c *http.Client, path, hx string, ids []int64, extra url.Values) (int, string, string) {
	t.Helper()
	form := url.Values{}
	for _, id := range ids {
		form.Add("device", fmt.Sprint(id))
	}
	for k, v := range extra {
		form[k] = v
	}
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if hx != "" {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", hx)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestDevicesListShowsWhatEachRoleMaySee: every user of the world sees exactly the devices
// design.md §2 lets them see, in name order, and the page is well-formed.
func TestDevicesListShowsWhatEachRoleMaySee(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		all := []int64{w.e1, w.r1, w.r2, w.u1, w.g1} // by name: acme-e1, acme-r1, acme-r2, acme-u1, globex-g1
		for user, want := range map[string][]int64{
			"root": all, "staff": all,
			"admin":     {w.e1, w.r1, w.r2, w.u1},
			"operator":  {w.e1, w.r1, w.r2},
			"viewer":    {w.e1, w.r1, w.r2},
			"syncer":    {w.r1, w.r2},
			"member":    nil,
			"globexadm": {w.g1},
			"outsider":  nil,
		} {
			t.Run(user, func(t *testing.T) {
				status, body := w.get(t, w.client(t, user), "/devices")
				if status != 200 {
					t.Fatalf("GET /devices: %d", status)
				}
				wellFormed(t, "devices as "+user, body)
				if got := devicesRows(t, body); !slices.Equal(got, want) {
					t.Fatalf("rows %v, want %v", got, want)
				}
				if len(want) > 0 && !strings.Contains(body, fmt.Sprintf("of %d device", len(want))) {
					t.Fatalf("no total of %d on the page", len(want))
				}
				if len(want) == 0 && !strings.Contains(body, "No devices match.") {
					t.Fatal("an empty list does not say so")
				}
			})
		}
	})
}

// TestDevicesBarOffersWhatTheSelectionAllows: the bar for a selection has a button for
// each action the user may take on every selected device, and none for a selection with a
// device the user cannot see (404, and the device's name is not told).
func TestDevicesBarOffersWhatTheSelectionAllows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		// operator also holds upgrade and delete on core through a device-group role: a
		// selection mixing core and edge devices loses those two buttons.
		role := w.create(t, "/api/device-group-roles/", fmt.Sprintf(`{"device_group":%d,"name":"upgraders","permissions":["upgrade_device_firmware","delete_device"]}`, w.core))
		w.create(t, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["operator"], role))
		every := []string{"sync", "readiness", "upgrade", "delete"}
		for _, c := range []struct {
			user    string
			devices []int64
			status  int
			want    []string
		}{
			{"root", []int64{w.r1, w.u1, w.g1}, 200, every},
			{"staff", []int64{w.e1, w.g1}, 200, every},
			{"admin", []int64{w.r1, w.e1, w.u1}, 200, every},
			{"operator", []int64{w.r1}, 200, every},
			{"operator", []int64{w.r1, w.r2}, 200, every},
			{"operator", []int64{w.e1}, 200, []string{"sync", "readiness"}},
			{"operator", []int64{w.r1, w.e1}, 200, []string{"sync", "readiness"}},
			{"viewer", []int64{w.r1, w.e1}, 200, []string{}},
			{"syncer", []int64{w.r1, w.r2}, 200, []string{"sync"}},
			{"globexadm", []int64{w.g1}, 200, every},
			// Tampering: ids of devices the user cannot see.
			{"operator", []int64{w.u1}, 404, []string{}},
			{"operator", []int64{w.r1, w.u1}, 404, []string{}},
			{"operator", []int64{w.g1}, 404, []string{}},
			{"syncer", []int64{w.r1, w.e1}, 404, []string{}},
			{"member", []int64{w.r1}, 404, []string{}},
			{"viewer", []int64{w.u1}, 404, []string{}},
			{"globexadm", []int64{w.r1}, 404, []string{}},
			{"outsider", []int64{w.r1}, 404, []string{}},
			{"admin", []int64{w.g1}, 404, []string{}},
			{"admin", []int64{999999}, 404, []string{}},
		} {
			t.Run(fmt.Sprintf("%s%v", c.user, c.devices), func(t *testing.T) {
				cl := w.client(t, c.user)
				status, _, body := w.devicesPost(t, cl, "/devices/bar", "devices-bar", c.devices, nil)
				if status != c.status {
					t.Fatalf("bar: %d, want %d: %s", status, c.status, body)
				}
				wellFormed(t, "bar", body)
				if strings.Contains(body, "<html") {
					t.Fatal("the htmx answer is a whole page, not the bar")
				}
				if got := devicesActions(body); !slices.Equal(got, c.want) {
					t.Fatalf("bar buttons %v, want %v", got, c.want)
				}
				if c.status == 200 && !strings.Contains(body, fmt.Sprintf("%d selected", len(c.devices))) {
					t.Fatalf("the bar does not count the selection: %s", body)
				}
				// Without JavaScript ("Choose action"): a page with the same buttons.
				status, _, page := w.devicesPost(t, cl, "/devices/bar", "", c.devices, nil)
				if status != c.status {
					t.Fatalf("choose action page: %d, want %d", status, c.status)
				}
				wellFormed(t, "choose action", page)
				if got := devicesActions(page); !slices.Equal(got, c.want) {
					t.Fatalf("choose action page buttons %v, want %v", got, c.want)
				}
				if c.status == 404 {
					for _, name := range []string{"acme-u1", "acme-e1", "globex-g1", "acme-r1"} {
						if strings.Contains(body+page, name) {
							t.Fatalf("a refused selection names %s", name)
						}
					}
				}
			})
		}
		// An empty selection: an empty bar, and without JavaScript back to the list.
		cl := w.client(t, "operator")
		if status, _, body := w.devicesPost(t, cl, "/devices/bar", "devices-bar", nil, nil); status != 200 || len(devicesActions(body)) != 0 {
			t.Fatalf("empty selection: %d %s", status, body)
		}
		if status, loc, _ := w.devicesPost(t, cl, "/devices/bar", "", nil, nil); status != 303 || loc != "/devices?notice=no-devices" {
			t.Fatalf("empty selection without htmx: %d to %q", status, loc)
		}
		// Not an id: invalid, said on the page.
		if status, _, body := w.devicesPost(t, cl, "/devices/bar", "devices-bar", nil, url.Values{"device": {"r1"}}); status != 400 || !strings.Contains(body, "not a device") {
			t.Fatalf("bad id: %d %s", status, body)
		}
	})
}

// TestDevicesActionsQueueJobs: Sync and Readiness on a selection queue a job (one per
// customer) and open it; a user without the permission gets 403 and nothing is queued.
func TestDevicesActionsQueueJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		jobs := func() int {
			var out struct {
				Count int `json:"count"`
			}
			w.api(t, w.root, "GET", "/api/jobs/", "", 200, &out)
			return out.Count
		}
		op := w.client(t, "operator")
		// One device job per device at a time: the two actions on different devices.
		for i, c := range []struct {
			path    string
			devices []int64
		}{{"/devices/sync", []int64{w.r1, w.e1}}, {"/devices/readiness", []int64{w.r2}}} {
			path := c.path
			status, loc, body := w.devicesPost(t, op, path, "", c.devices, nil)
			if status != 303 || !regexp.MustCompile(`^/jobs/\d+\?notice=queued$`).MatchString(loc) {
				t.Fatalf("%s: %d to %q: %s", path, status, loc, body)
			}
			if n := jobs(); n != i+1 {
				t.Fatalf("after %s: %d jobs", path, n)
			}
		}
		// Devices of two customers: two jobs, the job list.
		status, loc, _ := w.devicesPost(t, w.client(t, "staff"), "/devices/sync", "", []int64{w.u1, w.g1}, nil)
		if status != 303 || loc != "/jobs?notice=queued-many" || jobs() != 4 {
			t.Fatalf("staff sync over customers: %d to %q, %d jobs", status, loc, jobs())
		}
		for _, c := range []struct {
			user, path string
			devices    []int64
			status     int
			says       string
		}{
			{"viewer", "/devices/sync", []int64{w.r1}, 403, "You do not have permission to sync device inventory"},
			{"syncer", "/devices/readiness", []int64{w.r1}, 403, "You do not have permission to check device readiness"},
			{"operator", "/devices/sync", []int64{w.u1}, 404, "not found"},
		} {
			status, _, body := w.devicesPost(t, w.client(t, c.user), c.path, "", c.devices, nil)
			if status != c.status || !strings.Contains(body, c.says) {
				t.Fatalf("%s %s: %d: %s", c.user, c.path, status, body)
			}
			wellFormed(t, "refused action", body)
		}
		if n := jobs(); n != 4 {
			t.Fatalf("refused actions queued jobs: %d", n)
		}
		if status, loc, _ := w.devicesPost(t, op, "/devices/sync", "", nil, nil); status != 303 || loc != "/devices?notice=no-devices" {
			t.Fatalf("sync of nothing: %d to %q", status, loc)
		}
	})
}

// TestDevicesDeleteNeedsConfirmation: the first post shows what would be deleted and deletes
// nothing; only the confirmation deletes; a user without delete_device cannot.
func TestDevicesDeleteNeedsConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		exists := func(id int64) bool {
			var out struct {
				Count int `json:"count"`
			}
			w.api(t, w.root, "GET", "/api/devices/?q="+map[int64]string{w.r1: "acme-r1", w.u1: "acme-u1", w.e1: "acme-e1"}[id], "", 200, &out)
			return out.Count == 1
		}
		admin := w.client(t, "admin")
		ids := []int64{w.r1, w.u1}
		status, _, page := w.devicesPost(t, admin, "/devices/delete", "", ids, nil)
		if status != 200 || !strings.Contains(page, "acme-r1") || !strings.Contains(page, "acme-u1") || !strings.Contains(page, "Delete 2 devices") {
			t.Fatalf("delete preview: %d %s", status, page)
		}
		wellFormed(t, "devices_delete", page)
		if !exists(w.r1) || !exists(w.u1) {
			t.Fatal("the preview deleted")
		}
		status, _, page = w.devicesPost(t, admin, "/devices/delete/confirm", "", ids, nil)
		if status != 400 || !strings.Contains(page, "Nothing was deleted") || !exists(w.r1) {
			t.Fatalf("confirm without confirm: %d %s", status, page)
		}
		wellFormed(t, "devices_delete again", page)
		// Not allowed: operator has no delete_device; nothing goes.
		if status, _, body := w.devicesPost(t, w.client(t, "operator"), "/devices/delete/confirm", "", []int64{w.e1}, url.Values{"confirm": {"yes"}}); status != 403 || !exists(w.e1) {
			t.Fatalf("operator delete: %d %s", status, body)
		}
		if status, _, _ := w.devicesPost(t, w.client(t, "operator"), "/devices/delete", "", []int64{w.e1}, nil); status != 403 {
			t.Fatalf("operator delete preview: %d", status)
		}
		status, loc, _ := w.devicesPost(t, admin, "/devices/delete/confirm", "", ids, url.Values{"confirm": {"yes"}})
		if status != 303 || loc != "/devices?notice=deleted" {
			t.Fatalf("confirmed delete: %d to %q", status, loc)
		}
		if exists(w.r1) || exists(w.u1) || !exists(w.e1) {
			t.Fatal("the confirmed delete did not delete exactly the selection")
		}
		_, body := w.get(t, admin, "/devices?notice=deleted")
		if !strings.Contains(body, "The devices were deleted.") || slices.Contains(devicesRows(t, body), w.r1) {
			t.Fatal("the list after deleting")
		}
	})
}

// devicesSeed adds n devices to acme's core group (names bulk-000…), a third of them
// arista_eos and disabled, through the store.
func devicesSeed(t testing.TB, w *world, n int) {
	t.Helper()
	now := time.Now()
	err := w.db.InTx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			core := w.core
			d := &webnet.Device{CustomerID: w.acme, DeviceGroupID: &core, Name: fmt.Sprintf("bulk-%03d", i),
				Address: fmt.Sprintf("198.51.100.%d", i%250+1), Port: 22, Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
			if i%3 == 0 {
				d.Platform, d.Enabled = "arista_eos", false
			}
			if err := tx.CreateDevice(context.Background(), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDevicesFilterAndPaginate: search, filters and pages, with links that keep the
// filters; htmx gets the results alone; bad filters are said on the page.
func TestDevicesFilterAndPaginate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		devicesSeed(t, w, 120) // 120 + acme-r1, r2, e1 = 123 for operator
		op := w.client(t, "operator")
		for _, c := range []struct {
			query string
			rows  int
			says  string
		}{
			{"", 50, "Showing 1–50 of 123 devices"},
			{"?page=3", 23, "Showing 101–123 of 123 devices"},
			{"?q=acme-r", 2, "of 2 devices"},
			{"?q=192.0.2.3", 1, "of 1 device"},
			{"?q=BULK-01", 10, "of 10 devices"},
			{"?platform=arista_eos", 40, "of 40 devices"},
			{"?enabled=false", 40, "of 40 devices"},
			{"?enabled=true&platform=cisco_iosxe", 50, "of 83 devices"},
			{fmt.Sprintf("?device_group=%d", w.edge), 1, "of 1 device"},
			{fmt.Sprintf("?customer=%d&q=acme", w.acme), 3, "of 3 devices"},
			{fmt.Sprintf("?customer=%d", w.globex), 0, "No devices match."},
			{"?device_group=null", 0, "No devices match."},
			{"?q=%25", 0, "No devices match."},
		} {
			status, body := w.get(t, op, "/devices"+c.query)
			if status != 200 || len(devicesRows(t, body)) != c.rows || !strings.Contains(body, c.says) {
				t.Fatalf("%s: %d, %d rows, want %d and %q", c.query, status, len(devicesRows(t, body)), c.rows, c.says)
			}
			wellFormed(t, "devices"+c.query, body)
		}
		// The group filter names the groups; a staff user's names their customers too.
		_, body := w.get(t, op, "/devices")
		if !strings.Contains(body, fmt.Sprintf(`<option value="%d">core</option>`, w.core)) || strings.Contains(body, ">gx") {
			t.Fatal("operator's device group choices")
		}
		_, body = w.get(t, w.client(t, "staff"), "/devices")
		if !strings.Contains(body, fmt.Sprintf(`<option value="%d">gx (globex)</option>`, w.gx)) {
			t.Fatal("staff's device group choices")
		}
		// Page links keep the filters.
		_, body = w.get(t, op, "/devices?q=bulk&platform=cisco_iosxe")
		if !strings.Contains(body, `href="/devices?page=2&amp;platform=cisco_iosxe&amp;q=bulk"`) {
			t.Fatalf("the next page link loses the filter: %s", body)
		}
		_, body = w.get(t, op, "/devices?q=bulk&page=2")
		if !strings.Contains(body, `href="/devices?q=bulk" rel="prev"`) {
			t.Fatalf("the previous page link: %s", body)
		}
		for _, c := range []struct{ query, says string }{
			{"?customer=abc", "Customer: choose one from the list."},
			{"?device_group=0", "Device group: choose one from the list."},
			{"?platform=nxos", "Platform: choose one of"},
			{"?enabled=maybe", "State: choose enabled, disabled or any."},
			{"?page=0", "Page: must be a whole number from 1."},
			{"?q=" + strings.Repeat("x", 201), "Search: use at most 200 characters."},
			{"?q=%ff%fe", "Search: must be valid UTF-8 text without NUL characters."},
		} {
			status, body := w.get(t, op, "/devices"+c.query)
			if status != 400 || !strings.Contains(body, c.says) || len(devicesRows(t, body)) != 0 {
				t.Fatalf("%s: %d: %s", c.query, status, body)
			}
			wellFormed(t, "devices"+c.query, body)
		}
		// htmx (typing in the search box): the results alone.
		req, _ := http.NewRequest("GET", w.srv.URL+"/devices?q=acme", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "devices-results")
		resp, err := op.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(raw), "<html") || len(devicesRows(t, string(raw))) != 3 {
			t.Fatalf("htmx results: %d %s", resp.StatusCode, raw)
		}
		wellFormed(t, "devices-results", string(raw))
	})
}

// devicesWait waits until the JavaScript expression is true in the page (5 s at most),
// across navigations.
func devicesWait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		err := chromedp.Run(ctx, chromedp.Evaluate("!!("+expr+")", &ok))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var page string
			_ = chromedp.Run(ctx, chromedp.Evaluate(`document.documentElement.outerHTML`, &page))
			t.Fatalf("waiting for %s (%s): %v\n%s", what, expr, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// devicesBarSays waits until the bar counts n selected devices, decided by the server.
func devicesBarSays(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	devicesWait(t, ctx, fmt.Sprintf("the bar for %d devices", n),
		fmt.Sprintf(`(document.querySelector("#devices-bar .devices-bar-count")||{}).textContent === "%d selected"`, n))
}

// devicesButtons returns the bar's buttons now, if it is shown.
func devicesButtons(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var out []string
	err := chromedp.Run(ctx, chromedp.Evaluate(`getComputedStyle(document.querySelector("#devices-bar")).display === "none" ? [] :
		Array.from(document.querySelectorAll("#devices-bar button[data-action]")).map(b => b.dataset.action)`, &out))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// devicesAs signs out whoever is signed in, signs user in and opens the device list.
func (w *world) devicesAs(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	var signedIn bool
	if err := chromedp.Run(ctx, chromedp.Navigate(w.srv.URL+"/"), chromedp.WaitReady(`body`, chromedp.ByQuery),
		chromedp.Evaluate(`!!document.querySelector("form.signout button")`, &signedIn)); err != nil {
		t.Fatal(err)
	}
	if signedIn {
		if err := chromedp.Run(ctx, chromedp.Click(`form.signout button`, chromedp.ByQuery), chromedp.WaitVisible(`#username`, chromedp.ByQuery)); err != nil {
			t.Fatalf("sign out: %v", err)
		}
	}
	w.signIn(t, ctx, user)
	if err := chromedp.Run(ctx, chromedp.Navigate(w.srv.URL+"/devices"), chromedp.WaitVisible(`#devices-results`, chromedp.ByQuery)); err != nil {
		t.Fatalf("open the device list as %s: %v", user, err)
	}
}

// devicesTick clicks the checkbox of device id.
func devicesTick(t *testing.T, ctx context.Context, id int64) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Click(fmt.Sprintf("#devices-row-%d", id), chromedp.ByQuery)); err != nil {
		t.Fatalf("tick device %d: %v", id, err)
	}
}

// TestBrowserDevicesBar: in Chromium, ticking rows shows the floating bar with exactly the
// buttons the server allows for the selection, per role; select-all and the keyboard work;
// the search updates the rows as one types, without reloading the page.
func TestBrowserDevicesBar(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)

	w.devicesAs(t, ctx, "operator")
	screenshot(t, ctx, "devices")
	if n := count(t, ctx, "input[name=device]"); n != 3 {
		t.Fatalf("operator's rows: %d", n)
	}
	if got := devicesButtons(t, ctx); len(got) != 0 {
		t.Fatalf("the bar shows before anything is selected: %v", got)
	}
	devicesTick(t, ctx, w.r1)
	devicesBarSays(t, ctx, 1)
	if got := devicesButtons(t, ctx); !slices.Equal(got, []string{"sync", "readiness"}) {
		t.Fatalf("operator's bar: %v", got)
	}
	screenshot(t, ctx, "devices-bar")
	// The keyboard: focus the next box and press space.
	if err := chromedp.Run(ctx, chromedp.Focus(fmt.Sprintf("#devices-row-%d", w.r2), chromedp.ByQuery), chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	devicesBarSays(t, ctx, 2)
	// Select all, then none.
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-all`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesBarSays(t, ctx, 3)
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-all`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesWait(t, ctx, "the bar to go", `getComputedStyle(document.querySelector("#devices-bar")).display === "none"`)

	// Search as one types: the rows change, the page is not reloaded, the address follows.
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.devicesMarker = 1`, nil), chromedp.SendKeys(`#devices-q`, "r2", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesWait(t, ctx, "the search to narrow the rows", `document.querySelectorAll("input[name=device]").length === 1 && location.search === "?q=r2"`)
	var marker int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.devicesMarker || 0`, &marker)); err != nil || marker != 1 {
		t.Fatalf("the search reloaded the page (%v)", err)
	}

	// Sync opens the job.
	if err := chromedp.Run(ctx, chromedp.Navigate(w.srv.URL+"/devices"), chromedp.WaitVisible(`#devices-results`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesTick(t, ctx, w.e1)
	devicesBarSays(t, ctx, 1)
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-bar button[data-action=sync]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesWait(t, ctx, "the job page", `/^\/jobs\/\d+$/.test(location.pathname) && location.search === "?notice=queued"`)

	w.devicesAs(t, ctx, "viewer")
	devicesTick(t, ctx, w.r1)
	devicesBarSays(t, ctx, 1)
	if got := devicesButtons(t, ctx); len(got) != 0 {
		t.Fatalf("viewer's bar: %v", got)
	}
	if s := text(t, ctx, "#devices-bar"); !strings.Contains(s, "You may not run an action") {
		t.Fatalf("viewer's bar says %q", s)
	}

	w.devicesAs(t, ctx, "syncer")
	if n := count(t, ctx, "input[name=device]"); n != 2 {
		t.Fatalf("syncer's rows: %d", n)
	}
	devicesTick(t, ctx, w.r1)
	devicesTick(t, ctx, w.r2)
	devicesBarSays(t, ctx, 2)
	if got := devicesButtons(t, ctx); !slices.Equal(got, []string{"sync"}) {
		t.Fatalf("syncer's bar: %v", got)
	}

	// admin's Upgrade opens the wizard for the selection.
	w.devicesAs(t, ctx, "admin")
	devicesTick(t, ctx, w.u1)
	devicesBarSays(t, ctx, 1)
	if got := devicesButtons(t, ctx); !slices.Equal(got, []string{"sync", "readiness", "upgrade", "delete"}) {
		t.Fatalf("admin's bar: %v", got)
	}
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-bar button[data-action=upgrade]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	devicesWait(t, ctx, "the upgrade wizard", fmt.Sprintf(`location.pathname + location.search === "/devices/upgrade?device=%d"`, w.u1))
}

// TestBrowserDevicesBulkDelete: in Chromium, Delete on the bar shows the dry-run preview and
// deletes only after the confirmation.
func TestBrowserDevicesBulkDelete(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)
	w.devicesAs(t, ctx, "admin")
	devicesTick(t, ctx, w.r1)
	devicesTick(t, ctx, w.u1)
	devicesBarSays(t, ctx, 2)
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-bar button[data-action=delete]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#devices-confirm`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if s := text(t, ctx, "#devices-preview"); !strings.Contains(s, "acme-r1") || !strings.Contains(s, "acme-u1") || strings.Contains(s, "acme-r2") {
		t.Fatalf("preview: %q", s)
	}
	var page string
	if err := chromedp.Run(ctx, chromedp.OuterHTML("html", &page, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "devices-delete")
	var out struct {
		Count int `json:"count"`
	}
	w.api(t, w.root, "GET", "/api/devices/", "", 200, &out)
	if out.Count != 5 {
		t.Fatalf("the preview deleted: %d devices left", out.Count)
	}
	if err := chromedp.Run(ctx, chromedp.Click(`#devices-confirm`, chromedp.ByQuery), chromedp.WaitVisible(`p.notice`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if s := text(t, ctx, "p.notice"); s != "The devices were deleted." {
		t.Fatalf("notice %q", s)
	}
	if n := count(t, ctx, "input[name=device]"); n != 2 {
		t.Fatalf("rows after deleting: %d", n)
	}
	w.api(t, w.root, "GET", "/api/devices/", "", 200, &out)
	if out.Count != 3 {
		t.Fatalf("after the confirmation: %d devices left", out.Count)
	}
}
