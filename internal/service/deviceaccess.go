package service

import (
	"context"
	"fmt"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// DeviceHostKey returns the SSH host key a device is trusted with ("" before the first
// connection, or after an admin cleared it), for the worker connecting to it. Only the
// system subject may call it. Errors: unauthenticated, forbidden, not_found.
func (c *Core) DeviceHostKey(ctx context.Context, deviceID int64) (string, error) {
	if err := requireSystemSubject(ctx, "read host keys"); err != nil {
		return "", err
	}
	return c.db.Read().DeviceHostKey(ctx, deviceID)
}

// TrustHostKey records the key a device presented on its first connection (trust on first
// use) and returns the key it is trusted with afterwards: key, or the one another worker
// recorded first, which the caller must then compare. Only the system subject may call it.
// Errors: unauthenticated, forbidden, not_found.
func (c *Core) TrustHostKey(ctx context.Context, deviceID int64, key string) (string, error) {
	if err := requireSystemSubject(ctx, "trust host keys"); err != nil {
		return "", err
	}
	if key == "" {
		return "", webnet.Invalid("No host key.", map[string]string{"host_key": "This field is required."})
	}
	var trusted string
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		trusted, err = tx.TrustHostKey(ctx, deviceID, key)
		return err
	})
	return trusted, err
}

// ClearHostKey forgets the host key a device is trusted with, so that the next connection
// trusts whatever key it presents (after a device was replaced or re-keyed). The device's
// customer's admins and staff may; audited with the old key. Errors: unauthenticated,
// not_found, forbidden.
func (c *Core) ClearHostKey(ctx context.Context, deviceID int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	d, err := c.visibleDevice(ctx, c.db.Read(), g, deviceID)
	if err != nil {
		return err
	}
	e := entry{action: "device.clear_host_key", objectType: "device", objectID: d.ID, repr: d.Name, customerID: d.CustomerID}
	if !g.Admin(d.CustomerID) {
		return c.denied(ctx, e, forbidden("Only the customer's admins may clear a device's host key."))
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.ClearHostKey(ctx, d.ID)
		if err != nil {
			return err
		}
		e.details = map[string]any{"host_key": map[string]any{"before": old, "after": ""}}
		return c.audit(ctx, tx, e)
	})
}

// RecordFacts stores what a sync learned about a device. Only the system subject may call
// it. Errors: unauthenticated, forbidden, not_found.
func (c *Core) RecordFacts(ctx context.Context, deviceID int64, f webnet.DeviceFacts) error {
	if err := requireSystemSubject(ctx, "record device facts"); err != nil {
		return err
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RecordFacts(ctx, deviceID, f, c.clock.Now()); err != nil {
			return fmt.Errorf("device %d: %w", deviceID, err)
		}
		return nil
	})
}
