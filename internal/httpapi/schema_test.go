package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"webnet/internal/httpapi"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestOpenAPIDocument serves GET /api/schema/ and checks the document against the routes
// Register really adds, in both directions: a route added without documenting it fails here.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	r := e.do(t, "GET", "/api/schema/", "")
	if r.status != 200 {
		t.Fatalf("GET /api/schema/: %d %s", r.status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/openapi+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q", cc)
	}
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 3 {
		t.Errorf("ETag = %q", etag)
	}
	for _, k := range duplicateKeys(t, r.raw) {
		t.Errorf("duplicate JSON key %s (the later one silently wins)", k)
	}
	doc := parseDoc(t, r.raw)
	for _, p := range openAPIProblems(doc, e.api.Routes()) {
		t.Error(p)
	}

	// Anonymous: the document is public. Revalidation answers 304 without a body.
	nm := e.do(t, "GET", "/api/schema/", "", "If-None-Match", etag)
	if nm.status != 304 || nm.raw != "" || nm.header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %d %q etag %q", nm.status, nm.raw, nm.header.Get("ETag"))
	}
	other := e.do(t, "GET", "/api/schema/", "", "If-None-Match", `"stale"`)
	if other.status != 200 || other.raw != r.raw {
		t.Errorf("stale If-None-Match: %d", other.status)
	}
	// A signed-in caller gets the same document.
	if au := e.do(t, "GET", "/api/schema/", "", as(e.token(t))...); au.status != 200 || au.raw != r.raw {
		t.Errorf("signed in: %d", au.status)
	}
}

// TestOpenAPICheckerCatchesDrift makes sure the checks above fail when the document and the
// routes part ways, so that a green TestOpenAPIDocument means something.
func TestOpenAPICheckerCatchesDrift(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	raw := e.do(t, "GET", "/api/schema/", "").raw
	routes := e.api.Routes()
	op := func(doc map[string]any, path, method string) map[string]any {
		return doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	}
	cases := []struct {
		name   string
		change func(doc map[string]any) []httpapi.Route
		want   string
	}{
		{"operation removed", func(doc map[string]any) []httpapi.Route {
			delete(doc["paths"].(map[string]any)["/api/devices/"].(map[string]any), "post")
			return routes
		}, "POST /api/devices/ is not documented"},
		{"route added", func(doc map[string]any) []httpapi.Route {
			return append(slices.Clone(routes), httpapi.Route{Method: "GET", Path: "/api/nothing/{id}/"})
		}, "GET /api/nothing/{id}/ is not documented"},
		{"operation without a route", func(doc map[string]any) []httpapi.Route {
			return slices.DeleteFunc(slices.Clone(routes), func(r httpapi.Route) bool { return r.Path == "/api/me/" })
		}, "GET /api/me/ is documented but not a registered route"},
		{"dangling $ref", func(doc map[string]any) []httpapi.Route {
			op(doc, "/api/me/", "get")["responses"].(map[string]any)["200"] = map[string]any{"$ref": "#/components/responses/Nothing"}
			return routes
		}, `unresolved $ref "#/components/responses/Nothing"`},
		{"path parameter undeclared", func(doc map[string]any) []httpapi.Route {
			delete(op(doc, "/api/devices/{id}/", "get"), "parameters")
			return routes
		}, "GET /api/devices/{id}/: path parameter id is not declared"},
		{"401 missing", func(doc map[string]any) []httpapi.Route {
			delete(op(doc, "/api/devices/{id}/", "patch")["responses"].(map[string]any), "401")
			return routes
		}, "PATCH /api/devices/{id}/: no 401 response"},
		{"no success response", func(doc map[string]any) []httpapi.Route {
			delete(op(doc, "/api/tokens/{id}/", "delete")["responses"].(map[string]any), "204")
			return routes
		}, "DELETE /api/tokens/{id}/: no 2xx response"},
		{"public route with security", func(doc map[string]any) []httpapi.Route {
			delete(op(doc, "/healthz", "get"), "security")
			return routes
		}, "GET /healthz: public, so security must be []"},
		{"signed-in route without security", func(doc map[string]any) []httpapi.Route {
			op(doc, "/api/me/", "get")["security"] = []any{}
			return routes
		}, "GET /api/me/: signed-in only, so it needs a security requirement"},
		{"open request body", func(doc map[string]any) []httpapi.Route {
			s := doc["components"].(map[string]any)["schemas"].(map[string]any)["DeviceInput"].(map[string]any)
			delete(s, "additionalProperties")
			return routes
		}, "POST /api/devices/: request body schema must have additionalProperties: false"},
		{"open upload form", func(doc map[string]any) []httpapi.Route {
			s := doc["components"].(map[string]any)["schemas"].(map[string]any)["FirmwareImageUpload"].(map[string]any)
			delete(s, "additionalProperties")
			return routes
		}, "POST /api/firmware-images/: request body schema must have additionalProperties: false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := parseDoc(t, raw)
			problems := openAPIProblems(doc, c.change(doc))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
				t.Errorf("want a problem containing %q, got %q", c.want, problems)
			}
		})
	}
	if dups := duplicateKeys(t, `{"paths": {"/a": {"get": {}}, "/a": {"post": {}}}}`); len(dups) != 1 {
		t.Errorf("duplicate keys: %q", dups)
	}
}

func parseDoc(t *testing.T, raw string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("the document is not a JSON object: %v", err)
	}
	return doc
}

var (
	httpMethods   = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	pathParamRE   = regexp.MustCompile(`\{([^}]+)\}`)
	muxWildcardRE = regexp.MustCompile(`\{([^}.]+)\.\.\.\}`)
)

// openAPIPath turns a ServeMux pattern path into an OpenAPI path: {name...} is {name}, and
// the {$} anchor goes.
func openAPIPath(p string) string {
	return muxWildcardRE.ReplaceAllString(strings.TrimSuffix(p, "{$}"), "{$1}")
}

// openAPIProblems lists what is wrong with doc, an OpenAPI 3.1 document, as the description
// of routes.
func openAPIProblems(doc map[string]any, routes []httpapi.Route) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if doc["openapi"] != "3.1.0" {
		add("openapi = %v, want 3.1.0", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "webnet API" {
		add("info.title = %v", info["title"])
	}
	if v, _ := info["version"].(string); v == "" {
		add("info.version is missing")
	}
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	for name, want := range map[string][3]string{
		"tokenAuth":  {"apiKey", "header", "Authorization"},
		"cookieAuth": {"apiKey", "cookie", "webnet_session"},
	} {
		s, _ := schemes[name].(map[string]any)
		if got := [3]any{s["type"], s["in"], s["name"]}; got != [3]any{want[0], want[1], want[2]} {
			add("security scheme %s = %v, want %v", name, got, want)
		}
	}
	if d, _ := schemes["tokenAuth"].(map[string]any)["description"].(string); d != "Token <key> or Bearer <key>" {
		add("tokenAuth description = %q", d)
	}

	// Every $ref anywhere resolves.
	walkRefs(doc, func(ref string) {
		if _, err := resolve(doc, map[string]any{"$ref": ref}); err != nil {
			add("unresolved $ref %q: %v", ref, err)
		}
	})

	paths, _ := doc["paths"].(map[string]any)
	registered := map[string]bool{}
	for _, r := range routes {
		path := openAPIPath(r.Path)
		key := r.Method + " " + path
		registered[key] = true
		item, _ := paths[path].(map[string]any)
		op, _ := item[strings.ToLower(r.Method)].(map[string]any)
		if op == nil {
			add("route %s is not documented", key)
			continue
		}
		for _, p := range operationProblems(doc, path, item, op, r.Public) {
			add("%s: %s", key, p)
		}
	}
	opIDs := map[string]string{}
	for path, v := range paths {
		item, _ := v.(map[string]any)
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			key := strings.ToUpper(m) + " " + path
			if !registered[key] {
				add("%s is documented but not a registered route", key)
			}
			id, _ := op["operationId"].(string)
			if prev, dup := opIDs[id]; dup {
				add("%s: operationId %q is also used by %s", key, id, prev)
			}
			opIDs[id] = key
		}
	}
	slices.Sort(problems)
	return problems
}

// operationProblems checks one documented operation of a registered route.
func operationProblems(doc map[string]any, path string, item, op map[string]any, public bool) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if id, _ := op["operationId"].(string); id == "" {
		add("no operationId")
	}
	if s, _ := op["summary"].(string); s == "" {
		add("no summary")
	}

	// Path parameters: every one in the path declared (required), and none that is not.
	declared := map[string]bool{}
	for _, list := range []any{item["parameters"], op["parameters"]} {
		params, _ := list.([]any)
		for _, raw := range params {
			p, err := resolve(doc, raw)
			if err != nil {
				continue // reported as an unresolved $ref
			}
			pm, _ := p.(map[string]any)
			if pm["in"] != "path" {
				continue
			}
			name, _ := pm["name"].(string)
			if pm["required"] != true {
				add("path parameter %s is not required", name)
			}
			declared[name] = true
		}
	}
	inPath := map[string]bool{}
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		inPath[m[1]] = true
		if !declared[m[1]] {
			add("path parameter %s is not declared", m[1])
		}
	}
	for name := range declared {
		if !inPath[name] {
			add("path parameter %s is declared but not in the path", name)
		}
	}

	// Responses: a success (2xx, or 101 for the WebSocket), and 401 unless public; each one
	// described.
	responses, _ := op["responses"].(map[string]any)
	success := false
	for code, raw := range responses {
		if n, err := strconv.Atoi(code); err == nil && (n >= 200 && n < 300 || n == http.StatusSwitchingProtocols) {
			success = true
		}
		r, err := resolve(doc, raw)
		if err != nil {
			continue
		}
		if d, _ := r.(map[string]any)["description"].(string); d == "" {
			add("response %s has no description", code)
		}
	}
	if !success {
		add("no 2xx response")
	}
	if _, ok := responses["401"]; !public && !ok {
		add("no 401 response")
	}

	// Security: public routes say [] themselves; the others need a credential, of a
	// scheme that exists.
	sec, own := op["security"]
	if !own {
		sec = doc["security"]
	}
	reqs, _ := sec.([]any)
	if public {
		if !own || len(reqs) != 0 {
			add("public, so security must be []")
		}
	} else {
		if len(reqs) == 0 {
			add("signed-in only, so it needs a security requirement")
		}
		schemes, _ := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
		for _, r := range reqs {
			req, _ := r.(map[string]any)
			if len(req) == 0 {
				add("an empty security requirement would let anyone in")
			}
			for name := range req {
				if _, ok := schemes[name]; !ok {
					add("security scheme %s does not exist", name)
				}
			}
		}
	}

	// Request bodies are strict JSON (or, for uploads, a strict form): the schema must refuse
	// unknown fields too.
	if rb, ok := op["requestBody"]; ok {
		body, err := resolve(doc, rb)
		if err == nil {
			content, _ := body.(map[string]any)["content"].(map[string]any)
			strict := 0
			for _, mt := range []string{"application/json", "multipart/form-data"} {
				media, _ := content[mt].(map[string]any)
				if media == nil {
					continue
				}
				strict++
				if s, err := resolve(doc, media["schema"]); err == nil {
					if sm, _ := s.(map[string]any); sm["additionalProperties"] != false {
						add("request body schema must have additionalProperties: false")
					}
				}
			}
			if strict == 0 {
				add("request body is neither application/json nor multipart/form-data")
			}
		}
	}
	return problems
}

// walkRefs calls fn with every $ref in v.
func walkRefs(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				fn(s)
				continue
			}
			walkRefs(x, fn)
		}
	case []any:
		for _, x := range v {
			walkRefs(x, fn)
		}
	}
}

// resolve follows v's $ref (and the target's, if it is a reference too) within doc; a value
// that is no reference is itself.
func resolve(doc map[string]any, v any) (any, error) {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil, errors.New("only local references are used")
		}
		var cur any = doc
		for _, tok := range strings.Split(ref[2:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch c := cur.(type) {
			case map[string]any:
				next, ok := c[tok]
				if !ok {
					return nil, fmt.Errorf("no %q", tok)
				}
				cur = next
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(c) {
					return nil, fmt.Errorf("no index %q", tok)
				}
				cur = c[i]
			default:
				return nil, fmt.Errorf("cannot descend into %q", tok)
			}
		}
		v = cur
	}
	return nil, errors.New("reference chain too long")
}

// duplicateKeys lists the object keys that occur twice in one object of raw: encoding/json
// keeps the last silently, so a duplicated path would hide an operation.
func duplicateKeys(t *testing.T, raw string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	var dups []string
	var walk func(at string) error
	walk = func(at string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					dups = append(dups, at+"/"+k)
				}
				seen[k] = true
				if err := walk(at + "/" + k); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(at + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(""); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("scan the document: %v", err)
	}
	return dups
}
