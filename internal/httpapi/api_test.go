package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request; hdr is alternating header names and values. A JSON object answer is
// decoded into body; any other JSON answer (an array) must at least be valid JSON.
func (e *env) do(t testing.TB, method, path, body string, hdr ...string) result {
	t.Helper()
	r := e.doAny(t, method, path, body, hdr...)
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") && r.raw != "" && r.body == nil && !json.Valid([]byte(r.raw)) {
		t.Fatalf("%s %s: response is not JSON: %q", method, path, r.raw)
	}
	return r
}

// doAny sends a request and decodes a JSON object answer into body; answers of other shapes
// are left in raw.
func (e *env) doAny(t testing.TB, method, path, body string, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && strings.HasPrefix(r.raw, "{") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Errorf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return r
}

// token signs root in through the API and returns the key.
func (e *env) token(t testing.TB) string {
	t.Helper()
	r := e.do(t, "POST", "/api/auth/token/", `{"username":"root","password":"`+rootPassword+`"}`)
	if r.status != 200 {
		t.Fatalf("obtain token: %d %s", r.status, r.raw)
	}
	return r.body["token"].(string)
}

// wantError asserts the documented error shape: status, code, and a human sentence.
func wantError(t *testing.T, r result, status int, code string) {
	t.Helper()
	if r.status != status || r.body["code"] != code || r.body["error"] == "" || r.body["error"] == nil {
		t.Fatalf("got %d %s; want %d with code %q", r.status, r.raw, status, code)
	}
}

func TestTokenAndMe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		key := e.token(t)
		for _, scheme := range []string{"Token", "Bearer", "token"} {
			r := e.do(t, "GET", "/api/me/", "", "Authorization", scheme+" "+key)
			if r.status != 200 || r.body["username"] != "root" || r.body["is_superuser"] != true {
				t.Fatalf("%s: %d %s", scheme, r.status, r.raw)
			}
			if _, leaked := r.body["password_hash"]; leaked {
				t.Fatal("password hash in /api/me/")
			}
		}
	})
}

func TestSkeletonErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		key := e.token(t)
		auth := []string{"Authorization", "Token " + key}
		big := `{"username":"` + strings.Repeat("a", 5000) + `","password":"x"}`
		cases := []struct {
			name, method, path, body string
			hdr                      []string
			status                   int
			code                     string
		}{
			{"malformed JSON", "POST", "/api/auth/token/", `{"username":`, nil, 400, "invalid"},
			{"not an object", "POST", "/api/auth/token/", `[1,2]`, nil, 400, "invalid"},
			{"wrong type", "POST", "/api/auth/token/", `{"username":1,"password":"x"}`, nil, 400, "invalid"},
			{"unknown field", "POST", "/api/auth/token/", `{"username":"a","password":"b","admin":true}`, nil, 400, "invalid"},
			{"trailing data", "POST", "/api/auth/token/", `{"username":"a","password":"b"} {}`, nil, 400, "invalid"},
			{"empty body", "POST", "/api/tokens/", ``, auth, 400, "invalid"},
			{"oversized body", "POST", "/api/auth/token/", big, nil, 413, "body_too_large"},
			{"not JSON", "POST", "/api/auth/token/", `username=a`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_type"},
			{"missing auth", "GET", "/api/me/", "", nil, 401, "unauthenticated"},
			{"bad token", "GET", "/api/me/", "", []string{"Authorization", "Token wn_" + strings.Repeat("x", 43)}, 401, "unauthenticated"},
			{"garbage token", "GET", "/api/me/", "", []string{"Authorization", "Token nonsense"}, 401, "unauthenticated"},
			{"bad scheme", "GET", "/api/me/", "", []string{"Authorization", "Basic cm9vdDpyb290"}, 401, "unauthenticated"},
			{"bad token on a public route", "GET", "/healthz", "", []string{"Authorization", "Bearer nope"}, 401, "unauthenticated"},
			{"unknown endpoint", "GET", "/api/nothing-here/", "", auth, 404, "not_found"},
			{"wrong method", "PUT", "/api/me/", "", auth, 405, "method_not_allowed"},
			{"bad page", "GET", "/api/tokens/?limit=5000", "", auth, 400, "invalid"},
			{"bad id", "DELETE", "/api/tokens/abc/", "", auth, 404, "not_found"},
			{"someone else's token", "DELETE", "/api/tokens/999/", "", auth, 404, "not_found"},
			{"expiry in the past", "POST", "/api/tokens/", `{"expires_at":"2001-01-01T00:00:00Z"}`, auth, 400, "invalid"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(t, c.method, c.path, c.body, c.hdr...)
				wantError(t, r, c.status, c.code)
				if c.status == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if c.status == 405 && r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			})
		}
		r := e.do(t, "POST", "/api/auth/token/", `{"username":"a","password":"b","admin":true}`)
		if f, _ := r.body["fields"].(map[string]any); f["admin"] == nil {
			t.Errorf("unknown field not named: %s", r.raw)
		}
	})
}

func TestBadCredentialsAndThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		wrongPw := e.do(t, "POST", "/api/auth/token/", `{"username":"root","password":"nope"}`)
		wrongUser := e.do(t, "POST", "/api/auth/token/", `{"username":"nobody","password":"nope"}`)
		wantError(t, wrongPw, 400, "invalid")
		if wrongPw.raw != wrongUser.raw {
			t.Fatalf("wrong password %s and wrong username %s differ", wrongPw.raw, wrongUser.raw)
		}
		for range 2 { // the third and fourth failures for root: the limit is 3
			e.do(t, "POST", "/api/auth/token/", `{"username":"root","password":"nope"}`)
		}
		r := e.do(t, "POST", "/api/auth/token/", `{"username":"root","password":"`+rootPassword+`"}`)
		wantError(t, r, 429, "rate_limited")
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("429 without Retry-After: %v", r.header)
		}
		e.clock.Advance(time.Minute)
		e.token(t)
	})
}

func TestTokenLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		login := e.token(t)
		auth := []string{"Authorization", "Token " + login}
		r := e.do(t, "POST", "/api/tokens/", `{"name":"ci","expires_in":60}`, auth...)
		if r.status != 201 || r.body["key"] == nil || r.body["name"] != "ci" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		ciKey := r.body["key"].(string)
		ciID := int(r.body["id"].(float64))
		if r := e.do(t, "GET", "/api/me/", "", "Authorization", "Bearer "+ciKey); r.status != 200 {
			t.Fatalf("new token: %d", r.status)
		}
		list := e.do(t, "GET", "/api/tokens/?limit=1", "", auth...)
		if list.body["count"] != 2.0 || list.body["next"] == nil || list.body["previous"] != nil || strings.Contains(list.raw, ciKey) {
			t.Fatalf("list: %s", list.raw)
		}
		if !strings.HasPrefix(list.body["next"].(string), e.srv.URL+"/api/tokens/?") {
			t.Fatalf("next link %v is not absolute", list.body["next"])
		}
		// Expiry.
		e.clock.Advance(61 * time.Second)
		wantError(t, e.do(t, "GET", "/api/me/", "", "Authorization", "Token "+ciKey), 401, "unauthenticated")
		// Revocation.
		if r := e.do(t, "DELETE", "/api/tokens/"+itoa(ciID)+"/", "", auth...); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		r = e.do(t, "GET", "/api/tokens/", "", auth...)
		if r.body["count"] != 1.0 {
			t.Fatalf("after delete: %s", r.raw)
		}
		loginID := int(r.body["results"].([]any)[0].(map[string]any)["id"].(float64))
		e.do(t, "DELETE", "/api/tokens/"+itoa(loginID)+"/", "", auth...)
		wantError(t, e.do(t, "GET", "/api/me/", "", auth...), 401, "unauthenticated")
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestHealth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if r := e.do(t, "GET", "/healthz", ""); r.status != 200 || r.body["status"] != "ok" {
			t.Fatalf("healthz: %d %s", r.status, r.raw)
		}
		if r := e.do(t, "GET", "/readyz", ""); r.status != 200 || r.body["status"] != "ready" {
			t.Fatalf("readyz: %d %s", r.status, r.raw)
		}
	})
	// An unmigrated database is not ready.
	db := storetest.OpenEmpty(t, store.SQLite)
	health, _ := service.NewHealth(db)
	if err := health.Ready(context.Background()); err == nil {
		t.Fatal("an unmigrated database reported ready")
	}
}
