package store

import (
	"context"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

// CreateSession stores a session under the SHA-256 (hex) of its cookie value.
func (tx *Tx) CreateSession(ctx context.Context, idHash string, s *webnet.Session) error {
	_, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, idHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash returns a session and its user in one query.
func (q Q) SessionByHash(ctx context.Context, idHash string) (*webnet.Session, *webnet.User, error) {
	var s webnet.Session
	var u webnet.User
	err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+`, s.user_id, s.created_at, s.last_seen_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, idHash),
		&u, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if err != nil {
		return nil, nil, notFound(err, "Session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, &u, nil
}

// TouchSession records activity on a session.
func (tx *Tx) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	return tx.updateOne(ctx, "Session", `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, at, idHash)
}

// DeleteSession removes a session (sign-out, expiry); a missing one is not an error.
func (tx *Tx) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpired removes sessions that expired (absolutely, or idle since before idleCutoff)
// and throttle windows that started before throttleCutoff. It returns the rows removed.
func (tx *Tx) DeleteExpired(ctx context.Context, now, idleCutoff, throttleCutoff time.Time) (int64, error) {
	var total int64
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`, []any{now, idleCutoff}},
		{`DELETE FROM login_throttle WHERE window_start <= ?`, []any{throttleCutoff}},
	} {
		res, err := tx.exec(ctx, st.q, st.args...)
		if err != nil {
			return total, fmt.Errorf("delete expired: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// DeleteSessionsOfUser signs a user out of every browser session (after a password change or
// deactivation) and returns how many ended.
func (tx *Tx) DeleteSessionsOfUser(ctx context.Context, userID int64) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return res.RowsAffected()
}
