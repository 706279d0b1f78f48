package service

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ListGroups returns a page of the auth groups of the customers the caller administers (all
// for staff and superusers), optionally of one customer, filtered in the query. Any
// signed-in user may call it. Errors: unauthenticated.
func (c *Core) ListGroups(ctx context.Context, customerID *int64, page webnet.Page) ([]store.AuthGroup, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListAuthGroups(ctx, g.AdminFilter("g.customer_id"), customerID, page)
}

// groupOf loads an auth group and checks that the caller administers its customer:
// not_found if the customer is invisible to them, forbidden if they are only a member.
func (c *Core) groupOf(ctx context.Context, g *authz.Grants, id int64) (*store.AuthGroup, error) {
	ag, err := c.db.Read().AuthGroupByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !seesCustomer(g, ag.CustomerID) {
		return nil, notFoundErr("Group")
	}
	return ag, nil
}

// GetGroup returns an auth group of a customer the caller administers. Errors:
// unauthenticated, not_found, forbidden (a member, not an admin, of the group's customer).
func (c *Core) GetGroup(ctx context.Context, id int64) (*store.AuthGroup, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	ag, err := c.groupOf(ctx, g, id)
	if err != nil {
		return nil, err
	}
	if err := adminOf(g, ag.CustomerID, "Group"); err != nil {
		return nil, err
	}
	return ag, nil
}

// GroupInput is the body of POST /api/groups/.
type GroupInput struct {
	Customer    *int64   `json:"customer"`
	Name        string   `json:"name"`
	Users       []int64  `json:"users"`
	Permissions []string `json:"permissions"`
	Bundles     []int64  `json:"bundles"`
}

// GroupPatch is the body of PATCH /api/groups/{id}/: only the given fields change.
type GroupPatch struct {
	Name        *string   `json:"name"`
	Users       *[]int64  `json:"users"`
	Permissions *[]string `json:"permissions"`
	Bundles     *[]int64  `json:"bundles"`
}

func groupFields(ag *store.AuthGroup) map[string]any {
	return map[string]any{"name": ag.Name, "users": ag.Users, "permissions": ag.Permissions, "bundles": ag.Bundles}
}

// checkGroup validates an auth group's name, grants (see grantInput) and users, who must be
// members of its customer; it normalises the lists.
func (c *Core) checkGroup(ctx context.Context, g *authz.Grants, ag *store.AuthGroup) error {
	var err error
	if ag.Permissions, ag.Bundles, err = c.grantInput(ctx, g, ag.CustomerID, ag.Permissions, ag.Bundles); err != nil {
		return err
	}
	f := fieldErrors{}
	f.checkName("name", ag.Name)
	ag.Users = distinctIDs(ag.Users)
	if len(ag.Users) > 10000 {
		f.add("users", "At most 10000 users.")
	} else {
		members, err := c.db.Read().MembersOf(ctx, ag.CustomerID, ag.Users)
		if err != nil {
			return err
		}
		if len(members) != len(ag.Users) {
			in := map[int64]bool{}
			for _, id := range members {
				in[id] = true
			}
			var out []int64
			for _, id := range ag.Users {
				if !in[id] {
					out = append(out, id)
				}
			}
			f.add("users", fmt.Sprintf("Not members of the group's customer: %s.", joinIDs(out)))
		}
	}
	return f.err("Invalid group.")
}

// CreateGroup creates an auth group with its users and customer-wide grants. The caller must
// administer the customer. Errors: unauthenticated, not_found (customer or bundle not
// visible), forbidden, invalid (users who are not members of the customer), conflict (name
// taken in the customer).
func (c *Core) CreateGroup(ctx context.Context, in GroupInput) (*store.AuthGroup, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		if !g.Bypass() && !administersAny(g) {
			return nil, c.denied(ctx, entry{action: "group.create", objectType: "group", repr: in.Name}, forbidden("Only customers' admins manage groups."))
		}
		return nil, webnet.Invalid("Invalid group.", map[string]string{"customer": "This field is required."})
	}
	e := entry{action: "group.create", objectType: "group", repr: in.Name, customerID: *in.Customer}
	if err := adminOf(g, *in.Customer, "Customer"); err != nil {
		return nil, c.denied(ctx, e, withField(err, "customer", "No such customer."))
	}
	if _, err := c.db.Read().CustomerByID(ctx, *in.Customer); err != nil {
		return nil, withField(err, "customer", "No such customer.")
	}
	ag := &store.AuthGroup{Group: webnet.Group{CustomerID: *in.Customer, Name: in.Name, CreatedAt: c.clock.Now()},
		Users: in.Users, Permissions: in.Permissions, Bundles: in.Bundles}
	if err := c.checkGroup(ctx, g, ag); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateGroup(ctx, &ag.Group); err != nil {
			return err
		}
		if err := tx.SetGroupUsers(ctx, ag.ID, ag.Users); err != nil {
			return err
		}
		if err := tx.SetGroupGrants(ctx, ag.ID, ag.Permissions, ag.Bundles); err != nil {
			return err
		}
		e.objectID = ag.ID
		e.details = map[string]any{"after": groupFields(ag)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return ag, nil
}

// UpdateGroup changes an auth group's name, users, permissions or bundles; the change reaches
// the users' next requests in every process. The caller must administer the group's
// customer. Errors: unauthenticated, not_found, forbidden, invalid, conflict (name taken).
func (c *Core) UpdateGroup(ctx context.Context, id int64, p GroupPatch) (*store.AuthGroup, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	ag, err := c.groupOf(ctx, g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "group.update", objectType: "group", objectID: ag.ID, repr: ag.Name, customerID: ag.CustomerID}
	if err := adminOf(g, ag.CustomerID, "Group"); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	next := *ag
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Users != nil {
		next.Users = *p.Users
	}
	if p.Permissions != nil {
		next.Permissions = *p.Permissions
	}
	if p.Bundles != nil {
		next.Bundles = *p.Bundles
	}
	if err := c.checkGroup(ctx, g, &next); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if next.Name != ag.Name {
			if err := tx.RenameGroup(ctx, ag.ID, next.Name); err != nil {
				return err
			}
		}
		if err := tx.SetGroupUsers(ctx, ag.ID, next.Users); err != nil {
			return err
		}
		if err := tx.SetGroupGrants(ctx, ag.ID, next.Permissions, next.Bundles); err != nil {
			return err
		}
		e.details = changes(groupFields(ag), groupFields(&next))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// DeleteGroup deletes an auth group with its grants and device-group role assignments. The
// caller must administer the group's customer. Errors: unauthenticated, not_found,
// forbidden.
func (c *Core) DeleteGroup(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	ag, err := c.groupOf(ctx, g, id)
	if err != nil {
		return err
	}
	e := entry{action: "group.delete", objectType: "group", objectID: ag.ID, repr: ag.Name, customerID: ag.CustomerID}
	if err := adminOf(g, ag.CustomerID, "Group"); err != nil {
		return c.denied(ctx, e, err)
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteGroup(ctx, ag.ID); err != nil {
			return err
		}
		e.details = map[string]any{"before": groupFields(ag)}
		return c.audit(ctx, tx, e)
	})
}
