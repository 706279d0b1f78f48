package store

import "context"

// ExecForTest runs a statement in tx, for tests that must write what no store method writes.
func ExecForTest(ctx context.Context, tx *Tx, query string, args ...any) error {
	_, err := tx.exec(ctx, query, args...)
	return err
}
