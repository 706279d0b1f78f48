package ui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestBrowserPagesBreakNoContentSecurityPolicy: every main page, loaded in Chromium with its
// scripts running, triggers no Content-Security-Policy violation (the browser reports each
// inline script, style or foreign connection it blocked) — as the admin, who sees the most.
func TestBrowserPagesBreakNoContentSecurityPolicy(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	job := w.syncJob(t, "admin", w.r1)
	ctx := newBrowser(t)
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := cdppage.AddScriptToEvaluateOnNewDocument(`window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});`).Do(ctx)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	e.signIn(t, ctx, "admin")
	for _, path := range []string{"/", "/devices", fmt.Sprintf("/devices/%d", w.r1), fmt.Sprintf("/devices/upgrade?device=%d", w.r2),
		"/jobs", fmt.Sprintf("/jobs/%d", job), "/groups", fmt.Sprintf("/groups/%d", w.core), "/audit", "/admin", "/admin/users",
		"/admin/firmware", "/admin/credentials", "/admin/schedules"} {
		var violations []string
		if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+path), chromedp.WaitReady("body", chromedp.ByQuery),
			chromedp.Sleep(300*time.Millisecond), chromedp.Evaluate(`window.cspViolations`, &violations)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(violations) > 0 {
			t.Errorf("%s: CSP violations: %v", path, violations)
		}
	}
}
