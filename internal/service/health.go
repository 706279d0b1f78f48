package service

import (
	"context"
	"errors"
	"fmt"

	"webnet/internal/store"
)

// Health answers the readiness probe: the database answers and its schema is the one this
// binary expects.
type Health struct {
	db *store.DB
}

// NewHealth returns a Health for db.
func NewHealth(db *store.DB) (*Health, error) {
	if db == nil {
		return nil, errors.New("health: DB is required")
	}
	return &Health{db: db}, nil
}

// Ready returns nil when webnet can serve: database reachable, migrations current. Anyone may
// call it; the error text is for operators' logs, not for clients.
func (h *Health) Ready(ctx context.Context) error {
	if err := h.db.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	v, err := h.db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := store.LatestVersion(); v != latest {
		return fmt.Errorf("database schema at version %d, want %d: run webnet migrate", v, latest)
	}
	return nil
}
