package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/store/storetest"
)

// BenchmarkTokenAuth measures a request through the whole middleware to a trivial handler,
// anonymous and with a token: the difference is the token authentication overhead (budget:
// 20 µs per request). The token was used just before, as in a busy client, so the benchmark
// measures the steady state: a cache hit, no database round trip. On PostgreSQL the cache is
// only used while the notification listener runs, as it does in `webnet serve`.
func BenchmarkTokenAuth(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, storetest.Open(b, d))
			key := e.token(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go e.db.Listen(ctx)
			for !e.db.NotificationsReliable() {
				time.Sleep(time.Millisecond)
			}
			h := httpapi.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			}), httpapi.MiddlewareConfig{Identity: e.id})
			run := func(b *testing.B, auth string) {
				req := httptest.NewRequest("GET", "/api/me/", nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusNoContent {
						b.Fatalf("status %d", w.Code)
					}
				}
			}
			b.Run("anonymous", func(b *testing.B) { run(b, "") })
			b.Run("token", func(b *testing.B) { run(b, "Token "+key) })
		})
	}
}
