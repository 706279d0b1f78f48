package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Throttle is the state of one sign-in throttle key: failures counted since WindowStart.
type Throttle struct {
	Failures    int
	WindowStart time.Time
}

// ThrottleState returns the throttle state of key; a key never seen has zero failures.
func (q Q) ThrottleState(ctx context.Context, key string) (Throttle, error) {
	var t Throttle
	err := q.queryRow(ctx, `SELECT failures, window_start FROM login_throttle WHERE key = ?`, key).
		Scan(&t.Failures, &t.WindowStart)
	if errors.Is(err, sql.ErrNoRows) {
		return Throttle{}, nil
	}
	if err != nil {
		return Throttle{}, fmt.Errorf("read throttle: %w", err)
	}
	t.WindowStart = t.WindowStart.UTC()
	return t, nil
}

// RecordFailure counts a failed sign-in for key at now in a fixed window: a window that
// started at or before windowCutoff is over and a new one starts at now. One statement, so
// concurrent failures from several processes are all counted.
func (tx *Tx) RecordFailure(ctx context.Context, key string, now, windowCutoff time.Time) (Throttle, error) {
	var t Throttle
	err := tx.queryRow(ctx, `INSERT INTO login_throttle (key, failures, window_start) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN login_throttle.window_start <= ? THEN 1 ELSE login_throttle.failures + 1 END,
			window_start = CASE WHEN login_throttle.window_start <= ? THEN excluded.window_start ELSE login_throttle.window_start END
		RETURNING failures, window_start`, key, now, windowCutoff, windowCutoff).Scan(&t.Failures, &t.WindowStart)
	if err != nil {
		return Throttle{}, fmt.Errorf("record failure: %w", err)
	}
	t.WindowStart = t.WindowStart.UTC()
	return t, nil
}

// ClearThrottle forgets the failures of key (after a successful sign-in).
func (tx *Tx) ClearThrottle(ctx context.Context, key string) error {
	if _, err := tx.exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}
