package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC)

func TestMigrateFromEmpty(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenEmpty(t, d)
			if v, err := db.SchemaVersion(ctx); err != nil || v != 0 {
				t.Fatalf("empty database: version %d, %v", v, err)
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 || applied[len(applied)-1] != store.LatestVersion() {
				t.Fatalf("applied %v, latest %d", applied, store.LatestVersion())
			}
			again, err := db.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate applied %v, %v", again, err)
			}
			if v, _ := db.SchemaVersion(ctx); v != store.LatestVersion() {
				t.Fatalf("version %d after migrate", v)
			}
			// Every table of the schema is there and usable.
			if n, err := db.Read().CountUsers(ctx); err != nil || n != 0 {
				t.Fatalf("count users: %d %v", n, err)
			}
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return store.ExecForTest(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', ?)`, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer than this webnet") {
			t.Fatalf("migrate on a newer schema: %v", err)
		}
	})
}

func TestConcurrentMigrate(t *testing.T) {
	// Several processes starting at once must apply each migration exactly once.
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			cfg := storetest.Config(t, d)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			counts := make([]int, 4)
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := store.Open(ctx, cfg)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					applied, err := db.Migrate(ctx)
					errs[i], counts[i] = err, len(applied)
				}()
			}
			wg.Wait()
			total := 0
			for i := range 4 {
				if errs[i] != nil {
					t.Fatalf("migrator %d: %v", i, errs[i])
				}
				total += counts[i]
			}
			if want := len(mustMigrations(t, d)); total != want {
				t.Fatalf("migrations applied %d times in all, want %d", total, want)
			}
		})
	}
}

func mustMigrations(t *testing.T, d store.Dialect) []store.Migration {
	ms, err := store.Migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func createUser(t *testing.T, db *store.DB, name string) *webnet.User {
	t.Helper()
	u := &webnet.User{Username: name, Email: name + "@example.net", PasswordHash: "$argon2id$x", IsActive: true, CreatedAt: t0}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), u) }); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := createUser(t, db, "alice")
		got, err := db.Read().UserByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !got.CreatedAt.Equal(t0) || got.LastLoginAt != nil || !got.IsActive || got.IsStaff {
			t.Fatalf("round trip: %+v", got)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &webnet.User{Username: "alice", PasswordHash: "x", CreatedAt: t0})
		})
		if webnet.ErrorCode(err) != webnet.EConflict {
			t.Fatalf("duplicate username: %v", err)
		}
		if _, err := db.Read().UserByUsername(ctx, "bob"); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("missing user: %v", err)
		}
		later := t0.Add(time.Hour)
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetUserLastLogin(ctx, u.ID, later); err != nil {
				return err
			}
			return tx.SetUserFlags(ctx, u.ID, false, true, true)
		}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Read().UserByID(ctx, u.ID)
		if got.LastLoginAt == nil || !got.LastLoginAt.Equal(later) || got.IsActive || !got.IsStaff || !got.IsSuperuser {
			t.Fatalf("after update: %+v", got)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserPassword(ctx, 9999, "x") }); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("update of a missing user: %v", err)
		}
	})
}

func TestTransactionRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &webnet.User{Username: "ghost", PasswordHash: "x", CreatedAt: t0}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v", err)
		}
		if n, _ := db.Read().CountUsers(ctx); n != 0 {
			t.Fatalf("%d users after a rolled-back transaction", n)
		}
		func() {
			defer func() { recover() }()
			db.InTx(ctx, func(tx *store.Tx) error {
				tx.CreateUser(ctx, &webnet.User{Username: "ghost", PasswordHash: "x", CreatedAt: t0})
				panic("in the middle")
			})
		}()
		if n, _ := db.Read().CountUsers(ctx); n != 0 {
			t.Fatalf("%d users after a panicking transaction", n)
		}
	})
}

func TestCustomersMembershipsGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := createUser(t, db, "carol")
		acme := &webnet.Customer{Name: "Acme", Slug: "acme", CreatedAt: t0}
		globex := &webnet.Customer{Name: "Globex", Slug: "globex", CreatedAt: t0}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range []*webnet.Customer{acme, globex} {
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
			}
			for _, m := range []*webnet.Membership{
				{UserID: u.ID, CustomerID: globex.ID, Role: webnet.RoleViewer, CreatedAt: t0},
				{UserID: u.ID, CustomerID: acme.ID, Role: webnet.RoleAdmin, CreatedAt: t0},
			} {
				if err := tx.CreateMembership(ctx, m); err != nil {
					return err
				}
			}
			g := &webnet.Group{CustomerID: acme.ID, Name: "noc", CreatedAt: t0}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			if err := tx.AddGroupUser(ctx, g.ID, u.ID); err != nil {
				return err
			}
			return tx.AddGroupUser(ctx, g.ID, u.ID) // idempotent
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := db.Read().MembershipsOfUser(ctx, u.ID)
		if err != nil || len(ms) != 2 || ms[0].CustomerSlug != "acme" || ms[0].Role != webnet.RoleAdmin || ms[1].Role != webnet.RoleViewer {
			t.Fatalf("memberships: %+v %v", ms, err)
		}
		gs, err := db.Read().GroupsOfUser(ctx, u.ID)
		if err != nil || len(gs) != 1 || gs[0].Name != "noc" {
			t.Fatalf("groups: %+v %v", gs, err)
		}
		for name, fn := range map[string]func(tx *store.Tx) error{
			"duplicate slug": func(tx *store.Tx) error {
				return tx.CreateCustomer(ctx, &webnet.Customer{Name: "x", Slug: "acme", CreatedAt: t0})
			},
			"second membership": func(tx *store.Tx) error {
				return tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: acme.ID, Role: webnet.RoleMember, CreatedAt: t0})
			},
			"duplicate group": func(tx *store.Tx) error {
				return tx.CreateGroup(ctx, &webnet.Group{CustomerID: acme.ID, Name: "noc", CreatedAt: t0})
			},
		} {
			if err := db.InTx(ctx, fn); webnet.ErrorCode(err) != webnet.EConflict {
				t.Errorf("%s: %v, want conflict", name, err)
			}
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateMembership(ctx, &webnet.Membership{UserID: 424242, CustomerID: acme.ID, Role: webnet.RoleMember, CreatedAt: t0})
		})
		if webnet.ErrorCode(err) != webnet.ENotFound {
			t.Errorf("membership of a missing user: %v (foreign keys off?)", err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: acme.ID, Role: "owner", CreatedAt: t0})
		})
		if err == nil {
			t.Error("a membership with an unknown role was stored")
		}
	})
}

func TestTokensAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := createUser(t, db, "dave")
		other := createUser(t, db, "eve")
		exp := t0.Add(24 * time.Hour)
		tok := &webnet.Token{UserID: u.ID, Name: "ci", Prefix: "wn_abcd", CreatedAt: t0, ExpiresAt: &exp}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateToken(ctx, tok, "hash-1") }); err != nil {
			t.Fatal(err)
		}
		got, gu, err := db.Read().TokenByHash(ctx, "hash-1")
		if err != nil || got.ID != tok.ID || gu.Username != "dave" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) {
			t.Fatalf("token by hash: %+v %+v %v", got, gu, err)
		}
		if _, _, err := db.Read().TokenByHash(ctx, "hash-2"); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("unknown token: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchToken(ctx, tok.ID, t0.Add(time.Minute)) }); err != nil {
			t.Fatal(err)
		}
		list, total, _ := db.Read().TokensOfUser(ctx, u.ID, webnet.Page{Limit: 10})
		if len(list) != 1 || total != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("tokens of user: %+v", list)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteToken(ctx, other.ID, tok.ID) }); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("deleting another user's token: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteToken(ctx, u.ID, tok.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Read().TokenByHash(ctx, "hash-1"); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("deleted token still found: %v", err)
		}

		s := &webnet.Session{UserID: u.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, "sess-1", s) }); err != nil {
			t.Fatal(err)
		}
		gs, su, err := db.Read().SessionByHash(ctx, "sess-1")
		if err != nil || su.ID != u.ID || !gs.ExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("session: %+v %v", gs, err)
		}
		// Idle for 9 hours with an 8-hour idle limit: the janitor removes it.
		now := t0.Add(9 * time.Hour)
		var n int64
		err = db.InTx(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.DeleteExpired(ctx, now, now.Add(-8*time.Hour), now.Add(-time.Hour))
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
		if _, _, err := db.Read().SessionByHash(ctx, "sess-1"); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("expired session still found: %v", err)
		}
	})
}

func TestThrottleWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		window := 15 * time.Minute
		record := func(at time.Time) store.Throttle {
			var th store.Throttle
			if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
				th, err = tx.RecordFailure(ctx, "user:frank", at, at.Add(-window))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return th
		}
		for i := 1; i <= 3; i++ {
			if th := record(t0.Add(time.Duration(i) * time.Minute)); th.Failures != i || !th.WindowStart.Equal(t0.Add(time.Minute)) {
				t.Fatalf("failure %d: %+v", i, th)
			}
		}
		// 16 minutes after the window opened, a new window starts.
		if th := record(t0.Add(17 * time.Minute)); th.Failures != 1 || !th.WindowStart.Equal(t0.Add(17*time.Minute)) {
			t.Fatalf("after the window: %+v", th)
		}
		if st, _ := db.Read().ThrottleState(ctx, "user:frank"); st.Failures != 1 {
			t.Fatalf("state: %+v", st)
		}
		db.InTx(ctx, func(tx *store.Tx) error { return tx.ClearThrottle(ctx, "user:frank") })
		if st, _ := db.Read().ThrottleState(ctx, "user:frank"); st.Failures != 0 {
			t.Fatalf("after clear: %+v", st)
		}
	})
}
