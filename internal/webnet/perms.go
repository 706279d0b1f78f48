package webnet

import (
	"math/bits"
	"strings"
)

// Perm is one device permission of the catalog (design.md §2). Perms are bits so that a set
// of them is one integer and checking one is a mask: authorization on the hot path
// allocates nothing.
type Perm uint16

// The permission catalog: model permissions of app "devices", the last three being the
// custom actions that CRUD never implies.
const (
	PermViewDevice Perm = 1 << iota
	PermAddDevice
	PermChangeDevice
	PermDeleteDevice
	PermEnableDevice
	PermViewConfiguration
	PermViewBackups
	PermEditConfiguration
	PermSyncDeviceInventory
	PermCheckDeviceReadiness
	PermUpgradeDeviceFirmware

	permEnd
)

// AllPerms is the set of every permission.
const AllPerms = PermSet(permEnd - 1)

// PermInfo describes a permission for the catalog endpoints.
type PermInfo struct {
	Perm         Perm   `json:"-"`
	Codename     string `json:"codename"`
	App          string `json:"app"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	CustomAction bool   `json:"custom_action"`
	// GroupScoped: a device-group role may hold it (design.md §2).
	GroupScoped bool `json:"group_scoped"`
}

// Catalog lists every permission in bit order.
var Catalog = []PermInfo{
	{PermViewDevice, "view_device", "devices", "Can view device", "See the device and its facts.", false, false},
	{PermAddDevice, "add_device", "devices", "Can add device", "Create devices (customer-wide or in a group).", false, true},
	{PermChangeDevice, "change_device", "devices", "Can change device", "Edit a device's fields or move it between groups.", false, false},
	{PermDeleteDevice, "delete_device", "devices", "Can delete device", "Delete devices.", false, true},
	{PermEnableDevice, "enable_device", "devices", "Can enable/disable device", "Enable or disable devices.", false, true},
	{PermViewConfiguration, "view_configuration", "devices", "Can view configuration", "Show configuration content and diffs.", false, true},
	{PermViewBackups, "view_backups", "devices", "Can view backups", "List backup history and download backup files.", false, true},
	{PermEditConfiguration, "edit_configuration", "devices", "Can edit configuration", "Push configuration to devices.", false, true},
	{PermSyncDeviceInventory, "sync_device_inventory", "devices", "Can sync device inventory", "Connect to devices and collect facts and backups.", true, true},
	{PermCheckDeviceReadiness, "check_device_readiness", "devices", "Can check device readiness", "Run readiness and compliance checks.", true, true},
	{PermUpgradeDeviceFirmware, "upgrade_device_firmware", "devices", "Can upgrade device firmware", "Upgrade device firmware (high risk).", true, true},
}

// Info returns the catalog entry of p.
func (p Perm) Info() PermInfo { return Catalog[bits.TrailingZeros16(uint16(p))] }

// String returns the codename.
func (p Perm) String() string {
	if p == 0 || p >= permEnd || p&(p-1) != 0 {
		return "invalid"
	}
	return p.Info().Codename
}

// ParsePerm reads a codename, with or without the "devices." app prefix.
func ParsePerm(s string) (Perm, bool) {
	s = strings.TrimPrefix(s, "devices.")
	for _, c := range Catalog {
		if c.Codename == s {
			return c.Perm, true
		}
	}
	return 0, false
}

// PermSet is a set of permissions.
type PermSet uint16

// Has reports whether p is in s.
func (s PermSet) Has(p Perm) bool { return s&PermSet(p) != 0 }

// Add returns s with p.
func (s PermSet) Add(p Perm) PermSet { return s | PermSet(p) }

// Codenames lists the set's codenames in catalog order.
func (s PermSet) Codenames() []string {
	out := []string{}
	for _, c := range Catalog {
		if s.Has(c.Perm) {
			out = append(out, c.Codename)
		}
	}
	return out
}

// GroupScopedPerms are the codes a device-group role may hold.
const GroupScopedPerms = PermSet(PermAddDevice | PermDeleteDevice | PermEnableDevice | PermViewConfiguration |
	PermViewBackups | PermEditConfiguration | PermSyncDeviceInventory | PermCheckDeviceReadiness | PermUpgradeDeviceFirmware)

// CRUDPerms are the model CRUD permissions.
const CRUDPerms = PermSet(PermViewDevice | PermAddDevice | PermChangeDevice | PermDeleteDevice)

// ParsePermSet reads codenames into a set. allowed limits which are acceptable; unknown or
// disallowed names are reported in the returned list.
func ParsePermSet(names []string, allowed PermSet) (PermSet, []string) {
	var s PermSet
	var bad []string
	for _, n := range names {
		p, ok := ParsePerm(n)
		if !ok || !allowed.Has(p) {
			bad = append(bad, n)
			continue
		}
		s = s.Add(p)
	}
	return s, bad
}

// RoleGrant is the fixed, customer-wide grant of a membership role on grouped devices.
// Admin is not here: it allows everything in its customer by its own step.
func RoleGrant(r Role) PermSet {
	switch r {
	case RoleViewer:
		return PermSet(PermViewDevice)
	case RoleOperator:
		return PermSet(PermViewDevice | PermSyncDeviceInventory | PermCheckDeviceReadiness)
	}
	return 0
}
