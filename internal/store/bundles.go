package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// PermissionBundle is a named set of permissions: global (CustomerID nil, staff-managed) or of
// one customer.
type PermissionBundle struct {
	ID          int64     `json:"id"`
	CustomerID  *int64    `json:"customer"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
}

const bundleColumns = `b.id, b.customer_id, b.name, b.description, b.created_at`

func scanBundle(s scanner, b *PermissionBundle) error {
	var customer sql.NullInt64
	if err := s.Scan(&b.ID, &customer, &b.Name, &b.Description, &b.CreatedAt); err != nil {
		return err
	}
	b.CustomerID = nullInt(customer)
	b.CreatedAt = b.CreatedAt.UTC()
	return nil
}

func bundleWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A bundle with that name already exists here.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
	}
	return fmt.Errorf("%s bundle: %w", what, err)
}

// CreateBundle inserts b with its permissions and sets its ID. A name taken among the
// customer's bundles (or among global bundles) is a conflict.
func (tx *Tx) CreateBundle(ctx context.Context, b *PermissionBundle) error {
	err := tx.queryRow(ctx, `INSERT INTO permission_bundles (customer_id, name, description, created_at) VALUES (?, ?, ?, ?)
		RETURNING id`, b.CustomerID, b.Name, b.Description, b.CreatedAt).Scan(&b.ID)
	if err := bundleWriteErr(err, "insert"); err != nil {
		return err
	}
	// Nobody holds a new bundle yet: no grant changes.
	return tx.replaceCodes(ctx, "bundle_permissions", "bundle_id", b.ID, b.Permissions)
}

// UpdateBundle writes b's name, description and permissions and tells every process that
// grants changed.
func (tx *Tx) UpdateBundle(ctx context.Context, b *PermissionBundle) error {
	err := tx.updateOne(ctx, "Bundle", `UPDATE permission_bundles SET name = ?, description = ? WHERE id = ?`, b.Name, b.Description, b.ID)
	if err := bundleWriteErr(err, "update"); err != nil {
		return err
	}
	if err := tx.replaceCodes(ctx, "bundle_permissions", "bundle_id", b.ID, b.Permissions); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// DeleteBundle deletes a bundle, which memberships and groups then no longer hold, and tells
// every process that grants changed.
func (tx *Tx) DeleteBundle(ctx context.Context, id int64) error {
	if err := tx.updateOne(ctx, "Bundle", `DELETE FROM permission_bundles WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Notify(ctx, TopicAuth, "all")
}

// BundleByID returns a bundle with its permissions; callers authorize.
func (q Q) BundleByID(ctx context.Context, id int64) (*PermissionBundle, error) {
	var b PermissionBundle
	if err := scanBundle(q.queryRow(ctx, `SELECT `+bundleColumns+` FROM permission_bundles b WHERE b.id = ?`, id), &b); err != nil {
		return nil, notFound(err, "Bundle")
	}
	out := []PermissionBundle{b}
	if err := q.bundleLinks(ctx, out); err != nil {
		return nil, err
	}
	return &out[0], nil
}

// BundlesByIDs returns the bundles that exist among ids (without their permissions), for
// checking references; callers authorize.
func (q Q) BundlesByIDs(ctx context.Context, ids []int64) ([]PermissionBundle, error) {
	out := []PermissionBundle{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, `SELECT `+bundleColumns+` FROM permission_bundles b WHERE b.id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("find bundles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b PermissionBundle
		if err := scanBundle(rows, &b); err != nil {
			return nil, fmt.Errorf("scan bundle: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ListBundles returns a page of the global bundles and of the customer bundles admin allows
// (an authz admin filter on the bundle's customer), optionally of one customer, global ones
// first, then by name.
func (q Q) ListBundles(ctx context.Context, admin authz.Filter, customerID *int64, page webnet.Page) ([]PermissionBundle, int, error) {
	vis, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	from := `FROM permission_bundles b WHERE (b.customer_id IS NULL OR ` + vis + `)`
	if customerID != nil {
		from += ` AND b.customer_id = ?`
		args = append(args, *customerID)
	}
	total, err := q.countWhere(ctx, "bundles", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT `+bundleColumns+` `+from+`
		ORDER BY CASE WHEN b.customer_id IS NULL THEN 0 ELSE 1 END, b.customer_id, b.name, b.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list bundles: %w", err)
	}
	defer rows.Close()
	out := []PermissionBundle{}
	for rows.Next() {
		var b PermissionBundle
		if err := scanBundle(rows, &b); err != nil {
			return nil, 0, fmt.Errorf("scan bundle: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	if err := q.bundleLinks(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// bundleLinks fills the permissions of bs.
func (q Q) bundleLinks(ctx context.Context, bs []PermissionBundle) error {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	perms, err := q.linkedCodes(ctx, "bundle_permissions", "bundle_id", ids)
	if err != nil {
		return err
	}
	for i := range bs {
		bs[i].Permissions = perms[bs[i].ID]
	}
	return nil
}
