package ui_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// detailActionsOn returns the action buttons (data-action) of a page, sorted.
func detailActionsOn(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-action="([a-z-]+)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

// TestDetailButtonsPerRole: the detail page of acme-r1 offers each role exactly the actions
// its user_permissions allow; the backups and configuration sections follow view_backups
// and view_configuration; invisible devices are 404.
func TestDetailButtonsPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		all := []string{"delete", "edit", "push", "readiness", "sync", "upgrade"}
		for _, tc := range []struct {
			user            string
			status          int
			actions         []string
			backups, config bool
		}{
			{"root", 200, all, true, true},
			{"admin", 200, all, true, true},
			{"operator", 200, []string{"readiness", "sync"}, false, false},
			{"viewer", 200, nil, false, false},
			{"syncer", 200, []string{"sync"}, true, false},
			{"member", 404, nil, false, false},
			{"outsider", 404, nil, false, false},
			{"globexadm", 404, nil, false, false},
		} {
			c := w.client(t, tc.user)
			status, body := w.get(t, c, fmt.Sprintf("/devices/%d", w.r1))
			if status != tc.status {
				t.Fatalf("%s: acme-r1 is %d, want %d", tc.user, status, tc.status)
			}
			wellFormed(t, "device as "+tc.user, body)
			if status != 200 {
				continue
			}
			if got := detailActionsOn(body); !slices.Equal(got, tc.actions) {
				t.Errorf("%s: actions %v, want %v", tc.user, got, tc.actions)
			}
			if got := strings.Contains(body, `id="backups-h"`); got != tc.backups {
				t.Errorf("%s: backups section shown %v, want %v", tc.user, got, tc.backups)
			}
			if got := strings.Contains(body, "/config\">Show the current configuration"); got != tc.config {
				t.Errorf("%s: configuration section shown %v, want %v", tc.user, got, tc.config)
			}
			if !strings.Contains(body, "acme-r1") || !strings.Contains(body, "core") || !strings.Contains(body, "acme") {
				t.Errorf("%s: the facts lack the name, group or customer: %s", tc.user, body)
			}
			if tc.user != "root" {
				if status, _ := w.get(t, c, fmt.Sprintf("/devices/%d", w.g1)); status != 404 {
					t.Errorf("%s sees globex-g1: %d", tc.user, status)
				}
			}
		}
		// Not a device id at all.
		if status, _ := w.get(t, w.client(t, "admin"), "/devices/x1"); status != 404 {
			t.Fatalf("/devices/x1: %d", status)
		}
	})
}

const (
	detailCfgA = "Building configuration...\n\nCurrent configuration : 120 bytes\n!\n! Last configuration change at 09:14:02 UTC Thu Nov 26 2026\n!\nhostname acme-r1\nenable secret 9 $9$abc$def\ninterface Gi1\n description uplink\nend\n"
	detailCfgB = "Building configuration...\n\nCurrent configuration : 122 bytes\n!\n! Last configuration change at 11:00:00 UTC Thu Nov 26 2026\n!\nhostname acme-r1\nenable secret 9 $9$qqq$rrr\ninterface Gi1\n description uplink to core\nend\n"
)

// detailBackups stores configs as backups of device (as a worker would) and returns their
// ids.
func (e *env) detailBackups(t testing.TB, device int64, configs ...string) []int64 {
	t.Helper()
	sys := service.WithSubject(context.Background(), service.System())
	var ids []int64
	for _, c := range configs {
		b, _, err := e.core.RecordBackup(sys, device, nil, []byte(c))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	return ids
}

// TestDetailConfigAndDiff: the current configuration needs view_configuration; the diff
// between two backups shows the change in both views, with masked noise marked as such.
func TestDetailConfigAndDiff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		b := w.detailBackups(t, w.r1, detailCfgA, detailCfgB)
		other := w.detailBackups(t, w.r2, detailCfgA)
		admin, syncer := w.client(t, "admin"), w.client(t, "syncer")

		status, body := w.get(t, admin, fmt.Sprintf("/devices/%d", w.r1))
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`name="to" value="%d"`, b[1])) || !strings.Contains(body, "2 of 2 versions") {
			t.Fatalf("backups on the detail page: %d %s", status, body)
		}
		status, body = w.get(t, admin, fmt.Sprintf("/devices/%d/config", w.r1))
		if status != 200 || !strings.Contains(body, "description uplink to core") {
			t.Fatalf("configuration: %d %s", status, body)
		}
		wellFormed(t, "config", body)
		if status, body = w.get(t, admin, fmt.Sprintf("/devices/%d/config", w.e1)); status != 200 || !strings.Contains(body, "no configuration backup yet") {
			t.Fatalf("configuration of a device without backups: %d %s", status, body)
		}
		wellFormed(t, "config missing", body)
		// syncer lists backups (view_backups) but sees no configuration.
		if status, body = w.get(t, syncer, fmt.Sprintf("/devices/%d", w.r1)); status != 200 || !strings.Contains(body, "needs permission to view configuration") {
			t.Fatalf("syncer's detail page: %d %s", status, body)
		}
		for _, path := range []string{"/devices/%d/config", "/devices/%d/diff?to=" + fmt.Sprint(b[1])} {
			if status, _ := w.get(t, syncer, fmt.Sprintf(path, w.r1)); status != 403 {
				t.Fatalf("syncer %s: %d", path, status)
			}
		}

		diff := fmt.Sprintf("/devices/%d/diff?from=%d&to=%d", w.r1, b[0], b[1])
		status, body = w.get(t, admin, diff)
		if status != 200 {
			t.Fatalf("unified diff: %d %s", status, body)
		}
		wellFormed(t, "diff unified", body)
		for _, want := range []string{
			`<tr class="diff-del">`, `<tr class="diff-add">`, "description uplink to core", "diff-unified",
			`<mark class="diff-masked" title="noise, masked">&lt;masked&gt;</mark>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("unified diff lacks %q: %s", want, body)
			}
		}
		status, body = w.get(t, admin, diff+"&view=split")
		if status != 200 {
			t.Fatalf("side-by-side diff: %d %s", status, body)
		}
		wellFormed(t, "diff split", body)
		// The changed line: the old text on the left, the new on the right, in one row.
		row := regexp.MustCompile(`(?s)<td class="diff-del">.*?description uplink</code></td>\s*<td class="diff-n">\d+</td><td class="diff-add">.*?description uplink to core`)
		if !row.MatchString(body) || !strings.Contains(body, "diff-masked") || !strings.Contains(body, "diff-split") {
			t.Errorf("side-by-side diff: %s", body)
		}
		// Without from: against the previous version; versions in the wrong order are swapped.
		if status, body = w.get(t, admin, fmt.Sprintf("/devices/%d/diff?to=%d", w.r1, b[1])); status != 200 || !strings.Contains(body, "uplink to core") {
			t.Fatalf("diff against the previous version: %d %s", status, body)
		}
		if status, body = w.get(t, admin, fmt.Sprintf("/devices/%d/diff?from=%d&to=%d", w.r1, b[1], b[0])); status != 200 || !strings.Contains(body, `<tr class="diff-add">`) ||
			!strings.Contains(body, fmt.Sprintf("From version #%d", b[0])) {
			t.Fatalf("reversed diff: %d %s", status, body)
		}
		for path, want := range map[string]int{
			fmt.Sprintf("/devices/%d/diff?from=%d&to=%d", w.r1, other[0], b[1]): 404, // another device's backup
			fmt.Sprintf("/devices/%d/diff?from=%d&to=%d", w.r1, b[0], b[0]):     400,
			fmt.Sprintf("/devices/%d/diff?from=x&to=%d", w.r1, b[1]):            400,
			fmt.Sprintf("/devices/%d/diff", w.r1):                               400,
			diff + "&view=sideways":                                             400,
			fmt.Sprintf("/devices/%d/diff?to=%d", w.r1, b[0]):                   404, // the first version
		} {
			status, body := w.get(t, admin, path)
			if status != want {
				t.Errorf("%s: %d, want %d", path, status, want)
			}
			wellFormed(t, path, body)
		}
	})
}

// TestDetailActions: sync and readiness queue jobs for whoever may; a config push, an edit
// and a delete go through their forms, which show what is wrong with the input.
func TestDetailActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		operator, viewer, admin := w.client(t, "operator"), w.client(t, "viewer"), w.client(t, "admin")
		rootCtx := service.WithSubject(context.Background(), service.System())
		job := func(loc string) *webnet.Job {
			t.Helper()
			var id int64
			if _, err := fmt.Sscanf(loc, "/jobs/%d?notice=queued", &id); err != nil {
				t.Fatalf("redirect to %q", loc)
			}
			j, err := w.env.core.GetJob(rootCtx, id)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		status, loc, _ := w.post(t, operator, fmt.Sprintf("/devices/%d/sync", w.r1), nil)
		if j := job(loc); status != 303 || j.Kind != "sync" || len(j.Targets) != 1 || j.Targets[0].DeviceID != w.r1 {
			t.Fatalf("sync: %d %+v", status, j)
		}
		status, loc, _ = w.post(t, operator, fmt.Sprintf("/devices/%d/readiness", w.r2), nil)
		rj := job(loc)
		if status != 303 || rj.Kind != "readiness" {
			t.Fatalf("readiness: %d %+v", status, rj)
		}
		// The detail page shows the latest readiness and the jobs on the device.
		status, body := w.get(t, operator, fmt.Sprintf("/devices/%d", w.r2))
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`Job <a href="/jobs/%d">#%d</a> (queued)`, rj.ID, rj.ID)) ||
			!strings.Contains(body, `<span class="detail-status detail-s-pending">pending</span>`) || !strings.Contains(body, "The 1 newest of 1 jobs") {
			t.Fatalf("readiness on the detail page: %d %s", status, body)
		}
		wellFormed(t, "device with jobs", body)
		// Once a worker recorded the check, its checks and reasons are shown.
		sys := service.WithSubject(context.Background(), service.System())
		if _, err := w.env.core.RecordReadiness(sys, w.r2, &rj.ID, nil, []webnet.ReadinessCheck{
			{Name: "reachable", Status: "pass", Reason: "Connected."}, {Name: "config_saved", Status: "fail", Reason: "3 lines of the running configuration are not saved."}}); err != nil {
			t.Fatal(err)
		}
		status, body = w.get(t, operator, fmt.Sprintf("/devices/%d", w.r2))
		if status != 200 || !strings.Contains(body, `<span class="detail-status detail-s-fail">fail</span>`) ||
			!strings.Contains(body, "<td>config_saved</td>") || !strings.Contains(body, "3 lines of the running configuration are not saved.") {
			t.Fatalf("stored readiness on the detail page: %d %s", status, body)
		}
		wellFormed(t, "device with readiness", body)
		if status, body = w.get(t, admin, fmt.Sprintf("/devices/%d", w.u1)); status != 200 || !strings.Contains(body, "<em>ungrouped</em>") {
			t.Fatalf("ungrouped device: %d %s", status, body)
		}
		wellFormed(t, "ungrouped device", body)
		status, _, body = w.post(t, viewer, fmt.Sprintf("/devices/%d/sync", w.e1), nil)
		if status != 403 || !strings.Contains(body, "You do not have permission to sync device inventory") {
			t.Fatalf("viewer's sync: %d %s", status, body)
		}
		wellFormed(t, "sync refused", body)
		// Busy: r1 is held by the queued sync.
		if status, _, body = w.post(t, operator, fmt.Sprintf("/devices/%d/sync", w.r1), nil); status != 409 {
			t.Fatalf("second sync of a busy device: %d %s", status, body)
		}

		// Config push.
		if status, body = w.get(t, operator, fmt.Sprintf("/devices/%d/push", w.e1)); status != 403 {
			t.Fatalf("operator's push form: %d", status)
		}
		push := fmt.Sprintf("/devices/%d/push", w.e1)
		status, body = w.get(t, admin, push)
		if status != 200 || !strings.Contains(body, `<textarea id="config" name="config"`) {
			t.Fatalf("push form: %d %s", status, body)
		}
		wellFormed(t, "push", body)
		if status, _, body = w.post(t, admin, push, url.Values{"config": {"  "}, "dry_run": {"on"}}); status != 400 || !strings.Contains(body, "Give the configuration lines to push.") {
			t.Fatalf("empty push: %d %s", status, body)
		}
		wellFormed(t, "push error", body)
		if status, _, body = w.post(t, admin, push, url.Values{"config": {"do reload"}}); status != 400 || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("push of a forbidden line: %d %s", status, body)
		}
		status, loc, _ = w.post(t, admin, push, url.Values{"config": {"interface Gi1\n description edge uplink"}, "dry_run": {"on"}})
		if j := job(loc); status != 303 || j.Kind != "config_push" || !j.DryRun || !strings.Contains(string(j.Params), "edge uplink") {
			t.Fatalf("push: %d %+v", status, j)
		}

		// Edit.
		edit := fmt.Sprintf("/devices/%d/edit", w.u1)
		if status, _ = w.get(t, operator, fmt.Sprintf("/devices/%d/edit", w.r1)); status != 403 {
			t.Fatalf("operator's edit form: %d", status)
		}
		status, body = w.get(t, admin, edit)
		if status != 200 || !strings.Contains(body, `value="acme-u1"`) {
			t.Fatalf("edit form: %d %s", status, body)
		}
		wellFormed(t, "edit", body)
		form := url.Values{"name": {"acme-u1b"}, "address": {"192.0.2.44"}, "port": {"twenty-two"}, "platform": {"cisco_iosxe"}}
		if status, _, body = w.post(t, admin, edit, form); status != 400 || !strings.Contains(body, "Must be a whole number") {
			t.Fatalf("edit with a bad port: %d %s", status, body)
		}
		form.Set("port", "22")
		form.Set("platform", "windows")
		if status, _, body = w.post(t, admin, edit, form); status != 400 || !strings.Contains(body, `id="platform-error"`) {
			t.Fatalf("edit with a bad platform: %d %s", status, body)
		}
		wellFormed(t, "edit error", body)
		form.Set("platform", "arista_eos")
		if status, loc, _ = w.post(t, admin, edit, form); status != 303 || loc != fmt.Sprintf("/devices/%d?notice=saved", w.u1) {
			t.Fatalf("edit: %d %s", status, loc)
		}
		if d, err := w.env.core.GetDevice(rootCtx, w.u1); err != nil || d.Name != "acme-u1b" || d.Platform != "arista_eos" || d.Address != "192.0.2.44" {
			t.Fatalf("edited device: %+v %v", d, err)
		}

		// Delete: a preview, then only a confirmed post deletes.
		del := fmt.Sprintf("/devices/%d/delete", w.u1)
		if status, _ = w.get(t, operator, fmt.Sprintf("/devices/%d/delete", w.r1)); status != 403 {
			t.Fatalf("operator's delete page: %d", status)
		}
		status, body = w.get(t, admin, del)
		if status != 200 || !strings.Contains(body, "acme-u1b (#") || !strings.Contains(body, "This deletes 1 device with its backups") {
			t.Fatalf("delete preview: %d %s", status, body)
		}
		wellFormed(t, "delete", body)
		if status, _, body = w.post(t, admin, del, nil); status != 400 || !strings.Contains(body, "Tick the box") {
			t.Fatalf("unconfirmed delete: %d %s", status, body)
		}
		if _, err := w.env.core.GetDevice(rootCtx, w.u1); err != nil {
			t.Fatalf("an unconfirmed delete deleted: %v", err)
		}
		if status, loc, _ = w.post(t, admin, del, url.Values{"confirm": {"yes"}}); status != 303 || loc != "/devices?notice=deleted" {
			t.Fatalf("delete: %d %s", status, loc)
		}
		if status, _ = w.get(t, admin, fmt.Sprintf("/devices/%d", w.u1)); status != 404 {
			t.Fatalf("deleted device: %d", status)
		}
	})
}

// TestBrowserDetailButtons: in Chromium, the operator's detail page offers Sync and
// Readiness only, the viewer's nothing; the diff viewer renders.
func TestBrowserDetailButtons(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	b := e.detailBackups(t, w.r1, detailCfgA, detailCfgB)
	for _, tc := range []struct {
		user    string
		actions []string
	}{
		{"operator", []string{"readiness", "sync"}},
		{"viewer", nil},
		{"admin", []string{"delete", "edit", "push", "readiness", "sync", "upgrade"}},
	} {
		ctx := newBrowser(t)
		e.signIn(t, ctx, tc.user)
		var got []string
		err := chromedp.Run(ctx,
			chromedp.Navigate(fmt.Sprintf("%s/devices/%d", e.srv.URL, w.r1)),
			chromedp.WaitVisible(`.detail-head h1`, chromedp.ByQuery),
			chromedp.Evaluate(`[...document.querySelectorAll('.detail-actions [data-action]')].filter(b => b.offsetParent !== null).map(b => b.dataset.action).sort()`, &got),
		)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tc.actions) {
			t.Errorf("%s sees actions %v, want %v", tc.user, got, tc.actions)
		}
		if tc.user != "admin" {
			continue
		}
		screenshot(t, ctx, "device")
		// The compare form: the newest two versions are preselected; side by side.
		err = chromedp.Run(ctx,
			chromedp.Click(`input[name=view][value=split]`, chromedp.ByQuery),
			chromedp.Click(`.detail-compare button[type=submit]`, chromedp.ByQuery),
			chromedp.WaitVisible(`table.diff-split`, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, ctx, `mark.diff-masked`); n == 0 {
			t.Errorf("no masked noise marked in the diff")
		}
		if txt := text(t, ctx, `table.diff-split`); !strings.Contains(txt, "uplink to core") {
			t.Errorf("diff text: %q", txt)
		}
		screenshot(t, ctx, "device-diff")
		_ = b
	}
}
