package authz

import (
	"math/rand/v2"
	"testing"

	"webnet/internal/webnet"
)

// BenchmarkCan: one decision for one user and device, with 10,000 users' grants loaded
// (2,000 device groups, 100,000 role assignments in all, 10 per user). Budget: ≤ 1 µs and 0
// allocations per call.
func BenchmarkCan(b *testing.B) {
	const users, groups, assignments = 10000, 2000, 100000
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]*Grants, users)
	roles := []webnet.Role{webnet.RoleMember, webnet.RoleViewer, webnet.RoleOperator}
	for i := range all {
		g := NewGrants(&webnet.User{ID: int64(i + 1), IsActive: true})
		g.AddMembership(1, roles[i%len(roles)])
		all[i] = g
	}
	for range assignments {
		g := all[rng.IntN(users)]
		g.AddGroupRole(1, int64(rng.IntN(groups)+1), webnet.PermSet(rng.IntN(int(webnet.AllPerms))), Source{Kind: "device_group_role"})
	}
	perms := []webnet.Perm{webnet.PermViewDevice, webnet.PermSyncDeviceInventory, webnet.PermUpgradeDeviceFirmware, webnet.PermDeleteDevice}
	targets := make([]Target, 1024)
	for i := range targets {
		targets[i] = Target{CustomerID: 1, DeviceGroupID: int64(rng.IntN(groups) + 1)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		all[i%users].Can(perms[i%len(perms)], targets[i%len(targets)])
		i++
	}
}
