package httpapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// openAPIDocument is the OpenAPI 3.1 document of every route Register adds, written by hand.
// schema_test.go checks it against Routes in both directions, so a route added without being
// documented (or documented without being added) fails the tests.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI is the served form of openAPIDocument, checked and compacted on first use.
var openAPI struct {
	once sync.Once
	body []byte
	etag string
	err  error
}

// loadOpenAPI checks the embedded document once: it must be one JSON object naming its
// OpenAPI version. The tests guarantee it is; a broken build answers 500 rather than junk.
func loadOpenAPI() ([]byte, string, error) {
	openAPI.once.Do(func() {
		var head struct {
			OpenAPI string `json:"openapi"`
		}
		if err := json.Unmarshal(openAPIDocument, &head); err != nil {
			openAPI.err = fmt.Errorf("embedded openapi.json: %w", err)
			return
		}
		if head.OpenAPI == "" {
			openAPI.err = fmt.Errorf("embedded openapi.json: no openapi version")
			return
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, openAPIDocument); err != nil {
			openAPI.err = fmt.Errorf("embedded openapi.json: %w", err)
			return
		}
		sum := sha256.Sum256(buf.Bytes())
		openAPI.body = buf.Bytes()
		openAPI.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	})
	return openAPI.body, openAPI.etag, openAPI.err
}

// registerSchema adds GET /api/schema/, the OpenAPI document, public.
func (a *API) registerSchema(mux *http.ServeMux) {
	a.handle(mux, "GET /api/schema/", public, a.getSchema)
}

// getSchema serves the document with an ETag; clients revalidate (Cache-Control: no-cache)
// and get 304 while it is unchanged.
func (a *API) getSchema(w http.ResponseWriter, r *http.Request) error {
	body, etag, err := loadOpenAPI()
	if err != nil {
		return err // internal: logged with the request id, answered 500
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/openapi+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a failed write means the client went away
	return nil
}

// etagMatches reports whether an If-None-Match header value names etag (weak comparison, as
// RFC 9110 asks for If-None-Match) or is "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
