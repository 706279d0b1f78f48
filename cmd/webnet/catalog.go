package main

import (
	"context"
	"fmt"
)

// initDeviceGroupPermissions writes the permission catalog, the device-group permission codes
// and the default global bundles (idempotent; migrate does it too).
func (c cli) initDeviceGroupPermissions(ctx context.Context, args []string) error {
	fs := newFlagSet("init-device-group-permissions", "Write the permission catalog, the device-group permission codes and the default\n"+
		"global permission bundles. Idempotent; migrate does it too. Audited as catalog.init.")
	e, err := c.openAdmin(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer e.Close()
	n, err := e.core.InitDeviceGroupPermissions(e.sys)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "permission catalog up to date (%d rows created)\n", n)
	return nil
}
