package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"webnet/internal/password"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

var testHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// startMain runs a Main on port :0 against a fresh database of dialect d, as serve does, and
// returns its base URL and the bootstrap admin password.
func startMain(t *testing.T, d store.Dialect) (string, string) {
	t.Helper()
	sc := storetest.Config(t, d)
	dataDir := sc.DataDir
	if dataDir == "" {
		dataDir = t.TempDir() // PostgreSQL: the data dir still holds the credential keys
	}
	m, stderr := runMain(t, Config{DataDir: dataDir, DatabaseURL: sc.URL, Listen: "127.0.0.1:0", ShutdownTimeout: time.Second})
	pw := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(stderr.String())
	if pw == nil {
		t.Fatalf("no bootstrap password printed: %q", stderr.String())
	}
	return "http://" + m.Addr(), pw[1]
}

// runMain opens and runs a Main with cfg until the test ends; it returns the Main and what
// it wrote on stderr while opening.
func runMain(t *testing.T, cfg Config) (*Main, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	m := &Main{Config: cfg, Stderr: &stderr, HashParams: testHash}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		m.Close()
	})
	return m, &stderr
}

func postJSON(t *testing.T, url, body string, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return doJSON(t, http.DefaultClient, req)
}

func doJSON(t *testing.T, c *http.Client, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

// TestEndToEnd is the README's promise: a fresh instance where the superuser gets a token
// and calls GET /api/me/, on both backends.
func TestEndToEnd(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			base, pw := startMain(t, d)
			resp, body := postJSON(t, base+"/api/auth/token/", `{"username":"admin","password":"`+pw+`"}`)
			if resp.StatusCode != 200 {
				t.Fatalf("token: %d %v", resp.StatusCode, body)
			}
			req, _ := http.NewRequest("GET", base+"/api/me/", nil)
			req.Header.Set("Authorization", "Token "+body["token"].(string))
			resp, me := doJSON(t, http.DefaultClient, req)
			if resp.StatusCode != 200 || me["username"] != "admin" || me["is_superuser"] != true {
				t.Fatalf("me: %d %v", resp.StatusCode, me)
			}
			for _, path := range []string{"/healthz", "/readyz"} {
				if r, err := http.Get(base + path); err != nil || r.StatusCode != 200 {
					t.Fatalf("%s: %v %v", path, r, err)
				}
			}
		})
	}
}

func TestBrowserSignIn(t *testing.T) {
	base, pw := startMain(t, store.SQLite)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("anonymous / ended at %s, want /login", resp.Request.URL)
	}
	form := func(user, pass string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{
			"username": {user}, "password": {pass}, "next": {"/"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := form("admin", "wrong password"); r.StatusCode != 400 {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	// A cross-site form post (login CSRF) is refused.
	if r := form("admin", pw, "Sec-Fetch-Site", "cross-site"); r.StatusCode != 403 {
		t.Fatalf("cross-site sign-in: %d", r.StatusCode)
	}
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {"admin"}, "password": {pw}, "next": {"//evil.example/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q (an off-site next must become /)", r.StatusCode, r.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "webnet_session" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", sess)
	}
	home, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(home.Body)
	home.Body.Close()
	if home.StatusCode != 200 || !strings.Contains(string(page), "<span>admin</span>") || !strings.Contains(string(page), ">Dashboard</h1>") {
		t.Fatalf("home: %d %s", home.StatusCode, page)
	}
	// The cookie authenticates the API too, and cross-site unsafe requests with it are refused.
	req, _ = http.NewRequest("GET", base+"/api/me/", nil)
	if resp, me := doJSON(t, c, req); resp.StatusCode != 200 || me["username"] != "admin" {
		t.Fatalf("me by cookie: %d %v", resp.StatusCode, me)
	}
	req, _ = http.NewRequest("POST", base+"/api/tokens/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	if resp, body := doJSON(t, c, req); resp.StatusCode != 403 || body["code"] != "forbidden" {
		t.Fatalf("cross-origin cookie POST: %d %v", resp.StatusCode, body)
	}
	// Sign out: the session is gone server-side, not just the cookie.
	out, _ := http.NewRequest("POST", base+"/logout", nil)
	r, err = noFollow.Do(out)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	req, _ = http.NewRequest("GET", base+"/api/me/", nil)
	req.AddCookie(sess)
	if resp, _ := doJSON(t, http.DefaultClient, req); resp.StatusCode != 401 {
		t.Fatalf("old session cookie after sign-out: %d", resp.StatusCode)
	}
}

func runCLI(t *testing.T, stdin string, getenv map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv:       func(k string) string { return getenv[k] },
		readPassword: func() ([]byte, error) { return nil, errors.New("no terminal in tests") }}
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WEBNET_DATA_DIR": dir, "WEBNET_LOG_FORMAT": "json"}
	if code, out, _ := runCLI(t, "", env, "version"); code != 0 || !strings.HasPrefix(out, "webnet ") {
		t.Fatalf("version: %d %q", code, out)
	}
	for _, cmd := range []string{"serve", "migrate", "createsuperuser", "version", "init-device-group-permissions"} {
		if code, _, errOut := runCLI(t, "", env, cmd, "--help"); code != 0 || !strings.Contains(errOut, "Usage: webnet "+cmd) {
			t.Errorf("%s --help: %d %q", cmd, code, errOut)
		}
	}
	if code, _, _ := runCLI(t, "", env); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", env, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, out, errOut := runCLI(t, "", env, "migrate"); code != 0 || !strings.Contains(out, fmt.Sprintf("schema version %d", store.LatestVersion())) {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", env, "init-device-group-permissions"); code != 0 || !strings.Contains(out, "permission catalog up to date") {
		t.Fatalf("init-device-group-permissions: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", map[string]string{"WEBNET_DATA_DIR": dir, "WEBNET_SESSION_IDLE": "soon"}, "serve"); code != 2 || !strings.Contains(errOut, "WEBNET_SESSION_IDLE") {
		t.Fatalf("bad duration in the environment: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", env, "serve", "--database-url", "mysql://x"); code != 2 || !strings.Contains(errOut, "postgres://") {
		t.Fatalf("bad database url: %d %q", code, errOut)
	}
	// createsuperuser
	code, out, errOut := runCLI(t, "a very good password\n", env, "createsuperuser", "--username", "ops", "--email", "ops@example.net", "--password-stdin")
	if code != 0 || !strings.Contains(out, `superuser "ops" created`) {
		t.Fatalf("createsuperuser: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "a very good password\n", env, "createsuperuser", "--username", "ops", "--password-stdin"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "short\n", env, "createsuperuser", "--username", "ops2", "--password-stdin"); code != 1 || !strings.Contains(errOut, "at least 10") {
		t.Fatalf("weak password: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", env, "createsuperuser", "--username", "ops3"); code != 2 || !strings.Contains(errOut, "--password-stdin") {
		t.Fatalf("no terminal: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", env, "createsuperuser", "--password-stdin"); code != 2 {
		t.Fatalf("no username: exit %d", code)
	}
}

// TestServeBinaryStopsOnSIGTERM builds the real binary, starts it on a fresh data dir, waits
// until it is ready and stops it with SIGTERM: it must exit 0 after saying so.
func TestServeBinaryStopsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	cmd, base := startBinary(t, bin, t.TempDir())
	if r, err := http.Get(base + "/readyz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", r, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// startBinary starts `webnet serve` on a free port and waits until /readyz answers.
func startBinary(t testing.TB, bin, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+port, "--data-dir", dataDir, "--log-format", "json")
	cmd.Env = append(os.Environ(), "WEBNET_DATABASE_URL=")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://127.0.0.1:" + port
	waitReady(t, base, 10*time.Second)
	return cmd, base
}
