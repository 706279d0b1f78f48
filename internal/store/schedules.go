package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

const scheduleColumns = `s.id, s.customer_id, s.name, s.kind, s.cron, s.timezone, s.device_group_id, s.device_ids,
	s.params, s.dry_run, s.enabled, s.owner_id, s.next_run_at, s.last_run_at, s.last_job_id, s.last_error,
	s.created_at, s.updated_at`

func scanSchedule(sc scanner, s *webnet.Schedule) error {
	var group, owner, lastJob sql.NullInt64
	var devices, params string
	var next, last sql.NullTime
	if err := sc.Scan(&s.ID, &s.CustomerID, &s.Name, &s.Kind, &s.Cron, &s.Timezone, &group, &devices,
		&params, &s.DryRun, &s.Enabled, &owner, &next, &last, &lastJob, &s.LastError,
		&s.CreatedAt, &s.UpdatedAt); err != nil {
		return err
	}
	s.DeviceIDs = []int64{}
	if err := json.Unmarshal([]byte(devices), &s.DeviceIDs); err != nil {
		return fmt.Errorf("schedule %d devices: %w", s.ID, err)
	}
	s.DeviceGroupID, s.OwnerID, s.LastJobID = nullInt(group), nullInt(owner), nullInt(lastJob)
	s.Params = json.RawMessage(params)
	s.NextRunAt, s.LastRunAt = nullTime(next), nullTime(last)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return nil
}

// scheduleArgs are the values of the columns a schedule's owner edits but its timing, in the
// order CreateSchedule and UpdateSchedule write them.
func scheduleArgs(s *webnet.Schedule) ([]any, error) {
	ids := s.DeviceIDs
	if ids == nil {
		ids = []int64{}
	}
	devices, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("schedule devices: %w", err)
	}
	params := string(s.Params)
	if params == "" {
		params = "{}"
	}
	return []any{s.Name, s.Kind, s.Cron, s.Timezone, s.DeviceGroupID, string(devices), params, s.DryRun, s.Enabled,
		s.OwnerID, s.UpdatedAt}, nil
}

func scheduleWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A schedule with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	case isForeignKeyViolation(err):
		return &webnet.Error{Code: webnet.ENotFound, Message: "Device group not found in the schedule's customer.",
			Fields: map[string]string{"device_group": "No such device group in this customer."}}
	}
	return fmt.Errorf("%s schedule: %w", what, err)
}

// CreateSchedule inserts s and sets its ID.
func (tx *Tx) CreateSchedule(ctx context.Context, s *webnet.Schedule) error {
	args, err := scheduleArgs(s)
	if err != nil {
		return err
	}
	err = tx.queryRow(ctx, `INSERT INTO schedules (name, kind, cron, timezone, device_group_id, device_ids, params,
		dry_run, enabled, owner_id, updated_at, next_run_at, customer_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append(args, s.NextRunAt, s.CustomerID, s.CreatedAt)...).Scan(&s.ID)
	return scheduleWriteErr(err, "insert")
}

// UpdateSchedule writes what a schedule's owner edits (everything but its customer, its
// creation time and the record of its runs). Its next tick is written only when retime is
// set: otherwise it stays whatever the scheduler made it, even if a process took the tick
// since s was read.
func (tx *Tx) UpdateSchedule(ctx context.Context, s *webnet.Schedule, retime bool) error {
	args, err := scheduleArgs(s)
	if err != nil {
		return err
	}
	set := `name = ?, kind = ?, cron = ?, timezone = ?, device_group_id = ?, device_ids = ?, params = ?, dry_run = ?,
		enabled = ?, owner_id = ?, updated_at = ?`
	if retime {
		set += `, next_run_at = ?`
		args = append(args, s.NextRunAt)
	}
	err = tx.updateOne(ctx, "Schedule", `UPDATE schedules SET `+set+` WHERE id = ?`, append(args, s.ID)...)
	return scheduleWriteErr(err, "update")
}

// DeleteSchedule deletes a schedule; its jobs keep its id.
func (tx *Tx) DeleteSchedule(ctx context.Context, id int64) error {
	return tx.updateOne(ctx, "Schedule", `DELETE FROM schedules WHERE id = ?`, id)
}

// ScheduleByID returns a schedule; callers authorize.
func (q Q) ScheduleByID(ctx context.Context, id int64) (*webnet.Schedule, error) {
	var s webnet.Schedule
	if err := scanSchedule(q.queryRow(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE s.id = ?`, id), &s); err != nil {
		return nil, notFound(err, "Schedule")
	}
	return &s, nil
}

// ScheduleVisibility is the condition under which a user who is not staff sees a schedule:
// it belongs to a customer that admin selects, or the user owns it in a customer that member
// selects (both filters built over column "s.customer_id").
func ScheduleVisibility(userID int64, admin, member authz.Filter) (string, []any, error) {
	a, aargs, err := admin.Where()
	if err != nil {
		return "", nil, err
	}
	m, margs, err := member.Where()
	if err != nil {
		return "", nil, err
	}
	return "(" + a + " OR (s.owner_id = ? AND " + m + "))", append(append(aargs, userID), margs...), nil
}

// ListSchedules returns a page of the schedules visible (a condition from
// ScheduleVisibility, or "1=1") and matching sq, by customer and name, with their count.
func (q Q) ListSchedules(ctx context.Context, visible string, visibleArgs []any, sq webnet.ScheduleQuery, page webnet.Page) ([]webnet.Schedule, int, error) {
	if visible == "" {
		return nil, 0, fmt.Errorf("list schedules: no visibility condition")
	}
	conds, args := []string{visible}, append([]any{}, visibleArgs...)
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if sq.CustomerID != nil {
		add("s.customer_id = ?", *sq.CustomerID)
	}
	if sq.OwnerID != nil {
		add("s.owner_id = ?", *sq.OwnerID)
	}
	if sq.DeviceGroupID != nil {
		add("s.device_group_id = ?", *sq.DeviceGroupID)
	}
	if sq.Kind != "" {
		add("s.kind = ?", sq.Kind)
	}
	if sq.Enabled != nil {
		add("s.enabled = ?", *sq.Enabled)
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM schedules s WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count schedules: %w", err)
	}
	out, err := q.schedules(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE `+where+
		` ORDER BY s.customer_id, s.name, s.id LIMIT ? OFFSET ?`, append(args, page.Limit, page.Offset)...)
	return out, total, err
}

// DueSchedules returns up to limit enabled schedules whose next tick is at or before now,
// the most overdue first.
func (q Q) DueSchedules(ctx context.Context, now time.Time, limit int) ([]webnet.Schedule, error) {
	return q.schedules(ctx, `SELECT `+scheduleColumns+` FROM schedules s WHERE s.enabled AND s.next_run_at <= ?
		ORDER BY s.next_run_at, s.id LIMIT ?`, now, limit)
}

func (q Q) schedules(ctx context.Context, query string, args ...any) ([]webnet.Schedule, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	defer rows.Close()
	out := []webnet.Schedule{}
	for rows.Next() {
		var s webnet.Schedule
		if err := scanSchedule(rows, &s); err != nil {
			return nil, fmt.Errorf("scan schedule: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TakeScheduleTick moves schedule s on from its tick s.NextRunAt to next, provided that
// nobody has taken that tick or changed the schedule since s was read (its next_run_at and
// updated_at are still s's). It reports whether this transaction took the tick: of several
// processes trying at once, exactly one does. On PostgreSQL the others' UPDATE waits for the
// winner's commit and then matches no row; SQLite runs one write transaction at a time.
func (tx *Tx) TakeScheduleTick(ctx context.Context, s *webnet.Schedule, next *time.Time) (bool, error) {
	if s.NextRunAt == nil {
		return false, nil
	}
	res, err := tx.exec(ctx, `UPDATE schedules SET next_run_at = ?
		WHERE id = ? AND enabled AND next_run_at = ? AND updated_at = ?`, next, s.ID, *s.NextRunAt, s.UpdatedAt)
	if err != nil {
		return false, fmt.Errorf("take schedule tick: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take schedule tick: %w", err)
	}
	return n == 1, nil
}

// RecordScheduleRun notes that a schedule's tick at ran job jobID, clearing its last error.
func (tx *Tx) RecordScheduleRun(ctx context.Context, id int64, at time.Time, jobID int64) error {
	return tx.updateOne(ctx, "Schedule", `UPDATE schedules SET last_run_at = ?, last_job_id = ?, last_error = '' WHERE id = ?`,
		at, jobID, id)
}

// RecordScheduleError notes why a schedule's last tick ran nothing.
func (tx *Tx) RecordScheduleError(ctx context.Context, id int64, message string) error {
	return tx.updateOne(ctx, "Schedule", `UPDATE schedules SET last_error = ? WHERE id = ?`, message, id)
}
