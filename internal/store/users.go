package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

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
