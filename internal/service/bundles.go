package service

import (
	"context"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ListBundles returns a page of the permission bundles the caller may see: every global
// bundle, and the bundles of the customers the caller administers (all for staff and
// superusers), optionally of one customer, filtered in the query. Any signed-in user may call
// it. Errors: unauthenticated.
func (c *Core) ListBundles(ctx context.Context, customerID *int64, page webnet.Page) ([]store.PermissionBundle, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListBundles(ctx, g.AdminFilter("b.customer_id"), customerID, page)
}

// bundleOf loads a bundle that exists for the caller: a global one, or one of a customer they
// are a member of (admins only may then read or change it: see mayManageBundle).
func (c *Core) bundleOf(ctx context.Context, g *authz.Grants, id int64) (*store.PermissionBundle, error) {
	b, err := c.db.Read().BundleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !g.Active || (b.CustomerID != nil && !seesCustomer(g, *b.CustomerID)) {
		return nil, notFoundErr("Bundle")
	}
	return b, nil
}

// mayManageBundle says whether the caller may change bundles of customerID (nil: global
// bundles, staff-managed).
func mayManageBundle(g *authz.Grants, customerID *int64) error {
	if customerID == nil {
		if !g.Bypass() {
			return forbidden("Only staff manage global permission bundles.")
		}
		return nil
	}
	return adminOf(g, *customerID, "Bundle")
}

// GetBundle returns a global bundle, or a bundle of a customer the caller administers.
// Errors: unauthenticated, not_found, forbidden (a member, not an admin, of the bundle's
// customer).
func (c *Core) GetBundle(ctx context.Context, id int64) (*store.PermissionBundle, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	b, err := c.bundleOf(ctx, g, id)
	if err != nil {
		return nil, err
	}
	if b.CustomerID != nil {
		if err := adminOf(g, *b.CustomerID, "Bundle"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// BundleInput is the body of POST /api/permission-bundles/; a null or absent customer makes
// a global bundle.
type BundleInput struct {
	Customer    *int64   `json:"customer"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

// BundlePatch is the body of PATCH /api/permission-bundles/{id}/: only the given fields
// change.
type BundlePatch struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Permissions *[]string `json:"permissions"`
}

func bundleFields(b *store.PermissionBundle) map[string]any {
	return map[string]any{"customer": ptrValue(b.CustomerID), "name": b.Name, "description": b.Description, "permissions": b.Permissions}
}

func validateBundle(b *store.PermissionBundle) error {
	f := fieldErrors{}
	f.checkName("name", b.Name)
	f.checkDescription("description", b.Description)
	set, bad := webnet.ParsePermSet(b.Permissions, webnet.AllPerms)
	if len(bad) > 0 {
		f.add("permissions", "Unknown permission: "+strings.Join(bad, ", ")+".")
	}
	b.Permissions = set.Codenames()
	return f.err("Invalid permission bundle.")
}

func bundleEntry(action string, b *store.PermissionBundle) entry {
	e := entry{action: action, objectType: "permission_bundle", objectID: b.ID, repr: b.Name}
	if b.CustomerID != nil {
		e.customerID = *b.CustomerID
	}
	return e
}

// CreateBundle creates a permission bundle: a global one (staff and superusers only) or one
// of a customer the caller administers. Errors: unauthenticated, not_found (customer not
// visible), forbidden, invalid, conflict (name taken).
func (c *Core) CreateBundle(ctx context.Context, in BundleInput) (*store.PermissionBundle, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	b := &store.PermissionBundle{CustomerID: in.Customer, Name: in.Name, Description: in.Description,
		Permissions: in.Permissions, CreatedAt: c.clock.Now()}
	e := bundleEntry("bundle.create", b)
	if err := mayManageBundle(g, b.CustomerID); err != nil {
		return nil, c.denied(ctx, e, withField(err, "customer", "No such customer."))
	}
	if err := validateBundle(b); err != nil {
		return nil, err
	}
	if b.CustomerID != nil {
		if _, err := c.db.Read().CustomerByID(ctx, *b.CustomerID); err != nil {
			return nil, withField(err, "customer", "No such customer.")
		}
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateBundle(ctx, b); err != nil {
			return err
		}
		e.objectID = b.ID
		e.details = map[string]any{"after": bundleFields(b)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// UpdateBundle changes a bundle's name, description or permissions; the change reaches every
// holder's next request in every process. Errors: unauthenticated, not_found, forbidden,
// invalid, conflict (name taken).
func (c *Core) UpdateBundle(ctx context.Context, id int64, p BundlePatch) (*store.PermissionBundle, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	b, err := c.bundleOf(ctx, g, id)
	if err != nil {
		return nil, err
	}
	e := bundleEntry("bundle.update", b)
	if err := mayManageBundle(g, b.CustomerID); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	next := *b
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Permissions != nil {
		next.Permissions = *p.Permissions
	}
	if err := validateBundle(&next); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateBundle(ctx, &next); err != nil {
			return err
		}
		e.details = changes(bundleFields(b), bundleFields(&next))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// DeleteBundle deletes a bundle; memberships and groups that held it lose its permissions
// on their next request. Errors: unauthenticated, not_found, forbidden.
func (c *Core) DeleteBundle(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	b, err := c.bundleOf(ctx, g, id)
	if err != nil {
		return err
	}
	e := bundleEntry("bundle.delete", b)
	if err := mayManageBundle(g, b.CustomerID); err != nil {
		return c.denied(ctx, e, err)
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteBundle(ctx, b.ID); err != nil {
			return err
		}
		e.details = map[string]any{"before": bundleFields(b)}
		return c.audit(ctx, tx, e)
	})
}

// PermissionBundle is a named set of permissions, as the bundle services return it.
type PermissionBundle = store.PermissionBundle
