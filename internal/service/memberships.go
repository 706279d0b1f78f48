package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// MembershipFilter narrows ListMemberships (?customer=, ?user=).
type MembershipFilter = store.MembershipFilter

// MembershipDetail is a membership with its grants, as the membership services return it.
type MembershipDetail = store.MembershipDetail

// ListMemberships returns a page of memberships: those in the customers the caller
// administers (all for staff and superusers) and the caller's own, filtered in the query.
// Any signed-in user may call it. Errors: unauthenticated.
func (c *Core) ListMemberships(ctx context.Context, f MembershipFilter, page webnet.Page) ([]store.MembershipDetail, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListMemberships(ctx, g.AdminFilter("m.customer_id"), g.UserID, f, page)
}

// visibleMembership loads a membership the caller administers or holds.
func (c *Core) visibleMembership(ctx context.Context, g *authz.Grants, id int64) (*store.MembershipDetail, error) {
	m, err := c.db.Read().MembershipByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !g.Active || (m.UserID != g.UserID && !g.Admin(m.CustomerID)) {
		return nil, notFoundErr("Membership")
	}
	return m, nil
}

// GetMembership returns a membership in a customer the caller administers, or the caller's
// own. Errors: unauthenticated, not_found.
func (c *Core) GetMembership(ctx context.Context, id int64) (*store.MembershipDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.visibleMembership(ctx, g, id)
}

// MembershipInput is the body of POST /api/memberships/.
type MembershipInput struct {
	User        *int64   `json:"user"`
	Customer    *int64   `json:"customer"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
	Bundles     []int64  `json:"bundles"`
}

// MembershipPatch is the body of PATCH /api/memberships/{id}/: only the given fields change.
type MembershipPatch struct {
	Role        *string   `json:"role"`
	Permissions *[]string `json:"permissions"`
	Bundles     *[]int64  `json:"bundles"`
}

func membershipFields(m *store.MembershipDetail) map[string]any {
	return map[string]any{"user": m.UserID, "customer": m.CustomerID, "role": string(m.Role),
		"permissions": m.Permissions, "bundles": m.Bundles}
}

// CreateMembership makes a user a member of a customer with a role and customer-wide grants.
// The caller must administer the customer and see the user (staff and superusers see every
// user). Errors: unauthenticated, not_found (customer, user or bundle not visible),
// forbidden, invalid, conflict (already a member).
func (c *Core) CreateMembership(ctx context.Context, in MembershipInput) (*store.MembershipDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		if !g.Bypass() && !administersAny(g) {
			return nil, c.denied(ctx, entry{action: "membership.create", objectType: "membership"}, forbidden("Only customers' admins manage memberships."))
		}
		return nil, webnet.Invalid("Invalid membership.", map[string]string{"customer": "This field is required."})
	}
	e := entry{action: "membership.create", objectType: "membership", customerID: *in.Customer}
	if err := adminOf(g, *in.Customer, "Customer"); err != nil {
		return nil, c.denied(ctx, e, withField(err, "customer", "No such customer."))
	}
	if in.User == nil {
		return nil, webnet.Invalid("Invalid membership.", map[string]string{"user": "This field is required."})
	}
	q := c.db.Read()
	u, err := c.visibleUser(ctx, q, g, *in.User)
	if err != nil {
		return nil, c.denied(ctx, e, withField(err, "user", "No such user."))
	}
	e.repr = u.Username
	m := &store.MembershipDetail{Membership: webnet.Membership{UserID: u.ID, CustomerID: *in.Customer,
		Role: webnet.Role(in.Role), CreatedAt: c.clock.Now()}}
	if m.Permissions, m.Bundles, err = c.grantInput(ctx, g, m.CustomerID, in.Permissions, in.Bundles); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if !m.Role.Valid() {
		return nil, webnet.Invalid("Invalid membership.", map[string]string{"role": "Must be one of member, viewer, operator, admin."})
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateMembership(ctx, &m.Membership); err != nil {
			return err
		}
		if err := tx.SetMembershipGrants(ctx, m.ID, m.UserID, m.Permissions, m.Bundles); err != nil {
			return err
		}
		e.objectID = m.ID
		e.details = map[string]any{"after": membershipFields(m)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateMembership changes a membership's role, permissions or bundles; the change reaches
// the user's next request in every process. The caller must administer the membership's
// customer. Errors: unauthenticated, not_found, forbidden (own membership of a non-admin),
// invalid.
func (c *Core) UpdateMembership(ctx context.Context, id int64, p MembershipPatch) (*store.MembershipDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	m, err := c.visibleMembership(ctx, g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "membership.update", objectType: "membership", objectID: m.ID, customerID: m.CustomerID}
	if !g.Admin(m.CustomerID) {
		return nil, c.denied(ctx, e, forbidden("Only the customer's admins may change memberships."))
	}
	next := *m
	perms, bundles := m.Permissions, m.Bundles
	if p.Permissions != nil {
		perms = *p.Permissions
	}
	if p.Bundles != nil {
		bundles = *p.Bundles
	}
	if next.Permissions, next.Bundles, err = c.grantInput(ctx, g, m.CustomerID, perms, bundles); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if p.Role != nil {
		next.Role = webnet.Role(*p.Role)
		if !next.Role.Valid() {
			return nil, webnet.Invalid("Invalid membership.", map[string]string{"role": "Must be one of member, viewer, operator, admin."})
		}
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if next.Role != m.Role {
			if err := tx.SetMembershipRole(ctx, m.ID, m.UserID, next.Role); err != nil {
				return err
			}
		}
		if err := tx.SetMembershipGrants(ctx, m.ID, m.UserID, next.Permissions, next.Bundles); err != nil {
			return err
		}
		e.details = changes(membershipFields(m), membershipFields(&next))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// DeleteMembership ends a user's membership of a customer, with its grants, the user's
// places in the customer's groups and their device-group roles there. The caller must
// administer the customer. Errors: unauthenticated, not_found, forbidden.
func (c *Core) DeleteMembership(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	m, err := c.visibleMembership(ctx, g, id)
	if err != nil {
		return err
	}
	e := entry{action: "membership.delete", objectType: "membership", objectID: m.ID, customerID: m.CustomerID}
	if !g.Admin(m.CustomerID) {
		return c.denied(ctx, e, forbidden("Only the customer's admins may delete memberships."))
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteMembership(ctx, &m.Membership); err != nil {
			return err
		}
		e.details = map[string]any{"before": membershipFields(m)}
		return c.audit(ctx, tx, e)
	})
}

// grantInput validates customer-wide grants for an object of customerID: permission
// codenames (invalid if unknown) and bundles, which must be global or of that customer and
// visible to the caller (not_found otherwise). It returns them as stored: codenames in
// catalog order, bundle ids ascending, without repeats.
func (c *Core) grantInput(ctx context.Context, g *authz.Grants, customerID int64, perms []string, bundles []int64) ([]string, []int64, error) {
	set, bad := webnet.ParsePermSet(perms, webnet.AllPerms)
	if len(bad) > 0 {
		return nil, nil, webnet.Invalid("Unknown permission.", map[string]string{
			"permissions": fmt.Sprintf("Unknown permission: %s.", strings.Join(bad, ", "))})
	}
	ids := distinctIDs(bundles)
	if len(ids) > 1000 {
		return nil, nil, webnet.Invalid("Too many bundles.", map[string]string{"bundles": "At most 1000 bundles."})
	}
	found, err := c.db.Read().BundlesByIDs(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	ok := map[int64]bool{}
	for _, b := range found {
		if b.CustomerID == nil || (*b.CustomerID == customerID && g.Admin(customerID)) {
			ok[b.ID] = true
		}
	}
	var missing []int64
	for _, id := range ids {
		if !ok[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, nil, &webnet.Error{Code: webnet.ENotFound, Message: "Bundle not found.", Fields: map[string]string{
			"bundles": fmt.Sprintf("No such bundle for this customer: %s.", joinIDs(missing))}}
	}
	return set.Codenames(), ids, nil
}

// distinctIDs returns ids without repeats, ascending, never nil.
func distinctIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return append([]int64{}, slices.Compact(out)...)
}

// administersAny reports whether the caller is an admin of some customer.
func administersAny(g *authz.Grants) bool {
	for _, id := range g.MemberCustomers() {
		if g.Admin(id) {
			return true
		}
	}
	return false
}

// withField adds a field to a not_found error about a reference in a request body, so the
// caller can tell which reference was refused; other errors pass unchanged.
func withField(err error, field, why string) error {
	if webnet.ErrorCode(err) != webnet.ENotFound {
		return err
	}
	return &webnet.Error{Code: webnet.ENotFound, Message: webnet.ErrorMessage(err), Fields: map[string]string{field: why}}
}
