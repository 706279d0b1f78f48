package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

const deviceColumns = `d.id, d.customer_id, d.device_group_id, d.name, d.address, d.port, d.platform, d.credential_id,
	d.enabled, d.vendor, d.model, d.serial, d.os_version, d.uptime, d.last_sync_at, d.last_backup_at, d.created_at, d.updated_at`

func scanDevice(s scanner, d *webnet.Device) error {
	var group, cred sql.NullInt64
	var sync, backup sql.NullTime
	if err := s.Scan(&d.ID, &d.CustomerID, &group, &d.Name, &d.Address, &d.Port, &d.Platform, &cred, &d.Enabled,
		&d.Vendor, &d.Model, &d.Serial, &d.OSVersion, &d.Uptime, &sync, &backup, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return err
	}
	d.DeviceGroupID, d.CredentialID = nullInt(group), nullInt(cred)
	d.LastSyncAt, d.LastBackupAt = nullTime(sync), nullTime(backup)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return nil
}

func deviceWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A device with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.ENotFound, "Device group or credential not found in the device's customer.")
	}
	return fmt.Errorf("%s device: %w", what, err)
}

// CreateDevice inserts d, sets its ID and counts it in its customer and group.
func (tx *Tx) CreateDevice(ctx context.Context, d *webnet.Device) error {
	err := tx.queryRow(ctx, `INSERT INTO devices (customer_id, device_group_id, name, address, port, platform,
		credential_id, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.CustomerID, d.DeviceGroupID, d.Name, d.Address, d.Port, d.Platform, d.CredentialID, d.Enabled,
		d.CreatedAt, d.UpdatedAt).Scan(&d.ID)
	if err := deviceWriteErr(err, "insert"); err != nil {
		return err
	}
	if err := tx.countDevices(ctx, d.CustomerID, d.GroupID(), 1); err != nil {
		return err
	}
	return tx.notifyDevices(ctx, []DeviceChange{{ID: d.ID, CustomerID: d.CustomerID, Before: NoDevice, After: d.GroupID()}})
}

// countDevices adds delta devices to the counts of a customer and of a device group (0: the
// customer's ungrouped devices). Every change of a device's existence or group calls it in
// the same transaction, so the counts are always exact.
func (tx *Tx) countDevices(ctx context.Context, customerID, groupID int64, delta int) error {
	ungrouped := 0
	if groupID == 0 {
		ungrouped = delta
	} else if _, err := tx.exec(ctx, `UPDATE device_groups SET device_count = device_count + ? WHERE id = ?`, delta, groupID); err != nil {
		return fmt.Errorf("count group devices: %w", err)
	}
	if _, err := tx.exec(ctx, `UPDATE customers SET device_count = device_count + ?, ungrouped_device_count = ungrouped_device_count + ?
		WHERE id = ?`, delta, ungrouped, customerID); err != nil {
		return fmt.Errorf("count customer devices: %w", err)
	}
	return nil
}

// UpdateDevice writes d's editable fields and moves its count if its group changed.
func (tx *Tx) UpdateDevice(ctx context.Context, d *webnet.Device) error {
	var oldGroup sql.NullInt64
	err := tx.queryRow(ctx, `SELECT device_group_id FROM devices WHERE id = ?`+tx.d.forUpdate(), d.ID).Scan(&oldGroup)
	if err != nil {
		return notFound(err, "Device")
	}
	_, err = tx.exec(ctx, `UPDATE devices SET device_group_id = ?, name = ?, address = ?, port = ?, platform = ?,
		credential_id = ?, enabled = ?, updated_at = ? WHERE id = ?`,
		d.DeviceGroupID, d.Name, d.Address, d.Port, d.Platform, d.CredentialID, d.Enabled, d.UpdatedAt, d.ID)
	if err := deviceWriteErr(err, "update"); err != nil {
		return err
	}
	if oldGroup.Int64 != d.GroupID() {
		if err := tx.countDevices(ctx, d.CustomerID, oldGroup.Int64, -1); err != nil {
			return err
		}
		if err := tx.countDevices(ctx, d.CustomerID, d.GroupID(), 1); err != nil {
			return err
		}
	}
	return tx.notifyDevices(ctx, []DeviceChange{{ID: d.ID, CustomerID: d.CustomerID, Before: oldGroup.Int64, After: d.GroupID()}})
}

// DeleteDevices deletes the devices with ids, uncounts them, and returns how many went.
func (tx *Tx) DeleteDevices(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	rows, err := tx.query(ctx, `SELECT id, customer_id, COALESCE(device_group_id, 0) FROM devices
		WHERE id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...)
	if err != nil {
		return 0, fmt.Errorf("delete devices: %w", err)
	}
	// What goes where: counts per customer and group, and each device's place for the
	// notification (listeners must know who could see a device that is gone).
	type bucket struct{ customer, group int64 }
	counts := map[bucket]int{}
	var gone []DeviceChange
	for rows.Next() {
		c := DeviceChange{After: NoDevice}
		if err := rows.Scan(&c.ID, &c.CustomerID, &c.Before); err != nil {
			rows.Close()
			return 0, err
		}
		counts[bucket{c.CustomerID, c.Before}]++
		gone = append(gone, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, `DELETE FROM devices WHERE id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...)
	if err != nil {
		return 0, fmt.Errorf("delete devices: %w", err)
	}
	// In a fixed order, so that concurrent deletions lock the count rows alike.
	buckets := slices.SortedFunc(maps.Keys(counts), func(a, b bucket) int {
		return cmp.Or(cmp.Compare(a.customer, b.customer), cmp.Compare(a.group, b.group))
	})
	for _, b := range buckets {
		if err := tx.countDevices(ctx, b.customer, b.group, -counts[b]); err != nil {
			return 0, err
		}
	}
	if err := tx.notifyDevices(ctx, gone); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// countByPlan counts the devices of a count plan from the kept per-customer and per-group
// counts: a handful of rows, whatever the number of devices.
func (q Q) countByPlan(ctx context.Context, p authz.CountPlan) (int, error) {
	var queries []string
	var args []any
	if p.All {
		queries = append(queries, `SELECT COALESCE(SUM(device_count), 0) FROM customers`)
	}
	if len(p.Customers) > 0 {
		queries = append(queries, `SELECT COALESCE(SUM(device_count), 0) FROM customers WHERE id IN (`+placeholders(len(p.Customers))+`)`)
		args = append(args, int64Args(p.Customers)...)
	}
	if len(p.GroupedCustomers) > 0 {
		queries = append(queries, `SELECT COALESCE(SUM(device_count - ungrouped_device_count), 0) FROM customers WHERE id IN (`+placeholders(len(p.GroupedCustomers))+`)`)
		args = append(args, int64Args(p.GroupedCustomers)...)
	}
	if len(p.Groups) > 0 {
		queries = append(queries, `SELECT COALESCE(SUM(device_count), 0) FROM device_groups WHERE id IN (`+placeholders(len(p.Groups))+`)`)
		args = append(args, int64Args(p.Groups)...)
	}
	if len(queries) == 0 {
		return 0, nil
	}
	var total int
	err := q.queryRow(ctx, `SELECT `+sumOf(queries), args...).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("count devices: %w", err)
	}
	return total, nil
}

// sumOf adds scalar subqueries: "(q1) + (q2) + …".
func sumOf(queries []string) string {
	parts := make([]string, len(queries))
	for i, q := range queries {
		parts[i] = "(" + q + ")"
	}
	return strings.Join(parts, " + ")
}

// DeviceByID returns the device with id, whoever may see it: callers authorize.
func (q Q) DeviceByID(ctx context.Context, id int64) (*webnet.Device, error) {
	var d webnet.Device
	if err := scanDevice(q.queryRow(ctx, `SELECT `+deviceColumns+` FROM devices d WHERE d.id = ?`, id), &d); err != nil {
		return nil, notFound(err, "Device")
	}
	return &d, nil
}

// DevicesByIDs returns the devices with those ids that exist, in id order.
func (q Q) DevicesByIDs(ctx context.Context, ids []int64) ([]webnet.Device, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return q.devicesWhere(ctx, `d.id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...)
}

// DevicesInGroup returns every device of a device group, in id order; callers authorize.
func (q Q) DevicesInGroup(ctx context.Context, groupID int64) ([]webnet.Device, error) {
	return q.devicesWhere(ctx, `d.device_group_id = ?`, groupID)
}

// devicesWhere returns every device matching cond, in id order.
func (q Q) devicesWhere(ctx context.Context, cond string, args ...any) ([]webnet.Device, error) {
	rows, err := q.query(ctx, `SELECT `+deviceColumns+` FROM devices d WHERE `+cond+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []webnet.Device
	for rows.Next() {
		var d webnet.Device
		if err := scanDevice(rows, &d); err != nil {
			return nil, fmt.Errorf("scan device: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ListDevices returns one page of the devices allowed by visible (from authz) and matching
// dq, ordered by name, with the total count. Filtering, counting and paging happen in SQL.
func (q Q) ListDevices(ctx context.Context, visible authz.Filter, dq webnet.DeviceQuery, page webnet.Page) ([]webnet.Device, int, error) {
	from, where, args, onlyVisibility, err := q.deviceWhere(visible, dq)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if plan, ok := visible.CountPlan(); ok && onlyVisibility {
		// No condition beyond authorization: count from the kept counts.
		if total, err = q.countByPlan(ctx, plan); err != nil {
			return nil, 0, err
		}
	} else if err := q.queryRow(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count devices: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+deviceColumns+` FROM `+from+` WHERE `+where+` ORDER BY d.name, d.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []webnet.Device{}
	for rows.Next() {
		var d webnet.Device
		if err := scanDevice(rows, &d); err != nil {
			return nil, 0, fmt.Errorf("scan device: %w", err)
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

// deviceWhere is the FROM and WHERE clauses of the devices (d) allowed by visible and
// matching dq, and whether there is no condition beyond visibility.
func (q Q) deviceWhere(visible authz.Filter, dq webnet.DeviceQuery) (from, where string, args []any, onlyVisibility bool, err error) {
	vis, args, err := visible.Where()
	if err != nil {
		return "", "", nil, false, err
	}
	from = "devices d"
	conds := []string{vis}
	add := func(cond string, v ...any) { conds = append(conds, cond); args = append(args, v...) }
	if dq.CustomerID != nil {
		add("d.customer_id = ?", *dq.CustomerID)
	}
	if dq.DeviceGroupID != nil {
		add("d.device_group_id = ?", *dq.DeviceGroupID)
	}
	if dq.Ungrouped {
		add("d.device_group_id IS NULL")
	}
	if dq.Platform != "" {
		add("d.platform = ?", dq.Platform)
	}
	if dq.Enabled != nil {
		add("d.enabled = ?", *dq.Enabled)
	}
	if dq.OSVersion != "" {
		add("d.os_version = ?", dq.OSVersion)
	}
	if dq.Search != "" {
		pat := "%" + escapeLike(strings.ToLower(dq.Search)) + "%"
		if q.d == Postgres {
			// LOWER() and LIKE, which the trigram indexes of migration 13 answer for three
			// characters or more (and faster than ILIKE when they are missing).
			add(`(LOWER(d.name) LIKE ? ESCAPE '\' OR LOWER(d.address) LIKE ? ESCAPE '\')`, pat, pat)
		} else if utf8.RuneCountInString(dq.Search) >= 3 {
			// The trigram index (migration 13) answers a quoted phrase as a substring match
			// in either column, ignoring case, without reading every device. Joined, not
			// `d.id IN (…)`: the matching ids are not gathered into a set first (a search
			// matching all of 100k devices: 89 → 67 ms p95).
			from = "device_search s JOIN devices d ON d.id = s.rowid"
			add(`s.device_search MATCH ?`, `"`+strings.ReplaceAll(dq.Search, `"`, `""`)+`"`)
		} else {
			// Shorter than a trigram: scan. SQLite's LIKE already ignores ASCII case, as its
			// LOWER() only folds ASCII: no LOWER() call per row.
			add(`(d.name LIKE ? ESCAPE '\' OR d.address LIKE ? ESCAPE '\')`, pat, pat)
		}
	}
	return from, strings.Join(conds, " AND "), args, len(conds) == 1, nil
}

// DeviceIDs returns the ids of every device the filter allows (for tests of the filter).
func (q Q) DeviceIDs(ctx context.Context, visible authz.Filter) ([]int64, error) {
	vis, args, err := visible.Where()
	if err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, `SELECT d.id FROM devices d WHERE `+vis+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("device ids: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// batchSize is how many of n rows the next statement of a batched write takes: 128, or the
// largest power of two not above n. Fixed sizes keep the number of distinct statements, and
// so of prepared ones, small.
func batchSize(n int) int {
	b := 128
	for b > n {
		b /= 2
	}
	return b
}

// rowsOf is n rows of cols placeholders each, for a multi-row VALUES: "(?, ?), (?, ?)".
func rowsOf(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
