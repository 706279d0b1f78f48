package service

import (
	"context"
	"regexp"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ListCustomers returns a page of the customers the caller may see: all for staff and
// superusers, otherwise those the caller is a member of (filtered in the query). Any signed-in
// user may call it. Errors: unauthenticated.
func (c *Core) ListCustomers(ctx context.Context, page webnet.Page) ([]webnet.Customer, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListCustomers(ctx, g.CustomerFilter("c.id"), page)
}

// GetCustomer returns a customer the caller is a member of (any customer for staff and
// superusers). Errors: unauthenticated, not_found.
func (c *Core) GetCustomer(ctx context.Context, id int64) (*webnet.Customer, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if !seesCustomer(g, id) {
		return nil, notFoundErr("Customer")
	}
	return c.db.Read().CustomerByID(ctx, id)
}

// seesCustomer reports whether the customer exists for the user: a member of it, or staff.
func seesCustomer(g *authz.Grants, customerID int64) bool {
	return g.Bypass() || (g.Active && g.Member(customerID))
}

// adminOf checks that the caller may administer objects of the customer: not_found (naming
// what) when the customer is invisible to them, forbidden when they see it but are not its
// admin (tenant administration is for admins only; no permission grants it).
func adminOf(g *authz.Grants, customerID int64, what string) error {
	if !seesCustomer(g, customerID) {
		return notFoundErr(what)
	}
	if !g.Admin(customerID) {
		return forbidden("Only the customer's admins may do this.")
	}
	return nil
}

// CustomerInput is the body of POST /api/customers/.
type CustomerInput struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)

func customerFields(cu *webnet.Customer) map[string]any {
	return map[string]any{"name": cu.Name, "slug": cu.Slug}
}

// CreateCustomer creates a customer. Only staff and superusers may call it. Errors:
// unauthenticated, forbidden, invalid, conflict (slug taken).
func (c *Core) CreateCustomer(ctx context.Context, in CustomerInput) (*webnet.Customer, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "customer.create", objectType: "customer", repr: in.Name}
	if !g.Bypass() {
		return nil, c.denied(ctx, e, forbidden("Only staff create customers."))
	}
	f := fieldErrors{}
	f.checkName("name", in.Name)
	if !slugRE.MatchString(in.Slug) {
		f.add("slug", "Use 1 to 100 lower-case letters, digits and hyphens, starting with a letter or digit.")
	}
	if err := f.err("Invalid customer."); err != nil {
		return nil, err
	}
	cu := &webnet.Customer{Name: in.Name, Slug: in.Slug, CreatedAt: c.clock.Now()}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		e.objectID, e.customerID = cu.ID, cu.ID
		e.details = map[string]any{"after": customerFields(cu)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return cu, nil
}

// CustomerPatch is the body of PATCH /api/customers/{id}/: the fields to change.
type CustomerPatch struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

// UpdateCustomer renames a customer (name and slug). Only staff and superusers may call it,
// as for creating one; a customer's own admins see it but may not rename it (its slug is how
// staff know it). Errors: unauthenticated, not_found, forbidden, invalid, conflict.
func (c *Core) UpdateCustomer(ctx context.Context, id int64, p CustomerPatch) (*webnet.Customer, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if !seesCustomer(g, id) {
		return nil, notFoundErr("Customer")
	}
	cu, err := c.db.Read().CustomerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "customer.update", objectType: "customer", objectID: cu.ID, customerID: cu.ID, repr: cu.Name}
	if !g.Bypass() {
		return nil, c.denied(ctx, e, forbidden("Only staff rename customers."))
	}
	before := customerFields(cu)
	f := fieldErrors{}
	if p.Name != nil {
		cu.Name = *p.Name
		f.checkName("name", cu.Name)
	}
	if p.Slug != nil {
		cu.Slug = *p.Slug
		if !slugRE.MatchString(cu.Slug) {
			f.add("slug", "Use 1 to 100 lower-case letters, digits and hyphens, starting with a letter or digit.")
		}
	}
	if err := f.err("Invalid customer."); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateCustomer(ctx, cu); err != nil {
			return err
		}
		e.repr = cu.Name
		e.details = changes(before, customerFields(cu))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return cu, nil
}

// namedCustomer checks a customer a request body names: it must exist and the caller must
// belong to it (or be staff); otherwise not_found on the customer field, the same answer for
// a customer that exists and one that does not.
func (c *Core) namedCustomer(ctx context.Context, g *authz.Grants, id int64) error {
	noCustomer := &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
	if !g.Bypass() && !g.Member(id) {
		return noCustomer
	}
	if _, err := c.db.Read().CustomerByID(ctx, id); err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return noCustomer
		}
		return err
	}
	return nil
}
