package store

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// AuthGroup is an auth group with its users and its customer-wide grants: permission
// codenames and bundle ids.
type AuthGroup struct {
	webnet.Group
	Users       []int64  `json:"users"`
	Permissions []string `json:"permissions"`
	Bundles     []int64  `json:"bundles"`
}

func scanAuthGroup(s scanner, g *AuthGroup) error {
	if err := s.Scan(&g.ID, &g.CustomerID, &g.Name, &g.CreatedAt); err != nil {
		return err
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return nil
}

// RenameGroup changes an auth group's name. A name taken in the customer is a conflict.
func (tx *Tx) RenameGroup(ctx context.Context, id int64, name string) error {
	err := tx.updateOne(ctx, "Group", `UPDATE auth_groups SET name = ? WHERE id = ?`, name, id)
	if isUniqueViolation(err) {
		return &webnet.Error{Code: webnet.EConflict, Message: "A group with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	}
	return err
}

// SetGroupUsers replaces an auth group's users and tells every process that grants changed.
// Callers check that the users are members of the group's customer.
func (tx *Tx) SetGroupUsers(ctx context.Context, id int64, users []int64) error {
	if err := tx.replaceIDs(ctx, "auth_group_users", "group_id", "user_id", "users", id, users); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// SetGroupGrants replaces an auth group's customer-wide permissions and bundles and tells
// every process that grants changed. Callers check that the bundles are global or of the
// group's customer.
func (tx *Tx) SetGroupGrants(ctx context.Context, id int64, perms []string, bundles []int64) error {
	if err := tx.replaceCodes(ctx, "group_permissions", "group_id", id, perms); err != nil {
		return err
	}
	if err := tx.replaceIDs(ctx, "group_bundles", "group_id", "bundle_id", "bundles", id, bundles); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// DeleteGroup deletes an auth group with its grants and device-group role assignments, and
// tells every process that grants changed.
func (tx *Tx) DeleteGroup(ctx context.Context, id int64) error {
	if err := tx.updateOne(ctx, "Group", `DELETE FROM auth_groups WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// AuthGroupByID returns an auth group with its users and grants; callers authorize.
func (q Q) AuthGroupByID(ctx context.Context, id int64) (*AuthGroup, error) {
	var g AuthGroup
	if err := scanAuthGroup(q.queryRow(ctx, `SELECT g.id, g.customer_id, g.name, g.created_at FROM auth_groups g WHERE g.id = ?`, id), &g); err != nil {
		return nil, notFound(err, "Group")
	}
	out := []AuthGroup{g}
	if err := q.authGroupLinks(ctx, out); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ListAuthGroups returns a page of the auth groups in the customers admin allows (an authz
// admin filter on the group's customer), optionally of one customer, by customer and name.
func (q Q) ListAuthGroups(ctx context.Context, admin authz.Filter, customerID *int64, page webnet.Page) ([]AuthGroup, int, error) {
	vis, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	from := `FROM auth_groups g WHERE ` + vis
	if customerID != nil {
		from += ` AND g.customer_id = ?`
		args = append(args, *customerID)
	}
	total, err := q.countWhere(ctx, "groups", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT g.id, g.customer_id, g.name, g.created_at `+from+` ORDER BY g.customer_id, g.name LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	out := []AuthGroup{}
	for rows.Next() {
		var g AuthGroup
		if err := scanAuthGroup(rows, &g); err != nil {
			return nil, 0, fmt.Errorf("scan group: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	if err := q.authGroupLinks(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// authGroupLinks fills the users, permissions and bundles of gs.
func (q Q) authGroupLinks(ctx context.Context, gs []AuthGroup) error {
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	users, err := q.linkedIDs(ctx, "auth_group_users", "group_id", "user_id", ids)
	if err != nil {
		return err
	}
	perms, err := q.linkedCodes(ctx, "group_permissions", "group_id", ids)
	if err != nil {
		return err
	}
	bundles, err := q.linkedIDs(ctx, "group_bundles", "group_id", "bundle_id", ids)
	if err != nil {
		return err
	}
	for i := range gs {
		id := gs[i].ID
		gs[i].Users, gs[i].Permissions, gs[i].Bundles = users[id], perms[id], bundles[id]
	}
	return nil
}
