package store

import (
	"context"
	"fmt"
	"strings"
)

// GrantRow is one fact from which a user's authorization grants are compiled.
type GrantRow struct {
	// Kind: "role" (Code is the membership role), "wide" (a customer-wide codename) or
	// "group_role" (a device-group role; Code lists its group codes, comma-separated, "" for
	// a role without any).
	Kind          string
	CustomerID    int64
	DeviceGroupID int64
	Code          string
	SourceKind    string // role, membership, bundle, group, group_bundle, device_group_role
	SourceID      int64
	SourceName    string
	ViaGroupID    int64
	ViaGroupName  string
}

// grantsQuery gathers every grant of one user in one round trip: memberships and their
// roles, customer-wide permissions from the membership, its bundles, the user's groups and
// their bundles, and device-group roles held directly or through groups.
const grantsQuery = `%s`

// grantsSQL is grantsQuery with the dialect's code aggregation: one row per role held, not
// one per code, halves what a grants load reads.
func (q Q) grantsSQL() string {
	return fmt.Sprintf(grantsQuery, strings.ReplaceAll(grantsParts, "CODES", q.d.codeList("rp.code")))
}

const grantsParts = `
SELECT 'role', m.customer_id, 0, m.role, 'role', m.id, '', 0, ''
  FROM memberships m WHERE m.user_id = ?
UNION ALL
SELECT 'wide', m.customer_id, 0, mp.codename, 'membership', m.id, '', 0, ''
  FROM memberships m JOIN membership_permissions mp ON mp.membership_id = m.id
 WHERE m.user_id = ?
UNION ALL
SELECT 'wide', m.customer_id, 0, bp.codename, 'bundle', b.id, b.name, 0, ''
  FROM memberships m
  JOIN membership_bundles mb ON mb.membership_id = m.id
  JOIN permission_bundles b ON b.id = mb.bundle_id
  JOIN bundle_permissions bp ON bp.bundle_id = b.id
 WHERE m.user_id = ?
UNION ALL
SELECT 'wide', g.customer_id, 0, gp.codename, 'group', g.id, g.name, 0, ''
  FROM auth_group_users gu JOIN auth_groups g ON g.id = gu.group_id
  JOIN group_permissions gp ON gp.group_id = g.id
 WHERE gu.user_id = ?
UNION ALL
SELECT 'wide', g.customer_id, 0, bp.codename, 'group_bundle', b.id, b.name, g.id, g.name
  FROM auth_group_users gu JOIN auth_groups g ON g.id = gu.group_id
  JOIN group_bundles gb ON gb.group_id = g.id
  JOIN permission_bundles b ON b.id = gb.bundle_id
  JOIN bundle_permissions bp ON bp.bundle_id = b.id
 WHERE gu.user_id = ?
UNION ALL
SELECT 'group_role', dg.customer_id, r.device_group_id,
       COALESCE((SELECT CODES FROM device_group_role_permissions rp WHERE rp.role_id = r.id), ''),
       'device_group_role', r.id, r.name, 0, ''
  FROM user_device_group_roles a
  JOIN device_group_roles r ON r.id = a.role_id
  JOIN device_groups dg ON dg.id = r.device_group_id
 WHERE a.user_id = ?
UNION ALL
SELECT 'group_role', dg.customer_id, r.device_group_id,
       COALESCE((SELECT CODES FROM device_group_role_permissions rp WHERE rp.role_id = r.id), ''),
       'device_group_role', r.id, r.name, g.id, g.name
  FROM auth_group_users gu
  JOIN auth_groups g ON g.id = gu.group_id
  JOIN group_device_group_roles a ON a.group_id = g.id
  JOIN device_group_roles r ON r.id = a.role_id
  JOIN device_groups dg ON dg.id = r.device_group_id AND dg.customer_id = g.customer_id
 WHERE gu.user_id = ?`

// GrantRows returns every grant fact of a user.
func (q Q) GrantRows(ctx context.Context, userID int64) ([]GrantRow, error) {
	args := make([]any, 7)
	for i := range args {
		args[i] = userID
	}
	rows, err := q.query(ctx, q.grantsSQL(), args...)
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	defer rows.Close()
	var out []GrantRow
	for rows.Next() {
		var r GrantRow
		if err := rows.Scan(&r.Kind, &r.CustomerID, &r.DeviceGroupID, &r.Code, &r.SourceKind, &r.SourceID,
			&r.SourceName, &r.ViaGroupID, &r.ViaGroupName); err != nil {
			return nil, fmt.Errorf("scan grant: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
