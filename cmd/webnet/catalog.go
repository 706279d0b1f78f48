package main

import (
	"context"
	"fmt"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// initDeviceGroupPermissions writes the permission catalog, the device-group permission codes
// and the default global bundles (idempotent; migrate does it too).
func (c cli) initDeviceGroupPermissions(ctx context.Context, args []string) error {
	var cfg Config
	fs := newFlagSet("init-device-group-permissions", "Write the permission catalog, the device-group permission codes and the default\n"+
		"global permission bundles. Idempotent; migrate does it too. Audited as catalog.init.")
	cfg.storageFlags(fs, c.getenv)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	log := c.logger(cfg)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	access, err := service.NewAccess(db)
	if err != nil {
		return err
	}
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: webnet.SystemClock{}, Logger: log})
	if err != nil {
		return err
	}
	n, err := core.InitDeviceGroupPermissions(service.WithSubject(ctx, service.System()))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "permission catalog up to date (%d rows created)\n", n)
	return nil
}
