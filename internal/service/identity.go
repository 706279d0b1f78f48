package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"webnet/internal/password"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// IdentityConfig configures Identity. DB, Hasher and Clock are required.
type IdentityConfig struct {
	DB     *store.DB
	Hasher *password.Hasher
	Clock  webnet.Clock
	Logger *slog.Logger

	// SessionIdle ends a browser session after this long without a request (default 8h).
	SessionIdle time.Duration
	// SessionAbsolute ends a browser session this long after sign-in, whatever the
	// activity (default 72h).
	SessionAbsolute time.Duration
	// LoginTokenTTL is the lifetime of tokens issued by POST /api/auth/token/ (default 30
	// days; negative means they never expire).
	LoginTokenTTL time.Duration
	// Throttle bounds failed sign-ins.
	Throttle ThrottlePolicy
}

// Identity signs users in and out: passwords, API tokens, browser sessions and the sign-in
// throttle, plus the user's own view of themselves (GET /api/me/).
type Identity struct {
	db     *store.DB
	hasher *password.Hasher
	clock  webnet.Clock
	log    *slog.Logger
	cfg    IdentityConfig
	cache  *authCache
}

// NewIdentity returns an Identity, refusing a config without its dependencies.
func NewIdentity(cfg IdentityConfig) (*Identity, error) {
	if cfg.DB == nil || cfg.Hasher == nil || cfg.Clock == nil {
		return nil, errors.New("identity: DB, Hasher and Clock are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 8 * time.Hour
	}
	if cfg.SessionAbsolute <= 0 {
		cfg.SessionAbsolute = 72 * time.Hour
	}
	if cfg.LoginTokenTTL == 0 {
		cfg.LoginTokenTTL = 30 * 24 * time.Hour
	}
	cfg.Throttle = cfg.Throttle.withDefaults()
	return &Identity{db: cfg.DB, hasher: cfg.Hasher, clock: cfg.Clock, log: cfg.Logger, cfg: cfg,
		cache: newAuthCache(cfg.DB)}, nil
}

// errBadCredentials is the one answer to a wrong username, a wrong password and an inactive
// user, so that none can be told apart.
func errBadCredentials() error {
	return webnet.Errorf(webnet.EInvalid, "Unable to log in with provided credentials.")
}

// Login checks a username and password from clientAddr and returns the user. Anyone may call
// it. Errors: rate_limited (too many recent failures for the username or the address),
// invalid (bad credentials: the same answer, after the same work, whether the username
// exists or not).
func (s *Identity) Login(ctx context.Context, username, pw, clientAddr string) (*webnet.User, error) {
	if username == "" || pw == "" || len(username) > 150 || len(pw) > 1024 {
		fields := map[string]string{}
		if username == "" || len(username) > 150 {
			fields["username"] = "This field is required (at most 150 characters)."
		}
		if pw == "" || len(pw) > 1024 {
			fields["password"] = "This field is required (at most 1024 bytes)."
		}
		return nil, webnet.Invalid("Username and password are required.", fields)
	}
	keys := s.cfg.Throttle.keys(username, clientAddr)
	if err := s.checkThrottle(ctx, keys); err != nil {
		if webnet.ErrorCode(err) == webnet.ERateLimited {
			s.auditAlone(ctx, entry{action: "auth.login", objectType: "user", actorName: clip(username),
				details: map[string]any{"reason": "throttled"}}, "denied")
		}
		return nil, err
	}
	u, err := s.db.Read().UserByUsername(ctx, username)
	switch {
	case webnet.ErrorCode(err) == webnet.ENotFound:
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.loginFailed(ctx, keys, username, clientAddr)
	case err != nil:
		return nil, fmt.Errorf("login: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		s.log.ErrorContext(ctx, "stored password hash is unusable", "user_id", u.ID, "err", err)
	}
	if !ok || !u.IsActive {
		return nil, s.loginFailed(ctx, keys, username, clientAddr)
	}
	now := s.clock.Now()
	var rehash string
	if s.hasher.NeedsRehash(u.PasswordHash) {
		if rehash, err = s.hasher.Hash(ctx, pw); err != nil {
			return nil, fmt.Errorf("rehash password: %w", err)
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ClearThrottle(ctx, keys.user); err != nil {
			return err
		}
		if rehash != "" {
			if err := tx.SetUserPassword(ctx, u.ID, rehash); err != nil {
				return err
			}
		}
		if err := tx.SetUserLastLogin(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.AppendActivity(ctx, newActivity(ctx, s.clock, entry{action: "auth.login", objectType: "user",
			objectID: u.ID, repr: u.Username, actor: u}, "success"))
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	u.LastLoginAt = &now
	s.log.InfoContext(ctx, "sign-in", "user", u.Username, "user_id", u.ID, "client", clientAddr)
	return u, nil
}

func (s *Identity) loginFailed(ctx context.Context, keys throttleKeys, username, clientAddr string) error {
	failure := newActivity(ctx, s.clock, entry{action: "auth.login", objectType: "user", actorName: clip(username),
		details: map[string]any{"reason": "bad credentials"}}, "failure")
	if err := s.recordFailure(ctx, keys, failure); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.log.WarnContext(ctx, "sign-in failed", "username", username, "client", clientAddr)
	return errBadCredentials()
}

// Me is what GET /api/me/ shows a user about themselves.
type Me struct {
	webnet.User
	Memberships      []store.MembershipView `json:"memberships"`
	Groups           []webnet.Group         `json:"groups"`
	DeviceGroupRoles []store.HeldRole       `json:"device_group_roles"`
}

// Me returns the signed-in user with their memberships, auth groups and device-group roles. Any signed-in user
// may call it. Errors: unauthenticated.
func (s *Identity) Me(ctx context.Context) (*Me, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.Read()
	ms, err := q.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("me: %w", err)
	}
	gs, err := q.GroupsOfUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("me: %w", err)
	}
	held, err := q.HeldRoles(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("me: %w", err)
	}
	return &Me{User: *u, Memberships: ms, Groups: gs, DeviceGroupRoles: held}, nil
}

// CreateSuperuser creates an active superuser (and staff) account. Only the system subject
// (the command line) may call it. Errors: forbidden, invalid, conflict (username taken).
func (s *Identity) CreateSuperuser(ctx context.Context, username, email, pw string) (*webnet.User, error) {
	if !SubjectFrom(ctx).IsSystem() {
		return nil, webnet.Errorf(webnet.EForbidden, "Only the command line creates superusers.")
	}
	for _, err := range []error{webnet.ValidateUsername(username), webnet.ValidateEmail(email), webnet.ValidatePassword(pw)} {
		if err != nil {
			return nil, err
		}
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &webnet.User{Username: username, Email: email, PasswordHash: hash, IsActive: true, IsStaff: true,
		IsSuperuser: true, CreatedAt: s.clock.Now()}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "superuser created", "user", username, "user_id", u.ID)
	return u, nil
}

// EnsureInitialSuperuser creates the superuser "admin" with a random password when the
// database has no user at all, and returns that password (shown once; never stored in
// plain). On a database with users it returns "". Only the system subject may call it.
func (s *Identity) EnsureInitialSuperuser(ctx context.Context) (string, error) {
	if !SubjectFrom(ctx).IsSystem() {
		return "", webnet.Errorf(webnet.EForbidden, "Only the system bootstraps webnet.")
	}
	n, err := s.db.Read().CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	pw := randomKey(18)
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	created := false
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// Re-check inside the write transaction: another process may have bootstrapped.
		if n, err := tx.CountUsers(ctx); err != nil || n > 0 {
			return err
		}
		created = true
		return tx.CreateUser(ctx, &webnet.User{Username: "admin", PasswordHash: hash, IsActive: true,
			IsStaff: true, IsSuperuser: true, CreatedAt: s.clock.Now()})
	})
	if err != nil || !created {
		return "", err
	}
	return pw, nil
}

// randomKey returns n random bytes, base64url-encoded.
func randomKey(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return weak bytes
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashKey is how token keys and session ids are stored: SHA-256, hex. The keys carry 256
// random bits, so a fast hash is right (argon2 would only slow every request down).
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// auditAlone writes one audit record in its own transaction; a failure to write it is
// logged, never returned (it accompanies an answer that is already decided).
func (s *Identity) auditAlone(ctx context.Context, e entry, result string) {
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendActivity(ctx, newActivity(ctx, s.clock, e, result))
	}); err != nil {
		s.log.ErrorContext(ctx, "audit", "action", e.action, "err", err)
	}
}

// clip bounds a client-supplied name before it is recorded.
func clip(s string) string {
	if r := []rune(s); len(r) > 150 {
		return string(r[:150])
	}
	return s
}

// normaliseUsername is the throttle's view of a username: case and surrounding space do not
// buy an attacker fresh attempts.
func normaliseUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }
