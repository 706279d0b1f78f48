package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

func wrapped(t *testing.T, h http.Handler, log *slog.Logger, proxies ...netip.Prefix) *httptest.Server {
	t.Helper()
	e := newEnv(t, storetest.Open(t, store.SQLite))
	srv := httptest.NewServer(httpapi.Wrap(h, httpapi.MiddlewareConfig{Identity: e.id, Logger: log, TrustedProxies: proxies}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	var logs bytes.Buffer
	srv := wrapped(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}), slog.New(slog.NewJSONHandler(&logs, nil)))
	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("X-Request-ID", "req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 500 || body["code"] != "internal" || !strings.Contains(body["error"].(string), "req-42") {
		t.Fatalf("panic answered %d %v", resp.StatusCode, body)
	}
	if strings.Contains(body["error"].(string), "secret") || strings.Contains(body["error"].(string), "goroutine") {
		t.Fatalf("panic detail leaked to the client: %v", body)
	}
	if !strings.Contains(logs.String(), "secret internal state") || !strings.Contains(logs.String(), `"request_id":"req-42"`) {
		t.Fatalf("panic not logged with its request id: %s", logs.String())
	}
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	var logs bytes.Buffer
	srv := wrapped(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(service.RequestFrom(r.Context()).ID))
	}), slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, c := range []struct{ sent, want string }{
		{"abc-123", "abc-123"},
		{"bad id with spaces", ""},
		{strings.Repeat("x", 65), ""},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("X-Request-ID", c.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-ID")
		if (c.want != "" && got != c.want) || (c.want == "" && (got == c.sent || len(got) != 24)) {
			t.Errorf("sent %q, echoed %q", c.sent, got)
		}
		if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
			t.Errorf("request id %q missing from the access log", got)
		}
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("security headers missing: %v", h)
		}
	}
}

func TestCrossOriginProtection(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	key := e.token(t)
	for _, c := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"cross-site browser POST", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign Origin", []string{"Origin", "https://evil.example"}, 403},
		{"same-origin browser POST", []string{"Sec-Fetch-Site", "same-origin"}, 204},
		{"non-browser client", nil, 204},
		{"token-authenticated cross-site", []string{"Sec-Fetch-Site", "cross-site", "Authorization", "Token " + key}, 204},
	} {
		r := e.do(t, "POST", "/test/cookie-only", "", c.hdr...)
		if r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.raw, c.status)
		}
	}
}

func TestClientAddressBehindTrustedProxy(t *testing.T) {
	proxy := netip.MustParsePrefix("127.0.0.0/8")
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := service.RequestFrom(r.Context())
		secure := "plain"
		if req.Secure {
			secure = "tls"
		}
		w.Write([]byte(req.ClientAddr + " " + secure))
	})
	trusting := wrapped(t, echo, nil, proxy)
	untrusting := wrapped(t, echo, nil)
	get := func(srv *httptest.Server, xff, proto string) string {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	for _, c := range []struct {
		srv             *httptest.Server
		xff, proto, out string
	}{
		{trusting, "203.0.113.9", "https", "203.0.113.9 tls"},
		{trusting, "6.6.6.6, 203.0.113.9, 127.0.0.5", "", "203.0.113.9 plain"},
		{trusting, "", "", "127.0.0.1 plain"},
		{untrusting, "203.0.113.9", "https", "127.0.0.1 plain"},
	} {
		if got := get(c.srv, c.xff, c.proto); got != c.out {
			t.Errorf("XFF %q proto %q: %q, want %q", c.xff, c.proto, got, c.out)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			close(started)
			<-release
			finished.Store(true)
		}
		w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- httpapi.Serve(ctx, ln, h, httpapi.ServeConfig{ShutdownTimeout: 5 * time.Second}) }()
	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/hang")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		got <- b.String()
	}()
	<-started
	cancel() // SIGTERM, as the command wires it
	// New connections are refused while the in-flight request runs on.
	deadline := time.Now().Add(2 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	if body := <-got; body != "done" || !finished.Load() {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after a clean shutdown: %v", err)
	}
}

func TestShutdownIsBounded(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	started := make(chan struct{})
	never := make(chan struct{})
	defer close(never)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-never
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- httpapi.Serve(ctx, ln, h, httpapi.ServeConfig{ShutdownTimeout: 200 * time.Millisecond})
	}()
	go http.Get("http://" + ln.Addr().String() + "/")
	<-started
	cancel()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting for a hung request long after its shutdown timeout")
	}
}
