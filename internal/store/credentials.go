package store

import (
	"context"
	"fmt"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// Credential is a device login of one customer. The secret columns hold ciphertext from
// package secret; the store never sees plaintext.
type Credential struct {
	ID           int64
	CustomerID   int64
	Name         string
	Username     string
	Password     []byte
	EnableSecret []byte
	PrivateKey   []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const credentialColumns = `c.id, c.customer_id, c.name, c.username, c.password, c.enable_secret, c.private_key, c.created_at, c.updated_at`

func scanCredential(s scanner, c *Credential) error {
	if err := s.Scan(&c.ID, &c.CustomerID, &c.Name, &c.Username, &c.Password, &c.EnableSecret, &c.PrivateKey,
		&c.CreatedAt, &c.UpdatedAt); err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return nil
}

func credentialWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A credential with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return webnet.Errorf(webnet.EConflict, "The credential is used by devices; change them first.")
	}
	return fmt.Errorf("%s credential: %w", what, err)
}

// CreateCredential inserts c (with its name and timestamps; secrets are set with
// SetCredentialSecrets, once the id that binds them exists) and sets its ID.
func (tx *Tx) CreateCredential(ctx context.Context, c *Credential) error {
	err := tx.queryRow(ctx, `INSERT INTO credentials (customer_id, name, username, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, c.CustomerID, c.Name, c.Username, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	return credentialWriteErr(err, "insert")
}

// UpdateCredential writes every column of c.
func (tx *Tx) UpdateCredential(ctx context.Context, c *Credential) error {
	_, err := tx.exec(ctx, `UPDATE credentials SET name = ?, username = ?, password = ?, enable_secret = ?, private_key = ?,
		updated_at = ? WHERE id = ?`, c.Name, c.Username, c.Password, c.EnableSecret, c.PrivateKey, c.UpdatedAt, c.ID)
	return credentialWriteErr(err, "update")
}

// DeleteCredential deletes a credential no device uses (a conflict otherwise).
func (tx *Tx) DeleteCredential(ctx context.Context, id int64) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM devices WHERE credential_id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("count credential use: %w", err)
	}
	if n > 0 {
		return webnet.Errorf(webnet.EConflict, "The credential is used by %d devices; change them first.", n)
	}
	_, err := tx.exec(ctx, `DELETE FROM credentials WHERE id = ?`, id)
	return credentialWriteErr(err, "delete")
}

// CredentialByID returns a credential; callers authorize.
func (q Q) CredentialByID(ctx context.Context, id int64) (*Credential, error) {
	var c Credential
	if err := scanCredential(q.queryRow(ctx, `SELECT `+credentialColumns+` FROM credentials c WHERE c.id = ?`, id), &c); err != nil {
		return nil, notFound(err, "Credential")
	}
	return &c, nil
}

// ListCredentials returns a page of the credentials admin allows, by name.
func (q Q) ListCredentials(ctx context.Context, admin authz.Filter, customerID *int64, page webnet.Page) ([]Credential, int, error) {
	vis, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	where := vis
	if customerID != nil {
		where += " AND c.customer_id = ?"
		args = append(args, *customerID)
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM credentials c WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count credentials: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+credentialColumns+` FROM credentials c WHERE `+where+` ORDER BY c.name, c.id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		var c Credential
		if err := scanCredential(rows, &c); err != nil {
			return nil, 0, fmt.Errorf("scan credential: %w", err)
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// AllCredentials returns every credential, inside tx (for key rotation).
func (tx *Tx) AllCredentials(ctx context.Context) ([]Credential, error) {
	rows, err := tx.query(ctx, `SELECT `+credentialColumns+` FROM credentials c ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	defer rows.Close()
	var out []Credential
	for rows.Next() {
		var c Credential
		if err := scanCredential(rows, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
