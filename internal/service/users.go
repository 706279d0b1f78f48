package service

import (
	"context"
	"errors"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// UserFilter narrows ListUsers (?customer=).
type UserFilter = store.UserFilter

// ListUsers returns a page of the users the caller may see: every user for staff and
// superusers; otherwise the members of the customers the caller administers, and the caller.
// Filtered in the query. Any signed-in user may call it. Errors: unauthenticated.
func (c *Core) ListUsers(ctx context.Context, f UserFilter, page webnet.Page) ([]webnet.User, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListUsers(ctx, g.AdminFilter("m.customer_id"), g.UserID, f, page)
}

// visibleUser loads a user the caller may see, with the customers the user is a member of.
func (c *Core) visibleUser(ctx context.Context, q store.Q, g *authz.Grants, id int64) (*webnet.User, error) {
	u, _, err := c.userWithCustomers(ctx, q, g, id)
	return u, err
}

func (c *Core) userWithCustomers(ctx context.Context, q store.Q, g *authz.Grants, id int64) (*webnet.User, []int64, error) {
	u, err := q.UserByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ms, err := q.MembershipsOfUser(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	customers := make([]int64, len(ms))
	visible := g.Bypass() || (g.Active && u.ID == g.UserID)
	for i, m := range ms {
		customers[i] = m.CustomerID
		visible = visible || g.Admin(m.CustomerID)
	}
	if !visible {
		return nil, nil, notFoundErr("User")
	}
	return u, customers, nil
}

// GetUser returns a user the caller may see (see ListUsers). Errors: unauthenticated,
// not_found.
func (c *Core) GetUser(ctx context.Context, id int64) (*webnet.User, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.visibleUser(ctx, c.db.Read(), g, id)
}

// UserInput is the body of POST /api/users/. Customer and Role, given together, create the
// user's first membership in the same transaction.
type UserInput struct {
	Username    string  `json:"username"`
	Email       string  `json:"email"`
	Password    string  `json:"password"`
	IsActive    *bool   `json:"is_active"`
	IsStaff     bool    `json:"is_staff"`
	IsSuperuser bool    `json:"is_superuser"`
	Customer    *int64  `json:"customer"`
	Role        *string `json:"role"`
}

// UserPatch is the body of PATCH /api/users/{id}/: only the given fields change.
type UserPatch struct {
	Email       *string `json:"email"`
	Password    *string `json:"password"`
	IsActive    *bool   `json:"is_active"`
	IsStaff     *bool   `json:"is_staff"`
	IsSuperuser *bool   `json:"is_superuser"`
}

// userFields are a user's audited fields: never the password or its hash.
func userFields(u *webnet.User) map[string]any {
	return map[string]any{"username": u.Username, "email": u.Email, "is_active": u.IsActive,
		"is_staff": u.IsStaff, "is_superuser": u.IsSuperuser}
}

func validateUser(u *webnet.User, pw *string) error {
	checks := []error{webnet.ValidateUsername(u.Username), webnet.ValidateEmail(u.Email)}
	if pw != nil {
		checks = append(checks, webnet.ValidatePassword(*pw))
	}
	f := fieldErrors{}
	for _, err := range checks {
		var we *webnet.Error
		if errors.As(err, &we) {
			for k, v := range we.Fields {
				f.add(k, v)
			}
		}
	}
	return f.err("Invalid user.")
}

// CreateUser creates a user. Staff and superusers create any user, with or without a
// membership; a customer's admin creates a user only together with a membership of that
// customer (customer and role), in one transaction. Only superusers may create staff or
// superusers. Errors: unauthenticated, not_found (customer not visible), forbidden, invalid,
// conflict (username taken), internal (no password hasher configured).
func (c *Core) CreateUser(ctx context.Context, in UserInput) (*webnet.User, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "user.create", objectType: "user", repr: in.Username}
	if in.Customer != nil {
		e.customerID = *in.Customer
		if err := adminOf(g, *in.Customer, "Customer"); err != nil {
			return nil, c.denied(ctx, e, withField(err, "customer", "No such customer."))
		}
	} else if !g.Bypass() {
		if !administersAny(g) {
			return nil, c.denied(ctx, e, forbidden("Only staff and customers' admins create users."))
		}
		return nil, webnet.Invalid("Invalid user.", map[string]string{"customer": "Give the customer (and role) of the new user's membership."})
	}
	if (in.IsStaff || in.IsSuperuser) && !g.Superuser {
		return nil, c.denied(ctx, e, forbidden("Only superusers may make staff or superusers."))
	}
	u := &webnet.User{Username: in.Username, Email: in.Email, IsActive: true, IsStaff: in.IsStaff,
		IsSuperuser: in.IsSuperuser, CreatedAt: c.clock.Now()}
	if in.IsActive != nil {
		u.IsActive = *in.IsActive
	}
	if err := validateUser(u, &in.Password); err != nil {
		return nil, err
	}
	var m *webnet.Membership
	switch {
	case in.Customer != nil && (in.Role == nil || !webnet.Role(*in.Role).Valid()):
		return nil, webnet.Invalid("Invalid user.", map[string]string{"role": "Give the membership's role: member, viewer, operator or admin."})
	case in.Customer == nil && in.Role != nil:
		return nil, webnet.Invalid("Invalid user.", map[string]string{"customer": "A role needs the customer it applies in."})
	case in.Customer != nil:
		if _, err := c.db.Read().CustomerByID(ctx, *in.Customer); err != nil {
			return nil, withField(err, "customer", "No such customer.")
		}
		m = &webnet.Membership{CustomerID: *in.Customer, Role: webnet.Role(*in.Role), CreatedAt: u.CreatedAt}
	}
	if c.hasher == nil {
		return nil, webnet.Errorf(webnet.EInternal, "Users cannot be created: no password hasher is configured.")
	}
	if u.PasswordHash, err = c.hasher.Hash(ctx, in.Password); err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		after := userFields(u)
		after["password"] = redacted
		if m != nil {
			m.UserID = u.ID
			if err := tx.CreateMembership(ctx, m); err != nil {
				return err
			}
			after["membership"] = map[string]any{"id": m.ID, "customer": m.CustomerID, "role": string(m.Role)}
		}
		e.objectID = u.ID
		e.details = map[string]any{"after": after}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user's e-mail, password or active flag, and (superusers only) the
// staff and superuser flags; deactivation and a new password take effect on the user's next
// request in every process, and end the user's browser sessions. Staff and superusers may change any user but a superuser, whom
// only superusers change; a customer's admin may change only users who are neither staff nor
// superusers and whose every membership is in a customer the admin administers. Errors:
// unauthenticated, not_found, forbidden, invalid, internal (no password hasher configured).
func (c *Core) UpdateUser(ctx context.Context, id int64, p UserPatch) (*webnet.User, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	u, customers, err := c.userWithCustomers(ctx, c.db.Read(), g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "user.update", objectType: "user", objectID: u.ID, repr: u.Username}
	if len(customers) == 1 {
		e.customerID = customers[0]
	}
	if err := mayChangeUser(g, u, customers); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	next := *u
	if p.IsStaff != nil {
		next.IsStaff = *p.IsStaff
	}
	if p.IsSuperuser != nil {
		next.IsSuperuser = *p.IsSuperuser
	}
	if (next.IsStaff != u.IsStaff || next.IsSuperuser != u.IsSuperuser) && !g.Superuser {
		return nil, c.denied(ctx, e, forbidden("Only superusers may change the staff and superuser flags."))
	}
	if p.Email != nil {
		next.Email = *p.Email
	}
	if p.IsActive != nil {
		next.IsActive = *p.IsActive
	}
	if err := validateUser(&next, p.Password); err != nil {
		return nil, err
	}
	if p.Password != nil {
		if c.hasher == nil {
			return nil, webnet.Errorf(webnet.EInternal, "Passwords cannot be changed: no password hasher is configured.")
		}
		if next.PasswordHash, err = c.hasher.Hash(ctx, *p.Password); err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateUser(ctx, &next); err != nil {
			return err
		}
		e.details = changes(userFields(u), userFields(&next))
		if p.Password != nil {
			e.details["password"] = map[string]any{"before": redacted, "after": redacted}
		}
		if p.Password != nil || (u.IsActive && !next.IsActive) {
			// Whoever knew the old password, or the deactivated user, is signed out of the
			// browser everywhere; API tokens stay, as the user's own revocable keys.
			if _, err := tx.DeleteSessionsOfUser(ctx, u.ID); err != nil {
				return err
			}
		}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// mayChangeUser is the rule of UpdateUser: who may change the visible user u, a member of
// customers.
func mayChangeUser(g *authz.Grants, u *webnet.User, customers []int64) error {
	if g.Bypass() {
		if u.IsSuperuser && !g.Superuser {
			return forbidden("Only superusers may change a superuser.")
		}
		return nil
	}
	if u.IsStaff || u.IsSuperuser {
		return forbidden("Only staff may change staff and superusers.")
	}
	if len(customers) == 0 {
		return forbidden("You may not change this user.")
	}
	for _, cid := range customers {
		if !g.Admin(cid) {
			return forbidden("You may change only users whose every membership is in a customer you administer.")
		}
	}
	return nil
}
