package ui_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestBrowserAdminFirmwareUploadShowsProgress: in Chromium, the upload form goes through
// admin.js to the API with a progress bar that fills, and the new image is listed.
func TestBrowserAdminFirmwareUploadShowsProgress(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	newWorld(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "admin")
	img := filepath.Join(t.TempDir(), "ios-17.9.bin")
	if err := os.WriteFile(img, []byte(strings.Repeat("firmware ", 20000)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The page navigates away when the upload is done: what the progress bar showed is kept
	// in sessionStorage by an observer of its text.
	const watch = `(() => {
		const p = document.getElementById("upload-progress");
		new MutationObserver(() => {
			sessionStorage.setItem("progress", (sessionStorage.getItem("progress") || "") + "|" + p.textContent + (p.hidden ? "h" : ""));
		}).observe(p, {childList: true, characterData: true, subtree: true});
		return true;
	})()`
	var ok bool
	var seen string
	err := chromedp.Run(ctx,
		chromedp.Navigate(e.srv.URL+"/admin/firmware"),
		chromedp.WaitVisible(`#upload-version`, chromedp.ByQuery),
		chromedp.Evaluate(watch, &ok),
		chromedp.SetValue(`#upload-platform`, "cisco_iosxe", chromedp.ByQuery),
		chromedp.SendKeys(`#upload-version`, "17.9", chromedp.ByQuery),
		chromedp.SetUploadFiles(`#upload-file`, []string{img}, chromedp.ByQuery),
		chromedp.Click(`form[data-upload] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`tr[data-image="ios-17.9.bin"]`, chromedp.ByQuery),
		chromedp.Evaluate(`sessionStorage.getItem("progress") || ""`, &seen),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if !strings.Contains(seen, "|100%") || strings.Contains(seen, "100%h") {
		t.Fatalf("the progress bar did not fill in view: %q", seen)
	}
	if !strings.Contains(text(t, ctx, `.notice`), "The firmware image was uploaded.") {
		t.Fatalf("no notice after the upload")
	}
	var html string
	if err := chromedp.Run(ctx, chromedp.OuterHTML(`html`, &html, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "firmware in the browser", "<!doctype html>"+html)
	screenshot(t, ctx, "admin-firmware")
}

// TestBrowserGroupsAuditAdminScreenshots takes the pictures of the groups page, the access
// explainer, the audit log and the admin section, checking what each shows.
func TestBrowserGroupsAuditAdminScreenshots(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "admin")
	for _, shot := range []struct {
		name, path, sel, want string
	}{
		{"groups", "/groups", `tr[data-group="core"]`, "syncer"},
		{"groups-access", "/groups/access?user=" + itoa(w.ids["syncer"]) + "&device=acme-r1", `.admin-access`, "syncer may sync acme-r1 because"},
		{"audit", "/audit", `table.admin-table`, "device_group.create"},
		{"admin", "/admin/users", `tr[data-user="syncer"]`, "syncer"},
	} {
		start := time.Now()
		if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+shot.path), chromedp.WaitVisible(shot.sel, chromedp.ByQuery)); err != nil {
			t.Fatalf("%s: %v", shot.path, err)
		}
		t.Logf("%s loaded in %v", shot.path, time.Since(start))
		if got := text(t, ctx, "main"); !strings.Contains(got, shot.want) {
			t.Errorf("%s lacks %q", shot.path, shot.want)
		}
		screenshot(t, ctx, shot.name)
	}
	// Keyboard: the explainer's form is reachable and submits with Enter.
	err := chromedp.Run(ctx,
		chromedp.Navigate(e.srv.URL+"/groups/access"),
		chromedp.WaitVisible(`#access-device`, chromedp.ByQuery),
		chromedp.SetValue(`#access-user`, itoa(w.ids["operator"]), chromedp.ByQuery),
		chromedp.SendKeys(`#access-device`, "acme-e1\r", chromedp.ByQuery),
		chromedp.WaitVisible(`.admin-access`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("explainer by keyboard: %v", err)
	}
	if !strings.Contains(text(t, ctx, ".admin-access"), "operator may sync acme-e1 because they are an operator of acme") {
		t.Errorf("explainer by keyboard: %s", text(t, ctx, ".admin-access"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
