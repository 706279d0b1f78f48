// Package ui is webnet's browser interface: server-rendered pages (html/template, embedded)
// made interactive with htmx, calling the same services as the API. It never touches the
// database and never decides a permission itself: what a page offers comes from the
// services' answers (user_permissions, the action checks), so a button a user sees is a
// button the API would honour.
//
// Layout of the package: ui.go (templates, rendering, errors), session.go (sign-in),
// one file per area registering its pages (dashboard.go, devices.go, detail.go, jobs.go,
// admin.go),
// templates/<page>.html per page (each defines "content", rendered inside layout.html),
// templates/_<name>.html partials shared by every page, static/ (CSS, JS, vendored htmx).
package ui

//go:generate sh -c "npm ci --no-audit --no-fund && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js"

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the UI. Identity and Core are required.
type Config struct {
	Identity *service.Identity
	Core     *service.Core
	Logger   *slog.Logger
	Version  string
}

// UI serves the pages.
type UI struct {
	id      *service.Identity
	core    *service.Core
	log     *slog.Logger
	version string
	pages   map[string]*template.Template
}

// New parses the templates and returns the UI.
func New(cfg Config) (*UI, error) {
	if cfg.Identity == nil || cfg.Core == nil {
		return nil, errors.New("ui: Identity and Core are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{id: cfg.Identity, core: cfg.Core, log: cfg.Logger, version: cfg.Version, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			partials = append(partials, n)
		}
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		files := append([]string{"templates/layout.html"}, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, append(files, n)...)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", base, err)
		}
		u.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return u, nil
}

// Register adds the pages and static files to mux.
func (u *UI) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticCache(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", u.loginForm)
	mux.HandleFunc("POST /login", u.login)
	mux.HandleFunc("POST /logout", u.logout)
	u.registerDashboard(mux)
	u.registerDevices(mux)
	u.registerDetail(mux)
	u.registerJobs(mux)
	u.registerAdmin(mux)
}

func staticCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Version string
	User    *webnet.User
	// Nav is the layout's current section ("dashboard", "devices", "jobs", "groups",
	// "audit", "admin"), for aria-current.
	Nav string
	// Notice is a one-line message carried over a redirect (?notice=).
	Notice string
	Data   any
}

// render writes page name inside the layout; a request made by htmx (HX-Request) with
// fragment set gets only that template, without the layout.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	u.renderNav(w, r, status, name, title, "", data)
}

// renderNav is render with the layout's current section.
func (u *UI) renderNav(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	t, ok := u.pages[name]
	if !ok {
		u.log.ErrorContext(r.Context(), "render: no such page", "page", name)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	p := page{Title: title, Version: u.version, Nav: nav, Notice: notice(r), Data: data}
	if sub := service.SubjectFrom(r.Context()); sub != nil {
		p.User = sub.User
	}
	u.execute(w, r, status, t, "layout", p)
}

// renderFragment writes one named template of page name (an htmx swap target) without the
// layout.
func (u *UI) renderFragment(w http.ResponseWriter, r *http.Request, status int, name, fragment string, data any) {
	t, ok := u.pages[name]
	if !ok {
		u.log.ErrorContext(r.Context(), "render: no such page", "page", name)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	u.execute(w, r, status, t, fragment, data)
}

func (u *UI) execute(w http.ResponseWriter, r *http.Request, status int, t *template.Template, name string, data any) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		u.log.ErrorContext(r.Context(), "render page", "template", name, "err", err)
		http.Error(w, "Internal error (request id "+service.RequestFrom(r.Context()).ID+").", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// notices are the messages a redirect may carry (?notice=key): fixed texts, so that a link
// cannot put words of its own in webnet's mouth.
var notices = map[string]string{
	"no-upgrade":     "You may not upgrade firmware on these devices.",
	"deleted":        "The devices were deleted.",
	"queued":         "The job was queued.",
	"queued-many":    "The jobs were queued, one per customer of the devices.",
	"admin-deleted":  "Deleted.",
	"admin-created":  "Created.",
	"admin-uploaded": "The firmware image was uploaded.",
	"admin-removed":  "The assignment was removed.",
	"saved":          "Saved.",
	"signed-out":     "You are signed out.",
	"no-devices":     "Select at least one device first.",
	"cancelled":      "The job was cancelled.",
	"retried":        "The failed targets were queued again.",
	"not-allowed":    "You may not do that.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("notice")] }

// redirect sends the browser to target (a local path) with notice key n (may be ""); an
// htmx request gets HX-Redirect instead, which htmx follows with a full page load.
func redirect(w http.ResponseWriter, r *http.Request, target, n string) {
	if n != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "notice=" + url.QueryEscape(n)
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// errorData is the error page's data.
type errorData struct {
	Status  int
	Message string
}

// fail answers err as an error page: the service's code decides the status and its message
// is shown (internal errors only by request id). An anonymous request is sent to sign in.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *webnet.Error
	status, msg := http.StatusInternalServerError, "Something went wrong (request id "+service.RequestFrom(r.Context()).ID+")."
	if errors.As(err, &e) {
		switch e.Code {
		case webnet.EUnauthenticated:
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), "")
			return
		case webnet.EInvalid:
			status, msg = http.StatusBadRequest, e.Message
		case webnet.EForbidden:
			status, msg = http.StatusForbidden, e.Message
		case webnet.ENotFound:
			status, msg = http.StatusNotFound, e.Message
		case webnet.EConflict:
			status, msg = http.StatusConflict, e.Message
		case webnet.ERateLimited:
			status, msg = http.StatusTooManyRequests, e.Message
		}
	}
	if status == http.StatusInternalServerError {
		u.log.ErrorContext(r.Context(), "page", "path", r.URL.Path, "request_id", service.RequestFrom(r.Context()).ID, "err", err)
	}
	u.render(w, r, status, "error", http.StatusText(status), errorData{Status: status, Message: msg})
}

// authed wraps a page handler: an anonymous browser is sent to sign in and back.
func authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !signedIn(r) {
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), "")
			return
		}
		h(w, r)
	}
}

// localPath returns next when it is a path on this site, else "/": a sign-in link must not
// redirect to another site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func signedIn(r *http.Request) bool {
	sub := service.SubjectFrom(r.Context())
	return sub != nil && sub.User != nil
}

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	// ago renders a time as "3 min ago" (the exact time in a title attribute is the
	// template's business).
	"ago": func(t any) string {
		var at time.Time
		switch v := t.(type) {
		case time.Time:
			at = v
		case *time.Time:
			if v == nil {
				return "never"
			}
			at = *v
		default:
			return ""
		}
		if at.IsZero() {
			return "never"
		}
		return agoText(time.Since(at))
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"add": func(a, b int) int { return a + b },
	"sub": func(a, b int) int { return a - b },
}

func agoText(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}
