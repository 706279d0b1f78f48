package store

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// CreateCustomer inserts c and sets its ID. A taken slug is a conflict.
func (tx *Tx) CreateCustomer(ctx context.Context, c *webnet.Customer) error {
	err := tx.queryRow(ctx, `INSERT INTO customers (name, slug, created_at) VALUES (?, ?, ?) RETURNING id`,
		c.Name, c.Slug, c.CreatedAt).Scan(&c.ID)
	if isUniqueViolation(err) {
		return &webnet.Error{Code: webnet.EConflict, Message: "A customer with that slug already exists.",
			Fields: map[string]string{"slug": "Already taken."}}
	}
	if err != nil {
		return fmt.Errorf("insert customer: %w", err)
	}
	return nil
}

// UpdateCustomer saves a customer's name and slug.
func (tx *Tx) UpdateCustomer(ctx context.Context, c *webnet.Customer) error {
	res, err := tx.exec(ctx, `UPDATE customers SET name = ?, slug = ? WHERE id = ?`, c.Name, c.Slug, c.ID)
	if isUniqueViolation(err) {
		return &webnet.Error{Code: webnet.EConflict, Message: "A customer with that slug already exists.",
			Fields: map[string]string{"slug": "Already taken."}}
	}
	if err != nil {
		return fmt.Errorf("update customer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return webnet.Errorf(webnet.ENotFound, "Customer not found.")
	}
	return nil
}

// CustomerByID returns the customer with id.
func (q Q) CustomerByID(ctx context.Context, id int64) (*webnet.Customer, error) {
	var c webnet.Customer
	err := q.queryRow(ctx, `SELECT id, name, slug, created_at FROM customers WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &c.Slug, &c.CreatedAt)
	if err != nil {
		return nil, notFound(err, "Customer")
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, nil
}

// ListCustomers returns a page of the customers visible allows (an authz customer filter on
// the customer's id), by name, and how many there are.
func (q Q) ListCustomers(ctx context.Context, visible authz.Filter, page webnet.Page) ([]webnet.Customer, int, error) {
	vis, args, err := visible.Where()
	if err != nil {
		return nil, 0, err
	}
	from := `FROM customers c WHERE ` + vis
	total, err := q.countWhere(ctx, "customers", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT c.id, c.name, c.slug, c.created_at `+from+` ORDER BY c.name, c.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	out := []webnet.Customer{}
	for rows.Next() {
		var c webnet.Customer
		if err := rows.Scan(&c.ID, &c.Name, &c.Slug, &c.CreatedAt); err != nil {
			return nil, 0, fmt.Errorf("scan customer: %w", err)
		}
		c.CreatedAt = c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// CreateMembership inserts m and sets its ID, and tells every process that the user's grants
// changed. A second membership of the same user in the same customer is a conflict; an
// unknown user or customer is not_found.
func (tx *Tx) CreateMembership(ctx context.Context, m *webnet.Membership) error {
	err := tx.queryRow(ctx, `INSERT INTO memberships (user_id, customer_id, role, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, m.UserID, m.CustomerID, string(m.Role), m.CreatedAt).Scan(&m.ID)
	switch {
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "The user is already a member of that customer.",
			Fields: map[string]string{"user": "Already a member of this customer."}}
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.ENotFound, "User or customer not found.")
	case err != nil:
		return fmt.Errorf("insert membership: %w", err)
	}
	return tx.NotifyAuth(ctx, m.UserID)
}

// MembershipView is a membership with its customer's name and slug, for GET /api/me/.
type MembershipView struct {
	webnet.Membership
	CustomerName string `json:"customer_name"`
	CustomerSlug string `json:"customer_slug"`
}

// MembershipsOfUser lists a user's memberships, ordered by customer name.
func (q Q) MembershipsOfUser(ctx context.Context, userID int64) ([]MembershipView, error) {
	rows, err := q.query(ctx, `SELECT m.id, m.user_id, m.customer_id, m.role, m.created_at, c.name, c.slug
		FROM memberships m JOIN customers c ON c.id = m.customer_id
		WHERE m.user_id = ? ORDER BY c.name, c.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	defer rows.Close()
	out := []MembershipView{}
	for rows.Next() {
		var m MembershipView
		var role string
		if err := rows.Scan(&m.ID, &m.UserID, &m.CustomerID, &role, &m.CreatedAt, &m.CustomerName, &m.CustomerSlug); err != nil {
			return nil, fmt.Errorf("scan membership: %w", err)
		}
		m.Role = webnet.Role(role)
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// CreateGroup inserts g and sets its ID. A taken name in the customer is a conflict.
func (tx *Tx) CreateGroup(ctx context.Context, g *webnet.Group) error {
	err := tx.queryRow(ctx, `INSERT INTO auth_groups (customer_id, name, created_at) VALUES (?, ?, ?) RETURNING id`,
		g.CustomerID, g.Name, g.CreatedAt).Scan(&g.ID)
	switch {
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A group with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.ENotFound, "Customer not found.")
	case err != nil:
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

// AddGroupUser puts a user in a group; adding twice is harmless.
func (tx *Tx) AddGroupUser(ctx context.Context, groupID, userID int64) error {
	_, err := tx.exec(ctx, `INSERT INTO auth_group_users (group_id, user_id) VALUES (?, ?)
		ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID)
	if isForeignKeyViolation(err) {
		return webnet.Errorf(webnet.ENotFound, "Group or user not found.")
	}
	if err != nil {
		return fmt.Errorf("add group user: %w", err)
	}
	return nil
}

// GroupsOfUser lists the auth groups a user belongs to, ordered by customer and name.
func (q Q) GroupsOfUser(ctx context.Context, userID int64) ([]webnet.Group, error) {
	rows, err := q.query(ctx, `SELECT g.id, g.customer_id, g.name, g.created_at
		FROM auth_groups g JOIN auth_group_users gu ON gu.group_id = g.id
		WHERE gu.user_id = ? ORDER BY g.customer_id, g.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	out := []webnet.Group{}
	for rows.Next() {
		var g webnet.Group
		if err := rows.Scan(&g.ID, &g.CustomerID, &g.Name, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}
