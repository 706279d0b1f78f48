// Package ui is webnet's browser interface: server-rendered pages (html/template, embedded)
// that call the same services as the API. It never touches the database and never decides a
// permission itself.
package ui

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the UI. Identity is required.
type Config struct {
	Identity *service.Identity
	Logger   *slog.Logger
	Version  string
}

// UI serves the pages.
type UI struct {
	id      *service.Identity
	log     *slog.Logger
	version string
	pages   map[string]*template.Template
}

// New parses the templates and returns the UI.
func New(cfg Config) (*UI, error) {
	if cfg.Identity == nil {
		return nil, errors.New("ui: Identity is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{id: cfg.Identity, log: cfg.Logger, version: cfg.Version, pages: map[string]*template.Template{}}
	for _, name := range []string{"login", "home"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		u.pages[name] = t
	}
	return u, nil
}

// Register adds the pages and static files to mux.
func (u *UI) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticCache(http.FileServerFS(static))))
	mux.HandleFunc("GET /{$}", u.home)
	mux.HandleFunc("GET /login", u.loginForm)
	mux.HandleFunc("POST /login", u.login)
	mux.HandleFunc("POST /logout", u.logout)
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
	Data    any
}

func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Version: u.version, Data: data}
	if sub := service.SubjectFrom(r.Context()); sub != nil {
		p.User = sub.User
	}
	var b strings.Builder
	if err := u.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		u.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "Internal error (request id "+service.RequestFrom(r.Context()).ID+").", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
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
