package authz

import "webnet/internal/webnet"

// Target is what a device decision needs to know about the device.
type Target struct {
	CustomerID    int64
	DeviceGroupID int64 // 0: ungrouped
}

// TargetOf returns the Target of d.
func TargetOf(d *webnet.Device) Target {
	return Target{CustomerID: d.CustomerID, DeviceGroupID: d.GroupID()}
}

// Step numbers the steps of the procedure of design.md §2.
type Step uint8

// The steps, in order.
const (
	StepInactive      Step = 1
	StepBypass        Step = 2
	StepNotMember     Step = 3
	StepAdmin         Step = 4
	StepUngrouped     Step = 5
	StepRoleGrant     Step = 6
	StepCustomerWide  Step = 7
	StepDeviceGroup   Step = 8
	StepDenied        Step = 9
	stepViewByAnyRole Step = 8 // view_device via any role on the group is step 8 too
)

// Decision is the outcome for one permission on one device.
type Decision struct {
	Allowed bool
	// Visible: the device exists for this user; a denial answers 403 if visible, else 404.
	Visible bool
	Step    Step
}

// Decide runs the procedure of design.md §2 for permission p on target t. It allocates
// nothing.
func (g *Grants) Decide(p webnet.Perm, t Target) Decision {
	if !g.Active {
		return Decision{Step: StepInactive}
	}
	if g.Superuser || g.Staff {
		return Decision{Allowed: true, Visible: true, Step: StepBypass}
	}
	c, ok := g.Customers[t.CustomerID]
	if !ok || c.Role == "" {
		return Decision{Step: StepNotMember}
	}
	if c.Role == webnet.RoleAdmin {
		return Decision{Allowed: true, Visible: true, Step: StepAdmin}
	}
	if t.DeviceGroupID == 0 {
		return Decision{Step: StepUngrouped}
	}
	fixed := webnet.RoleGrant(c.Role)
	groupPerms, onGroup := c.Groups[t.DeviceGroupID]
	visible := fixed.Has(webnet.PermViewDevice) || c.Wide.Has(webnet.PermViewDevice) || onGroup
	switch {
	case fixed.Has(p):
		return Decision{Allowed: true, Visible: true, Step: StepRoleGrant}
	case c.Wide.Has(p):
		return Decision{Allowed: true, Visible: true, Step: StepCustomerWide}
	case groupPerms.Has(p):
		return Decision{Allowed: true, Visible: true, Step: StepDeviceGroup}
	case p == webnet.PermViewDevice && onGroup:
		return Decision{Allowed: true, Visible: true, Step: stepViewByAnyRole}
	}
	return Decision{Visible: visible, Step: StepDenied}
}

// Can reports whether p holds on t.
func (g *Grants) Can(p webnet.Perm, t Target) bool { return g.Decide(p, t).Allowed }

// Visible reports whether the device exists for the user (view_device holds).
func (g *Grants) Visible(t Target) bool { return g.Decide(webnet.PermViewDevice, t).Allowed }

// Perms returns every permission that holds on t, as a set.
func (g *Grants) Perms(t Target) webnet.PermSet {
	var s webnet.PermSet
	for _, c := range webnet.Catalog {
		if g.Decide(c.Perm, t).Allowed {
			s = s.Add(c.Perm)
		}
	}
	return s
}

// CanAddTo reports whether the user may create a device in customer c and device group dg
// (0: ungrouped): add_device customer-wide or on the group (design.md §2). Non-admins must
// name a group.
func (g *Grants) CanAddTo(customerID, deviceGroupID int64) bool {
	return g.Can(webnet.PermAddDevice, Target{CustomerID: customerID, DeviceGroupID: deviceGroupID})
}

// SeesDeviceGroup reports whether a device group is visible: to the customer's admins, to
// holders of any role on it, and to holders of customer-wide view_device.
func (g *Grants) SeesDeviceGroup(customerID, deviceGroupID int64) bool {
	if !g.Active {
		return false
	}
	if g.Bypass() {
		return true
	}
	c, ok := g.Customers[customerID]
	if !ok || c.Role == "" {
		return false
	}
	if c.Role == webnet.RoleAdmin || webnet.RoleGrant(c.Role).Has(webnet.PermViewDevice) || c.Wide.Has(webnet.PermViewDevice) {
		return true
	}
	_, onGroup := c.Groups[deviceGroupID]
	return onGroup
}
