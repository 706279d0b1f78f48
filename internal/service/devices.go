package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// DeviceDetail is a device with the permissions the caller holds on it.
type DeviceDetail struct {
	webnet.Device
	UserPermissions []string `json:"user_permissions"`
}

// ListDevices returns a page of the devices the caller may see, filtered in the query.
// Any signed-in user may call it. Errors: unauthenticated.
func (c *Core) ListDevices(ctx context.Context, dq webnet.DeviceQuery, page webnet.Page) ([]webnet.Device, int, error) {
	bad := fieldErrors{}
	dq.Search = filterText(bad, "q", dq.Search)
	dq.Platform = filterText(bad, "platform", dq.Platform)
	dq.OSVersion = filterText(bad, "os_version", dq.OSVersion)
	if err := bad.err("Invalid filter."); err != nil {
		return nil, 0, err
	}
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListDevices(ctx, g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id"), dq, page)
}

// visibleDevice loads a device and returns not_found unless the caller may see it.
func (c *Core) visibleDevice(ctx context.Context, q store.Q, g *authz.Grants, id int64) (*webnet.Device, error) {
	d, err := q.DeviceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !g.Visible(authz.TargetOf(d)) {
		return nil, notFoundErr("Device")
	}
	return d, nil
}

// GetDevice returns a device the caller may see, with user_permissions. Errors:
// unauthenticated, not_found.
func (c *Core) GetDevice(ctx context.Context, id int64) (*DeviceDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	d, err := c.visibleDevice(ctx, c.db.Read(), g, id)
	if err != nil {
		return nil, err
	}
	return &DeviceDetail{Device: *d, UserPermissions: g.Perms(authz.TargetOf(d)).Codenames()}, nil
}

// DeviceInput is the body of POST /api/devices/.
type DeviceInput struct {
	Customer    *int64 `json:"customer"`
	DeviceGroup *int64 `json:"device_group"`
	Name        string `json:"name"`
	Address     string `json:"address"`
	Port        *int   `json:"port"`
	Platform    string `json:"platform"`
	Credential  *int64 `json:"credential"`
	Enabled     *bool  `json:"enabled"`
	// BodyErr is the error of decoding the request body strictly, when the fields above
	// were read from it leniently. CreateDevice reports it after its visibility and
	// permission checks, so that a caller without the permission never learns what a valid
	// body would be (design.md §3).
	BodyErr error `json:"-"`
}

func deviceFields(d *webnet.Device) map[string]any {
	return map[string]any{"name": d.Name, "address": d.Address, "port": d.Port, "platform": d.Platform,
		"device_group": ptrValue(d.DeviceGroupID), "credential": ptrValue(d.CredentialID), "enabled": d.Enabled}
}

func ptrValue(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func validateDevice(d *webnet.Device) error {
	f := fieldErrors{}
	f.checkName("name", d.Name)
	f.checkAddress("address", d.Address)
	if d.Port < 1 || d.Port > 65535 {
		f.add("port", "Must be from 1 to 65535.")
	}
	if !webnet.ValidPlatform(d.Platform) {
		f.add("platform", "Must be one of "+strings.Join(webnet.Platforms, ", ")+".")
	}
	return f.err("Invalid device.")
}

// checkRefs checks that the device's group and credential exist in its customer and are
// visible to the caller (not_found otherwise, like the same object in the URL).
func (c *Core) checkRefs(ctx context.Context, q store.Q, g *authz.Grants, d *webnet.Device) error {
	if d.DeviceGroupID != nil {
		dg, err := q.DeviceGroupByID(ctx, *d.DeviceGroupID)
		if err != nil || dg.CustomerID != d.CustomerID || !g.SeesDeviceGroup(dg.CustomerID, dg.ID) {
			return &webnet.Error{Code: webnet.ENotFound, Message: "Device group not found.",
				Fields: map[string]string{"device_group": "No such device group in this customer."}}
		}
	}
	if d.CredentialID != nil {
		cr, err := q.CredentialByID(ctx, *d.CredentialID)
		if err != nil || cr.CustomerID != d.CustomerID || !g.Admin(cr.CustomerID) {
			return &webnet.Error{Code: webnet.ENotFound, Message: "Credential not found.",
				Fields: map[string]string{"credential": "No such credential in this customer."}}
		}
	}
	return nil
}

// CreateDevice creates a device. The caller needs add_device customer-wide or on the target
// group; non-admins must give a group. Errors: unauthenticated, not_found (customer, group or
// credential not visible), forbidden, invalid, conflict (name taken).
func (c *Core) CreateDevice(ctx context.Context, in DeviceInput) (*DeviceDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		return nil, bodyErrFirst(in.BodyErr, webnet.Invalid("Invalid device.", map[string]string{"customer": "This field is required."}))
	}
	now := c.clock.Now()
	d := &webnet.Device{CustomerID: *in.Customer, DeviceGroupID: in.DeviceGroup, Name: in.Name, Address: in.Address,
		Port: 22, Platform: in.Platform, CredentialID: in.Credential, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if in.Port != nil {
		d.Port = *in.Port
	}
	if in.Enabled != nil {
		d.Enabled = *in.Enabled
	}
	e := entry{action: "device.create", objectType: "device", repr: in.Name, customerID: d.CustomerID}
	if !g.Bypass() && !g.Member(d.CustomerID) {
		return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
	}
	q := c.db.Read()
	if err := c.checkRefs(ctx, q, g, d); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if !g.CanAddTo(d.CustomerID, d.GroupID()) {
		msg := "You do not have permission to add devices to this device group."
		if d.DeviceGroupID == nil {
			msg = "You do not have permission to add ungrouped devices; choose a device group."
		}
		return nil, c.denied(ctx, e, forbidden("%s", msg))
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	if err := validateDevice(d); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		e.objectID = d.ID
		e.details = map[string]any{"after": deviceFields(d)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &DeviceDetail{Device: *d, UserPermissions: g.Perms(authz.TargetOf(d)).Codenames()}, nil
}

// AuthorizeDeviceChange answers what UpdateDevice would answer about the caller before
// reading the body: not_found for an invisible device, forbidden (audited) without
// change_device. Handlers call it first so that a caller without the permission never learns
// what a valid body would be. Errors: unauthenticated, not_found, forbidden.
func (c *Core) AuthorizeDeviceChange(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	d, err := c.visibleDevice(ctx, c.db.Read(), g, id)
	if err != nil {
		return err
	}
	if !g.Can(webnet.PermChangeDevice, authz.TargetOf(d)) {
		e := entry{action: "device.update", objectType: "device", objectID: d.ID, repr: d.Name, customerID: d.CustomerID}
		return c.denied(ctx, e, forbidden("You do not have permission to change this device."))
	}
	return nil
}

// DevicePatch is the body of PATCH /api/devices/{id}/: only the given fields change.
type DevicePatch struct {
	Customer    *int64     `json:"customer"`
	DeviceGroup OptionalID `json:"device_group"`
	Name        *string    `json:"name"`
	Address     *string    `json:"address"`
	Port        *int       `json:"port"`
	Platform    *string    `json:"platform"`
	Credential  OptionalID `json:"credential"`
	Enabled     *bool      `json:"enabled"`
}

// UpdateDevice changes a device. The caller needs change_device on it; moving it to another
// group also needs add_device there; changing enabled also needs enable_device. Errors:
// unauthenticated, not_found, forbidden, invalid, conflict.
func (c *Core) UpdateDevice(ctx context.Context, id int64, p DevicePatch) (*DeviceDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	q := c.db.Read()
	d, err := c.visibleDevice(ctx, q, g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "device.update", objectType: "device", objectID: d.ID, repr: d.Name, customerID: d.CustomerID}
	t := authz.TargetOf(d)
	if !g.Can(webnet.PermChangeDevice, t) {
		return nil, c.denied(ctx, e, forbidden("You do not have permission to change this device."))
	}
	before := deviceFields(d)
	next := *d
	if p.DeviceGroup.Set {
		next.DeviceGroupID = p.DeviceGroup.Value
	}
	if p.Credential.Set {
		next.CredentialID = p.Credential.Value
	}
	if err := c.checkRefs(ctx, q, g, &next); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if next.GroupID() != d.GroupID() && !g.CanAddTo(d.CustomerID, next.GroupID()) {
		return nil, c.denied(ctx, e, forbidden("You do not have permission to add devices to the destination device group."))
	}
	if p.Enabled != nil && *p.Enabled != d.Enabled && !g.Can(webnet.PermEnableDevice, t) {
		return nil, c.denied(ctx, e, forbidden("You do not have permission to enable or disable this device."))
	}
	if p.Customer != nil && *p.Customer != d.CustomerID {
		return nil, webnet.Invalid("Invalid device.", map[string]string{"customer": "A device cannot move to another customer."})
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Address != nil {
		next.Address = *p.Address
	}
	if p.Port != nil {
		next.Port = *p.Port
	}
	if p.Platform != nil {
		next.Platform = *p.Platform
	}
	if p.Enabled != nil {
		next.Enabled = *p.Enabled
	}
	if err := validateDevice(&next); err != nil {
		return nil, err
	}
	next.UpdatedAt = c.clock.Now()
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateDevice(ctx, &next); err != nil {
			return err
		}
		e.details = changes(before, deviceFields(&next))
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &DeviceDetail{Device: next, UserPermissions: g.Perms(authz.TargetOf(&next)).Codenames()}, nil
}

// SetDeviceEnabled enables or disables a device. The caller needs enable_device on it.
// Errors: unauthenticated, not_found, forbidden.
func (c *Core) SetDeviceEnabled(ctx context.Context, id int64, enabled bool) (*DeviceDetail, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	d, err := c.visibleDevice(ctx, c.db.Read(), g, id)
	if err != nil {
		return nil, err
	}
	action := "device.disable"
	if enabled {
		action = "device.enable"
	}
	e := entry{action: action, objectType: "device", objectID: d.ID, repr: d.Name, customerID: d.CustomerID}
	if !g.Can(webnet.PermEnableDevice, authz.TargetOf(d)) {
		return nil, c.denied(ctx, e, forbidden("You do not have permission to enable or disable this device."))
	}
	before := d.Enabled
	d.Enabled, d.UpdatedAt = enabled, c.clock.Now()
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateDevice(ctx, d); err != nil {
			return err
		}
		e.details = map[string]any{"enabled": map[string]any{"before": before, "after": enabled}}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &DeviceDetail{Device: *d, UserPermissions: g.Perms(authz.TargetOf(d)).Codenames()}, nil
}

// DeletePreview says what a delete did or would do.
type DeletePreview struct {
	DryRun  bool          `json:"dry_run"`
	Deleted bool          `json:"deleted"`
	Count   int           `json:"count"`
	Devices []DeviceBrief `json:"devices"`
}

// DeviceBrief names a device.
type DeviceBrief struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// DeleteDevice deletes a device, or with dryRun says what would go. The caller needs
// delete_device on it. Errors: unauthenticated, not_found, forbidden.
func (c *Core) DeleteDevice(ctx context.Context, id int64, dryRun bool) (*DeletePreview, error) {
	return c.deleteDevices(ctx, []int64{id}, dryRun, true)
}

// AuthorizeBulkDelete answers what BulkDelete would answer about the caller and the devices
// before looking at the rest of the body: not_found naming the invisible ids, forbidden
// (audited) naming the devices without delete_device, invalid for a bad list. Handlers call
// it when the body is otherwise bad, so that the body's error comes last. Errors:
// unauthenticated, not_found, forbidden, invalid.
func (c *Core) AuthorizeBulkDelete(ctx context.Context, ids []int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	e := entry{action: "device.delete", objectType: "device"}
	_, err = c.devicesFor(ctx, g, ids, webnet.PermDeleteDevice, "You do not have permission to delete devices", &e)
	return err
}

// BulkDelete deletes several devices, all or nothing: any invisible id is not_found (naming
// the ids), any device without delete_device is forbidden (naming them). Without confirm and
// not a dry run, it answers invalid with the preview. Errors: unauthenticated, not_found,
// forbidden, invalid.
func (c *Core) BulkDelete(ctx context.Context, ids []int64, dryRun, confirm bool) (*DeletePreview, error) {
	return c.deleteDevices(ctx, ids, dryRun, confirm)
}

func (c *Core) deleteDevices(ctx context.Context, ids []int64, dryRun, confirm bool) (*DeletePreview, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "device.delete", objectType: "device"}
	devices, err := c.devicesFor(ctx, g, ids, webnet.PermDeleteDevice, "You do not have permission to delete devices", &e)
	if err != nil {
		return nil, err
	}
	p := &DeletePreview{DryRun: dryRun, Count: len(devices), Devices: make([]DeviceBrief, len(devices))}
	for i, d := range devices {
		p.Devices[i] = DeviceBrief{ID: d.ID, Name: d.Name}
	}
	if dryRun {
		return p, nil
	}
	if !confirm {
		return nil, &webnet.Error{Code: webnet.EInvalid, Message: "Deleting devices needs confirm: true (or dry_run: true for a preview).",
			Fields: map[string]string{"confirm": "Set to true to delete these devices."}, Extra: map[string]any{"preview": p}}
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.DeleteDevices(ctx, ids); err != nil {
			return err
		}
		for _, d := range devices {
			de := entry{action: "device.delete", objectType: "device", objectID: d.ID, repr: d.Name, customerID: d.CustomerID,
				details: map[string]any{"before": deviceFields(&d)}}
			if err := c.audit(ctx, tx, de); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Deleted = true
	return p, nil
}

// devicesFor loads the devices with ids for an action needing perm, all or nothing: not_found
// naming the invisible ids, else forbidden (with sentence) naming the devices without perm.
// Denials are audited.
func (c *Core) devicesFor(ctx context.Context, g *authz.Grants, ids []int64, perm webnet.Perm, sentence string, e *entry) ([]webnet.Device, error) {
	if len(ids) == 0 {
		return nil, webnet.Invalid("No devices given.", map[string]string{"devices": "Give at least one device id."})
	}
	if len(ids) > 10000 {
		return nil, webnet.Invalid("Too many devices.", map[string]string{"devices": "At most 10000 devices at once."})
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if id <= 0 || seen[id] {
			return nil, webnet.Invalid("Invalid device list.", map[string]string{"devices": fmt.Sprintf("Device ids must be positive and distinct (%d).", id)})
		}
		seen[id] = true
	}
	devices, err := c.db.Read().DevicesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	found := map[int64]bool{}
	var denied []int64
	var visible []webnet.Device
	for _, d := range devices {
		dec := g.Decide(perm, authz.TargetOf(&d))
		if !dec.Visible && !dec.Allowed {
			continue
		}
		found[d.ID] = true
		visible = append(visible, d)
		if !dec.Allowed {
			denied = append(denied, d.ID)
		}
	}
	var missing []int64
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, &webnet.Error{Code: webnet.ENotFound, Message: fmt.Sprintf("Devices not found: %s.", joinIDs(missing)),
			Extra: map[string]any{"devices": missing}}
	}
	if len(denied) > 0 {
		err := &webnet.Error{Code: webnet.EForbidden, Message: sentence, Extra: map[string]any{"devices": denied}}
		for _, d := range visible {
			for _, id := range denied {
				if d.ID == id {
					de := *e
					de.objectID, de.repr, de.customerID = d.ID, d.Name, d.CustomerID
					c.denied(ctx, de, err)
				}
			}
		}
		return nil, err
	}
	return visible, nil
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// OptionalID is a JSON field that may be absent, null or an id: PATCH tells "leave as is"
// from "clear".
type OptionalID struct {
	Set   bool
	Value *int64
}

// UnmarshalJSON records that the field was present.
func (o *OptionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v int64
	if _, err := fmt.Sscan(string(b), &v); err != nil || fmt.Sprint(v) != string(b) {
		// The decoder names the field of an *json.UnmarshalTypeError (and only of that), so
		// the client learns which field is wrong.
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: reflect.TypeFor[int64]()}
	}
	o.Value = &v
	return nil
}

// bodyErrFirst returns err, unless it is a validation error and the body itself was bad:
// then the body's error, with err's fields added to its own. Visibility and permission
// errors always come before the body's (design.md §3).
func bodyErrFirst(bodyErr, err error) error {
	if bodyErr == nil || webnet.ErrorCode(err) != webnet.EInvalid {
		return err
	}
	var b, e *webnet.Error
	if !errors.As(bodyErr, &b) || !errors.As(err, &e) || b.Code != webnet.EInvalid || len(e.Fields) == 0 {
		return bodyErr
	}
	fields := maps.Clone(e.Fields)
	maps.Copy(fields, b.Fields)
	return &webnet.Error{Code: webnet.EInvalid, Message: b.Message, Fields: fields, Extra: b.Extra}
}
