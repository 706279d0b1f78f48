package store

import (
	"context"
	"fmt"

	"webnet/internal/webnet"
)

// This file holds what the tenant-administration tables share: reading and replacing the
// link rows (permissions, bundles, users) of memberships, auth groups and bundles. Lists load
// the links of a whole page in one query per link table, in portable SQL, rather than
// aggregating strings per row in each dialect.

// linkedCodes returns, for each owner id, the permission codenames in table (columns ownerCol
// and codename), in catalog order. table and ownerCol come from the code, never from input.
func (q Q) linkedCodes(ctx context.Context, table, ownerCol string, ids []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, `SELECT `+ownerCol+`, codename FROM `+table+` WHERE `+ownerCol+` IN (`+placeholders(len(ids))+`)`,
		int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	raw := map[int64][]string{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		raw[id] = append(raw[id], code)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		set, _ := webnet.ParsePermSet(raw[id], webnet.AllPerms)
		out[id] = set.Codenames()
	}
	return out, nil
}

// linkedIDs returns, for each owner id, the ids in column col of table, ascending.
func (q Q) linkedIDs(ctx context.Context, table, ownerCol, col string, ids []int64) (map[int64][]int64, error) {
	out := make(map[int64][]int64, len(ids))
	for _, id := range ids {
		out[id] = []int64{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, `SELECT `+ownerCol+`, `+col+` FROM `+table+` WHERE `+ownerCol+` IN (`+placeholders(len(ids))+`)
		ORDER BY `+ownerCol+`, `+col, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner, v int64
		if err := rows.Scan(&owner, &v); err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out[owner] = append(out[owner], v)
	}
	return out, rows.Err()
}

// replaceCodes makes codes the permission codenames of owner id in table.
func (tx *Tx) replaceCodes(ctx context.Context, table, ownerCol string, id int64, codes []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE `+ownerCol+` = ?`, id); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	for _, c := range codes {
		_, err := tx.exec(ctx, `INSERT INTO `+table+` (`+ownerCol+`, codename) VALUES (?, ?)
			ON CONFLICT (`+ownerCol+`, codename) DO NOTHING`, id, c)
		switch {
		case isForeignKeyViolation(err):
			return webnet.Invalid("Unknown permission.", map[string]string{"permissions": "Unknown permission " + c + "."})
		case err != nil:
			return fmt.Errorf("add to %s: %w", table, err)
		}
	}
	return nil
}

// replaceIDs makes ids the values of column col for owner id in table; a dangling id is
// not_found, reported on field.
func (tx *Tx) replaceIDs(ctx context.Context, table, ownerCol, col, field string, id int64, ids []int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE `+ownerCol+` = ?`, id); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	for _, v := range ids {
		_, err := tx.exec(ctx, `INSERT INTO `+table+` (`+ownerCol+`, `+col+`) VALUES (?, ?)
			ON CONFLICT (`+ownerCol+`, `+col+`) DO NOTHING`, id, v)
		switch {
		case isForeignKeyViolation(err):
			return &webnet.Error{Code: webnet.ENotFound, Message: "Not found.", Fields: map[string]string{field: fmt.Sprintf("No such id %d.", v)}}
		case err != nil:
			return fmt.Errorf("add to %s: %w", table, err)
		}
	}
	return nil
}

// countWhere counts the rows of a FROM clause (with its WHERE) for lists.
func (q Q) countWhere(ctx context.Context, what, from string, args []any) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) `+from, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", what, err)
	}
	return n, nil
}
