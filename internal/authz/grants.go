// Package authz is the decision procedure of design.md §2, and only that: given a user's
// compiled Grants it answers whether a permission holds on a device, whether the device is
// visible, and which step decided; and it writes the same rule as an SQL condition, so that
// lists are filtered in the database by exactly what Decide says. It does no I/O and imports
// only the domain.
package authz

import "webnet/internal/webnet"

// Source names where a grant comes from, for the access explainer.
type Source struct {
	Kind string `json:"kind"` // role, membership, bundle, group, group_bundle, device_group_role
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Via is the auth group through which a device-group role was assigned (0: directly).
	Via     int64  `json:"via_group,omitempty"`
	ViaName string `json:"via_group_name,omitempty"`
}

// Grant is one permission set from one source.
type Grant struct {
	Perms  webnet.PermSet
	Source Source
}

// CustomerGrants is a user's standing in one customer.
type CustomerGrants struct {
	Role webnet.Role
	// Wide is every customer-wide permission (membership, its bundles, the user's groups and
	// their bundles), not counting the role's fixed grant.
	Wide webnet.PermSet
	// Groups maps a device group to the permissions the user's roles on it hold. Presence
	// alone (even with no permission) makes the group's devices visible.
	Groups map[int64]webnet.PermSet

	// WideGrants and GroupGrants keep the sources, for explanations only.
	WideGrants  []Grant
	GroupGrants map[int64][]Grant
}

// Grants is everything that decides what one user may do. Build it with NewGrants and Add*;
// after that it is read-only and safe to share between goroutines.
type Grants struct {
	UserID    int64
	Active    bool
	Superuser bool
	Staff     bool
	Customers map[int64]*CustomerGrants
}

// NewGrants returns the grants of a user with no membership yet.
func NewGrants(u *webnet.User) *Grants {
	return &Grants{UserID: u.ID, Active: u.IsActive, Superuser: u.IsSuperuser, Staff: u.IsStaff,
		Customers: map[int64]*CustomerGrants{}}
}

// Bypass reports whether staff/superuser status lets the user past every check.
func (g *Grants) Bypass() bool { return g.Active && (g.Superuser || g.Staff) }

func (g *Grants) customer(id int64) *CustomerGrants {
	c, ok := g.Customers[id]
	if !ok {
		c = &CustomerGrants{Groups: map[int64]webnet.PermSet{}, GroupGrants: map[int64][]Grant{}}
		g.Customers[id] = c
	}
	return c
}

// AddMembership records the user's role in a customer.
func (g *Grants) AddMembership(customerID int64, role webnet.Role) {
	g.customer(customerID).Role = role
}

// AddWide records customer-wide permissions from src.
func (g *Grants) AddWide(customerID int64, perms webnet.PermSet, src Source) {
	c := g.customer(customerID)
	c.Wide |= perms
	c.WideGrants = append(c.WideGrants, Grant{Perms: perms, Source: src})
}

// AddGroupRole records a device-group role's permissions on a group.
func (g *Grants) AddGroupRole(customerID, deviceGroupID int64, perms webnet.PermSet, src Source) {
	c := g.customer(customerID)
	c.Groups[deviceGroupID] |= perms
	c.GroupGrants[deviceGroupID] = append(c.GroupGrants[deviceGroupID], Grant{Perms: perms, Source: src})
}

// Member reports whether the user has a membership (any role) in the customer.
func (g *Grants) Member(customerID int64) bool {
	c, ok := g.Customers[customerID]
	return ok && c.Role != ""
}

// Admin reports whether the user administers the customer: its admin, or staff/superuser.
func (g *Grants) Admin(customerID int64) bool {
	if !g.Active {
		return false
	}
	if g.Bypass() {
		return true
	}
	c, ok := g.Customers[customerID]
	return ok && c.Role == webnet.RoleAdmin
}

// MemberCustomers lists the customers the user belongs to.
func (g *Grants) MemberCustomers() []int64 {
	var out []int64
	for id, c := range g.Customers {
		if c.Role != "" {
			out = append(out, id)
		}
	}
	return out
}
