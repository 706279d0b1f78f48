package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// Config configures the API. Identity, Core and Health are required.
type Config struct {
	Identity *service.Identity
	Core     *service.Core
	Health   *service.Health
	Logger   *slog.Logger
	Version  string
	// MaxBody caps JSON request bodies (default 1 MiB).
	MaxBody int64
	// Live is the source of live updates for GET /api/ws; without it that route answers 503.
	Live *service.Feed
	// LiveWriteTimeout bounds each WebSocket write: a client that takes nothing for that long
	// is dropped (default 10s). LivePingInterval is how often clients are pinged (default 30s).
	LiveWriteTimeout, LivePingInterval time.Duration
	// UploadIdleTimeout cuts off a firmware upload that sends nothing for this long (default
	// one minute). It replaces the server's whole-request read timeout for uploads, which
	// take as long as the link needs.
	UploadIdleTimeout time.Duration
}

// API serves /api/ and the health probes.
type API struct {
	routes  []Route
	id      *service.Identity
	core    *service.Core
	health  *service.Health
	log     *slog.Logger
	version string
	maxBody int64
	live    *service.Feed
	// WebSocket timing (ws.go).
	liveWrite, livePing time.Duration
	uploadIdle          time.Duration
}

// New returns the API, refusing a config without its dependencies.
func New(cfg Config) (*API, error) {
	if cfg.Identity == nil || cfg.Core == nil || cfg.Health == nil {
		return nil, errors.New("httpapi: Identity, Core and Health are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.LiveWriteTimeout <= 0 {
		cfg.LiveWriteTimeout = defaultLiveWriteTimeout
	}
	if cfg.LivePingInterval <= 0 {
		cfg.LivePingInterval = defaultLivePingInterval
	}
	if cfg.UploadIdleTimeout <= 0 {
		cfg.UploadIdleTimeout = defaultUploadIdle
	}
	return &API{id: cfg.Identity, core: cfg.Core, health: cfg.Health, log: cfg.Logger, version: cfg.Version, maxBody: cfg.MaxBody,
		live: cfg.Live, liveWrite: cfg.LiveWriteTimeout, livePing: cfg.LivePingInterval, uploadIdle: cfg.UploadIdleTimeout}, nil
}

// access says who may reach a route at all; the service decides everything finer.
type access int

const (
	public   access = iota // anyone, signed in or not
	signedIn               // a signed-in user; 401 otherwise
)

// handlerFunc is an API handler: it returns its error to the one adapter that renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h for pattern behind the access check. Every API route goes through here,
// so none can forget authentication or error rendering.
func (a *API) handle(mux *http.ServeMux, pattern string, acc access, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	a.routes = append(a.routes, Route{Method: method, Path: path, Public: acc == public})
	if strings.HasSuffix(pattern, "/") {
		// A trailing slash would make the pattern match the whole subtree; API paths are exact.
		pattern += "{$}"
	}
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acc == signedIn {
			if sub := service.SubjectFrom(r.Context()); sub == nil || sub.User == nil {
				WriteError(w, r, a.log, webnet.Errorf(webnet.EUnauthenticated, "Authentication credentials were not provided."))
				return
			}
		}
		if err := h(w, r); err != nil {
			WriteError(w, r, a.log, err)
		}
	}))
}

// Route is one registered API route, as Routes lists them.
type Route struct {
	Method string // GET, POST, …
	Path   string // the ServeMux pattern's path, e.g. /api/devices/{id}/
	Public bool   // reachable without signing in
}

// Routes lists every route Register added, in registration order: the OpenAPI document and
// the tenant-isolation tests are checked against it.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

// Register adds every API route to mux. This is the one list of them.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "GET /healthz", public, a.healthz)
	a.handle(mux, "GET /readyz", public, a.readyz)
	a.handle(mux, "GET /api/version/", public, a.getVersion)

	a.handle(mux, "POST /api/auth/token/", public, a.obtainToken)
	a.handle(mux, "GET /api/me/", signedIn, a.me)
	a.handle(mux, "GET /api/tokens/", signedIn, a.listTokens)
	a.handle(mux, "POST /api/tokens/", signedIn, a.createToken)
	a.handle(mux, "DELETE /api/tokens/{id}/", signedIn, a.deleteToken)
	a.registerDevices(mux)
	a.registerDeviceGroups(mux)
	a.registerJobs(mux)
	a.registerSchedules(mux)
	a.registerBackups(mux)
	a.registerImports(mux)
	a.registerDeviceAccess(mux)
	a.registerLive(mux)
	a.registerAudit(mux)
	a.registerCredentials(mux)
	a.registerCompliance(mux)
	a.registerFirmware(mux)
	a.registerAdmin(mux)
	a.registerSchema(mux)
}

// JSONFallback wraps mux so that unknown paths and wrong methods under /api/ get the JSON
// error too: ServeMux answers those itself, in plain text.
func JSONFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" || !strings.HasPrefix(r.URL.Path, "/api/") {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{h: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.h.Get("Allow"))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "Method " + r.Method + " not allowed here.", Code: "method_not_allowed"})
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody{Error: "No such API endpoint.", Code: webnet.ENotFound})
	})
}

// headerProbe captures what ServeMux's own error handler would write, without writing it.
type headerProbe struct {
	h      http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.h }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// list is the paginated list shape of design.md §3.
type list[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// newList builds the page object, with next/previous links that keep the request's filters.
func newList[T any](r *http.Request, p webnet.Page, total int, results []T) list[T] {
	l := list[T]{Count: total, Results: results}
	link := func(offset int) *string {
		scheme := "http"
		if service.RequestFrom(r.Context()).Secure {
			scheme = "https"
		}
		u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
		q := r.URL.Query()
		q.Set("limit", strconv.Itoa(p.Limit))
		q.Set("offset", strconv.Itoa(offset))
		u.RawQuery = q.Encode()
		s := u.String()
		return &s
	}
	if p.Offset+p.Limit < total {
		l.Next = link(p.Offset + p.Limit)
	}
	if p.Offset > 0 {
		l.Previous = link(max(0, p.Offset-p.Limit))
	}
	return l
}

func pageOf(r *http.Request) (webnet.Page, error) {
	q := r.URL.Query()
	return webnet.ParsePage(q.Get("limit"), q.Get("offset"))
}

// pathID reads a positive integer id from the URL pattern; anything else is not_found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, webnet.Errorf(webnet.ENotFound, "Not found.")
	}
	return id, nil
}
