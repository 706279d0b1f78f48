package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"webnet/internal/httpapi"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// BenchmarkCreateDevice is POST /api/devices/ by a customer admin through the whole stack
// (middleware, token, grants, validation, the transaction with its audit record), in process.
// Compare with BenchmarkAuditedMutation in internal/store, which measures the audit write's
// own cost in the same transaction.
func BenchmarkCreateDevice(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, storetest.Open(b, d))
			acme := e.customer(b, "acme")
			_, tok := e.user(b, "admin", false, false, map[int64]webnet.Role{acme: webnet.RoleAdmin})
			h := httpapi.Wrap(httpapi.JSONFallback(e.mux), httpapi.MiddlewareConfig{Identity: e.id})
			n := 0
			for b.Loop() {
				n++
				body := fmt.Sprintf(`{"customer":%d,"name":"dev-%07d","address":"192.0.2.1","platform":"cisco_iosxe"}`, acme, n)
				req := httptest.NewRequest("POST", "/api/devices/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusCreated {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
