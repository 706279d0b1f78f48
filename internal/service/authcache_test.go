package service_test

import (
	"context"
	"testing"
	"time"

	"webnet/internal/password"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestRevocationReachesOtherProcesses runs two webnet "processes" (two stores and identity
// services on one PostgreSQL database, as `webnet serve` twice would): a token cached by B
// stops working on B once A revokes it, and a deactivated user's token too.
func TestRevocationReachesOtherProcesses(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() (*store.DB, *service.Identity) {
		db := storetest.OpenProcess(t, cfg)
		h, _ := password.NewHasher(fastHash, 1)
		id, err := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: webnet.SystemClock{}})
		if err != nil {
			t.Fatal(err)
		}
		return db, id
	}
	dbA, a := open()
	dbB, b := open()
	listening := make(chan error, 1)
	go func() { listening <- dbB.Listen(ctx) }()
	waitFor(t, "B's listener", dbB.NotificationsReliable)

	sys := service.WithSubject(ctx, service.System())
	u, err := a.CreateSuperuser(sys, "root", "", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	key, tok, _ := a.IssueLoginToken(ctx, u)
	for range 3 { // B authenticates and caches
		if _, err := b.AuthenticateToken(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.DeleteToken(service.WithSubject(ctx, &service.Subject{User: u}), tok.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revocation on B", func() bool {
		_, err := b.AuthenticateToken(ctx, key)
		return webnet.ErrorCode(err) == webnet.EUnauthenticated
	})

	key2, _, _ := a.IssueLoginToken(ctx, u)
	if _, err := b.AuthenticateToken(ctx, key2); err != nil {
		t.Fatal(err)
	}
	if err := dbA.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserFlags(ctx, u.ID, false, true, true) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deactivation on B", func() bool {
		_, err := b.AuthenticateToken(ctx, key2)
		return webnet.ErrorCode(err) == webnet.EUnauthenticated
	})
	cancel()
	<-listening
	if dbB.NotificationsReliable() {
		t.Fatal("notifications still called reliable after the listener stopped")
	}
}

// TestNoCachingWithoutListener: on PostgreSQL without a running listener, another process's
// revocation must be seen at once, so nothing may be served from the cache.
func TestNoCachingWithoutListener(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	ctx := context.Background()
	var ids []*service.Identity
	var dbs []*store.DB
	for range 2 {
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.Migrate(ctx)
		h, _ := password.NewHasher(fastHash, 1)
		id, _ := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: webnet.SystemClock{}})
		ids, dbs = append(ids, id), append(dbs, db)
	}
	u, _ := ids[0].CreateSuperuser(service.WithSubject(ctx, service.System()), "root", "", "a long enough password")
	key, tok, _ := ids[0].IssueLoginToken(ctx, u)
	if _, err := ids[1].AuthenticateToken(ctx, key); err != nil {
		t.Fatal(err)
	}
	ids[0].DeleteToken(service.WithSubject(ctx, &service.Subject{User: u}), tok.ID)
	if _, err := ids[1].AuthenticateToken(ctx, key); webnet.ErrorCode(err) != webnet.EUnauthenticated {
		t.Fatalf("revoked token accepted by a process without a listener: %v", err)
	}
}

// TestCachedTokenStillExpires: a cached token's expiry is checked on every request.
func TestCachedTokenStillExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, fastHash)
		ctx := context.Background()
		u := f.superuser(t, "root", "a long enough password")
		sub := asUser(&service.Subject{User: u})
		ttl := int64(30)
		key, _, err := f.id.CreateToken(sub, service.NewToken{ExpiresIn: &ttl})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.id.AuthenticateToken(ctx, key); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(31 * time.Second)
		if _, err := f.id.AuthenticateToken(ctx, key); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("expired cached token: %v", err)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGrantRevocationReachesOtherProcesses: process B caches a user's grants; process A
// deletes the user's role assignment; B's next compilation no longer holds it.
func TestGrantRevocationReachesOtherProcesses(t *testing.T) {
	cfg := storetest.Config(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() (*store.DB, *service.Access) {
		db := storetest.OpenProcess(t, cfg)
		a, _ := service.NewAccess(db)
		return db, a
	}
	dbA, _ := open()
	dbB, accessB := open()
	go dbB.Listen(ctx)
	waitFor(t, "B's listener", dbB.NotificationsReliable)
	now := time.Now().UTC()
	u := &webnet.User{Username: "u", PasswordHash: "x", IsActive: true, CreatedAt: now}
	var assignment int64
	err := dbA.InTx(ctx, func(tx *store.Tx) error {
		c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: now}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: c.ID, Role: webnet.RoleMember, CreatedAt: now}); err != nil {
			return err
		}
		dg := &webnet.DeviceGroup{CustomerID: c.ID, Name: "dg", CreatedAt: now}
		if err := tx.CreateDeviceGroup(ctx, dg); err != nil {
			return err
		}
		r := &store.RoleView{DeviceGroupID: dg.ID, Name: "r", Permissions: []string{"sync_device_inventory"}, CreatedAt: now}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		a := &store.Assignment{Kind: "user", SubjectID: u.ID, RoleID: r.ID, CreatedAt: now}
		err := tx.CreateAssignment(ctx, a)
		assignment = a.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	holds := func() bool {
		g, err := accessB.Grants(service.WithSubject(ctx, &service.Subject{User: u}))
		if err != nil {
			t.Fatal(err)
		}
		return len(g.Customers[1].Groups) == 1
	}
	waitFor(t, "B sees the role", holds)
	if err := dbA.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAssignment(ctx, "user", assignment) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B drops the role", func() bool { return !holds() })
}
