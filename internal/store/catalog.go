package store

import (
	"context"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

// DefaultBundles are the global permission bundles init-device-group-permissions creates
// (design.md §2).
var DefaultBundles = []struct {
	Name, Description string
	Perms             webnet.PermSet
}{
	{"Device Viewer", "View devices and their backup history.", webnet.PermSet(webnet.PermViewDevice | webnet.PermViewBackups)},
	{"Device Manager", "Create, view, change and delete devices.", webnet.CRUDPerms},
	{"Device Operator", "Device CRUD plus sync and readiness checks.", webnet.CRUDPerms | webnet.PermSet(webnet.PermSyncDeviceInventory|webnet.PermCheckDeviceReadiness)},
	{"Device Administrator", "Every device permission, including firmware upgrades.", webnet.AllPerms},
}

// InitCatalog writes the permission catalog, the device-group permission codes and the
// default global bundles, idempotently: existing rows are brought up to date, bundles that
// exist keep their permissions (an operator may have tuned them). It returns how many rows
// it created.
func (tx *Tx) InitCatalog(ctx context.Context, now time.Time) (int, error) {
	created := 0
	count := func(res interface{ RowsAffected() (int64, error) }) {
		if n, err := res.RowsAffected(); err == nil {
			created += int(n)
		}
	}
	for _, p := range webnet.Catalog {
		res, err := tx.exec(ctx, `INSERT INTO permissions (codename, app, name, description, custom_action) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (codename) DO NOTHING`, p.Codename, p.App, p.Name, p.Description, p.CustomAction)
		if err != nil {
			return 0, fmt.Errorf("init permission %s: %w", p.Codename, err)
		}
		count(res)
		if _, err := tx.exec(ctx, `UPDATE permissions SET app = ?, name = ?, description = ?, custom_action = ? WHERE codename = ?`,
			p.App, p.Name, p.Description, p.CustomAction, p.Codename); err != nil {
			return 0, fmt.Errorf("update permission %s: %w", p.Codename, err)
		}
		if !p.GroupScoped {
			continue
		}
		res, err = tx.exec(ctx, `INSERT INTO device_group_permissions (code, name, description) VALUES (?, ?, ?)
			ON CONFLICT (code) DO NOTHING`, p.Codename, p.Name, p.Description)
		if err != nil {
			return 0, fmt.Errorf("init device-group permission %s: %w", p.Codename, err)
		}
		count(res)
	}
	for _, b := range DefaultBundles {
		var id int64
		err := tx.queryRow(ctx, `SELECT id FROM permission_bundles WHERE customer_id IS NULL AND name = ?`, b.Name).Scan(&id)
		if err == nil {
			continue
		}
		if err := notFound(err, "Bundle"); webnet.ErrorCode(err) != webnet.ENotFound {
			return 0, fmt.Errorf("find bundle %s: %w", b.Name, err)
		}
		if err := tx.queryRow(ctx, `INSERT INTO permission_bundles (customer_id, name, description, created_at)
			VALUES (NULL, ?, ?, ?) RETURNING id`, b.Name, b.Description, now).Scan(&id); err != nil {
			return 0, fmt.Errorf("create bundle %s: %w", b.Name, err)
		}
		created++
		for _, code := range b.Perms.Codenames() {
			if _, err := tx.exec(ctx, `INSERT INTO bundle_permissions (bundle_id, codename) VALUES (?, ?)`, id, code); err != nil {
				return 0, fmt.Errorf("bundle %s permission %s: %w", b.Name, code, err)
			}
		}
	}
	return created, nil
}
