package service

import "context"

// Request describes the HTTP request an action comes from: the audit trail records its id and
// client address, and sign-in throttling counts per client address.
type Request struct {
	ID         string
	ClientAddr string
	// Secure reports whether the client reached webnet over TLS (directly or through a
	// trusted proxy), so cookies get the Secure attribute.
	Secure bool
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request in ctx (zero when there is none, as for CLI work).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "webnet_session"
