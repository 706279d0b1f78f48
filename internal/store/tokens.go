package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

const tokenColumns = `t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at`

func scanToken(s scanner, t *webnet.Token, extra ...any) error {
	var exp, used sql.NullTime
	dest := append([]any{&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &exp, &used}, extra...)
	if err := s.Scan(dest...); err != nil {
		return err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt = nullTime(exp), nullTime(used)
	return nil
}

// CreateToken inserts t with the SHA-256 (hex) of its key and sets its ID.
func (tx *Tx) CreateToken(ctx context.Context, t *webnet.Token, keyHash string) error {
	err := tx.queryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, key_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Name, t.Prefix, keyHash, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// TokenByHash returns the token with that key hash and its user, in one indexed query: this
// is on the path of every API request.
func (q Q) TokenByHash(ctx context.Context, keyHash string) (*webnet.Token, *webnet.User, error) {
	var t webnet.Token
	var u webnet.User
	var exp, used, last sql.NullTime
	err := q.queryRow(ctx, `SELECT `+tokenColumns+`, `+userColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_hash = ?`, keyHash).Scan(
		&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &exp, &used,
		&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.IsActive, &u.IsStaff, &u.IsSuperuser, &u.CreatedAt, &last)
	if err != nil {
		return nil, nil, notFound(err, "Token")
	}
	t.CreatedAt, u.CreatedAt = t.CreatedAt.UTC(), u.CreatedAt.UTC()
	t.ExpiresAt, t.LastUsedAt, u.LastLoginAt = nullTime(exp), nullTime(used), nullTime(last)
	return &t, &u, nil
}

// TouchToken records that a token was used at.
func (tx *Tx) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return tx.updateOne(ctx, "Token", `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, at, id)
}

// TokensOfUser returns one page of a user's tokens, newest first, and how many there are.
func (q Q) TokensOfUser(ctx context.Context, userID int64, page webnet.Page) ([]webnet.Token, int, error) {
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM api_tokens WHERE user_id = ?`, userID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tokens: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = ?
		ORDER BY t.id DESC LIMIT ? OFFSET ?`, userID, page.Limit, page.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []webnet.Token{}
	for rows.Next() {
		var t webnet.Token
		if err := scanToken(rows, &t); err != nil {
			return nil, 0, fmt.Errorf("scan token: %w", err)
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// DeleteToken deletes a token of userID; another user's token is not_found.
func (tx *Tx) DeleteToken(ctx context.Context, userID, id int64) error {
	if err := tx.updateOne(ctx, "Token", `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID); err != nil {
		return err
	}
	return tx.NotifyAuth(ctx, userID)
}
