package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

const backupColumns = `b.id, b.customer_id, b.device_id, b.job_id, b.taken_at, b.sha256, b.masked_sha256, b.size, b.changed`

func scanBackup(s scanner, b *webnet.Backup) error {
	var job sql.NullInt64
	if err := s.Scan(&b.ID, &b.CustomerID, &b.DeviceID, &job, &b.TakenAt, &b.SHA256, &b.MaskedSHA256, &b.Size, &b.Changed); err != nil {
		return err
	}
	b.JobID, b.TakenAt = nullInt(job), b.TakenAt.UTC()
	return nil
}

// LatestBackup returns a device's newest backup (not_found when it has none).
func (q Q) LatestBackup(ctx context.Context, deviceID int64) (*webnet.Backup, error) {
	var b webnet.Backup
	err := scanBackup(q.queryRow(ctx, `SELECT `+backupColumns+` FROM config_backups b WHERE b.device_id = ?
		ORDER BY b.id DESC LIMIT 1`, deviceID), &b)
	if err != nil {
		return nil, notFound(err, "Backup")
	}
	return &b, nil
}

// BackupByID returns one backup; callers authorize by its device.
func (q Q) BackupByID(ctx context.Context, id int64) (*webnet.Backup, error) {
	var b webnet.Backup
	if err := scanBackup(q.queryRow(ctx, `SELECT `+backupColumns+` FROM config_backups b WHERE b.id = ?`, id), &b); err != nil {
		return nil, notFound(err, "Backup")
	}
	return &b, nil
}

// PreviousBackup returns the version of the same device before backup b (not_found for its
// first).
func (q Q) PreviousBackup(ctx context.Context, b *webnet.Backup) (*webnet.Backup, error) {
	var prev webnet.Backup
	err := scanBackup(q.queryRow(ctx, `SELECT `+backupColumns+` FROM config_backups b WHERE b.device_id = ? AND b.id < ?
		ORDER BY b.id DESC LIMIT 1`, b.DeviceID, b.ID), &prev)
	if err != nil {
		return nil, notFound(err, "Backup")
	}
	return &prev, nil
}

// ListBackups returns a page of a device's backups, newest first, and their count.
func (q Q) ListBackups(ctx context.Context, deviceID int64, page webnet.Page) ([]webnet.Backup, int, error) {
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM config_backups WHERE device_id = ?`, deviceID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count backups: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+backupColumns+` FROM config_backups b WHERE b.device_id = ? ORDER BY b.id DESC LIMIT ? OFFSET ?`,
		deviceID, page.Limit, page.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list backups: %w", err)
	}
	defer rows.Close()
	out := []webnet.Backup{}
	for rows.Next() {
		var b webnet.Backup
		if err := scanBackup(rows, &b); err != nil {
			return nil, 0, fmt.Errorf("scan backup: %w", err)
		}
		out = append(out, b)
	}
	return out, total, rows.Err()
}

// BackupContent returns the compressed content of a customer's configuration by hash.
func (q Q) BackupContent(ctx context.Context, customerID int64, sha256 string) ([]byte, error) {
	var content []byte
	if err := q.queryRow(ctx, `SELECT content FROM config_blobs WHERE customer_id = ? AND sha256 = ?`, customerID, sha256).Scan(&content); err != nil {
		return nil, notFound(err, "Backup content")
	}
	return content, nil
}

// BlobBytes sums the stored (compressed) size of a customer's configurations.
func (q Q) BlobBytes(ctx context.Context, customerID int64) (int64, error) {
	var n sql.NullInt64
	err := q.queryRow(ctx, `SELECT SUM(length(content)) FROM config_blobs WHERE customer_id = ?`, customerID).Scan(&n)
	return n.Int64, err
}

// SaveBlob stores compressed content under its hash once per customer.
func (tx *Tx) SaveBlob(ctx context.Context, customerID int64, sha256 string, size int, compressed []byte) error {
	if _, err := tx.exec(ctx, `INSERT INTO config_blobs (customer_id, sha256, size, content) VALUES (?, ?, ?, ?)
		ON CONFLICT (customer_id, sha256) DO NOTHING`, customerID, sha256, size, compressed); err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	return nil
}

// CreateBackup inserts a backup (its blob saved first) and stamps the device's
// last_backup_at; it sets b.ID.
func (tx *Tx) CreateBackup(ctx context.Context, b *webnet.Backup) error {
	if err := tx.queryRow(ctx, `INSERT INTO config_backups (customer_id, device_id, job_id, taken_at, sha256, masked_sha256, size, changed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, b.CustomerID, b.DeviceID, b.JobID, b.TakenAt, b.SHA256, b.MaskedSHA256,
		b.Size, b.Changed).Scan(&b.ID); err != nil {
		return fmt.Errorf("insert backup: %w", err)
	}
	return tx.TouchBackup(ctx, b.DeviceID, b.TakenAt)
}

// TouchBackup records that a device's configuration was read at, whether or not it changed.
func (tx *Tx) TouchBackup(ctx context.Context, deviceID int64, at time.Time) error {
	var c DeviceChange
	var group sql.NullInt64
	if err := tx.queryRow(ctx, `UPDATE devices SET last_backup_at = ? WHERE id = ? RETURNING id, customer_id, device_group_id`,
		at, deviceID).Scan(&c.ID, &c.CustomerID, &group); err != nil {
		return notFound(err, "Device")
	}
	c.Before, c.After = group.Int64, group.Int64
	return tx.notifyDevices(ctx, []DeviceChange{c})
}

// PruneBackups deletes a device's backups that retention r no longer keeps (never the
// newest) and the stored content no backup refers to any more. It returns how many backups
// it deleted.
func (tx *Tx) PruneBackups(ctx context.Context, customerID, deviceID int64, r webnet.Retention, now time.Time) (int, error) {
	if r.Keep <= 0 && r.KeepFor <= 0 {
		return 0, nil
	}
	keep := max(r.Keep, 1)
	if r.Keep <= 0 {
		keep = 1 // only the age rule: the newest stays
	}
	cond, args := `device_id = ? AND id NOT IN (SELECT id FROM config_backups WHERE device_id = ? ORDER BY id DESC LIMIT ?)`,
		[]any{deviceID, deviceID, keep}
	if r.KeepFor > 0 {
		cond += ` AND taken_at < ?`
		args = append(args, now.Add(-r.KeepFor))
	}
	rows, err := tx.query(ctx, `DELETE FROM config_backups WHERE `+cond+` RETURNING sha256`, args...)
	if err != nil {
		return 0, fmt.Errorf("prune backups: %w", err)
	}
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return 0, err
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("prune backups: %w", err)
	}
	seen := map[string]bool{}
	for _, h := range hashes {
		if seen[h] {
			continue
		}
		seen[h] = true
		if _, err := tx.exec(ctx, `DELETE FROM config_blobs WHERE customer_id = ? AND sha256 = ? AND NOT EXISTS
			(SELECT 1 FROM config_backups b WHERE b.customer_id = ? AND b.sha256 = ?)`, customerID, h, customerID, h); err != nil {
			return 0, fmt.Errorf("prune configurations: %w", err)
		}
	}
	return len(hashes), nil
}
