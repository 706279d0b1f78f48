package ui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

func TestAnonymousIsSentToSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(e.srv.URL + "/?tab=jobs")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F%3Ftab%3Djobs" {
			t.Fatalf("anonymous /?tab=jobs: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		status, body := e.get(t, c, "/login?next=/devices")
		if status != 200 {
			t.Fatalf("sign-in page: %d", status)
		}
		wellFormed(t, "login", body)
	})
}

func TestSignInShowsDashboardAndSignsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		c := w.client(t, "operator")
		status, body := e.get(t, c, "/")
		if status != 200 || !strings.Contains(body, "operator") {
			t.Fatalf("dashboard: %d %s", status, body)
		}
		wellFormed(t, "dashboard", body)
		// An origin-less form post from the same browser (no Sec-Fetch-Site: an old
		// browser or a script) is allowed; signing out ends the session.
		resp, err := c.Post(e.srv.URL+"/logout", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out: %d", resp.StatusCode)
		}
		if status, _ := e.get(t, c, "/"); status != http.StatusSeeOther {
			t.Fatalf("dashboard after signing out: %d", status)
		}
	})
}

func TestWrongPasswordIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		resp, err := http.PostForm(e.srv.URL+"/login", map[string][]string{"username": {"root"}, "password": {"nope"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
	})
}

// TestBrowserCrossOriginFormIsRefused: a page on another origin posting a form to webnet
// in a signed-in browser is refused, and the session survives it.
func TestBrowserCrossOriginFormIsRefused(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	ctx := newBrowser(t)
	e.signIn(t, ctx, "admin")
	screenshot(t, ctx, "dashboard")
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		_, _ = rw.Write([]byte(`<!doctype html><form id="f" method="post" action="` + e.srv.URL + `/logout"><button id="b" type="submit">win a prize</button></form>`))
	}))
	defer evil.Close()
	// The test servers are both 127.0.0.1; a different host name makes a different site.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	var body string
	err := chromedp.Run(ctx,
		chromedp.Navigate(evilURL),
		chromedp.Click(`#b`, chromedp.ByQuery),
		chromedp.WaitReady(`body`, chromedp.ByQuery),
		chromedp.Sleep(200*1e6),
		chromedp.Text(`body`, &body, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Cross-origin request refused") {
		t.Fatalf("cross-origin post answered: %q", body)
	}
	// Still signed in: the refused post did not sign the user out.
	if err := chromedp.Run(ctx, chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(`nav[aria-label=Main]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("after the refused post: %v", err)
	}
	_ = w
}
