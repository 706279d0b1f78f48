package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"webnet/internal/authz"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestSQLFilterAgreesWithDecide is the property that makes lists trustworthy: on random
// customers, users, memberships, grants, bundles, groups, device groups, roles, assignments
// and devices, written to a real database, the grants compiled from the database and the SQL
// filter select exactly the devices (and device groups) that Decide allows, for every
// permission, and the kept counts equal the rows.
func TestSQLFilterAgreesWithDecide(t *testing.T) {
	for _, d := range storetest.Backends {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", d, seed), func(t *testing.T) {
				checkWorld(t, storetest.Open(t, d), rand.New(rand.NewPCG(seed, 0x5eed)), seed)
			})
		}
	}
}

type randomWorld struct {
	users   []*webnet.User
	devices []webnet.Device
	groups  []webnet.DeviceGroup
}

func checkWorld(t *testing.T, db *store.DB, rng *rand.Rand, seed uint64) {
	ctx := context.Background()
	w := buildRandomWorld(t, db, rng, seed)
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	q := db.Read()
	for _, u := range w.users {
		g, err := access.GrantsOf(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range webnet.Catalog {
			got, err := q.DeviceIDs(ctx, g.DeviceFilter(c.Perm, "d.customer_id", "d.device_group_id"))
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, d := range w.devices {
				if g.Can(c.Perm, authz.TargetOf(&d)) {
					want = append(want, d.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("user %s (%+v), %s: SQL selects %v, Decide allows %v", u.Username, g, c.Codename, got, want)
			}
			if c.Perm == webnet.PermViewDevice {
				_, total, err := q.ListDevices(ctx, g.DeviceFilter(c.Perm, "d.customer_id", "d.device_group_id"), webnet.DeviceQuery{}, webnet.Page{Limit: 1})
				if err != nil || total != len(want) {
					t.Fatalf("user %s: counted %d visible devices from the kept counts, %d rows (%v)", u.Username, total, len(want), err)
				}
			}
		}
		groups, _, err := q.ListDeviceGroups(ctx, g.DeviceGroupFilter("g.id", "g.customer_id"), nil, webnet.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []int64
		for _, dg := range groups {
			got = append(got, dg.ID)
		}
		for _, dg := range w.groups {
			if g.SeesDeviceGroup(dg.CustomerID, dg.ID) {
				want = append(want, dg.ID)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("user %s: SQL shows device groups %v, SeesDeviceGroup %v", u.Username, got, want)
		}
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func randomPerms(rng *rand.Rand, allowed webnet.PermSet, p float64) []string {
	var out []string
	for _, c := range webnet.Catalog {
		if allowed.Has(c.Perm) && rng.Float64() < p {
			out = append(out, c.Codename)
		}
	}
	return out
}

func buildRandomWorld(t *testing.T, db *store.DB, rng *rand.Rand, seed uint64) *randomWorld {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	w := &randomWorld{}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var customers []int64
		for i := range 3 {
			c := &webnet.Customer{Name: fmt.Sprintf("c%d-%d", seed, i), Slug: fmt.Sprintf("c%d-%d", seed, i), CreatedAt: now}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			customers = append(customers, c.ID)
		}
		// Bundles: one per customer; the global defaults exist already.
		bundles := map[int64][]int64{}
		for _, cid := range customers {
			id := cid
			b := &store.PermissionBundle{CustomerID: &id, Name: "b", Permissions: randomPerms(rng, webnet.AllPerms, 0.3), CreatedAt: now}
			if err := tx.CreateBundle(ctx, b); err != nil {
				return err
			}
			bundles[cid] = append(bundles[cid], b.ID)
		}
		all, _, err := tx.ListBundles(ctx, authz.All(), nil, webnet.Page{Limit: 100})
		if err != nil {
			return err
		}
		var globals []int64
		for _, b := range all {
			if b.CustomerID == nil {
				globals = append(globals, b.ID)
			}
		}
		// Device groups, roles and devices.
		var roles []*store.RoleView
		for _, cid := range customers {
			for j := range 4 {
				dg := &webnet.DeviceGroup{CustomerID: cid, Name: fmt.Sprintf("dg%d", j), CreatedAt: now}
				if err := tx.CreateDeviceGroup(ctx, dg); err != nil {
					return err
				}
				w.groups = append(w.groups, *dg)
				for k := range 2 {
					r := &store.RoleView{DeviceGroupID: dg.ID, CustomerID: cid, Name: fmt.Sprintf("r%d", k),
						Permissions: randomPerms(rng, webnet.GroupScopedPerms, 0.3), CreatedAt: now}
					if err := tx.CreateRole(ctx, r); err != nil {
						return err
					}
					roles = append(roles, r)
				}
			}
			for j := range 25 {
				d := &webnet.Device{CustomerID: cid, Name: fmt.Sprintf("d%d", j), Address: "192.0.2.1", Port: 22,
					Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
				if rng.IntN(5) > 0 { // one in five ungrouped
					gid := w.groups[len(w.groups)-1-rng.IntN(4)].ID
					d.DeviceGroupID = &gid
				}
				if err := tx.CreateDevice(ctx, d); err != nil {
					return err
				}
				w.devices = append(w.devices, *d)
			}
		}
		// Users, memberships with grants, auth groups with grants, assignments.
		roleNames := []webnet.Role{webnet.RoleMember, webnet.RoleMember, webnet.RoleViewer, webnet.RoleOperator, webnet.RoleAdmin}
		for i := range 14 {
			u := &webnet.User{Username: fmt.Sprintf("u%d", i), PasswordHash: "x", IsActive: rng.IntN(10) > 0,
				IsStaff: rng.IntN(20) == 0, IsSuperuser: rng.IntN(20) == 0, CreatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			w.users = append(w.users, u)
			for _, cid := range customers {
				if rng.IntN(3) == 0 {
					continue
				}
				m := &webnet.Membership{UserID: u.ID, CustomerID: cid, Role: pick(rng, roleNames), CreatedAt: now}
				if err := tx.CreateMembership(ctx, m); err != nil {
					return err
				}
				var bs []int64
				if rng.IntN(3) == 0 {
					bs = append(bs, pick(rng, globals))
				}
				if rng.IntN(3) == 0 {
					bs = append(bs, bundles[cid][0])
				}
				if err := tx.SetMembershipGrants(ctx, m.ID, u.ID, randomPerms(rng, webnet.AllPerms, 0.15), bs); err != nil {
					return err
				}
			}
		}
		for _, cid := range customers {
			for j := range 2 {
				g := &webnet.Group{CustomerID: cid, Name: fmt.Sprintf("g%d", j), CreatedAt: now}
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
				var members []int64
				for _, u := range w.users {
					if rng.IntN(3) == 0 {
						members = append(members, u.ID)
					}
				}
				if err := tx.SetGroupUsers(ctx, g.ID, members); err != nil {
					return err
				}
				var bs []int64
				if rng.IntN(2) == 0 {
					bs = append(bs, bundles[cid][0])
				}
				if err := tx.SetGroupGrants(ctx, g.ID, randomPerms(rng, webnet.AllPerms, 0.1), bs); err != nil {
					return err
				}
				for _, r := range roles {
					if r.CustomerID == cid && rng.IntN(6) == 0 {
						if err := tx.CreateAssignment(ctx, &store.Assignment{Kind: "group", SubjectID: g.ID, RoleID: r.ID, CreatedAt: now}); err != nil {
							return err
						}
					}
				}
			}
		}
		for _, u := range w.users {
			for _, r := range roles {
				if rng.IntN(8) == 0 {
					if err := tx.CreateAssignment(ctx, &store.Assignment{Kind: "user", SubjectID: u.ID, RoleID: r.ID, CreatedAt: now}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(w.devices, func(a, b webnet.Device) int { return int(a.ID - b.ID) })
	return w
}
