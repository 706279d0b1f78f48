package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// MiddlewareConfig configures Wrap.
type MiddlewareConfig struct {
	Identity *service.Identity
	Logger   *slog.Logger
	// TrustedProxies are the addresses of reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed. Empty: no proxy is trusted.
	TrustedProxies []netip.Prefix
}

// Wrap puts the shared plumbing around h, outermost first: request id and client address,
// access log, panic recovery, security headers, authentication with cross-origin
// protection. Every route of webnet, API or page, runs inside it.
func Wrap(h http.Handler, cfg MiddlewareConfig) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h = authenticate(h, cfg.Identity, log)
	h = securityHeaders(h)
	h = recoverPanics(h, log)
	h = accessLog(h, log)
	return requestInfo(h, cfg.TrustedProxies)
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// requestInfo gives each request its id (the client's X-Request-ID when well formed, else a
// new one), echoed in the response, and works out the client address and whether the client
// used TLS, believing forwarding headers only from trusted proxies.
func requestInfo(next http.Handler, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDRE.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		addr, secure := clientOf(r, trusted)
		ctx := service.WithRequest(r.Context(), service.Request{ID: id, ClientAddr: addr, Secure: secure})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientOf returns the client address and whether it reached us over TLS. Behind trusted
// proxies, the client is the right-most X-Forwarded-For entry that is not itself a trusted
// proxy (entries further left are the client's own claims).
func clientOf(r *http.Request, trusted []netip.Prefix) (string, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	secure := r.TLS != nil
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer.Unmap(), trusted) {
		return host, secure
	}
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		secure = strings.EqualFold(strings.TrimSpace(proto), "https")
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !isTrusted(a.Unmap(), trusted) {
			return a.Unmap().String(), secure
		}
	}
	return host, secure
}

// statusRecorder remembers the status a handler wrote, for the access log and for recovery.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, hijacking).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func accessLog(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		req := service.RequestFrom(r.Context())
		attrs := []any{"request_id", req.ID, "method", r.Method, "path", loggedPath(r.URL.Path), "status", rec.status,
			"bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds()) / 1000, "client", req.ClientAddr}
		if sub := service.SubjectFrom(r.Context()); sub != nil && sub.User != nil {
			attrs = append(attrs, "user", sub.User.Username)
		}
		log.InfoContext(r.Context(), "http request", attrs...)
	})
}

// loggedPath is a request path as logs show it: the signature of a signed firmware URL
// (/firmware/{id}/{expires}/{signature}/{filename}) is a credential until it expires, and
// logs are read by more people than may fetch images.
func loggedPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/firmware/")
	if !ok {
		return p
	}
	segs := strings.SplitN(rest, "/", 4)
	if len(segs) == 4 {
		segs[2] = "[redacted]"
	}
	return "/firmware/" + strings.Join(segs, "/")
}

// recoverPanics turns a panic into a 500 that names the request id, logs the stack, and
// shows the client nothing of it.
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			id := service.RequestFrom(r.Context()).ID
			log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", p, "stack", string(debug.Stack()))
			if rec.status == 0 {
				WriteError(w, r, slog.New(slog.DiscardHandler), webnet.Errorf(webnet.EInternal, "panic"))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// contentSecurityPolicy allows only webnet's own scripts, styles and connections, and no
// framing (frame-ancestors).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if service.RequestFrom(r.Context()).Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate puts the subject of the request's credentials in its context: an
// Authorization header (Token or Bearer) or the session cookie. A bad header is a 401 at
// once; a stale cookie just leaves the request anonymous (the sign-in page must still open).
// Requests not authenticated by a header — browsers, which send cookies on their own — go
// through cross-origin protection, so no other site can make a signed-in browser change
// anything.
func authenticate(next http.Handler, id *service.Identity, log *slog.Logger) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, key, _ := strings.Cut(authz, " ")
			if !strings.EqualFold(scheme, "Token") && !strings.EqualFold(scheme, "Bearer") {
				WriteError(w, r, log, webnet.Errorf(webnet.EUnauthenticated, "Unsupported authorization scheme; use Token or Bearer."))
				return
			}
			sub, err := id.AuthenticateToken(ctx, strings.TrimSpace(key))
			if err != nil {
				WriteError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(service.WithSubject(ctx, sub)))
			return
		}
		if err := cop.Check(r); err != nil {
			WriteError(w, r, log, webnet.Errorf(webnet.EForbidden, "Cross-origin request refused."))
			return
		}
		if c, err := r.Cookie(service.SessionCookie); err == nil && c.Value != "" {
			sub, err := id.AuthenticateSession(ctx, c.Value)
			switch {
			case err == nil:
				ctx = service.WithSubject(ctx, sub)
			case webnet.ErrorCode(err) != webnet.EUnauthenticated:
				WriteError(w, r, log, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
