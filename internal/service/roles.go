package service

import (
	"context"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ListRoles returns a page of device-group roles in the customers the caller administers.
// Errors: unauthenticated.
func (c *Core) ListRoles(ctx context.Context, deviceGroupID *int64, page webnet.Page) ([]store.RoleView, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListRoles(ctx, g.AdminFilter("g.customer_id"), deviceGroupID, page)
}

// adminRole loads a role the caller administers: not_found when its customer is not the
// caller's, forbidden when the caller is a member but not an admin (roles are tenant
// administration, invisible to non-admins: they get not_found too).
func (c *Core) adminRole(ctx context.Context, g *authz.Grants, id int64) (*store.RoleView, error) {
	r, err := c.db.Read().RoleByID(ctx, id)
	if err != nil || !g.Admin(r.CustomerID) {
		return nil, notFoundErr("Role")
	}
	return r, nil
}

// GetRole returns a role of a customer the caller administers. Errors: unauthenticated,
// not_found.
func (c *Core) GetRole(ctx context.Context, id int64) (*store.RoleView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.adminRole(ctx, g, id)
}

// RoleInput is the body of POST and PATCH /api/device-group-roles/.
type RoleInput struct {
	DeviceGroup *int64    `json:"device_group"`
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Permissions *[]string `json:"permissions"`
	// BodyErr is the error of decoding the request body strictly, when the fields above
	// were read from it leniently: reported after the visibility and permission checks
	// (design.md §3).
	BodyErr error `json:"-"`
}

func (in RoleInput) apply(r *store.RoleView, f fieldErrors) {
	if in.Name != nil {
		r.Name = *in.Name
		f.checkName("name", r.Name)
	}
	if in.Description != nil {
		r.Description = *in.Description
		f.checkDescription("description", r.Description)
	}
	if in.Permissions != nil {
		set, bad := webnet.ParsePermSet(*in.Permissions, webnet.GroupScopedPerms)
		if len(bad) > 0 {
			f.add("permissions", "Not device-group permissions: "+strings.Join(bad, ", ")+".")
		}
		r.Permissions = set.Codenames()
	}
}

func roleFields(r *store.RoleView) map[string]any {
	return map[string]any{"name": r.Name, "description": r.Description, "permissions": r.Permissions}
}

// CreateRole creates a role on a device group. The group's customer's admins only. Errors:
// unauthenticated, not_found (group), forbidden, invalid, conflict.
func (c *Core) CreateRole(ctx context.Context, in RoleInput) (*store.RoleView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.DeviceGroup == nil {
		return nil, bodyErrFirst(in.BodyErr, webnet.Invalid("Invalid role.", map[string]string{"device_group": "This field is required."}))
	}
	dg, err := c.visibleDeviceGroup(ctx, g, *in.DeviceGroup)
	if err != nil {
		return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Device group not found.", Fields: map[string]string{"device_group": "No such device group."}}
	}
	e := entry{action: "device_group_role.create", objectType: "device_group_role", customerID: dg.CustomerID}
	if err := requireAdmin(g, dg.CustomerID, "device-group roles"); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	r := &store.RoleView{DeviceGroupID: dg.ID, CustomerID: dg.CustomerID, Permissions: []string{}, CreatedAt: c.clock.Now()}
	f := fieldErrors{}
	if in.Name == nil {
		f.add("name", "This field is required.")
	}
	in.apply(r, f)
	if err := f.err("Invalid role."); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		e.objectID, e.repr = r.ID, r.Name
		e.details = map[string]any{"after": roleFields(r), "device_group": dg.ID}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRole changes a role's name, description or permissions; the change reaches every
// holder on their next request. Admins only. Errors: unauthenticated, not_found, invalid,
// conflict.
func (c *Core) UpdateRole(ctx context.Context, id int64, in RoleInput) (*store.RoleView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.adminRole(ctx, g, id)
	if err != nil {
		return nil, err
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	before := roleFields(r)
	f := fieldErrors{}
	if in.DeviceGroup != nil && *in.DeviceGroup != r.DeviceGroupID {
		f.add("device_group", "A role cannot move to another device group.")
	}
	in.apply(r, f)
	if err := f.err("Invalid role."); err != nil {
		return nil, err
	}
	e := entry{action: "device_group_role.update", objectType: "device_group_role", objectID: id, repr: r.Name, customerID: r.CustomerID}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		e.details = changes(before, roleFields(r))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRole deletes a role and its assignments. Admins only. Errors: unauthenticated,
// not_found.
func (c *Core) DeleteRole(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	r, err := c.adminRole(ctx, g, id)
	if err != nil {
		return err
	}
	e := entry{action: "device_group_role.delete", objectType: "device_group_role", objectID: id, repr: r.Name,
		customerID: r.CustomerID, details: map[string]any{"before": roleFields(r)}}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteRole(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, e)
	})
}

// AssignmentView is a role assignment as the API shows it: {id, user, role} or
// {id, group, role}.
type AssignmentView struct {
	ID    int64  `json:"id"`
	User  *int64 `json:"user,omitempty"`
	Group *int64 `json:"group,omitempty"`
	Role  int64  `json:"role"`
}

func assignmentView(a store.Assignment) AssignmentView {
	v := AssignmentView{ID: a.ID, Role: a.RoleID}
	id := a.SubjectID
	if a.Kind == "group" {
		v.Group = &id
	} else {
		v.User = &id
	}
	return v
}

// ListAssignments returns a page of the user ("user") or auth-group ("group") role
// assignments in the customers the caller administers. Errors: unauthenticated.
func (c *Core) ListAssignments(ctx context.Context, kind string, page webnet.Page) ([]AssignmentView, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	as, total, err := c.db.Read().ListAssignments(ctx, kind, g.AdminFilter("g.customer_id"), page)
	if err != nil {
		return nil, 0, err
	}
	out := make([]AssignmentView, len(as))
	for i, a := range as {
		out[i] = assignmentView(a)
	}
	return out, total, nil
}

// AssignmentInput is the body of POST /api/user-device-group-roles/ ({user, role}) and
// /api/group-device-group-roles/ ({group, role}).
type AssignmentInput struct {
	User  *int64 `json:"user"`
	Group *int64 `json:"group"`
	Role  *int64 `json:"role"`
	// BodyErr is the error of decoding the request body strictly, when the fields above
	// were read from it leniently: reported after the role's visibility check (design.md
	// §3).
	BodyErr error `json:"-"`
}

// CreateAssignment gives a role to a user (who must be a member of the role's customer) or
// to an auth group of the same customer. Admins only. Errors: unauthenticated, not_found
// (role, user or group not visible), invalid, conflict (already assigned).
func (c *Core) CreateAssignment(ctx context.Context, kind string, in AssignmentInput) (*AssignmentView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	subjectField, subjectID := "user", in.User
	if kind == "group" {
		subjectField, subjectID = "group", in.Group
	}
	// The role says whose tenancy this is: its visibility comes before the rest of the body.
	var r *store.RoleView
	if in.Role != nil {
		if r, err = c.adminRole(ctx, g, *in.Role); err != nil {
			return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Role not found.", Fields: map[string]string{"role": "No such role."}}
		}
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	f := fieldErrors{}
	if subjectID == nil {
		f.add(subjectField, "This field is required.")
	}
	if r == nil {
		f.add("role", "This field is required.")
	}
	if err := f.err("Invalid assignment."); err != nil {
		return nil, err
	}
	q := c.db.Read()
	ok, err := q.InCustomer(ctx, kind, *subjectID, r.CustomerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Not found in the role's customer.",
			Fields: map[string]string{subjectField: "No such " + subjectField + " in the role's customer."}}
	}
	a := &store.Assignment{Kind: kind, SubjectID: *subjectID, RoleID: r.ID, CustomerID: r.CustomerID, CreatedAt: c.clock.Now()}
	e := entry{action: kind + "_device_group_role.create", objectType: kind + "_device_group_role", customerID: r.CustomerID, repr: r.Name,
		details: map[string]any{subjectField: *subjectID, "role": r.ID}}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAssignment(ctx, a); err != nil {
			return err
		}
		e.objectID = a.ID
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	v := assignmentView(*a)
	return &v, nil
}

// DeleteAssignment removes a role assignment; the grant stops on the holder's next request,
// in every process. Admins only. Errors: unauthenticated, not_found.
func (c *Core) DeleteAssignment(ctx context.Context, kind string, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	a, err := c.db.Read().AssignmentByID(ctx, kind, id)
	if err != nil || !g.Admin(a.CustomerID) {
		return notFoundErr("Assignment")
	}
	subjectField := "user"
	if kind == "group" {
		subjectField = "group"
	}
	e := entry{action: kind + "_device_group_role.delete", objectType: kind + "_device_group_role", objectID: id,
		customerID: a.CustomerID, details: map[string]any{subjectField: a.SubjectID, "role": a.RoleID}}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAssignment(ctx, kind, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, e)
	})
}
