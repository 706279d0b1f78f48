package store

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// MembershipDetail is a membership with its customer-wide grants: permission codenames and
// bundle ids.
type MembershipDetail struct {
	webnet.Membership
	Permissions []string `json:"permissions"`
	Bundles     []int64  `json:"bundles"`
}

// MembershipFilter narrows a membership list; nil fields select everything.
type MembershipFilter struct {
	CustomerID *int64
	UserID     *int64
}

const membershipColumns = `m.id, m.user_id, m.customer_id, m.role, m.created_at`

func scanMembership(s scanner, m *MembershipDetail) error {
	var role string
	if err := s.Scan(&m.ID, &m.UserID, &m.CustomerID, &role, &m.CreatedAt); err != nil {
		return err
	}
	m.Role = webnet.Role(role)
	m.CreatedAt = m.CreatedAt.UTC()
	return nil
}

// SetMembershipRole changes a membership's role and tells every process that the user's
// grants changed.
func (tx *Tx) SetMembershipRole(ctx context.Context, id, userID int64, role webnet.Role) error {
	if err := tx.updateOne(ctx, "Membership", `UPDATE memberships SET role = ? WHERE id = ?`, string(role), id); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, userID)
}

// SetMembershipGrants replaces a membership's customer-wide permissions and bundles and tells
// every process that the user's grants changed. Callers check that the bundles are global or
// of the membership's customer.
func (tx *Tx) SetMembershipGrants(ctx context.Context, id, userID int64, perms []string, bundles []int64) error {
	if err := tx.replaceCodes(ctx, "membership_permissions", "membership_id", id, perms); err != nil {
		return err
	}
	if err := tx.replaceIDs(ctx, "membership_bundles", "membership_id", "bundle_id", "bundles", id, bundles); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, userID)
}

// DeleteMembership deletes a membership with its grants, and what only a member may hold in
// that customer: the user's places in the customer's auth groups and the device-group roles
// assigned to the user there. It tells every process that the user's grants changed.
func (tx *Tx) DeleteMembership(ctx context.Context, m *webnet.Membership) error {
	if err := tx.updateOne(ctx, "Membership", `DELETE FROM memberships WHERE id = ?`, m.ID); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM auth_group_users WHERE user_id = ?
		AND group_id IN (SELECT g.id FROM auth_groups g WHERE g.customer_id = ?)`, m.UserID, m.CustomerID); err != nil {
		return fmt.Errorf("remove user from the customer's groups: %w", err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM user_device_group_roles WHERE user_id = ?
		AND role_id IN (SELECT r.id FROM device_group_roles r JOIN device_groups g ON g.id = r.device_group_id
		WHERE g.customer_id = ?)`, m.UserID, m.CustomerID); err != nil {
		return fmt.Errorf("remove the user's device-group roles in the customer: %w", err)
	}
	return tx.NotifyAuth(ctx, m.UserID)
}

// MembershipByID returns a membership with its grants; callers authorize.
func (q Q) MembershipByID(ctx context.Context, id int64) (*MembershipDetail, error) {
	var m MembershipDetail
	if err := scanMembership(q.queryRow(ctx, `SELECT `+membershipColumns+` FROM memberships m WHERE m.id = ?`, id), &m); err != nil {
		return nil, notFound(err, "Membership")
	}
	out := []MembershipDetail{m}
	if err := q.membershipLinks(ctx, out); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ListMemberships returns a page of memberships, by customer and user: those in the customers
// admin allows (an authz admin filter on the membership's customer) and the user selfID's own.
func (q Q) ListMemberships(ctx context.Context, admin authz.Filter, selfID int64, f MembershipFilter, page webnet.Page) ([]MembershipDetail, int, error) {
	vis, visArgs, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	where := `(` + vis + ` OR m.user_id = ?)`
	args := append(append([]any{}, visArgs...), selfID)
	if f.CustomerID != nil {
		where += ` AND m.customer_id = ?`
		args = append(args, *f.CustomerID)
	}
	if f.UserID != nil {
		where += ` AND m.user_id = ?`
		args = append(args, *f.UserID)
	}
	from := `FROM memberships m WHERE ` + where
	total, err := q.countWhere(ctx, "memberships", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT `+membershipColumns+` `+from+` ORDER BY m.customer_id, m.user_id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list memberships: %w", err)
	}
	defer rows.Close()
	out := []MembershipDetail{}
	for rows.Next() {
		var m MembershipDetail
		if err := scanMembership(rows, &m); err != nil {
			return nil, 0, fmt.Errorf("scan membership: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	if err := q.membershipLinks(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// membershipLinks fills the permissions and bundles of ms.
func (q Q) membershipLinks(ctx context.Context, ms []MembershipDetail) error {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	perms, err := q.linkedCodes(ctx, "membership_permissions", "membership_id", ids)
	if err != nil {
		return err
	}
	bundles, err := q.linkedIDs(ctx, "membership_bundles", "membership_id", "bundle_id", ids)
	if err != nil {
		return err
	}
	for i := range ms {
		ms[i].Permissions, ms[i].Bundles = perms[ms[i].ID], bundles[ms[i].ID]
	}
	return nil
}

// MembersOf returns which of userIDs are members of the customer, ascending.
func (q Q) MembersOf(ctx context.Context, customerID int64, userIDs []int64) ([]int64, error) {
	if len(userIDs) == 0 {
		return []int64{}, nil
	}
	rows, err := q.query(ctx, `SELECT user_id FROM memberships WHERE customer_id = ? AND user_id IN (`+placeholders(len(userIDs))+`)
		ORDER BY user_id`, append([]any{customerID}, int64Args(userIDs)...)...)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan member: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
