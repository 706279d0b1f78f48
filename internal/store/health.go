package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// DeviceHealth counts the devices visible allows (a device filter on d.customer_id and
// d.device_group_id) by sync and backup age as of now, and by latest readiness: one query.
func (q Q) DeviceHealth(ctx context.Context, visible authz.Filter, now time.Time) (*webnet.DeviceHealth, error) {
	where, args, err := visible.Where()
	if err != nil {
		return nil, err
	}
	hour, day := now.Add(-time.Hour), now.Add(-24*time.Hour)
	ages := func(col string) (string, []any) {
		return fmt.Sprintf(`SUM(CASE WHEN %[1]s IS NULL THEN 1 ELSE 0 END),
			SUM(CASE WHEN %[1]s >= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN %[1]s < ? AND %[1]s >= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN %[1]s < ? THEN 1 ELSE 0 END)`, col), []any{hour, hour, day, day}
	}
	syncSQL, syncArgs := ages("d.last_sync_at")
	backupSQL, backupArgs := ages("d.last_backup_at")
	query := `SELECT COUNT(*), ` + syncSQL + `, ` + backupSQL + `,
		SUM(CASE WHEN r.status = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'warn' THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.status = 'fail' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'skip' THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.status IS NULL THEN 1 ELSE 0 END)
		FROM devices d LEFT JOIN device_readiness r ON r.device_id = d.id WHERE ` + where
	all := append(append(syncArgs, backupArgs...), args...)
	h := &webnet.DeviceHealth{}
	var n [13]sql.NullInt64
	dest := []any{&h.Devices}
	for i := range n {
		dest = append(dest, &n[i])
	}
	if err := q.queryRow(ctx, query, all...).Scan(dest...); err != nil {
		return nil, fmt.Errorf("device health: %w", err)
	}
	for i := range 4 {
		h.Sync[i], h.Backup[i] = int(n[i].Int64), int(n[4+i].Int64)
	}
	for i := range 5 {
		h.Readiness[i] = int(n[8+i].Int64)
	}
	return h, nil
}
