package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// wizardImage uploads a firmware image (global when customer is 0) through the service and
// returns its id.
func (e *env) wizardImage(t testing.TB, customer int64, platform, version string, golden bool) int64 {
	t.Helper()
	in := service.FirmwareUpload{Platform: platform, Version: version, Filename: fmt.Sprintf("%s-%s-%d.bin", platform, version, customer),
		Golden: golden, ContentLength: -1, Global: customer == 0}
	if customer != 0 {
		in.Customer = &customer
	}
	sys := service.WithSubject(context.Background(), service.System())
	img, err := e.core.UploadFirmwareImage(sys, in, bytes.NewReader([]byte("image "+in.Filename)))
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// wizardWorker runs readiness and upgrade jobs on a worker with stand-in kinds: readiness
// passes, a dry-run upgrade logs its plan, a real one "upgrades".
func wizardWorker(t *testing.T, db *store.DB) {
	t.Helper()
	q, err := service.NewJobQueue(service.JobQueueConfig{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []jobs.Kind{
		{Name: webnet.JobReadiness, Run: func(ctx context.Context, t *jobs.Target) error {
			t.Result("Ready: reachable, 2 GB free, configuration saved.")
			return nil
		}},
		{Name: webnet.JobUpgrade, Run: func(ctx context.Context, t *jobs.Target) error {
			if t.Job.DryRun {
				t.Infof("Would stage the image on %s and set the boot variable.", t.Device.Name)
				t.Result("Plan: stage, verify, set boot, reload.")
				return nil
			}
			t.Result("Upgraded.")
			return nil
		}},
	}
	r, err := jobs.New(jobs.Config{Queue: q, Kinds: kinds, Poll: 50 * time.Millisecond, FlushEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// wizardJobs lists the jobs of kind as root, through the API.
func (e *env) wizardJobs(t testing.TB, kind string) []webnet.Job {
	t.Helper()
	var out struct {
		Results []webnet.Job `json:"results"`
	}
	e.api(t, e.root, "GET", "/api/jobs/?limit=1000&kind="+kind, "", 200, &out)
	return out.Results
}

// wizardWait waits until job id has finished.
func (e *env) wizardWait(t testing.TB, id int64) *webnet.Job {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var j webnet.Job
		e.api(t, e.root, "GET", fmt.Sprintf("/api/jobs/%d/", id), "", 200, &j)
		if webnet.JobFinished(j.Status) {
			return &j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWizardRedirectsWithoutUpgradePermission: whoever lacks upgrade_device_firmware on
// any of the devices, or cannot see one, is sent back to the device list at every step, and
// nothing is queued.
func TestWizardRedirectsWithoutUpgradePermission(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		img := w.wizardImage(t, 0, "cisco_iosxe", "17.12.03", true)
		for _, tc := range []struct {
			user    string
			devices []int64
		}{
			{"operator", []int64{w.r1}},
			{"viewer", []int64{w.r1}},
			{"syncer", []int64{w.r1}},
			{"member", []int64{w.r1}},
			{"outsider", []int64{w.r1}},
			{"admin", []int64{w.g1}},
			{"admin", []int64{w.r1, w.g1}},
			{"globexadm", []int64{w.r1, w.g1}},
		} {
			c := w.client(t, tc.user)
			v := url.Values{"image": {fmt.Sprint(img)}, "confirm": {"1"}}
			for _, id := range tc.devices {
				v.Add("device", fmt.Sprint(id))
			}
			if len(tc.devices) == 2 {
				v.Set("confirm", "2")
			}
			resp, err := c.Get(w.srv.URL + "/devices/upgrade?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/devices?notice=no-upgrade" {
				t.Errorf("%s opening the wizard for %v: %d to %q", tc.user, tc.devices, resp.StatusCode, resp.Header.Get("Location"))
			}
			for _, step := range []string{"readiness", "plan", "confirm"} {
				status, loc, _ := w.post(t, c, "/devices/upgrade/"+step, v)
				if status != http.StatusSeeOther || loc != "/devices?notice=no-upgrade" {
					t.Errorf("%s posting %s for %v: %d to %q", tc.user, step, tc.devices, status, loc)
				}
			}
		}
		for _, kind := range []string{"readiness", "upgrade"} {
			if j := w.wizardJobs(t, kind); len(j) != 0 {
				t.Fatalf("refused wizards queued %s jobs: %+v", kind, j)
			}
		}
		admin := w.client(t, "admin")
		if status, loc, _ := w.post(t, admin, "/devices/upgrade/readiness", url.Values{"image": {fmt.Sprint(img)}}); status != 303 || loc != "/devices?notice=no-devices" {
			t.Fatalf("no devices: %d %q", status, loc)
		}
		status, body := w.get(t, admin, "/devices/upgrade?device=r1")
		if status != 400 || !strings.Contains(body, "Devices must be positive ids") {
			t.Fatalf("a bad device id: %d %s", status, body)
		}
		wellFormed(t, "wizard bad id", body)

		// No worker runs here: a queued readiness job keeps the step polling, and the plan
		// waits for it.
		v := url.Values{"device": {fmt.Sprint(w.r1)}, "image": {fmt.Sprint(img)}}
		status, loc, _ := w.post(t, admin, "/devices/upgrade/readiness", v)
		if status != 303 || !strings.HasPrefix(loc, "/devices/upgrade/readiness?") {
			t.Fatalf("queue readiness: %d %q", status, loc)
		}
		status, body = w.get(t, admin, loc)
		if status != 200 || !strings.Contains(body, `hx-trigger="every 1s"`) || strings.Contains(body, `action="/devices/upgrade/plan"`) ||
			!strings.Contains(body, "pending") {
			t.Fatalf("readiness step while queued: %d %s", status, body)
		}
		wellFormed(t, "wizard readiness queued", body)
		// While readiness holds the device, a plan is a conflict shown on the page.
		u, _ := url.Parse(loc)
		status, _, body = w.post(t, admin, "/devices/upgrade/plan", u.Query())
		if status != http.StatusConflict || !strings.Contains(body, "Another job is still working") {
			t.Fatalf("plan while readiness runs: %d %s", status, body)
		}
		wellFormed(t, "wizard conflict", body)
	})
}

// TestWizardConfirmation: the wizard preselects the golden image (the customer's before the
// global one), queues readiness and then a dry-run plan, and queues the upgrade only when
// the user types the device count (or the only device's name); a mismatch queues nothing.
func TestWizardConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		wizardWorker(t, db)
		global := w.wizardImage(t, 0, "cisco_iosxe", "17.12.03", true)
		arista := w.wizardImage(t, 0, "arista_eos", "4.31.2F", true)
		globex := w.wizardImage(t, w.globex, "cisco_iosxe", "17.9.4", true)
		admin := w.client(t, "admin")
		start := fmt.Sprintf("/devices/upgrade?device=%d&device=%d", w.r1, w.r2)
		radio := func(id int64) string { return fmt.Sprintf(`name="image" value="%d"`, id) }
		checked := func(id int64) string { return fmt.Sprintf(`value="%d" id="image-%d" checked`, id, id) }

		status, body := w.get(t, admin, start)
		if status != 200 || !strings.Contains(body, checked(global)) || strings.Contains(body, radio(arista)) || strings.Contains(body, radio(globex)) {
			t.Fatalf("image step with the global golden image: %d %s", status, body)
		}
		wellFormed(t, "wizard image", body)
		acme := w.wizardImage(t, w.acme, "cisco_iosxe", "17.9.5", true)
		if _, body = w.get(t, admin, start); !strings.Contains(body, checked(acme)) || strings.Contains(body, checked(global)) || !strings.Contains(body, radio(global)) {
			t.Fatalf("image step with acme's golden image: %s", body)
		}

		form := url.Values{"device": {fmt.Sprint(w.r1), fmt.Sprint(w.r2)}}
		status, _, body = w.post(t, admin, "/devices/upgrade/readiness", form)
		if status != 400 || !strings.Contains(body, "Choose a firmware image") {
			t.Fatalf("readiness without an image: %d %s", status, body)
		}
		wellFormed(t, "wizard no image", body)
		form.Set("image", fmt.Sprint(arista))
		if status, _, body = w.post(t, admin, "/devices/upgrade/readiness", form); status != 400 {
			t.Fatalf("readiness with another platform's image: %d %s", status, body)
		}

		// Readiness.
		form.Set("image", fmt.Sprint(acme))
		status, loc, _ := w.post(t, admin, "/devices/upgrade/readiness", form)
		ready := w.wizardJobs(t, "readiness")
		if status != 303 || len(ready) != 1 || string(ready[0].Params) != fmt.Sprintf(`{"image":%d}`, acme) ||
			loc != fmt.Sprintf("/devices/upgrade/readiness?%s&readiness=%d", form.Encode(), ready[0].ID) {
			t.Fatalf("queue readiness: %d %q %+v", status, loc, ready)
		}
		w.wizardWait(t, ready[0].ID)
		status, body = w.get(t, admin, loc)
		if status != 200 || strings.Contains(body, "hx-trigger") || !strings.Contains(body, "Ready: reachable") || !strings.Contains(body, `data-action="plan"`) {
			t.Fatalf("readiness step, finished: %d %s", status, body)
		}
		wellFormed(t, "wizard readiness", body)
		// htmx's poll gets the live fragment alone.
		req, _ := http.NewRequest("GET", w.srv.URL+loc, nil)
		req.Header.Set("HX-Request", "true")
		resp, err := admin.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var frag bytes.Buffer
		_, _ = frag.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(frag.String()), `<div class="wizard-progress" id="wizard-live"`) {
			t.Fatalf("polled fragment: %d %s", resp.StatusCode, frag.String())
		}
		wellFormed(t, "wizard fragment", frag.String())

		// Plan: a dry-run upgrade.
		u, _ := url.Parse(loc)
		status, loc, _ = w.post(t, admin, "/devices/upgrade/plan", u.Query())
		plans := w.wizardJobs(t, "upgrade")
		if status != 303 || len(plans) != 1 || !plans[0].DryRun || string(plans[0].Params) != fmt.Sprintf(`{"image":%d}`, acme) || !strings.Contains(loc, fmt.Sprintf("plan=%d", plans[0].ID)) {
			t.Fatalf("queue the plan: %d %q %+v", status, loc, plans)
		}
		w.wizardWait(t, plans[0].ID)
		status, body = w.get(t, admin, loc)
		if status != 200 || !strings.Contains(body, "Would stage the image on acme-r1") || !strings.Contains(body, `<label for="confirm">Type <strong>2</strong>`) {
			t.Fatalf("plan step: %d %s", status, body)
		}
		wellFormed(t, "wizard plan", body)

		// Confirmation: a mismatch queues nothing.
		u, _ = url.Parse(loc)
		confirm := u.Query()
		for _, typed := range []string{"", "3", "acme-r1", "two"} {
			confirm.Set("confirm", typed)
			status, _, body = w.post(t, admin, "/devices/upgrade/confirm", confirm)
			if status != 400 || !strings.Contains(body, "Type 2, the number of devices to upgrade, to confirm; nothing was queued.") {
				t.Fatalf("confirmation %q: %d %s", typed, status, body)
			}
			wellFormed(t, "wizard mismatch", body)
		}
		if got := w.wizardJobs(t, "upgrade"); len(got) != 1 {
			t.Fatalf("a mismatched confirmation queued an upgrade: %+v", got)
		}
		// The rolling fields are checked too: a bad one queues nothing.
		confirm.Set("confirm", "2")
		for field, bad := range map[string]string{"concurrency": "0", "max_failures": "-1"} {
			c := url.Values{}
			for k, v := range confirm {
				c[k] = v
			}
			c.Set(field, bad)
			if status, _, body = w.post(t, admin, "/devices/upgrade/confirm", c); status != 400 || !strings.Contains(body, "Nothing was queued.") {
				t.Fatalf("%s=%s: %d %s", field, bad, status, body)
			}
		}
		if got := w.wizardJobs(t, "upgrade"); len(got) != 1 {
			t.Fatalf("a bad rolling field queued an upgrade: %+v", got)
		}
		confirm.Set("confirm", " 2 ")
		confirm.Set("concurrency", "1")
		confirm.Set("max_failures", "1")
		status, loc, _ = w.post(t, admin, "/devices/upgrade/confirm", confirm)
		got := w.wizardJobs(t, "upgrade")
		var params map[string]any
		_ = json.Unmarshal(got[0].Params, &params)
		if status != 303 || len(got) != 2 || got[0].DryRun || fmt.Sprint(params) != fmt.Sprintf("map[concurrency:1 image:%d max_failures:1]", acme) ||
			loc != fmt.Sprintf("/jobs/%d?notice=queued", got[0].ID) {
			t.Fatalf("confirmed upgrade: %d %q %+v", status, loc, got)
		}

		// One device: its name is the confirmation.
		one := url.Values{"device": {fmt.Sprint(w.e1)}, "image": {fmt.Sprint(global)}, "confirm": {"1"}}
		if status, _, body = w.post(t, admin, "/devices/upgrade/confirm", one); status != 400 || !strings.Contains(body, "Type the device name acme-e1 to confirm") {
			t.Fatalf("one device confirmed by count: %d %s", status, body)
		}
		one.Set("confirm", "acme-e1")
		if status, loc, _ = w.post(t, admin, "/devices/upgrade/confirm", one); status != 303 || !strings.HasPrefix(loc, "/jobs/") {
			t.Fatalf("one device confirmed by name: %d %q", status, loc)
		}
		if got := w.wizardJobs(t, "upgrade"); len(got) != 3 || got[0].DryRun || got[0].Targets != nil && len(got[0].Targets) != 1 {
			t.Fatalf("upgrade of acme-e1: %+v", got)
		}
	})
}

// TestBrowserWizard: in Chromium, a user without upgrade permission opening the wizard
// lands on the device list; an admin goes through readiness and plan, which appear live
// (htmx polling), and confirms.
func TestBrowserWizard(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newEnv(t, db)
	w := newWorld(t, e)
	wizardWorker(t, db)
	e.wizardImage(t, w.acme, "cisco_iosxe", "17.9.5", true)
	wizard := fmt.Sprintf("%s/devices/upgrade?device=%d&device=%d", e.srv.URL, w.r1, w.r2)

	ctx := newBrowser(t)
	e.signIn(t, ctx, "operator")
	var where string
	if err := chromedp.Run(ctx, chromedp.Navigate(wizard), chromedp.Location(&where)); err != nil {
		t.Fatal(err)
	}
	if where != e.srv.URL+"/devices?notice=no-upgrade" {
		t.Fatalf("operator opening the wizard is at %s", where)
	}

	ctx = newBrowser(t)
	e.signIn(t, ctx, "admin")
	err := chromedp.Run(ctx,
		chromedp.Navigate(wizard),
		chromedp.WaitVisible(`input[name=image]:checked`, chromedp.ByQuery),
		chromedp.Click(`form.wizard-form button[type=submit]`, chromedp.ByQuery),
		// The plan button appears when the readiness job has finished, without a reload.
		chromedp.WaitVisible(`button[data-action=plan]`, chromedp.ByQuery),
		chromedp.Click(`button[data-action=plan]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if txt := text(t, ctx, `#wizard-live`); !strings.Contains(txt, "Would stage the image on acme-r2") {
		t.Errorf("plan log: %q", txt)
	}
	screenshot(t, ctx, "wizard")
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#confirm`, "3", chromedp.ByQuery),
		chromedp.Click(`button[data-action=confirm-upgrade]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#wizard-error`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.wizardJobs(t, "upgrade")); n != 1 {
		t.Fatalf("a mismatched confirmation in the browser: %d upgrade jobs", n)
	}
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#confirm`, "2", chromedp.ByQuery),
		chromedp.Click(`button[data-action=confirm-upgrade]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`#confirm`, chromedp.ByQuery),
		chromedp.Location(&where),
	)
	if err != nil {
		t.Fatal(err)
	}
	if jobs := e.wizardJobs(t, "upgrade"); len(jobs) != 2 || jobs[0].DryRun || where != fmt.Sprintf("%s/jobs/%d?notice=queued", e.srv.URL, jobs[0].ID) {
		t.Fatalf("confirmed in the browser: at %s, jobs %+v", where, jobs)
	}
}
