package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// MaxImportRows bounds one import.
const MaxImportRows = 10000

// ImportRow is one device of an import. Device groups and credentials are named, not
// numbered: an inventory from devsim or a NetBox export knows names.
type ImportRow struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	Port        *int   `json:"port"`
	Platform    string `json:"platform"`
	DeviceGroup string `json:"device_group"`
	Credential  string `json:"credential"`
	Enabled     *bool  `json:"enabled"`
}

// ImportRequest is a whole import into one customer.
type ImportRequest struct {
	Customer int64
	DryRun   bool
	Rows     []ImportRow
	// BodyErr is why the file could not be read; it is reported after the customer check.
	BodyErr error
}

// RowError is what is wrong with one row (numbered from 1, as in the file after its header).
type RowError struct {
	Row    int               `json:"row"`
	Name   string            `json:"name"`
	Errors map[string]string `json:"errors"`
}

// ImportResult is the answer to an import.
type ImportResult struct {
	DryRun  bool    `json:"dry_run"`
	Created int     `json:"created"`
	Devices []int64 `json:"devices"`
}

// permissionField marks a row refused for permission rather than content.
const permissionField = "permission"

// ImportDevices creates many devices in one customer, all or nothing: every row is checked
// (fields as for one device, names unique in the file and the customer, groups and
// credentials that exist, the caller's add_device on each row's group), and the answer lists
// every bad row. A row the caller may not add makes the whole import forbidden; otherwise a
// bad row makes it invalid; either way nothing is written. A dry run checks everything and
// writes nothing. The devices and one audit record each are written in one transaction.
// Errors: unauthenticated, not_found (customer), forbidden, invalid.
func (c *Core) ImportDevices(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if !g.Bypass() && !g.Member(req.Customer) {
		return nil, notFoundErr("Customer")
	}
	if req.BodyErr != nil {
		return nil, req.BodyErr
	}
	if len(req.Rows) == 0 {
		return nil, webnet.Invalid("Nothing to import.", map[string]string{"devices": "Give at least one device."})
	}
	if len(req.Rows) > MaxImportRows {
		return nil, webnet.Invalid("Too many devices.", map[string]string{"devices": fmt.Sprintf("At most %d per import.", MaxImportRows)})
	}
	q := c.db.Read()
	groups, err := q.NamedIDs(ctx, "device_groups", req.Customer)
	if err != nil {
		return nil, err
	}
	creds, err := q.NamedIDs(ctx, "credentials", req.Customer)
	if err != nil {
		return nil, err
	}
	existing, err := q.NamedIDs(ctx, "devices", req.Customer)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	devices := make([]*webnet.Device, len(req.Rows))
	var bad []RowError
	denied := false
	seen := map[string]int{}
	for i, r := range req.Rows {
		d := &webnet.Device{CustomerID: req.Customer, Name: r.Name, Address: r.Address, Port: 22, Platform: r.Platform,
			Enabled: true, CreatedAt: now, UpdatedAt: now}
		if r.Port != nil {
			d.Port = *r.Port
		}
		if r.Enabled != nil {
			d.Enabled = *r.Enabled
		}
		f := fieldErrors{}
		if verr := validateDevice(d); verr != nil {
			var we *webnet.Error
			if errors.As(verr, &we) {
				for k, v := range we.Fields {
					f.add(k, v)
				}
			}
		}
		if first, dup := seen[r.Name]; dup && r.Name != "" {
			f.add("name", fmt.Sprintf("Also the name of row %d.", first))
		} else {
			seen[r.Name] = i + 1
		}
		if _, taken := existing[r.Name]; taken {
			f.add("name", "A device with this name already exists in this customer.")
		}
		if r.DeviceGroup != "" {
			id, ok := groups[r.DeviceGroup]
			if !ok || !g.SeesDeviceGroup(req.Customer, id) {
				f.add("device_group", "No such device group in this customer.")
			} else {
				d.DeviceGroupID = &id
			}
		}
		if r.Credential != "" {
			id, ok := creds[r.Credential]
			if !ok || !g.Admin(req.Customer) {
				f.add("credential", "No such credential in this customer.")
			} else {
				d.CredentialID = &id
			}
		}
		if _, groupBad := f["device_group"]; !groupBad && !g.CanAddTo(req.Customer, d.GroupID()) {
			denied = true
			if d.DeviceGroupID == nil {
				f.add(permissionField, "You do not have permission to add ungrouped devices; choose a device group.")
			} else {
				f.add(permissionField, "You do not have permission to add devices to this device group.")
			}
		}
		if len(f) > 0 {
			bad = append(bad, RowError{Row: i + 1, Name: r.Name, Errors: f})
		}
		devices[i] = d
	}
	e := entry{action: "device.import", objectType: "customer", objectID: req.Customer, customerID: req.Customer,
		repr: fmt.Sprintf("%d devices", len(req.Rows)), details: map[string]any{"rows": len(req.Rows), "dry_run": req.DryRun}}
	if denied {
		return nil, c.denied(ctx, e, &webnet.Error{Code: webnet.EForbidden,
			Message: "You do not have permission to add some of these devices; nothing was imported.",
			Extra:   map[string]any{"rows": bad}})
	}
	if len(bad) > 0 {
		return nil, &webnet.Error{Code: webnet.EInvalid,
			Message: fmt.Sprintf("%d of %d rows are invalid; nothing was imported.", len(bad), len(req.Rows)),
			Extra:   map[string]any{"rows": bad}}
	}
	res := &ImportResult{DryRun: req.DryRun, Devices: []int64{}}
	if req.DryRun {
		return res, nil
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		for _, d := range devices {
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
			res.Devices = append(res.Devices, d.ID)
			if err := c.audit(ctx, tx, entry{action: "device.create", objectType: "device", objectID: d.ID, repr: d.Name,
				customerID: d.CustomerID, details: map[string]any{"after": deviceFields(d), "import": true}}); err != nil {
				return err
			}
		}
		e.details["created"] = len(devices)
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	res.Created = len(res.Devices)
	return res, nil
}

// ParseImportCSV reads devices from CSV with a header row naming the columns: name, address,
// port, platform, device_group, credential, enabled (any order; name, address and platform
// required; unknown columns are an error). Every error names its line.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": "It needs a header row: name,address,port,platform,device_group,credential,enabled."})
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "name", "address", "port", "platform", "device_group", "credential", "enabled":
		default:
			return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": fmt.Sprintf("Unknown column %q.", h)})
		}
		if _, dup := cols[h]; dup {
			return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": fmt.Sprintf("Column %q appears twice.", h)})
		}
		cols[h] = i
	}
	for _, need := range []string{"name", "address", "platform"} {
		if _, ok := cols[need]; !ok {
			return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": fmt.Sprintf("Column %q is required.", need)})
		}
	}
	var rows []ImportRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": err.Error()})
		}
		if len(rows) == MaxImportRows {
			return nil, webnet.Invalid("Too many devices.", map[string]string{"devices": fmt.Sprintf("At most %d per import.", MaxImportRows)})
		}
		get := func(col string) string {
			if i, ok := cols[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := ImportRow{Name: get("name"), Address: get("address"), Platform: get("platform"),
			DeviceGroup: get("device_group"), Credential: get("credential")}
		if v := get("port"); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil {
				return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": fmt.Sprintf("Line %d: port %q is not a number.", line, v)})
			}
			row.Port = &p
		}
		if v := get("enabled"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, webnet.Invalid("Invalid CSV.", map[string]string{"file": fmt.Sprintf("Line %d: enabled %q is not true or false.", line, v)})
			}
			row.Enabled = &b
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ParseImportJSON reads devices from a JSON array of rows (or {"devices": [...]}), strictly.
func ParseImportJSON(data []byte) ([]ImportRow, error) {
	data = bytes.TrimSpace(data)
	var rows []ImportRow
	target := any(&rows)
	var wrapped struct {
		Devices []ImportRow `json:"devices"`
	}
	if len(data) > 0 && data[0] == '{' {
		target = &wrapped
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return nil, webnet.Invalid("Invalid JSON.", map[string]string{"file": err.Error()})
	}
	if target == &wrapped {
		rows = wrapped.Devices
	}
	return rows, nil
}
