package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

// DeviceHostKey returns the host key trusted for a device ("" when none).
func (q Q) DeviceHostKey(ctx context.Context, id int64) (string, error) {
	var k string
	if err := q.queryRow(ctx, `SELECT host_key FROM devices WHERE id = ?`, id).Scan(&k); err != nil {
		return "", notFound(err, "Device")
	}
	return k, nil
}

// TrustHostKey records key as the device's host key if it has none, and returns the key the
// device is trusted with afterwards (key, or the one recorded earlier).
func (tx *Tx) TrustHostKey(ctx context.Context, id int64, key string) (string, error) {
	if _, err := tx.exec(ctx, `UPDATE devices SET host_key = ? WHERE id = ? AND host_key = ''`, key, id); err != nil {
		return "", fmt.Errorf("trust host key: %w", err)
	}
	return tx.DeviceHostKey(ctx, id)
}

// ClearHostKey forgets a device's host key; it returns the key it had.
func (tx *Tx) ClearHostKey(ctx context.Context, id int64) (string, error) {
	old, err := tx.DeviceHostKey(ctx, id)
	if err != nil {
		return "", err
	}
	if _, err := tx.exec(ctx, `UPDATE devices SET host_key = '' WHERE id = ?`, id); err != nil {
		return "", fmt.Errorf("clear host key: %w", err)
	}
	return old, nil
}

// RecordFacts stores a device's facts and the time of the sync.
func (tx *Tx) RecordFacts(ctx context.Context, id int64, f webnet.DeviceFacts, at time.Time) error {
	var c DeviceChange
	var group sql.NullInt64
	err := tx.queryRow(ctx, `UPDATE devices SET vendor = ?, model = ?, serial = ?, os_version = ?, uptime = ?, last_sync_at = ?
		WHERE id = ? RETURNING id, customer_id, device_group_id`, f.Vendor, f.Model, f.Serial, f.OSVersion, f.Uptime, at, id).
		Scan(&c.ID, &c.CustomerID, &group)
	if err != nil {
		return notFound(err, "Device")
	}
	c.Before, c.After = group.Int64, group.Int64
	return tx.notifyDevices(ctx, []DeviceChange{c})
}
