package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

const userColumns = `u.id, u.username, u.email, u.password_hash, u.is_active, u.is_staff, u.is_superuser, u.created_at, u.last_login_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner, u *webnet.User, extra ...any) error {
	var last sql.NullTime
	dest := append([]any{&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.IsActive, &u.IsStaff,
		&u.IsSuperuser, &u.CreatedAt, &last}, extra...)
	if err := s.Scan(dest...); err != nil {
		return err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	u.LastLoginAt = nullTime(last)
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// notFound turns sql.ErrNoRows into a not_found error about what.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return webnet.Errorf(webnet.ENotFound, "%s not found.", what)
	}
	return err
}

// UserByID returns the user with id.
func (q Q) UserByID(ctx context.Context, id int64) (*webnet.User, error) {
	var u webnet.User
	err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id), &u)
	if err != nil {
		return nil, notFound(err, "User")
	}
	return &u, nil
}

// UserByUsername returns the user with username (exact match).
func (q Q) UserByUsername(ctx context.Context, username string) (*webnet.User, error) {
	var u webnet.User
	err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username = ?`, username), &u)
	if err != nil {
		return nil, notFound(err, "User")
	}
	return &u, nil
}

// CountUsers returns how many users exist.
func (q Q) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser inserts u and sets its ID. A taken username is a conflict.
func (tx *Tx) CreateUser(ctx context.Context, u *webnet.User) error {
	err := tx.queryRow(ctx, `INSERT INTO users
		(username, email, password_hash, is_active, is_staff, is_superuser, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.Email, u.PasswordHash, u.IsActive, u.IsStaff, u.IsSuperuser, u.CreatedAt).Scan(&u.ID)
	if isUniqueViolation(err) {
		return &webnet.Error{Code: webnet.EConflict, Message: "A user with that username already exists.",
			Fields: map[string]string{"username": "Already taken."}}
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// SetUserPassword replaces a user's password hash.
func (tx *Tx) SetUserPassword(ctx context.Context, id int64, hash string) error {
	if err := tx.updateOne(ctx, "User", `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, id)
}

// TopicAuth is the notification topic of changes to a user's standing (flags, password,
// tokens, memberships): caches of authenticated users drop the user named in the payload.
const TopicAuth = "auth"

// NotifyAuth tells every process that what authenticates or authorizes user id changed. The
// store's own methods that make such changes call it, so no caller can forget.
func (tx *Tx) NotifyAuth(ctx context.Context, id int64) error {
	return tx.Notify(ctx, TopicAuth, "user:"+strconv.FormatInt(id, 10))
}

// SetUserLastLogin records a successful sign-in.
func (tx *Tx) SetUserLastLogin(ctx context.Context, id int64, at time.Time) error {
	return tx.updateOne(ctx, "User", `UPDATE users SET last_login_at = ? WHERE id = ?`, at, id)
}

// SetUserFlags sets a user's active, staff and superuser flags.
func (tx *Tx) SetUserFlags(ctx context.Context, id int64, active, staff, superuser bool) error {
	if err := tx.updateOne(ctx, "User", `UPDATE users SET is_active = ?, is_staff = ?, is_superuser = ? WHERE id = ?`,
		active, staff, superuser, id); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, id)
}

// updateOne runs an UPDATE or DELETE that must touch exactly one row; none is not_found.
func (tx *Tx) updateOne(ctx context.Context, what, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	if n == 0 {
		return webnet.Errorf(webnet.ENotFound, "%s not found.", what)
	}
	return nil
}

// UpdateUser writes a user's e-mail, password hash and active, staff and superuser flags, and
// tells every process that what authenticates and authorizes the user changed (a deactivated
// user's tokens and sessions stop working at once).
func (tx *Tx) UpdateUser(ctx context.Context, u *webnet.User) error {
	if err := tx.updateOne(ctx, "User", `UPDATE users SET email = ?, password_hash = ?, is_active = ?, is_staff = ?,
		is_superuser = ? WHERE id = ?`, u.Email, u.PasswordHash, u.IsActive, u.IsStaff, u.IsSuperuser, u.ID); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, u.ID)
}

// UserFilter narrows a user list; zero fields select everything.
type UserFilter struct {
	CustomerID *int64 // members of this customer
}

// ListUsers returns a page of users, by username: the user selfID and the users with a
// membership in a customer admin allows (an authz admin filter over memberships m; a filter
// that allows every row, as staff's does, also selects users without any membership).
func (q Q) ListUsers(ctx context.Context, admin authz.Filter, selfID int64, f UserFilter, page webnet.Page) ([]webnet.User, int, error) {
	vis, visArgs, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	// The LEFT JOIN gives a user without memberships one row with m.customer_id NULL: a
	// customer list rejects it, "1=1" keeps it.
	where := `(u.id = ? OR EXISTS (SELECT 1 FROM users v LEFT JOIN memberships m ON m.user_id = v.id
		WHERE v.id = u.id AND ` + vis + `))`
	args := append([]any{selfID}, visArgs...)
	if f.CustomerID != nil {
		where += ` AND EXISTS (SELECT 1 FROM memberships mc WHERE mc.user_id = u.id AND mc.customer_id = ?)`
		args = append(args, *f.CustomerID)
	}
	from := `FROM users u WHERE ` + where
	total, err := q.countWhere(ctx, "users", from, args)
	if err != nil {
		return nil, 0, err
	}
	rows, err := q.query(ctx, `SELECT `+userColumns+` `+from+` ORDER BY u.username LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []webnet.User{}
	for rows.Next() {
		var u webnet.User
		if err := scanUser(rows, &u); err != nil {
			return nil, 0, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}
