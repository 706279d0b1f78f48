package service

import (
	"context"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// RecordReadiness stores a readiness check of a device by a job as the device's latest
// (checks in order; the status is worked out from them). Only the system subject (a worker)
// may call it. Errors: unauthenticated, forbidden, not_found (device).
func (c *Core) RecordReadiness(ctx context.Context, deviceID int64, jobID, imageID *int64, checks []webnet.ReadinessCheck) (*webnet.Readiness, error) {
	if err := requireSystemSubject(ctx, "record readiness checks"); err != nil {
		return nil, err
	}
	d, err := c.db.Read().DeviceByID(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	r := &webnet.Readiness{DeviceID: d.ID, CustomerID: d.CustomerID, JobID: jobID, ImageID: imageID,
		Status: webnet.ReadinessStatus(checks), Checks: checks, CheckedAt: c.clock.Now()}
	err = c.db.InTx(ctx, func(tx *store.Tx) error { return tx.RecordReadiness(ctx, r) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeviceReadiness returns the latest readiness check of a device the caller may see.
// Errors: unauthenticated, not_found (no such device, or never checked).
func (c *Core) DeviceReadiness(ctx context.Context, deviceID int64) (*webnet.Readiness, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	q := c.db.Read()
	if _, err := c.visibleDevice(ctx, q, g, deviceID); err != nil {
		return nil, err
	}
	return q.ReadinessOf(ctx, deviceID)
}

// DeviceJobHolder returns the job that holds the device's one-job-at-a-time lock (0:
// none). Only the system subject may call it.
func (c *Core) DeviceJobHolder(ctx context.Context, deviceID int64) (int64, error) {
	if err := requireSystemSubject(ctx, "read device locks"); err != nil {
		return 0, err
	}
	return c.db.Read().DeviceJobHolder(ctx, deviceID)
}

// DeviceHealth counts the devices the caller may view by sync and backup age and by latest
// readiness. Errors: unauthenticated.
func (c *Core) DeviceHealth(ctx context.Context) (*webnet.DeviceHealth, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.db.Read().DeviceHealth(ctx, g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id"), c.clock.Now())
}
