package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"webnet/internal/webnet"
)

// RecordReadiness replaces the latest readiness check of r.DeviceID with r.
func (tx *Tx) RecordReadiness(ctx context.Context, r *webnet.Readiness) error {
	checks, err := json.Marshal(r.Checks)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO device_readiness (device_id, customer_id, job_id, image_id, status, checks, checked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET job_id = excluded.job_id, image_id = excluded.image_id,
			status = excluded.status, checks = excluded.checks, checked_at = excluded.checked_at`,
		r.DeviceID, r.CustomerID, r.JobID, r.ImageID, r.Status, string(checks), r.CheckedAt)
	if err != nil {
		return fmt.Errorf("record readiness: %w", err)
	}
	return nil
}

// ReadinessOf returns the latest readiness check of device id; ENotFound when it was never
// checked.
func (q Q) ReadinessOf(ctx context.Context, id int64) (*webnet.Readiness, error) {
	r := &webnet.Readiness{}
	var checks string
	var job, image sql.NullInt64
	err := q.queryRow(ctx, `SELECT device_id, customer_id, job_id, image_id, status, checks, checked_at
		FROM device_readiness WHERE device_id = ?`, id).Scan(&r.DeviceID, &r.CustomerID, &job, &image, &r.Status, &checks, &r.CheckedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webnet.Errorf(webnet.ENotFound, "The device has not been checked for readiness yet.")
	}
	if err != nil {
		return nil, fmt.Errorf("read readiness: %w", err)
	}
	if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
		return nil, fmt.Errorf("read readiness checks: %w", err)
	}
	r.JobID, r.ImageID, r.CheckedAt = nullInt(job), nullInt(image), r.CheckedAt.UTC()
	return r, nil
}

// DeviceJobHolder returns the job holding device id's device-job lock (0: none).
func (q Q) DeviceJobHolder(ctx context.Context, id int64) (int64, error) {
	var job int64
	err := q.queryRow(ctx, `SELECT job_id FROM device_jobs WHERE device_id = ?`, id).Scan(&job)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read device lock: %w", err)
	}
	return job, nil
}
