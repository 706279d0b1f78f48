package service

import (
	"context"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// DeviceGroupView is a device group as the API shows it: with its device count and, for
// the customer's admins, its roles.
type DeviceGroupView struct {
	store.DeviceGroupView
	Roles []store.RoleView `json:"roles"`
}

// ListDeviceGroups returns a page of the device groups the caller may see (admins, holders of
// a role on the group, holders of customer-wide view_device). Errors: unauthenticated.
func (c *Core) ListDeviceGroups(ctx context.Context, customerID *int64, page webnet.Page) ([]DeviceGroupView, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	q := c.db.Read()
	groups, total, err := q.ListDeviceGroups(ctx, g.DeviceGroupFilter("g.id", "g.customer_id"), customerID, page)
	if err != nil {
		return nil, 0, err
	}
	out := make([]DeviceGroupView, len(groups))
	for i, dg := range groups {
		out[i] = DeviceGroupView{DeviceGroupView: dg, Roles: []store.RoleView{}}
		if g.Admin(dg.CustomerID) {
			id := dg.ID
			if out[i].Roles, _, err = q.ListRoles(ctx, g.AdminFilter("g.customer_id"), &id, webnet.Page{Limit: webnet.MaxLimit}); err != nil {
				return nil, 0, err
			}
		}
	}
	return out, total, nil
}

// visibleDeviceGroup loads a device group the caller may see, or not_found.
func (c *Core) visibleDeviceGroup(ctx context.Context, g *authz.Grants, id int64) (*store.DeviceGroupView, error) {
	dg, err := c.db.Read().DeviceGroupByID(ctx, id)
	if err != nil || !g.SeesDeviceGroup(dg.CustomerID, dg.ID) {
		return nil, notFoundErr("Device group")
	}
	return dg, nil
}

// GetDeviceGroup returns a device group the caller may see. Errors: unauthenticated,
// not_found.
func (c *Core) GetDeviceGroup(ctx context.Context, id int64) (*DeviceGroupView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	dg, err := c.visibleDeviceGroup(ctx, g, id)
	if err != nil {
		return nil, err
	}
	v := &DeviceGroupView{DeviceGroupView: *dg, Roles: []store.RoleView{}}
	if g.Admin(dg.CustomerID) {
		if v.Roles, _, err = c.db.Read().ListRoles(ctx, g.AdminFilter("g.customer_id"), &id, webnet.Page{Limit: webnet.MaxLimit}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// DeviceGroupInput is the body of POST and PATCH /api/device-groups/.
type DeviceGroupInput struct {
	Customer    *int64  `json:"customer"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// BodyErr is the error of decoding the request body strictly, when the fields above
	// were read from it leniently: reported after the visibility and permission checks
	// (design.md §3).
	BodyErr error `json:"-"`
}

// apply sets the given name and description on dg, checking each into f.
func (in DeviceGroupInput) apply(dg *webnet.DeviceGroup, f fieldErrors) {
	if in.Name != nil {
		dg.Name = *in.Name
		f.checkName("name", dg.Name)
	}
	if in.Description != nil {
		dg.Description = *in.Description
		f.checkDescription("description", dg.Description)
	}
}

// requireAdmin answers not_found if the customer is invisible to the caller and forbidden
// if it is visible but the caller does not administer it.
func requireAdmin(g *authz.Grants, customerID int64, what string) error {
	if g.Admin(customerID) {
		return nil
	}
	if !g.Member(customerID) {
		return notFoundErr(what)
	}
	return forbidden("Only the customer's admins may manage %s.", what)
}

// CreateDeviceGroup creates a device group. Customer admins and staff only. Errors:
// unauthenticated, not_found (customer), forbidden, invalid, conflict.
func (c *Core) CreateDeviceGroup(ctx context.Context, in DeviceGroupInput) (*DeviceGroupView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		return nil, bodyErrFirst(in.BodyErr, webnet.Invalid("Invalid device group.", map[string]string{"customer": "This field is required."}))
	}
	e := entry{action: "device_group.create", objectType: "device_group", customerID: *in.Customer}
	if err := requireAdmin(g, *in.Customer, "device groups"); err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
		}
		return nil, c.denied(ctx, e, err)
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	dg := &webnet.DeviceGroup{CustomerID: *in.Customer, CreatedAt: c.clock.Now()}
	f := fieldErrors{}
	if in.Name == nil {
		f.add("name", "This field is required.")
	}
	in.apply(dg, f)
	if err := f.err("Invalid device group."); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateDeviceGroup(ctx, dg); err != nil {
			return err
		}
		e.objectID, e.repr = dg.ID, dg.Name
		e.details = map[string]any{"after": map[string]any{"name": dg.Name, "description": dg.Description}}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &DeviceGroupView{DeviceGroupView: store.DeviceGroupView{DeviceGroup: *dg}, Roles: []store.RoleView{}}, nil
}

// UpdateDeviceGroup renames or re-describes a device group. Admins only. Errors:
// unauthenticated, not_found, forbidden, invalid, conflict.
func (c *Core) UpdateDeviceGroup(ctx context.Context, id int64, in DeviceGroupInput) (*DeviceGroupView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	dg, err := c.visibleDeviceGroup(ctx, g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "device_group.update", objectType: "device_group", objectID: id, repr: dg.Name, customerID: dg.CustomerID}
	if err := requireAdmin(g, dg.CustomerID, "device groups"); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	before := map[string]any{"name": dg.Name, "description": dg.Description}
	f := fieldErrors{}
	if in.Customer != nil && *in.Customer != dg.CustomerID {
		f.add("customer", "A device group cannot move to another customer.")
	}
	in.apply(&dg.DeviceGroup, f)
	if err := f.err("Invalid device group."); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateDeviceGroup(ctx, &dg.DeviceGroup); err != nil {
			return err
		}
		e.details = changes(before, map[string]any{"name": dg.Name, "description": dg.Description})
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return c.GetDeviceGroup(ctx, id)
}

// DeleteDeviceGroup deletes an empty device group with its roles and their assignments.
// Admins only. Errors: unauthenticated, not_found, forbidden, conflict (it has devices, or
// schedules target it).
func (c *Core) DeleteDeviceGroup(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	dg, err := c.visibleDeviceGroup(ctx, g, id)
	if err != nil {
		return err
	}
	e := entry{action: "device_group.delete", objectType: "device_group", objectID: id, repr: dg.Name, customerID: dg.CustomerID,
		details: map[string]any{"before": map[string]any{"name": dg.Name, "description": dg.Description}}}
	if err := requireAdmin(g, dg.CustomerID, "device groups"); err != nil {
		return c.denied(ctx, e, err)
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteDeviceGroup(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, e)
	})
}
