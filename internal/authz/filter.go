package authz

import (
	"errors"
	"slices"
	"strings"

	"webnet/internal/webnet"
)

// Filter is an SQL condition that selects exactly the rows a decision allows. Only this
// package makes one, from Grants; the store refuses the zero Filter, so a list cannot be
// read without having been through authorization.
type Filter struct {
	sql  string
	args []any
	plan *CountPlan
}

// CountPlan describes the rows of a device filter by whole customers and groups, so that a
// list without further conditions can be counted from per-customer and per-group device
// counts instead of row by row. The parts never overlap.
type CountPlan struct {
	All              bool    // every device (staff, superusers)
	Customers        []int64 // every device of these customers
	GroupedCustomers []int64 // every grouped device of these customers
	Groups           []int64 // every device of these device groups
}

// CountPlan returns the filter's count plan, if it has one.
func (f Filter) CountPlan() (CountPlan, bool) {
	if f.plan == nil {
		return CountPlan{}, false
	}
	return *f.plan, true
}

// ErrNoFilter is what the store answers to a zero Filter.
var ErrNoFilter = errors.New("authz: list query without an authorization filter")

// Where returns the condition (with ? placeholders) and its arguments.
func (f Filter) Where() (string, []any, error) {
	if f.sql == "" {
		return "", nil, ErrNoFilter
	}
	return f.sql, f.args, nil
}

// All is the filter of the system subject: every row. Use it only for work webnet does on its
// own account (migrations, maintenance), never on behalf of a user.
func All() Filter { return Filter{sql: "1=1"} }

// DeviceFilter is Decide(p, device).Allowed as SQL over a devices table whose customer and
// device-group columns are customerCol and groupCol. It is the same procedure, step by step:
// a property test checks that both agree on random data.
func (g *Grants) DeviceFilter(p webnet.Perm, customerCol, groupCol string) Filter {
	plan := &CountPlan{}
	if !g.Active {
		return Filter{sql: "1=0", plan: plan}
	}
	if g.Superuser || g.Staff {
		return Filter{sql: "1=1", plan: &CountPlan{All: true}}
	}
	var parts []string
	var args []any
	for _, cid := range g.sortedCustomers() {
		c := g.Customers[cid]
		switch {
		case c.Role == webnet.RoleAdmin: // step 4
			parts = append(parts, customerCol+" = ?")
			args = append(args, cid)
			plan.Customers = append(plan.Customers, cid)
		case webnet.RoleGrant(c.Role).Has(p) || c.Wide.Has(p): // steps 5, 6, 7
			parts = append(parts, "("+customerCol+" = ? AND "+groupCol+" IS NOT NULL)")
			args = append(args, cid)
			plan.GroupedCustomers = append(plan.GroupedCustomers, cid)
		default: // steps 5, 8
			var ids []int64
			for gid, perms := range c.Groups {
				if perms.Has(p) || p == webnet.PermViewDevice {
					ids = append(ids, gid)
				}
			}
			if len(ids) == 0 {
				continue
			}
			slices.Sort(ids)
			parts = append(parts, "("+customerCol+" = ? AND "+groupCol+" IN ("+placeholders(len(ids))+"))")
			args = append(args, cid)
			for _, id := range ids {
				args = append(args, id)
			}
			plan.Groups = append(plan.Groups, ids...)
		}
	}
	if len(parts) == 0 {
		return Filter{sql: "1=0", plan: plan}
	}
	return Filter{sql: "(" + strings.Join(parts, " OR ") + ")", args: args, plan: plan}
}

// DeviceGroupFilter is SeesDeviceGroup as SQL over a device_groups table with the given id
// and customer columns.
func (g *Grants) DeviceGroupFilter(idCol, customerCol string) Filter {
	if !g.Active {
		return Filter{sql: "1=0"}
	}
	if g.Superuser || g.Staff {
		return Filter{sql: "1=1"}
	}
	var parts []string
	var args []any
	for _, cid := range g.sortedCustomers() {
		c := g.Customers[cid]
		if c.Role == webnet.RoleAdmin || webnet.RoleGrant(c.Role).Has(webnet.PermViewDevice) || c.Wide.Has(webnet.PermViewDevice) {
			parts = append(parts, customerCol+" = ?")
			args = append(args, cid)
			continue
		}
		if len(c.Groups) == 0 {
			continue
		}
		ids := make([]int64, 0, len(c.Groups))
		for gid := range c.Groups {
			ids = append(ids, gid)
		}
		slices.Sort(ids)
		parts = append(parts, "("+customerCol+" = ? AND "+idCol+" IN ("+placeholders(len(ids))+"))")
		args = append(args, cid)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(parts) == 0 {
		return Filter{sql: "1=0"}
	}
	return Filter{sql: "(" + strings.Join(parts, " OR ") + ")", args: args}
}

// CustomerFilter selects rows of the customers the user belongs to (any role), or all for
// staff and superusers.
func (g *Grants) CustomerFilter(customerCol string) Filter {
	return g.customerFilter(customerCol, func(*CustomerGrants) bool { return true })
}

// AdminFilter selects rows of the customers the user administers (tenant administration
// objects: memberships, groups, roles, credentials…), or all for staff and superusers.
func (g *Grants) AdminFilter(customerCol string) Filter {
	return g.customerFilter(customerCol, func(c *CustomerGrants) bool { return c.Role == webnet.RoleAdmin })
}

func (g *Grants) customerFilter(customerCol string, keep func(*CustomerGrants) bool) Filter {
	if !g.Active {
		return Filter{sql: "1=0"}
	}
	if g.Superuser || g.Staff {
		return Filter{sql: "1=1"}
	}
	var ids []int64
	for _, cid := range g.sortedCustomers() {
		if keep(g.Customers[cid]) {
			ids = append(ids, cid)
		}
	}
	if len(ids) == 0 {
		return Filter{sql: "1=0"}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return Filter{sql: customerCol + " IN (" + placeholders(len(ids)) + ")", args: args}
}

func (g *Grants) sortedCustomers() []int64 {
	ids := make([]int64, 0, len(g.Customers))
	for id, c := range g.Customers {
		if c.Role != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
