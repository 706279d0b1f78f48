package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// DeviceGroupView is a device group with its device count.
type DeviceGroupView struct {
	webnet.DeviceGroup
	DeviceCount int `json:"device_count"`
}

func groupWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A device group with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.EConflict, "The device group still has devices; move or delete them first.")
	}
	return fmt.Errorf("%s device group: %w", what, err)
}

// CreateDeviceGroup inserts g and sets its ID.
func (tx *Tx) CreateDeviceGroup(ctx context.Context, g *webnet.DeviceGroup) error {
	err := tx.queryRow(ctx, `INSERT INTO device_groups (customer_id, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		g.CustomerID, g.Name, g.Description, g.CreatedAt).Scan(&g.ID)
	return groupWriteErr(err, "insert")
}

// UpdateDeviceGroup writes g's name and description.
func (tx *Tx) UpdateDeviceGroup(ctx context.Context, g *webnet.DeviceGroup) error {
	_, err := tx.exec(ctx, `UPDATE device_groups SET name = ?, description = ? WHERE id = ?`, g.Name, g.Description, g.ID)
	return groupWriteErr(err, "update")
}

// DeleteDeviceGroup deletes a group with no devices and no schedules targeting it (a
// conflict otherwise); its roles and their assignments go with it.
func (tx *Tx) DeleteDeviceGroup(ctx context.Context, id int64) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM devices WHERE device_group_id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("count group devices: %w", err)
	}
	if n > 0 {
		return webnet.Errorf(webnet.EConflict, "The device group still has %d devices; move or delete them first.", n)
	}
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schedules WHERE device_group_id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("count group schedules: %w", err)
	}
	if n > 0 {
		return webnet.Errorf(webnet.EConflict, "%d schedules target the device group; delete them or give them another target first.", n)
	}
	if _, err := tx.exec(ctx, `DELETE FROM device_groups WHERE id = ?`, id); err != nil {
		return groupWriteErr(err, "delete")
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

const deviceGroupColumns = `g.id, g.customer_id, g.name, g.description, g.created_at, g.device_count`

func scanDeviceGroup(s scanner, g *DeviceGroupView) error {
	if err := s.Scan(&g.ID, &g.CustomerID, &g.Name, &g.Description, &g.CreatedAt, &g.DeviceCount); err != nil {
		return err
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return nil
}

// DeviceGroupByID returns a device group; callers authorize.
func (q Q) DeviceGroupByID(ctx context.Context, id int64) (*DeviceGroupView, error) {
	var g DeviceGroupView
	if err := scanDeviceGroup(q.queryRow(ctx, `SELECT `+deviceGroupColumns+` FROM device_groups g WHERE g.id = ?`, id), &g); err != nil {
		return nil, notFound(err, "Device group")
	}
	return &g, nil
}

// ListDeviceGroups returns a page of the device groups visible allows, by name.
func (q Q) ListDeviceGroups(ctx context.Context, visible authz.Filter, customerID *int64, page webnet.Page) ([]DeviceGroupView, int, error) {
	vis, args, err := visible.Where()
	if err != nil {
		return nil, 0, err
	}
	where := vis
	if customerID != nil {
		where += " AND g.customer_id = ?"
		args = append(args, *customerID)
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM device_groups g WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count device groups: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+deviceGroupColumns+` FROM device_groups g WHERE `+where+` ORDER BY g.name, g.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list device groups: %w", err)
	}
	defer rows.Close()
	out := []DeviceGroupView{}
	for rows.Next() {
		var g DeviceGroupView
		if err := scanDeviceGroup(rows, &g); err != nil {
			return nil, 0, fmt.Errorf("scan device group: %w", err)
		}
		out = append(out, g)
	}
	return out, total, rows.Err()
}

// RoleView is a device-group role with its permission codes and customer.
type RoleView struct {
	ID            int64     `json:"id"`
	DeviceGroupID int64     `json:"device_group"`
	CustomerID    int64     `json:"customer"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	Permissions   []string  `json:"permissions"`
	CreatedAt     time.Time `json:"-"`
}

func roleWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A role with that name already exists on the device group.",
			Fields: map[string]string{"name": "Already taken."}}
	}
	return fmt.Errorf("%s role: %w", what, err)
}

// CreateRole inserts a device-group role with its permissions and sets its ID.
func (tx *Tx) CreateRole(ctx context.Context, r *RoleView) error {
	err := tx.queryRow(ctx, `INSERT INTO device_group_roles (device_group_id, name, description, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, r.DeviceGroupID, r.Name, r.Description, r.CreatedAt).Scan(&r.ID)
	if err := roleWriteErr(err, "insert"); err != nil {
		return err
	}
	return tx.setRolePermissions(ctx, r.ID, r.Permissions)
}

// UpdateRole writes a role's name, description and permissions.
func (tx *Tx) UpdateRole(ctx context.Context, r *RoleView) error {
	_, err := tx.exec(ctx, `UPDATE device_group_roles SET name = ?, description = ? WHERE id = ?`, r.Name, r.Description, r.ID)
	if err := roleWriteErr(err, "update"); err != nil {
		return err
	}
	return tx.setRolePermissions(ctx, r.ID, r.Permissions)
}

func (tx *Tx) setRolePermissions(ctx context.Context, id int64, codes []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM device_group_role_permissions WHERE role_id = ?`, id); err != nil {
		return fmt.Errorf("clear role permissions: %w", err)
	}
	for _, c := range codes {
		if _, err := tx.exec(ctx, `INSERT INTO device_group_role_permissions (role_id, code) VALUES (?, ?)`, id, c); err != nil {
			return fmt.Errorf("add role permission %s: %w", c, err)
		}
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// DeleteRole deletes a role and its assignments.
func (tx *Tx) DeleteRole(ctx context.Context, id int64) error {
	if err := tx.updateOne(ctx, "Role", `DELETE FROM device_group_roles WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

const roleSelect = `SELECT r.id, r.device_group_id, g.customer_id, r.name, r.description,
	COALESCE((SELECT ` + "%s" + ` FROM device_group_role_permissions p WHERE p.role_id = r.id), '')
	FROM device_group_roles r JOIN device_groups g ON g.id = r.device_group_id`

func (q Q) roleSelect() string { return fmt.Sprintf(roleSelect, q.d.codeList("p.code")) }

func scanRole(s scanner, r *RoleView) error {
	var perms string
	if err := s.Scan(&r.ID, &r.DeviceGroupID, &r.CustomerID, &r.Name, &r.Description, &perms); err != nil {
		return err
	}
	r.Permissions = splitCodes(perms)
	return nil
}

// splitCodes turns "a,b" into a sorted catalog-order list of codes.
func splitCodes(s string) []string {
	if s == "" {
		return []string{}
	}
	set, _ := webnet.ParsePermSet(strings.Split(s, ","), webnet.AllPerms)
	return set.Codenames()
}

// RoleByID returns a role; callers authorize.
func (q Q) RoleByID(ctx context.Context, id int64) (*RoleView, error) {
	var r RoleView
	if err := scanRole(q.queryRow(ctx, q.roleSelect()+` WHERE r.id = ?`, id), &r); err != nil {
		return nil, notFound(err, "Role")
	}
	return &r, nil
}

// ListRoles returns a page of roles in the customers admin allows (an authz customer
// filter on the group's customer), optionally of one device group.
func (q Q) ListRoles(ctx context.Context, admin authz.Filter, deviceGroupID *int64, page webnet.Page) ([]RoleView, int, error) {
	vis, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	where := vis
	if deviceGroupID != nil {
		where += " AND r.device_group_id = ?"
		args = append(args, *deviceGroupID)
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM device_group_roles r JOIN device_groups g ON g.id = r.device_group_id WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count roles: %w", err)
	}
	rows, err := q.query(ctx, q.roleSelect()+` WHERE `+where+` ORDER BY r.device_group_id, r.name LIMIT ? OFFSET ?`, append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	out := []RoleView{}
	for rows.Next() {
		var r RoleView
		if err := scanRole(rows, &r); err != nil {
			return nil, 0, fmt.Errorf("scan role: %w", err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// Assignment is a device-group role given to a user (Kind "user") or an auth group ("group").
type Assignment struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"-"`
	SubjectID  int64     `json:"-"` // user or auth group id
	RoleID     int64     `json:"role"`
	CustomerID int64     `json:"customer"`
	CreatedAt  time.Time `json:"-"`
}

func assignmentTable(kind string) (table, col string) {
	if kind == "group" {
		return "group_device_group_roles", "group_id"
	}
	return "user_device_group_roles", "user_id"
}

// CreateAssignment inserts an assignment and sets its ID. A repeat is a conflict.
func (tx *Tx) CreateAssignment(ctx context.Context, a *Assignment) error {
	table, col := assignmentTable(a.Kind)
	err := tx.queryRow(ctx, `INSERT INTO `+table+` (`+col+`, role_id, created_at) VALUES (?, ?, ?) RETURNING id`,
		a.SubjectID, a.RoleID, a.CreatedAt).Scan(&a.ID)
	switch {
	case isUniqueViolation(err):
		return webnet.Errorf(webnet.EConflict, "That role is already assigned.")
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.ENotFound, "Role or assignee not found.")
	case err != nil:
		return fmt.Errorf("insert assignment: %w", err)
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// DeleteAssignment deletes an assignment.
func (tx *Tx) DeleteAssignment(ctx context.Context, kind string, id int64) error {
	table, _ := assignmentTable(kind)
	if err := tx.updateOne(ctx, "Assignment", `DELETE FROM `+table+` WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// AssignmentByID returns an assignment with its customer; callers authorize.
func (q Q) AssignmentByID(ctx context.Context, kind string, id int64) (*Assignment, error) {
	table, col := assignmentTable(kind)
	a := Assignment{Kind: kind}
	err := q.queryRow(ctx, `SELECT a.id, a.`+col+`, a.role_id, g.customer_id FROM `+table+` a
		JOIN device_group_roles r ON r.id = a.role_id JOIN device_groups g ON g.id = r.device_group_id WHERE a.id = ?`, id).
		Scan(&a.ID, &a.SubjectID, &a.RoleID, &a.CustomerID)
	if err != nil {
		return nil, notFound(err, "Assignment")
	}
	return &a, nil
}

// ListAssignments returns a page of assignments of kind in the customers admin allows.
func (q Q) ListAssignments(ctx context.Context, kind string, admin authz.Filter, page webnet.Page) ([]Assignment, int, error) {
	vis, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	table, col := assignmentTable(kind)
	from := ` FROM ` + table + ` a JOIN device_group_roles r ON r.id = a.role_id JOIN device_groups g ON g.id = r.device_group_id WHERE ` + vis
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count assignments: %w", err)
	}
	rows, err := q.query(ctx, `SELECT a.id, a.`+col+`, a.role_id, g.customer_id`+from+` ORDER BY a.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list assignments: %w", err)
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		a := Assignment{Kind: kind}
		if err := rows.Scan(&a.ID, &a.SubjectID, &a.RoleID, &a.CustomerID); err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// InCustomer reports whether a user (kind "user": has a membership) or an auth group (kind
// "group": belongs to it) is in the customer.
func (q Q) InCustomer(ctx context.Context, kind string, id, customerID int64) (bool, error) {
	query := `SELECT COUNT(*) FROM memberships WHERE user_id = ? AND customer_id = ?`
	if kind == "group" {
		query = `SELECT COUNT(*) FROM auth_groups WHERE id = ? AND customer_id = ?`
	}
	var n int
	if err := q.queryRow(ctx, query, id, customerID).Scan(&n); err != nil {
		return false, fmt.Errorf("in customer: %w", err)
	}
	return n > 0, nil
}

// HeldRole is a device-group role a user holds, directly or through an auth group.
type HeldRole struct {
	AssignmentID    int64    `json:"id"`
	RoleID          int64    `json:"role"`
	RoleName        string   `json:"role_name"`
	DeviceGroupID   int64    `json:"device_group"`
	DeviceGroupName string   `json:"device_group_name"`
	CustomerID      int64    `json:"customer"`
	ViaGroupID      *int64   `json:"via_group"`
	Permissions     []string `json:"permissions"`
}

// HeldRoles lists the device-group roles a user holds, for GET /api/me/, in one query.
func (q Q) HeldRoles(ctx context.Context, userID int64) ([]HeldRole, error) {
	codes := `COALESCE((SELECT ` + q.d.codeList("p.code") + ` FROM device_group_role_permissions p WHERE p.role_id = r.id), '')`
	rows, err := q.query(ctx, `
		SELECT a.id, r.id, r.name, g.id, g.name, g.customer_id, 0, `+codes+` FROM user_device_group_roles a
		  JOIN device_group_roles r ON r.id = a.role_id JOIN device_groups g ON g.id = r.device_group_id
		 WHERE a.user_id = ?
		UNION ALL
		SELECT a.id, r.id, r.name, g.id, g.name, g.customer_id, a.group_id, `+codes+` FROM group_device_group_roles a
		  JOIN auth_group_users gu ON gu.group_id = a.group_id
		  JOIN device_group_roles r ON r.id = a.role_id JOIN device_groups g ON g.id = r.device_group_id
		 WHERE gu.user_id = ?
		ORDER BY 6, 5, 3`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("held roles: %w", err)
	}
	defer rows.Close()
	out := []HeldRole{}
	for rows.Next() {
		var h HeldRole
		var via int64
		var perms string
		if err := rows.Scan(&h.AssignmentID, &h.RoleID, &h.RoleName, &h.DeviceGroupID, &h.DeviceGroupName, &h.CustomerID, &via, &perms); err != nil {
			return nil, err
		}
		if via != 0 {
			h.ViaGroupID = &via
		}
		h.Permissions = splitCodes(perms)
		out = append(out, h)
	}
	return out, rows.Err()
}
