// Package service is the only door to webnet's data: every read and change goes through a
// method here that knows who is asking (the Subject in the context) and, from the
// authorization issue on, checks tenancy and permission and writes the audit record in the
// same transaction. Handlers, CLI commands and workers call services; they never touch store.
package service

import (
	"context"
	"sync"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// Subject is who is acting: a signed-in user, or the system itself (CLI, migrations, the
// scheduler), never nil-means-allow.
type Subject struct {
	// User is the acting user; nil only for the system subject.
	User *webnet.User
	// TokenID is the API token that authenticated the request, if any.
	TokenID int64
	// SessionHash identifies the browser session that authenticated the request, if any.
	SessionHash string
	system      bool

	// The subject's grants, compiled once per request by Access.Grants.
	grantsOnce sync.Once
	grants     *authz.Grants
	grantsErr  error
}

// System is the subject of work webnet does on its own account: command-line administration,
// bootstrap and scheduled maintenance. It is explicit so that a missing subject is an error,
// never an implicit permission.
func System() *Subject { return &Subject{system: true} }

// IsSystem reports whether s is the system subject.
func (s *Subject) IsSystem() bool { return s != nil && s.system }

type subjectKey struct{}

// WithSubject returns ctx carrying s.
func WithSubject(ctx context.Context, s *Subject) context.Context {
	return context.WithValue(ctx, subjectKey{}, s)
}

// SubjectFrom returns the subject in ctx, or nil.
func SubjectFrom(ctx context.Context) *Subject {
	s, _ := ctx.Value(subjectKey{}).(*Subject)
	return s
}

// requireUser returns the signed-in user acting in ctx, or an unauthenticated error.
func requireUser(ctx context.Context) (*webnet.User, error) {
	s := SubjectFrom(ctx)
	if s == nil || s.User == nil {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Authentication credentials were not provided.")
	}
	return s.User, nil
}
