package service

import (
	"context"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// ModelPermission is one entry of the model permission catalog (GET /api/permissions/).
type ModelPermission struct {
	Codename     string `json:"codename"`
	App          string `json:"app"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	CustomAction bool   `json:"custom_action"`
}

// DeviceGroupPermission is a code a device-group role may hold
// (GET /api/device-group-permissions/).
type DeviceGroupPermission struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Permissions returns the model permission catalog, in catalog order. Any signed-in user may
// call it. Errors: unauthenticated.
func (c *Core) Permissions(ctx context.Context) ([]ModelPermission, error) {
	if _, err := c.grants(ctx); err != nil {
		return nil, err
	}
	out := make([]ModelPermission, 0, len(webnet.Catalog))
	for _, p := range webnet.Catalog {
		out = append(out, ModelPermission{Codename: p.Codename, App: p.App, Name: p.Name, Description: p.Description, CustomAction: p.CustomAction})
	}
	return out, nil
}

// DeviceGroupPermissions returns the codes a device-group role may hold, in catalog order.
// Any signed-in user may call it. Errors: unauthenticated.
func (c *Core) DeviceGroupPermissions(ctx context.Context) ([]DeviceGroupPermission, error) {
	if _, err := c.grants(ctx); err != nil {
		return nil, err
	}
	out := []DeviceGroupPermission{}
	for _, p := range webnet.Catalog {
		if p.GroupScoped {
			out = append(out, DeviceGroupPermission{Code: p.Codename, Name: p.Name, Description: p.Description})
		}
	}
	return out, nil
}

// InitDeviceGroupPermissions writes the permission catalog, the device-group permission codes
// and the default global bundles, idempotently (webnet init-device-group-permissions; migrate
// does it too), with its audit record in the same transaction, and returns how many rows it
// created. Only the system subject may call it. Errors: forbidden.
func (c *Core) InitDeviceGroupPermissions(ctx context.Context) (created int, err error) {
	e := entry{action: "catalog.init", objectType: "permission_catalog", repr: "permission catalog"}
	if !SubjectFrom(ctx).IsSystem() {
		return 0, c.denied(ctx, e, forbidden("Only the command line initialises the permission catalog."))
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if created, err = tx.InitCatalog(ctx, c.clock.Now()); err != nil {
			return err
		}
		e.details = map[string]any{"created": created}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}
