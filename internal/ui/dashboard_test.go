package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// dashCount reads the count with element id from a dashboard page.
func dashCount(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s on the dashboard", id)
	}
	return m[1]
}

// TestDashboardCountsPerRole: each user's counts are those of what they may see, and the
// jobs panel lists only their jobs.
func TestDashboardCountsPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		fs := newTestSync()
		fs.fail[w.e1] = true
		startWorker(t, db, fs.kind())
		failed := w.syncJob(t, "admin", w.e1) // all its targets fail: a failed job
		w.waitJob(t, failed, "failed")
		fs.hang[w.r1] = true
		defer close(fs.release)
		running := w.syncJob(t, "operator", w.r1)
		deadline := time.Now().Add(10 * time.Second)
		for w.jobStatus(t, running) != "running" {
			if time.Now().After(deadline) {
				t.Fatal("the job never ran")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// devices, device groups, running, failed in 24 h; the jobs listed.
		for _, c := range []struct {
			user                           string
			devices, groups, run, failed24 string
			jobs                           []int64
		}{
			{"root", "5", "3", "1", "1", []int64{running, failed}},
			{"admin", "4", "2", "1", "1", []int64{running, failed}},
			{"operator", "3", "2", "1", "1", []int64{running, failed}},
			{"viewer", "3", "2", "1", "1", []int64{running, failed}},
			{"syncer", "2", "1", "1", "0", []int64{running}},
			{"member", "0", "0", "0", "0", nil},
			{"globexadm", "1", "1", "0", "0", nil},
			{"outsider", "0", "0", "0", "0", nil},
		} {
			status, body := w.get(t, w.client(t, c.user), "/")
			if status != 200 {
				t.Fatalf("%s: dashboard %d", c.user, status)
			}
			wellFormed(t, "dashboard as "+c.user, body)
			got := []string{dashCount(t, body, "dash-devices"), dashCount(t, body, "dash-groups"), dashCount(t, body, "dash-running"), dashCount(t, body, "dash-failed")}
			want := []string{c.devices, c.groups, c.run, c.failed24}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: devices, groups, running, failed %v, want %v", c.user, got, want)
			}
			if n := strings.Count(body, "<tr data-job="); n != len(c.jobs) {
				t.Errorf("%s: %d jobs listed, want %d", c.user, n, len(c.jobs))
			}
			for _, id := range c.jobs {
				if !strings.Contains(body, fmt.Sprintf(`<tr data-job="%d">`, id)) {
					t.Errorf("%s: job %d not listed", c.user, id)
				}
			}
		}
		// Health: the test kind records no sync, so every device the admin sees is "never".
		_, body := w.get(t, w.client(t, "admin"), "/")
		never := regexp.MustCompile(`id="dash-sync"[\s\S]*?data-bucket="Never">(\d+)<`).FindStringSubmatch(body)
		if never == nil || never[1] != "4" {
			t.Errorf("admin's never-synced devices: %v", never)
		}
		if strings.Count(body, "<rect ") < 8 || !strings.Contains(body, `role="img"`) {
			t.Errorf("health charts missing")
		}
		// The jobs panel alone, as htmx fetches it.
		status, frag := w.get(t, w.client(t, "operator"), "/dashboard/jobs")
		if status != 200 || !strings.HasPrefix(strings.TrimSpace(frag), `<section class="card" id="dash-jobs"`) ||
			!strings.Contains(frag, fmt.Sprintf(`<tr data-job="%d">`, running)) {
			t.Fatalf("jobs panel: %d %s", status, frag)
		}
		wellFormed(t, "dashboard jobs panel", frag)
	})
}

// jobStatus is job id's status as root reads it.
func (w *world) jobStatus(t testing.TB, id int64) string {
	t.Helper()
	var j struct {
		Status string `json:"status"`
	}
	w.api(t, w.root, "GET", fmt.Sprintf("/api/jobs/%d/", id), "", 200, &j)
	return j.Status
}

// TestBrowserDashboardUpdatesLive: a job requested while the dashboard is open appears in
// its jobs panel without a reload; screenshots of the dashboard and the job list.
func TestBrowserDashboardUpdatesLive(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "operator")
	if count(t, ctx, "#dash-jobs tr[data-job]") != 0 {
		t.Fatal("jobs listed before any")
	}
	// Mark the page: a reload would lose the mark.
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.notReloaded = true`, nil), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	id := w.syncJob(t, "operator", w.r1)
	sel := fmt.Sprintf(`#dash-jobs tr[data-job="%d"]`, id)
	// Well within the panel's 30 s polling: only the live topic can bring it this soon.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(wctx, chromedp.WaitVisible(sel, chromedp.ByQuery)); err != nil {
		t.Fatalf("the new job never showed: %v", err)
	}
	var mark bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.notReloaded === true`, &mark)); err != nil || !mark {
		t.Fatalf("the page was reloaded (%v)", err)
	}
	screenshot(t, ctx, "dashboard")
	if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+"/jobs"), chromedp.WaitVisible(sel[len("#dash-jobs "):], chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "jobs")
	var page string
	if err := chromedp.Run(ctx, chromedp.OuterHTML("html", &page, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "jobs in the browser", page)
}

// dashBucket reads the count of one bucket of one chart from a dashboard page.
func dashBucket(t *testing.T, body, chart, bucket string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + chart + `"[\s\S]*?data-bucket="` + regexp.QuoteMeta(bucket) + `">(\d+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no bucket %q in %s", bucket, chart)
	}
	return m[1]
}

// TestDashboardHealthCountsEveryVisibleDevice: the health charts count all the devices the
// user may view (one query, no sample): sync and backup ages and the latest readiness.
func TestDashboardHealthCountsEveryVisibleDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sys := service.WithSubject(context.Background(), service.System())
		// r1 synced and backed up now, ready with warnings; r2 not ready; globex-g1 ready.
		if err := w.env.core.RecordFacts(sys, w.r1, webnet.DeviceFacts{Vendor: "Cisco", OSVersion: "17.9.4"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.env.core.RecordBackup(sys, w.r1, nil, []byte("hostname r1\n")); err != nil {
			t.Fatal(err)
		}
		for id, status := range map[int64]string{w.r1: "warn", w.r2: "fail", w.g1: "pass"} {
			if _, err := w.env.core.RecordReadiness(sys, id, nil, nil, []webnet.ReadinessCheck{{Name: "reachable", Status: status, Reason: "x"}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			user                                 string
			devices, syncedNow, backupNever      string
			ready, warnings, notReady, unchecked string
		}{
			{"admin", "4", "1", "3", "0", "1", "1", "2"},
			{"root", "5", "1", "4", "1", "1", "1", "2"},
			{"globexadm", "1", "0", "1", "1", "0", "0", "0"},
			{"outsider", "0", "0", "0", "0", "0", "0", "0"},
		} {
			_, body := w.get(t, w.client(t, c.user), "/")
			got := []string{dashCount(t, body, "dash-devices"), dashBucket(t, body, "dash-sync", "&lt; 1 h"), dashBucket(t, body, "dash-backup", "Never"),
				dashBucket(t, body, "dash-readiness", "Ready"), dashBucket(t, body, "dash-readiness", "Warnings"),
				dashBucket(t, body, "dash-readiness", "Not ready"), dashBucket(t, body, "dash-readiness", "Unchecked")}
			want := []string{c.devices, c.syncedNow, c.backupNever, c.ready, c.warnings, c.notReady, c.unchecked}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: devices, synced < 1 h, never backed up, ready, warnings, not ready, unchecked = %v; want %v", c.user, got, want)
			}
		}
	})
}

// failedJob inserts a job of customer on device that failed at, as the queue would leave it.
func failedJob(t *testing.T, db *store.DB, customer, device int64, status string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		j := &webnet.Job{CustomerID: customer, Kind: webnet.JobSync, Status: webnet.JobRunning, CreatedAt: at.Add(-time.Minute),
			Targets: []webnet.JobTarget{{DeviceID: device, Status: webnet.TargetFailed}}}
		if err := tx.CreateJob(ctx, j); err != nil {
			return err
		}
		return tx.SetJobStatus(ctx, j.ID, webnet.JobRunning, status, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDashboardFailedIn24hIsExact: "failed in 24 h" counts every failed job the user may see
// that finished in the last 24 hours — more than a page of them, none older, none of another
// status — on the dashboard and in the counts fragment htmx re-fetches.
func TestDashboardFailedIn24hIsExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		now := time.Now().UTC()
		for range 103 {
			failedJob(t, db, w.acme, w.r1, webnet.JobFailed, now.Add(-time.Hour))
		}
		failedJob(t, db, w.acme, w.r2, webnet.JobFailed, now.Add(-23*time.Hour))
		failedJob(t, db, w.acme, w.r1, webnet.JobFailed, now.Add(-25*time.Hour))
		failedJob(t, db, w.acme, w.r1, webnet.JobFailed, now.Add(-30*24*time.Hour))
		failedJob(t, db, w.acme, w.r1, webnet.JobPartial, now.Add(-time.Hour))
		failedJob(t, db, w.acme, w.r1, webnet.JobCancelled, now.Add(-time.Hour))
		failedJob(t, db, w.acme, w.e1, webnet.JobFailed, now.Add(-2*time.Hour))
		failedJob(t, db, w.globex, w.g1, webnet.JobFailed, now.Add(-time.Minute))
		queued := w.syncJob(t, "operator", w.r2)
		for _, c := range []struct {
			user           string
			failed, queued string
		}{
			{"root", "106", "1"},
			{"admin", "105", "1"},
			{"syncer", "104", "1"}, // core only: not e1's
			{"globexadm", "1", "0"},
			{"member", "0", "0"},
		} {
			cl := w.client(t, c.user)
			_, body := w.get(t, cl, "/")
			status, frag := w.get(t, cl, "/dashboard/counts")
			if status != 200 || !strings.HasPrefix(strings.TrimSpace(frag), `<ul class="dash-counts" id="dash-counts"`) || strings.Contains(frag, "<nav") {
				t.Fatalf("%s: counts fragment %d: %s", c.user, status, frag)
			}
			wellFormed(t, "dashboard counts as "+c.user, frag)
			for _, page := range []string{body, frag} {
				if got := dashCount(t, page, "dash-failed"); got != c.failed {
					t.Errorf("%s: failed in 24 h %q, want %s", c.user, got, c.failed)
				}
				if got := dashCount(t, page, "dash-queued"); got != c.queued {
					t.Errorf("%s: queued %q, want %s", c.user, got, c.queued)
				}
			}
		}
		w.api(t, w.root, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", queued), "", 200, nil)
		if _, frag := w.get(t, w.client(t, "admin"), "/dashboard/counts"); dashCount(t, frag, "dash-queued") != "0" {
			t.Errorf("queued after the cancel: %s", frag)
		}
		anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if status, _ := w.get(t, anon, "/dashboard/counts"); status == 200 {
			t.Errorf("counts without a session: %d", status)
		}
	})
}

// TestBrowserDashboardCountsLive: the counts follow the "devices" and "jobs" topics without a
// reload — a device added to a group the user sees, a job queued on it.
func TestBrowserDashboardCountsLive(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "operator")
	if got := text(t, ctx, "#dash-devices") + " " + text(t, ctx, "#dash-queued"); got != "3 0" {
		t.Fatalf("devices and queued before: %s", got)
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.notReloaded = true`, nil), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// Well within the counts' 30 s polling: only the live topics bring them this soon.
	wait := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for text(t, ctx, sel) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s is %q, never %q", sel, text(t, ctx, sel), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	dev := e.create(t, "/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"acme-r3","address":"192.0.2.9","platform":"cisco_iosxe"}`, w.acme, w.core))
	wait("#dash-devices", "4")
	w.syncJob(t, "operator", dev)
	wait("#dash-queued", "1")
	var mark bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.notReloaded === true`, &mark)); err != nil || !mark {
		t.Fatalf("the page was reloaded (%v)", err)
	}
}
