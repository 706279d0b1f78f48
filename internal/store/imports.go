package store

import (
	"context"
	"fmt"
)

// NamedIDs maps the names of one customer's objects of a kind to their ids, for imports that
// refer to device groups and credentials by name. kind is "device_groups", "credentials" or
// "devices".
func (q Q) NamedIDs(ctx context.Context, kind string, customerID int64) (map[string]int64, error) {
	switch kind {
	case "device_groups", "credentials", "devices":
	default:
		return nil, fmt.Errorf("named ids: unknown kind %q", kind)
	}
	rows, err := q.query(ctx, `SELECT name, id FROM `+kind+` WHERE customer_id = ?`, customerID)
	if err != nil {
		return nil, fmt.Errorf("%s by name: %w", kind, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			return nil, err
		}
		out[name] = id
	}
	return out, rows.Err()
}
