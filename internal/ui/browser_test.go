package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"
)

// newBrowser starts headless Chromium (Debian's /usr/bin/chromium) for the test and returns
// its context (a tab). Without Chromium the test is skipped, unless WEBNET_REQUIRE_BROWSER is
// set (as CI does), where it fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("WEBNET_REQUIRE_BROWSER") != "" {
			t.Fatal("browser tests need Chromium (apt-get install chromium) and WEBNET_REQUIRE_BROWSER is set")
		}
		t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"), chromedp.NoSandbox, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// A generous bound for the whole test: a hung page must fail it, not the package.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// signIn signs username in through the sign-in form and waits for the dashboard.
func (e *env) signIn(t *testing.T, ctx context.Context, username string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.WaitVisible(`#username`, chromedp.ByQuery),
		chromedp.SendKeys(`#username`, username, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByQuery),
		chromedp.Click(`form.login button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`nav[aria-label=Main]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
}

// screenshot saves the page as name.png in $WEBNET_SCREENSHOTS (the tests' artifacts; the
// README's pictures are made with WEBNET_SCREENSHOTS=docs/screenshots), or in the test's
// temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("WEBNET_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// wellFormed fails the test unless page is well-formed: every element but the void ones
// closed, in order, and nothing inline that the CSP forbids: scripts must have src, no on*
// attributes, no javascript: URLs, no style attributes or <style> elements.
func wellFormed(t testing.TB, name, page string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var open []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(open) != 0 {
				t.Fatalf("%s: unclosed elements at the end: %v", name, open)
			}
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Fatalf("%s: inline event handler %s= on <%s>", name, a.Key, tok.Data)
				}
				if a.Key == "style" {
					t.Fatalf("%s: inline style attribute on <%s> (the CSP forbids it)", name, tok.Data)
				}
				if (a.Key == "href" || a.Key == "action" || a.Key == "src") && strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") {
					t.Fatalf("%s: javascript: URL on <%s>", name, tok.Data)
				}
			}
			if tok.Data == "style" {
				t.Fatalf("%s: inline <style> (the CSP forbids it)", name)
			}
			if tok.Data == "script" {
				hasSrc := false
				for _, a := range tok.Attr {
					hasSrc = hasSrc || a.Key == "src"
				}
				if !hasSrc {
					t.Fatalf("%s: inline <script> (the CSP forbids it)", name)
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				open = append(open, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				t.Fatalf("%s: </%s> closes nothing open (open: %v)", name, tok.Data, open)
			}
			open = open[:len(open)-1]
		}
	}
}

// text returns the visible text of the element sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	for try := 0; ; try++ {
		err := chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery))
		if err == nil {
			return s
		}
		// A live fragment swapped between finding the node and reading it: the node the
		// query found is gone, its replacement is there — read again.
		if try < 10 && strings.Contains(err.Error(), "No node with given id") {
			continue
		}
		t.Fatalf("text of %s: %v", sel, err)
	}
}

// count returns how many elements match the CSS selector sel on the page now.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	var n int
	if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)); err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}
