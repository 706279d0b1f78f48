package authz

import (
	"fmt"

	"webnet/internal/webnet"
)

// Explanation says why a permission holds or not on a device, in the words of design.md §2.
type Explanation struct {
	Permission string   `json:"permission"`
	Allowed    bool     `json:"allowed"`
	Step       Step     `json:"step"`
	Reason     string   `json:"reason"`
	Grants     []Source `json:"grants"`
}

// Explain returns the decision for p on t with the step and the grants that decided it. It
// is for the access explainer, not the hot path.
func (g *Grants) Explain(p webnet.Perm, t Target) Explanation {
	d := g.Decide(p, t)
	e := Explanation{Permission: p.String(), Allowed: d.Allowed, Step: d.Step, Grants: []Source{}}
	c := g.Customers[t.CustomerID]
	switch d.Step {
	case StepInactive:
		e.Reason = "The user is inactive."
	case StepBypass:
		if g.Superuser {
			e.Reason = "Superusers may do everything."
		} else {
			e.Reason = "Staff may do everything."
		}
	case StepNotMember:
		e.Reason = "The user is not a member of the device's customer."
	case StepAdmin:
		e.Reason = "The user is an admin of the device's customer."
		e.Grants = append(e.Grants, Source{Kind: "role", Name: string(webnet.RoleAdmin)})
	case StepUngrouped:
		e.Reason = "The device is in no device group: only the customer's admins see it."
	case StepRoleGrant:
		e.Reason = fmt.Sprintf("The %s role grants %s on grouped devices.", c.Role, p)
		e.Grants = append(e.Grants, Source{Kind: "role", Name: string(c.Role)})
	case StepCustomerWide:
		e.Reason = fmt.Sprintf("%s is granted customer-wide.", p)
		for _, gr := range c.WideGrants {
			if gr.Perms.Has(p) {
				e.Grants = append(e.Grants, gr.Source)
			}
		}
	case StepDeviceGroup:
		e.Reason = fmt.Sprintf("A role on the device's group grants %s.", p)
		for _, gr := range c.GroupGrants[t.DeviceGroupID] {
			if gr.Perms.Has(p) || p == webnet.PermViewDevice {
				e.Grants = append(e.Grants, gr.Source)
			}
		}
		if p == webnet.PermViewDevice {
			e.Reason = "Any role on the device's group lets the user see it."
		}
	case StepDenied:
		e.Reason = fmt.Sprintf("No role, permission, bundle or device-group role grants %s.", p)
	}
	return e
}
