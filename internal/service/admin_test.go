package service_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"webnet/internal/authz"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// newAdminCore returns a Core without a password hasher (NewCore does not require one) and a
// context acting as a fresh superuser.
func newAdminCore(t *testing.T, db *store.DB) (*service.Core, context.Context) {
	t.Helper()
	clock := webnet.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	u := &webnet.User{Username: "root", PasswordHash: "unusable", IsActive: true, IsStaff: true, IsSuperuser: true, CreatedAt: clock.Now()}
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	return core, service.WithSubject(ctx, &service.Subject{User: u})
}

func catalogRecords(t *testing.T, db *store.DB) []store.Activity {
	t.Helper()
	all, _, err := db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "a.action = 'catalog.init'"}, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestInitDeviceGroupPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, asRoot := newAdminCore(t, db)
		sys := service.WithSubject(context.Background(), service.System())

		// Only the system subject: even a superuser is refused, and the refusal is audited.
		if _, err := core.InitDeviceGroupPermissions(asRoot); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("superuser: %v", err)
		}
		if _, err := core.InitDeviceGroupPermissions(context.Background()); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("no subject: %v", err)
		}
		if recs := catalogRecords(t, db); len(recs) != 2 || recs[0].Result != "denied" || recs[1].ActorUsername != "root" {
			t.Fatalf("denials: %+v", recs)
		}

		// Migrate already initialised the catalog: nothing to create, still audited.
		n, err := core.InitDeviceGroupPermissions(sys)
		if err != nil || n != 0 {
			t.Fatalf("second init: %d, %v", n, err)
		}
		// A deleted default bundle comes back (with its permissions); the rest is untouched.
		ctx := context.Background()
		bundles, _, err := db.Read().ListBundles(ctx, authz.All(), nil, webnet.Page{Limit: 10})
		if err != nil || len(bundles) != len(store.DefaultBundles) {
			t.Fatalf("default bundles: %v, %v", bundles, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteBundle(ctx, bundles[0].ID) }); err != nil {
			t.Fatal(err)
		}
		if n, err = core.InitDeviceGroupPermissions(sys); err != nil || n != 1 {
			t.Fatalf("init after a deleted bundle: %d, %v", n, err)
		}
		recs := catalogRecords(t, db)
		if len(recs) != 4 || recs[0].Result != "success" || recs[0].ActorUsername != "system" {
			t.Fatalf("records: %+v", recs)
		}
		var d map[string]any
		if err := json.Unmarshal(recs[0].Details, &d); err != nil || d["created"] != 1.0 {
			t.Fatalf("details %s", recs[0].Details)
		}
		after, _, _ := db.Read().ListBundles(ctx, authz.All(), nil, webnet.Page{Limit: 10})
		for _, b := range after {
			if b.Name == bundles[0].Name && len(b.Permissions) != len(bundles[0].Permissions) {
				t.Fatalf("restored %s has %v, had %v", b.Name, b.Permissions, bundles[0].Permissions)
			}
		}
	})
}

func TestCreateUserWithoutHasherIsInternal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, asRoot := newAdminCore(t, db)
		_, err := core.CreateUser(asRoot, service.UserInput{Username: "dave", Password: "a long enough password"})
		if webnet.ErrorCode(err) != webnet.EInternal {
			t.Fatalf("CreateUser without a hasher: %v", err)
		}
		if n, _ := db.Read().CountUsers(context.Background()); n != 1 {
			t.Fatalf("%d users", n)
		}
		// Validation still comes first, and reads need no hasher.
		if _, err := core.CreateUser(asRoot, service.UserInput{Username: "dave", Password: "short"}); webnet.ErrorCode(err) != webnet.EInvalid {
			t.Fatalf("short password: %v", err)
		}
		if _, n, err := core.ListUsers(asRoot, service.UserFilter{}, webnet.Page{Limit: 10}); err != nil || n != 1 {
			t.Fatalf("list: %d, %v", n, err)
		}
	})
}

func TestAdminMethodsNeedASubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		core, _ := newAdminCore(t, db)
		ctx := context.Background()
		page := webnet.Page{Limit: 10}
		calls := map[string]error{}
		_, _, calls["ListCustomers"] = core.ListCustomers(ctx, page)
		_, calls["CreateCustomer"] = core.CreateCustomer(ctx, service.CustomerInput{Name: "x", Slug: "x"})
		_, _, calls["ListUsers"] = core.ListUsers(ctx, service.UserFilter{}, page)
		_, calls["CreateUser"] = core.CreateUser(ctx, service.UserInput{Username: "x"})
		_, _, calls["ListMemberships"] = core.ListMemberships(ctx, service.MembershipFilter{}, page)
		_, calls["CreateMembership"] = core.CreateMembership(ctx, service.MembershipInput{})
		_, _, calls["ListGroups"] = core.ListGroups(ctx, nil, page)
		_, calls["CreateGroup"] = core.CreateGroup(ctx, service.GroupInput{})
		_, _, calls["ListBundles"] = core.ListBundles(ctx, nil, page)
		_, calls["CreateBundle"] = core.CreateBundle(ctx, service.BundleInput{Name: "x"})
		_, calls["Permissions"] = core.Permissions(ctx)
		_, calls["DeviceGroupPermissions"] = core.DeviceGroupPermissions(ctx)
		for name, err := range calls {
			if webnet.ErrorCode(err) != webnet.EUnauthenticated {
				t.Errorf("%s without a subject: %v", name, err)
			}
		}
	})
}
