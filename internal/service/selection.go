package service

import (
	"context"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Selection is a set of devices chosen together (the device list's checked rows) and the
// permissions the caller holds on every one of them: what may be offered for all of them at
// once.
type Selection struct {
	Devices []DeviceBrief
	// Perms holds the permissions allowed on each selected device (the intersection of their
	// user_permissions), so that an action offered for the selection is one RunAction or
	// BulkDelete would accept for all of it.
	Perms webnet.PermSet
}

// Can reports whether p holds on every selected device.
func (s *Selection) Can(p webnet.Perm) bool { return s.Perms.Has(p) }

// SelectDevices returns the devices with ids and the permissions the caller holds on all of
// them, decided by the same grants as GetDevice's user_permissions. Like the bulk actions it
// is all or nothing: an id the caller cannot see is not_found (naming the ids), so a
// selection never tells whether an invisible device exists. It changes nothing and audits
// nothing. Any signed-in user may call it. Errors: unauthenticated, invalid (no ids, too
// many, not positive and distinct), not_found.
func (c *Core) SelectDevices(ctx context.Context, ids []int64) (*Selection, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	// view_device is allowed on every visible device, so devicesFor denies nothing here: it
	// only validates the ids and answers not_found for the invisible ones.
	devices, err := c.devicesFor(ctx, g, ids, webnet.PermViewDevice, "", &entry{})
	if err != nil {
		return nil, err
	}
	s := &Selection{Devices: make([]DeviceBrief, len(devices)), Perms: webnet.AllPerms}
	for i, d := range devices {
		s.Devices[i] = DeviceBrief{ID: d.ID, Name: d.Name}
		s.Perms &= g.Perms(authz.TargetOf(&d))
	}
	return s, nil
}

// DeviceListOptions are the customers and device groups the caller may see, by name: the
// device list's filter choices and the names of its customer and group columns.
type DeviceListOptions struct {
	Customers []webnet.Customer
	Groups    []store.DeviceGroupView
	// GroupsTotal is how many device groups the caller may see; Groups holds at most
	// webnet.MaxLimit of them, by name.
	GroupsTotal int
}

// ListDeviceListOptions returns the customers and device groups the caller may see (at
// most webnet.MaxLimit of each, by name), filtered in the query like ListCustomers and
// ListDeviceGroups but without the groups' roles, which the device list does not show and
// which would cost a query per group. Any signed-in user may call it. Errors:
// unauthenticated.
func (c *Core) ListDeviceListOptions(ctx context.Context) (*DeviceListOptions, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	q := c.db.Read()
	all := webnet.Page{Limit: webnet.MaxLimit}
	var o DeviceListOptions
	if o.Customers, _, err = q.ListCustomers(ctx, g.CustomerFilter("c.id"), all); err != nil {
		return nil, err
	}
	if o.Groups, o.GroupsTotal, err = q.ListDeviceGroups(ctx, g.DeviceGroupFilter("g.id", "g.customer_id"), nil, all); err != nil {
		return nil, err
	}
	return &o, nil
}
