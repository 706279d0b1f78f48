package authz

import (
	"testing"

	"webnet/internal/webnet"
)

const (
	acme, globex int64 = 1, 2
	core, edge   int64 = 10, 11 // device groups of acme
	gx           int64 = 20     // device group of globex
)

func user(active, staff, superuser bool) *Grants {
	return NewGrants(&webnet.User{ID: 7, IsActive: active, IsStaff: staff, IsSuperuser: superuser})
}

func member(role webnet.Role) *Grants {
	g := user(true, false, false)
	g.AddMembership(acme, role)
	return g
}

// TestDecideWalksEveryStep checks each step of design.md §2 in order, for a device in group
// core of acme unless said otherwise.
func TestDecideWalksEveryStep(t *testing.T) {
	grouped := Target{CustomerID: acme, DeviceGroupID: core}
	ungrouped := Target{CustomerID: acme}
	other := Target{CustomerID: globex, DeviceGroupID: gx}

	withWide := member(webnet.RoleMember)
	withWide.AddWide(acme, webnet.CRUDPerms, Source{Kind: "bundle", Name: "Device Manager"})
	withGroupRole := member(webnet.RoleMember)
	withGroupRole.AddGroupRole(acme, core, webnet.PermSet(webnet.PermSyncDeviceInventory), Source{Kind: "device_group_role"})
	emptyRole := member(webnet.RoleMember)
	emptyRole.AddGroupRole(acme, core, 0, Source{Kind: "device_group_role"})
	inactiveSuper := user(false, true, true)
	inactiveSuper.AddMembership(acme, webnet.RoleAdmin)
	crossTenant := user(true, false, false)
	crossTenant.AddMembership(globex, webnet.RoleAdmin)
	crossTenant.AddWide(globex, webnet.AllPerms, Source{Kind: "membership"})

	cases := []struct {
		name    string
		g       *Grants
		p       webnet.Perm
		t       Target
		allowed bool
		visible bool
		step    Step
	}{
		{"1 inactive, even superuser", inactiveSuper, webnet.PermViewDevice, grouped, false, false, StepInactive},
		{"2 superuser bypass", user(true, false, true), webnet.PermUpgradeDeviceFirmware, other, true, true, StepBypass},
		{"2 staff bypass, also of tenancy", user(true, true, false), webnet.PermDeleteDevice, ungrouped, true, true, StepBypass},
		{"3 no membership: invisible", user(true, false, false), webnet.PermViewDevice, grouped, false, false, StepNotMember},
		{"3 grants in one customer mean nothing in another", crossTenant, webnet.PermViewDevice, grouped, false, false, StepNotMember},
		{"4 admin: everything, ungrouped too", member(webnet.RoleAdmin), webnet.PermUpgradeDeviceFirmware, ungrouped, true, true, StepAdmin},
		{"5 ungrouped hidden from viewers", member(webnet.RoleViewer), webnet.PermViewDevice, ungrouped, false, false, StepUngrouped},
		{"5 before 7: customer-wide never reaches ungrouped", withWide, webnet.PermViewDevice, ungrouped, false, false, StepUngrouped},
		{"6 viewer views", member(webnet.RoleViewer), webnet.PermViewDevice, grouped, true, true, StepRoleGrant},
		{"6 operator syncs", member(webnet.RoleOperator), webnet.PermSyncDeviceInventory, grouped, true, true, StepRoleGrant},
		{"6 operator checks readiness", member(webnet.RoleOperator), webnet.PermCheckDeviceReadiness, grouped, true, true, StepRoleGrant},
		{"9 operator may not upgrade: 403", member(webnet.RoleOperator), webnet.PermUpgradeDeviceFirmware, grouped, false, true, StepDenied},
		{"9 viewer may not delete: 403", member(webnet.RoleViewer), webnet.PermDeleteDevice, grouped, false, true, StepDenied},
		{"7 customer-wide CRUD", withWide, webnet.PermDeleteDevice, grouped, true, true, StepCustomerWide},
		{"9 CRUD never implies sync", withWide, webnet.PermSyncDeviceInventory, grouped, false, true, StepDenied},
		{"9 CRUD never implies upgrade", withWide, webnet.PermUpgradeDeviceFirmware, grouped, false, true, StepDenied},
		{"8 device-group role grants sync", withGroupRole, webnet.PermSyncDeviceInventory, grouped, true, true, StepDeviceGroup},
		{"8 any role lets view", emptyRole, webnet.PermViewDevice, grouped, true, true, StepDeviceGroup},
		{"9 role on core says nothing of edge: 404", withGroupRole, webnet.PermViewDevice, Target{CustomerID: acme, DeviceGroupID: edge}, false, false, StepDenied},
		{"9 role without the code: 403", emptyRole, webnet.PermSyncDeviceInventory, grouped, false, true, StepDenied},
		{"9 member with nothing: 404", member(webnet.RoleMember), webnet.PermViewDevice, grouped, false, false, StepDenied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.g.Decide(c.p, c.t)
			if d.Allowed != c.allowed || d.Visible != c.visible || d.Step != c.step {
				t.Fatalf("Decide(%s) = %+v; want allowed=%v visible=%v step=%d", c.p, d, c.allowed, c.visible, c.step)
			}
			if e := c.g.Explain(c.p, c.t); e.Allowed != c.allowed || e.Step != c.step || e.Reason == "" {
				t.Fatalf("Explain disagrees: %+v", e)
			}
			if c.g.Visible(c.t) != c.visible {
				t.Fatalf("Visible = %v, want %v", c.g.Visible(c.t), c.visible)
			}
		})
	}
}

func TestDeviceGroupVisibility(t *testing.T) {
	viewerWide := member(webnet.RoleMember)
	viewerWide.AddWide(acme, webnet.PermSet(webnet.PermViewDevice), Source{Kind: "membership"})
	onCore := member(webnet.RoleMember)
	onCore.AddGroupRole(acme, core, 0, Source{})
	for _, c := range []struct {
		name string
		g    *Grants
		cust int64
		dg   int64
		want bool
	}{
		{"admin", member(webnet.RoleAdmin), acme, edge, true},
		{"viewer role", member(webnet.RoleViewer), acme, edge, true},
		{"customer-wide view_device", viewerWide, acme, edge, true},
		{"role on the group", onCore, acme, core, true},
		{"role on another group", onCore, acme, edge, false},
		{"plain member", member(webnet.RoleMember), acme, core, false},
		{"other customer", member(webnet.RoleAdmin), globex, gx, false},
		{"staff", user(true, true, false), globex, gx, true},
	} {
		if got := c.g.SeesDeviceGroup(c.cust, c.dg); got != c.want {
			t.Errorf("%s: SeesDeviceGroup = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestZeroFilterRefused(t *testing.T) {
	if _, _, err := (Filter{}).Where(); err != ErrNoFilter {
		t.Fatalf("zero filter: %v", err)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	g := member(webnet.RoleOperator)
	g.AddGroupRole(acme, core, webnet.PermSet(webnet.PermUpgradeDeviceFirmware), Source{})
	tg := Target{CustomerID: acme, DeviceGroupID: core}
	if n := testing.AllocsPerRun(100, func() { g.Can(webnet.PermUpgradeDeviceFirmware, tg) }); n != 0 {
		t.Fatalf("Can allocates %v times", n)
	}
}
