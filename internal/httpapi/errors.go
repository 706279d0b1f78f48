// Package httpapi is webnet's REST API and the HTTP plumbing every page shares: request ids,
// authentication, cross-origin protection, security headers, panics, strict JSON. Handlers
// decode, call one service method and encode; they hold no SQL, no permission logic and no
// audit calls. Errors become statuses in one table here.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// statusOf is the one map from error code to HTTP status.
var statusOf = map[string]int{
	webnet.EInvalid:         http.StatusBadRequest,
	webnet.EUnauthenticated: http.StatusUnauthorized,
	webnet.EForbidden:       http.StatusForbidden,
	webnet.ENotFound:        http.StatusNotFound,
	webnet.EConflict:        http.StatusConflict,
	webnet.ETooLarge:        http.StatusRequestEntityTooLarge,
	webnet.EUnsupported:     http.StatusUnsupportedMediaType,
	webnet.ERateLimited:     http.StatusTooManyRequests,
	webnet.EUnavailable:     http.StatusServiceUnavailable,
	webnet.EInternal:        http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err's code.
func StatusOf(err error) int {
	if s, ok := statusOf[webnet.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error (design.md §3).
type errorBody struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields,omitempty"`
	extra  map[string]any
}

// MarshalJSON adds the error's extra members (say "devices") beside the standard ones.
func (b errorBody) MarshalJSON() ([]byte, error) {
	m := map[string]any{"error": b.Error, "code": b.Code}
	if len(b.Fields) > 0 {
		m["fields"] = b.Fields
	}
	for k, v := range b.extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// WriteError renders err as the API's JSON error. Internal errors are logged with the
// request id and answered with a sentence that names the id and nothing else.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := StatusOf(err)
	body := errorBody{Error: webnet.ErrorMessage(err), Code: webnet.ErrorCode(err)}
	var e *webnet.Error
	if errors.As(err, &e) {
		body.Fields = e.Fields
		body.extra = e.Extra
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Token realm="webnet"`)
	}
	if status >= 500 {
		id := service.RequestFrom(r.Context()).ID
		log.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", loggedPath(r.URL.Path), "err", err)
		body = errorBody{Error: "Internal error (request id " + id + ").", Code: webnet.EInternal}
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // a failed write means the client went away; nothing to tell it
}
