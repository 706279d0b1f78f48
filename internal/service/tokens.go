package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// tokenPrefix starts every API token key, so leaked keys are recognisable by secret scanners.
const tokenPrefix = "wn_"

// tokenKeyLen is the length of a key: the prefix and 32 random bytes in base64url.
const tokenKeyLen = len(tokenPrefix) + 43

// touchEvery bounds how often a token's or session's last-use time is written: at most once
// a minute each, so authentication stays a read on the hot path.
const touchEvery = time.Minute

// IssueLoginToken creates a token for user after a successful Login (POST /api/auth/token/),
// valid for the configured login-token lifetime. Errors: internal only.
func (s *Identity) IssueLoginToken(ctx context.Context, user *webnet.User) (string, *webnet.Token, error) {
	var exp *time.Time
	if s.cfg.LoginTokenTTL > 0 {
		e := s.clock.Now().Add(s.cfg.LoginTokenTTL)
		exp = &e
	}
	return s.createToken(ctx, user.ID, user.Username, "login", exp)
}

// NewToken is a request for an API token: an optional name and an optional expiry, as a
// time or as seconds from now (not both).
type NewToken struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
	ExpiresIn *int64     `json:"expires_in"`
}

// maxTokenLifetime bounds expires_in (ten years).
const maxTokenLifetime = 10 * 365 * 24 * time.Hour

// CreateToken creates an API token for the signed-in user. The key is returned once and
// stored only as a hash. Errors: unauthenticated, invalid (name too long, expiry in the past
// or given twice).
func (s *Identity) CreateToken(ctx context.Context, req NewToken) (string, *webnet.Token, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return "", nil, err
	}
	now := s.clock.Now()
	fields := map[string]string{}
	if len(req.Name) > 100 {
		fields["name"] = "Use at most 100 characters."
	}
	exp := req.ExpiresAt
	switch {
	case exp != nil && req.ExpiresIn != nil:
		fields["expires_in"] = "Give expires_at or expires_in, not both."
	case req.ExpiresIn != nil:
		if *req.ExpiresIn <= 0 || *req.ExpiresIn > int64(maxTokenLifetime/time.Second) {
			fields["expires_in"] = "Seconds from now, from 1 to ten years."
		} else {
			e := now.Add(time.Duration(*req.ExpiresIn) * time.Second)
			exp = &e
		}
	case exp != nil:
		e := exp.UTC().Truncate(time.Microsecond)
		if !e.After(now) {
			fields["expires_at"] = "Must be in the future."
		}
		exp = &e
	}
	if len(fields) > 0 {
		return "", nil, webnet.Invalid("Invalid token.", fields)
	}
	return s.createToken(ctx, u.ID, u.Username, req.Name, exp)
}

func (s *Identity) createToken(ctx context.Context, userID int64, username, name string, exp *time.Time) (string, *webnet.Token, error) {
	key := tokenPrefix + randomKey(32)
	t := &webnet.Token{UserID: userID, Name: name, Prefix: key[:len(tokenPrefix)+6], CreatedAt: s.clock.Now(), ExpiresAt: exp}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateToken(ctx, t, hashKey(key)); err != nil {
			return err
		}
		return tx.AppendActivity(ctx, newActivity(ctx, s.clock, entry{action: "token.create", objectType: "token",
			objectID: t.ID, repr: t.Prefix, actor: &webnet.User{ID: userID, Username: username},
			details: map[string]any{"name": name, "expires_at": exp}}, "success"))
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return key, t, nil
}

// AuthenticateToken returns the subject a token key stands for. Anyone may call it. Errors:
// unauthenticated (malformed, unknown, expired or revoked key, inactive user).
func (s *Identity) AuthenticateToken(ctx context.Context, key string) (*Subject, error) {
	if len(key) != tokenKeyLen || !strings.HasPrefix(key, tokenPrefix) {
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Invalid token.")
	}
	h := hashKey(key)
	now := s.clock.Now()
	t, u, ok := s.cache.get(h, now)
	if !ok {
		gen := s.cache.generation()
		pt, pu, err := s.db.Read().TokenByHash(ctx, h)
		if webnet.ErrorCode(err) == webnet.ENotFound {
			// Only well-formed keys reach here (garbage is refused without a write), so a
			// flood of nonsense headers cannot fill the audit log.
			s.auditAlone(ctx, entry{action: "auth.token", objectType: "token", actorName: "anonymous",
				repr: key[:len(tokenPrefix)+6], details: map[string]any{"reason": "unknown or revoked token"}}, "failure")
			return nil, webnet.Errorf(webnet.EUnauthenticated, "Invalid token.")
		}
		if err != nil {
			return nil, fmt.Errorf("authenticate token: %w", err)
		}
		t, u = *pt, *pu
		s.cache.put(h, t, u, now, gen)
	}
	if t.Expired(now) {
		s.auditAlone(ctx, entry{action: "auth.token", objectType: "token", objectID: t.ID, repr: t.Prefix, actor: &u,
			details: map[string]any{"reason": "expired"}}, "failure")
		return nil, webnet.Errorf(webnet.EUnauthenticated, "Token has expired.")
	}
	if !u.IsActive {
		s.auditAlone(ctx, entry{action: "auth.token", objectType: "token", objectID: t.ID, repr: t.Prefix, actor: &u,
			details: map[string]any{"reason": "user inactive"}}, "failure")
		return nil, webnet.Errorf(webnet.EUnauthenticated, "User inactive or deleted.")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchToken(ctx, t.ID, now) })
		if err != nil {
			// Recording use is bookkeeping; it must not refuse a valid request.
			s.log.WarnContext(ctx, "record token use", "token_id", t.ID, "err", err)
		} else {
			s.cache.touched(h, now)
		}
	}
	return &Subject{User: &u, TokenID: t.ID}, nil
}

// ListTokens returns a page of the signed-in user's own tokens (never their keys) and how
// many there are. Errors: unauthenticated.
func (s *Identity) ListTokens(ctx context.Context, page webnet.Page) ([]webnet.Token, int, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, 0, err
	}
	return s.db.Read().TokensOfUser(ctx, u.ID, page)
}

// DeleteToken revokes one of the signed-in user's tokens; it stops working at once, in every
// process. Errors: unauthenticated, not_found (no such token of this user).
func (s *Identity) DeleteToken(ctx context.Context, id int64) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteToken(ctx, u.ID, id); err != nil {
			return err
		}
		return tx.AppendActivity(ctx, newActivity(ctx, s.clock, entry{action: "token.delete", objectType: "token", objectID: id}, "success"))
	})
}
