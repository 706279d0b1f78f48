package store

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// ExecForTest runs a statement in tx, for tests that must write what no store method writes.
func ExecForTest(ctx context.Context, tx *Tx, query string, args ...any) error {
	_, err := tx.exec(ctx, query, args...)
	return err
}

// ExplainDeviceList returns the query plans of the device list's queries (count and page)
// over from (e.g. "devices d") and where, one line per plan row, so tests and benchmarks can
// show which indexes they use.
func ExplainDeviceList(ctx context.Context, db *DB, from, where string, args []any) ([]string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if db.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	var out []string
	for _, q := range []string{
		`SELECT COUNT(*) FROM ` + from + ` WHERE ` + where,
		`SELECT ` + deviceColumns + ` FROM ` + from + ` WHERE ` + where + ` ORDER BY d.name, d.id LIMIT 50 OFFSET 0`,
	} {
		rows, err := db.Read().query(ctx, prefix+q, args...)
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, fmt.Sprint(vals[len(vals)-1]))
		}
		rows.Close()
		out = append(out, "--")
	}
	return out, nil
}

// AnalyzeForTest refreshes planner statistics after a bulk load.
func AnalyzeForTest(ctx context.Context, db *DB) error {
	_, err := db.w.ExecContext(ctx, "ANALYZE")
	return err
}

// RecountDevicesForTest sets the kept device counts from the devices table.
func RecountDevicesForTest(ctx context.Context, tx *Tx) error {
	for _, q := range []string{
		`UPDATE device_groups SET device_count = (SELECT COUNT(*) FROM devices d WHERE d.device_group_id = device_groups.id)`,
		`UPDATE customers SET device_count = (SELECT COUNT(*) FROM devices d WHERE d.customer_id = customers.id),
			ungrouped_device_count = (SELECT COUNT(*) FROM devices d WHERE d.customer_id = customers.id AND d.device_group_id IS NULL)`,
	} {
		if _, err := tx.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// ExplainForTest returns the query plan of query, one line per plan row.
func ExplainForTest(ctx context.Context, db *DB, query string, args ...any) ([]string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if db.dialect == Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := db.Read().query(ctx, prefix+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return out, rows.Err()
}

// ClaimQueryForTest is the query of ClaimJobs without its row locks.
const ClaimQueryForTest = claimQuery

// DeviceSearchForTest is the FROM and WHERE clauses ListDevices runs for a search of every
// device.
func DeviceSearchForTest(db *DB, search string) (from, where string, args []any) {
	from, where, args, _, err := db.Read().deviceWhere(authz.All(), webnet.DeviceQuery{Search: search})
	if err != nil {
		panic(err)
	}
	return from, where, args
}

// MigrateToForTest applies the migrations up to version v only, as an older webnet would
// have left the database.
func MigrateToForTest(ctx context.Context, db *DB, v int) error {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return err
	}
	for i, m := range ms {
		if m.Version > v {
			ms = ms[:i]
			break
		}
	}
	_, err = db.migrate(ctx, ms)
	return err
}
