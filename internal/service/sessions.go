package service

import (
	"context"
	"fmt"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// StartSession opens a browser session for user after a successful Login and returns the
// cookie value (stored only as a hash). Errors: internal only.
func (s *Identity) StartSession(ctx context.Context, user *webnet.User) (string, *webnet.Session, error) {
	value := randomKey(32)
	now := s.clock.Now()
	sess := &webnet.Session{UserID: user.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionAbsolute)}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, hashKey(value), sess) }); err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return value, sess, nil
}

// AuthenticateSession returns the subject of a session cookie value. A session idle for
// longer than the idle limit, or older than the absolute limit, is over (and deleted).
// Errors: unauthenticated.
func (s *Identity) AuthenticateSession(ctx context.Context, value string) (*Subject, error) {
	if len(value) != 43 {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Session expired; sign in again.")
	}
	h := hashKey(value)
	sess, u, err := s.db.Read().SessionByHash(ctx, h)
	if webnet.ErrorCode(err) == webnet.ENotFound {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Session expired; sign in again.")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	now := s.clock.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle || !u.IsActive {
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, h) }); err != nil {
			return nil, fmt.Errorf("end session: %w", err)
		}
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Session expired; sign in again.")
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, h, now) }); err != nil {
			s.log.WarnContext(ctx, "record session use", "err", err)
		}
	}
	return &Subject{User: u, SessionHash: h}, nil
}

// EndSession signs the session of ctx's subject out. Errors: unauthenticated.
func (s *Identity) EndSession(ctx context.Context) error {
	sub := SubjectFrom(ctx)
	if sub == nil || sub.SessionHash == "" {
		return webnet.Errorf(webnet.EUnauthenticated, "Not signed in.")
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, sub.SessionHash) })
}
