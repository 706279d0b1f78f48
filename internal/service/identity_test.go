package service_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"webnet/internal/password"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type fixture struct {
	db    *store.DB
	id    *service.Identity
	clock *webnet.ManualClock
	sys   context.Context
}

func newFixture(t *testing.T, db *store.DB, p password.Params) *fixture {
	t.Helper()
	h, err := password.NewHasher(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := webnet.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	id, err := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: clock,
		Throttle: service.ThrottlePolicy{Window: 15 * time.Minute, PerUser: 3, PerAddress: 5}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, id: id, clock: clock, sys: service.WithSubject(context.Background(), service.System())}
}

func (f *fixture) superuser(t *testing.T, name, pw string) *webnet.User {
	t.Helper()
	u, err := f.id.CreateSuperuser(f.sys, name, name+"@example.net", pw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func asUser(sub *service.Subject) context.Context {
	return service.WithSubject(context.Background(), sub)
}

func TestNewIdentityRejectsMissingDependencies(t *testing.T) {
	if _, err := service.NewIdentity(service.IdentityConfig{}); err == nil {
		t.Fatal("NewIdentity accepted an empty config")
	}
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		got, err := f.id.Login(ctx, "root", "a long enough password", "192.0.2.1")
		if err != nil || got.ID != u.ID || got.LastLoginAt == nil {
			t.Fatalf("login: %+v %v", got, err)
		}
		_, wrongPw := f.id.Login(ctx, "root", "not the password", "192.0.2.1")
		_, wrongUser := f.id.Login(ctx, "nobody", "a long enough password", "192.0.2.1")
		for _, err := range []error{wrongPw, wrongUser} {
			var e *webnet.Error
			if !errors.As(err, &e) || e.Code != webnet.EInvalid || e.Message != "Unable to log in with provided credentials." || e.Fields != nil {
				t.Fatalf("bad credentials answered %#v", err)
			}
		}
		if wrongPw.Error() != wrongUser.Error() {
			t.Fatalf("wrong password %q and wrong username %q answer differently", wrongPw, wrongUser)
		}
		// An inactive user with the right password gets the same answer.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserFlags(ctx, u.ID, false, true, true) }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.Login(ctx, "root", "a long enough password", "192.0.2.9"); err == nil || err.Error() != wrongPw.Error() {
			t.Fatalf("inactive user: %v", err)
		}
		if _, err := f.id.Login(ctx, "", "", "192.0.2.9"); webnet.ErrorCode(err) != webnet.EInvalid {
			t.Fatalf("empty credentials: %v", err)
		}
	})
}

func TestLoginRehashesWeakerHashes(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db, fastHash)
	u := f.superuser(t, "root", "a long enough password")
	stronger := fastHash
	stronger.Memory = 128
	h, _ := password.NewHasher(stronger, 1)
	id, _ := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: f.clock})
	if _, err := id.Login(context.Background(), "root", "a long enough password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	after, _ := db.Read().UserByID(context.Background(), u.ID)
	if h.NeedsRehash(after.PasswordHash) {
		t.Fatalf("hash %q not upgraded on sign-in", after.PasswordHash)
	}
}

func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		f.superuser(t, "root", "a long enough password")
		for range 3 {
			if _, err := f.id.Login(ctx, "root", "wrong password", "192.0.2.1"); webnet.ErrorCode(err) != webnet.EInvalid {
				t.Fatalf("failure before the limit: %v", err)
			}
		}
		// The username is locked, even with the right password and from another address,
		// and whatever its case.
		f.clock.Advance(5 * time.Minute)
		_, err := f.id.Login(ctx, "ROOT", "a long enough password", "198.51.100.7")
		var e *webnet.Error
		if !errors.As(err, &e) || e.Code != webnet.ERateLimited || e.RetryAfter != 600 {
			t.Fatalf("over the per-user limit: %#v", err)
		}
		f.clock.Advance(10 * time.Minute)
		if _, err := f.id.Login(ctx, "root", "a long enough password", "198.51.100.7"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		// Per address: 5 failures over different usernames lock the address.
		for i := range 5 {
			f.id.Login(ctx, "user"+string(rune('a'+i)), "whatever pw", "2001:db8::1")
		}
		if _, err := f.id.Login(ctx, "root", "a long enough password", "2001:db8::ffff"); webnet.ErrorCode(err) != webnet.ERateLimited {
			t.Fatalf("same /64 over the per-address limit: %v", err)
		}
		if _, err := f.id.Login(ctx, "root", "a long enough password", "2001:db8:1::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})
}

// TestWrongUsernameAndPasswordTakeTheSameTime checks that an unknown username costs an argon2
// verification like a wrong password does (with the real parameters, whose ~20 ms dwarf the
// rest); without the dummy verification the unknown-user path is two orders faster.
func TestWrongUsernameAndPasswordTakeTheSameTime(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison skipped in -short mode")
	}
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db, password.DefaultParams)
	f.superuser(t, "root", "a long enough password")
	ctx := context.Background()
	median := func(username string) time.Duration {
		var ds []time.Duration
		for i := range 7 {
			f.clock.Advance(time.Hour) // stay under the throttle
			start := time.Now()
			f.id.Login(ctx, username, "wrong password", "192.0.2."+string(rune('1'+i)))
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	known, unknown := median("root"), median("nobody")
	ratio := float64(unknown) / float64(known)
	t.Logf("wrong password %v, unknown user %v (ratio %.2f)", known, unknown, ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("unknown user takes %v, wrong password %v: distinguishable", unknown, known)
	}
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		key, tok, err := f.id.IssueLoginToken(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != 46 || key[:3] != "wn_" || tok.ExpiresAt == nil || tok.Prefix != key[:9] {
			t.Fatalf("key %q token %+v", key, tok)
		}
		sub, err := f.id.AuthenticateToken(ctx, key)
		if err != nil || sub.User.ID != u.ID || sub.TokenID != tok.ID {
			t.Fatalf("authenticate: %+v %v", sub, err)
		}
		for _, bad := range []string{"", "wn_short", key[:45] + "x", "xx" + key[2:]} {
			if _, err := f.id.AuthenticateToken(ctx, bad); webnet.ErrorCode(err) != webnet.EUnauthenticated {
				t.Errorf("key %q: %v", bad, err)
			}
		}
		// A user-made token with its own expiry; the past is refused.
		userCtx := asUser(sub)
		past := f.clock.Now().Add(-time.Second)
		if _, _, err := f.id.CreateToken(userCtx, service.NewToken{Name: "ci", ExpiresAt: &past}); webnet.ErrorCode(err) != webnet.EInvalid {
			t.Fatalf("expiry in the past: %v", err)
		}
		hour := int64(3600)
		key2, tok2, err := f.id.CreateToken(userCtx, service.NewToken{Name: "ci", ExpiresIn: &hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.AuthenticateToken(ctx, key2); err != nil {
			t.Fatal(err)
		}
		list, total, _ := f.id.ListTokens(userCtx, webnet.Page{Limit: 50})
		if len(list) != 2 || total != 2 || list[0].ID != tok2.ID || list[1].LastUsedAt == nil {
			t.Fatalf("list: %+v", list)
		}
		// Expiry.
		f.clock.Advance(time.Hour)
		if _, err := f.id.AuthenticateToken(ctx, key2); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("expired token: %v", err)
		}
		// Revocation works at once; another user's token is not_found.
		if err := f.id.DeleteToken(userCtx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.AuthenticateToken(ctx, key); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("revoked token: %v", err)
		}
		other := f.superuser(t, "other", "a long enough password")
		if err := f.id.DeleteToken(asUser(&service.Subject{User: other}), tok2.ID); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("deleting another's token: %v", err)
		}
		// Deactivating the user stops the token.
		key3, _, _ := f.id.IssueLoginToken(ctx, other)
		db.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserFlags(ctx, other.ID, false, false, false) })
		if _, err := f.id.AuthenticateToken(ctx, key3); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("inactive user's token: %v", err)
		}
		if _, _, err := f.id.ListTokens(context.Background(), webnet.Page{Limit: 1}); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("list without a subject: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		// Idle expiry: activity every 7 hours keeps it alive (idle limit 8h) ...
		v, _, err := f.id.StartSession(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			f.clock.Advance(7 * time.Hour)
			if _, err := f.id.AuthenticateSession(ctx, v); err != nil {
				t.Fatalf("active session: %v", err)
			}
		}
		// ... until the absolute limit (72h) ends it whatever the activity.
		for range 7 { // 70h in all, still alive
			f.clock.Advance(7 * time.Hour)
			if _, err := f.id.AuthenticateSession(ctx, v); err != nil {
				t.Fatalf("active session before 72h: %v", err)
			}
		}
		f.clock.Advance(2 * time.Hour)
		if _, err := f.id.AuthenticateSession(ctx, v); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("session past its absolute expiry: %v", err)
		}
		// An idle session ends after 8 hours.
		v2, _, _ := f.id.StartSession(ctx, u)
		f.clock.Advance(8*time.Hour + time.Second)
		if _, err := f.id.AuthenticateSession(ctx, v2); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("idle session: %v", err)
		}
		// Sign-out.
		v3, _, _ := f.id.StartSession(ctx, u)
		sub, err := f.id.AuthenticateSession(ctx, v3)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.id.EndSession(asUser(sub)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.AuthenticateSession(ctx, v3); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("signed-out session: %v", err)
		}
		// The janitor removes what expired.
		f.id.StartSession(ctx, u)
		f.clock.Advance(9 * time.Hour)
		if n, err := f.id.DeleteExpired(f.sys); err != nil || n < 1 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
		if _, err := f.id.DeleteExpired(ctx); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("janitor without the system subject: %v", err)
		}
	})
}

func TestSuperuserAndBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		if _, err := f.id.CreateSuperuser(ctx, "root", "", "a long enough password"); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("without the system subject: %v", err)
		}
		for _, c := range []struct{ user, email, pw, field string }{
			{"bad name!", "", "a long enough password", "username"},
			{"root", "not-an-email", "a long enough password", "email"},
			{"root", "", "short", "password"},
		} {
			_, err := f.id.CreateSuperuser(f.sys, c.user, c.email, c.pw)
			var e *webnet.Error
			if !errors.As(err, &e) || e.Code != webnet.EInvalid || e.Fields[c.field] == "" {
				t.Errorf("%+v: %#v", c, err)
			}
		}
		pw, err := f.id.EnsureInitialSuperuser(f.sys)
		if err != nil || len(pw) < 20 {
			t.Fatalf("bootstrap: %q %v", pw, err)
		}
		u, err := f.id.Login(ctx, "admin", pw, "192.0.2.1")
		if err != nil || !u.IsSuperuser || !u.IsStaff {
			t.Fatalf("bootstrap admin login: %+v %v", u, err)
		}
		if again, err := f.id.EnsureInitialSuperuser(f.sys); err != nil || again != "" {
			t.Fatalf("second bootstrap: %q %v", again, err)
		}
		if _, err := f.id.CreateSuperuser(f.sys, "admin", "", "a long enough password"); webnet.ErrorCode(err) != webnet.EConflict {
			t.Fatalf("duplicate superuser: %v", err)
		}
	})
}

func TestMe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c := &webnet.Customer{Name: "Acme", Slug: "acme", CreatedAt: f.clock.Now()}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			return tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: c.ID, Role: webnet.RoleOperator, CreatedAt: f.clock.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		me, err := f.id.Me(asUser(&service.Subject{User: u}))
		if err != nil || me.Username != "root" || len(me.Memberships) != 1 || me.Memberships[0].Role != webnet.RoleOperator || len(me.Groups) != 0 {
			t.Fatalf("me: %+v %v", me, err)
		}
		if _, err := f.id.Me(ctx); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("me without a subject: %v", err)
		}
	})
}

func TestSignInAndTokenFailuresAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		f.id.Login(ctx, "root", "wrong password", "192.0.2.1")
		f.id.Login(ctx, "ghost", "wrong password", "192.0.2.1")
		if _, err := f.id.Login(ctx, "root", "a long enough password", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		key, _, _ := f.id.IssueLoginToken(ctx, u)
		f.id.AuthenticateToken(ctx, "wn_"+strings.Repeat("A", 43))
		f.clock.Advance(31 * 24 * time.Hour)
		f.id.AuthenticateToken(ctx, key)
		acts, _, err := db.Read().ListActivity(ctx, store.ActivityFilter{Visibility: "1=1"}, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(acts) - 1; i >= 0; i-- {
			a := acts[i]
			got = append(got, a.Action+"/"+a.Result+"/"+a.ActorUsername)
		}
		want := []string{"auth.login/failure/root", "auth.login/failure/ghost", "auth.login/success/root",
			"token.create/success/root", "auth.token/failure/anonymous", "auth.token/failure/root"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("audit trail:\n got %v\nwant %v", got, want)
		}
		for _, a := range acts {
			if strings.Contains(string(a.Details), "wrong password") || strings.Contains(string(a.Details), key) {
				t.Fatalf("a secret in the audit log: %s", a.Details)
			}
		}
	})
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		root := f.superuser(t, "root", "a long enough password")
		other := f.superuser(t, "other", "a long enough password")
		v, _, _ := f.id.StartSession(ctx, other)
		access, _ := service.NewAccess(db)
		h, _ := password.NewHasher(fastHash, 1)
		core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: f.clock, Hasher: h})
		if err != nil {
			t.Fatal(err)
		}
		pw := "another long password"
		if _, err := core.UpdateUser(asUser(&service.Subject{User: root}), other.ID, service.UserPatch{Password: &pw}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.AuthenticateSession(ctx, v); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("session after a password change: %v", err)
		}
	})
}
