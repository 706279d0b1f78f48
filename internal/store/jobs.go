package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// TopicJob is the notification topic of job changes; the payload is the job's id. Every
// change to a job, its targets or its log notifies it, and listeners fetch what changed
// (payloads carry ids, never rows).
const TopicJob = "job"

func (tx *Tx) notifyJob(_ context.Context, id int64) error {
	return tx.Announce(TopicJob, strconv.FormatInt(id, 10))
}

// CreateJob inserts a job and its targets and sets the job's ID.
func (tx *Tx) CreateJob(ctx context.Context, j *webnet.Job) error {
	params := string(j.Params)
	if params == "" {
		params = "{}"
	}
	err := tx.queryRow(ctx, `INSERT INTO jobs (customer_id, kind, status, requested_by, params, dry_run, progress_total,
		created_at, retry_of, schedule_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		j.CustomerID, j.Kind, j.Status, j.RequestedBy, params, j.DryRun, len(j.Targets), j.CreatedAt, j.RetryOf, j.ScheduleID).Scan(&j.ID)
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	j.ProgressTotal = len(j.Targets)
	if err := tx.insertTargets(ctx, j.ID, j.Targets); err != nil {
		return err
	}
	return tx.notifyJob(ctx, j.ID)
}

// insertTargets inserts a new job's targets in a few statements, not one per target: a job
// over a whole fleet has tens of thousands.
func (tx *Tx) insertTargets(ctx context.Context, jobID int64, targets []webnet.JobTarget) error {
	if tx.d == Postgres && len(targets) > 1 {
		ids, statuses, messages := make([]int64, len(targets)), make([]string, len(targets)), make([]string, len(targets))
		for i, t := range targets {
			ids[i], statuses[i], messages[i] = t.DeviceID, t.Status, t.Message
		}
		if _, err := tx.exec(ctx, `INSERT INTO job_targets (job_id, device_id, status, message)
			SELECT ?, * FROM unnest(?::bigint[], ?::text[], ?::text[])`, jobID, ids, statuses, messages); err != nil {
			return fmt.Errorf("insert job targets: %w", err)
		}
		return nil
	}
	for rest := targets; len(rest) > 0; {
		n := batchSize(len(rest))
		args := make([]any, 0, 4*n)
		for _, t := range rest[:n] {
			args = append(args, jobID, t.DeviceID, t.Status, t.Message)
		}
		if _, err := tx.exec(ctx, `INSERT INTO job_targets (job_id, device_id, status, message) VALUES `+rowsOf(n, 4), args...); err != nil {
			return fmt.Errorf("insert job targets: %w", err)
		}
		rest = rest[n:]
	}
	return nil
}

// CountJobs returns how many jobs a customer has (tests and the seam's callers).
func (q Q) CountJobs(ctx context.Context) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&n)
	return n, err
}

const jobColumns = `j.id, j.customer_id, j.kind, j.status, j.requested_by, j.params, j.dry_run, j.progress_done,
	j.progress_total, j.created_at, j.started_at, j.finished_at, j.worker, j.attempts, j.retry_of, j.schedule_id`

func scanJob(s scanner, j *webnet.Job) error {
	var by, retryOf, schedule sql.NullInt64
	var params string
	var started, finished sql.NullTime
	if err := s.Scan(&j.ID, &j.CustomerID, &j.Kind, &j.Status, &by, &params, &j.DryRun, &j.ProgressDone,
		&j.ProgressTotal, &j.CreatedAt, &started, &finished, &j.Worker, &j.Attempts, &retryOf, &schedule); err != nil {
		return err
	}
	j.RetryOf, j.ScheduleID = nullInt(retryOf), nullInt(schedule)
	j.RequestedBy, j.Params = nullInt(by), json.RawMessage(params)
	j.CreatedAt = j.CreatedAt.UTC()
	j.StartedAt, j.FinishedAt = nullTime(started), nullTime(finished)
	return nil
}

// JobByID returns a job with all its targets; callers authorize (and filter the targets).
func (q Q) JobByID(ctx context.Context, id int64) (*webnet.Job, error) {
	var j webnet.Job
	if err := scanJob(q.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs j WHERE j.id = ?`, id), &j); err != nil {
		return nil, notFound(err, "Job")
	}
	rows, err := q.query(ctx, `SELECT device_id, status, message, step, steps FROM job_targets WHERE job_id = ? ORDER BY device_id`, id)
	if err != nil {
		return nil, fmt.Errorf("job targets: %w", err)
	}
	defer rows.Close()
	j.Targets = []webnet.JobTarget{}
	for rows.Next() {
		var t webnet.JobTarget
		if err := rows.Scan(&t.DeviceID, &t.Status, &t.Message, &t.Step, &t.Steps); err != nil {
			return nil, err
		}
		j.Targets = append(j.Targets, t)
	}
	return &j, rows.Err()
}

// JobVisibility is the condition under which a job is visible to a user who is not staff: they
// requested it, or they can see at least one of its target devices (devices through the
// authz filter built over columns "d.customer_id" and "d.device_group_id").
func JobVisibility(userID int64, devices authz.Filter) (string, []any, error) {
	cond, args, err := devices.Where()
	if err != nil {
		return "", nil, err
	}
	return `(j.requested_by = ? OR EXISTS (SELECT 1 FROM job_targets t JOIN devices d ON d.id = t.device_id
		WHERE t.job_id = j.id AND ` + cond + `))`, append([]any{userID}, args...), nil
}

// JobVisible reports whether job id exists and meets visible (a condition from
// JobVisibility, or "1=1"): a key lookup and, for a device-scoped user, the first visible
// target found.
func (q Q) JobVisible(ctx context.Context, id int64, visible string, visibleArgs []any) (bool, error) {
	var one int
	err := q.queryRow(ctx, `SELECT 1 FROM jobs j WHERE j.id = ? AND `+visible, append([]any{id}, visibleArgs...)...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("job visible: %w", err)
	}
	return true, nil
}

// ListJobs returns a page of the jobs visible (a condition from JobVisibility, or "1=1") and
// matching jq, newest first, with their count. Targets are not loaded.
func (q Q) ListJobs(ctx context.Context, visible string, visibleArgs []any, jq webnet.JobQuery, page webnet.Page) ([]webnet.Job, int, error) {
	if visible == "" {
		return nil, 0, fmt.Errorf("list jobs: no visibility condition")
	}
	conds, args := []string{visible}, append([]any{}, visibleArgs...)
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if jq.Status != "" {
		add("j.status = ?", jq.Status)
	}
	if jq.Kind != "" {
		add("j.kind = ?", jq.Kind)
	}
	if jq.RequestedBy != nil {
		add("j.requested_by = ?", *jq.RequestedBy)
	}
	if jq.CustomerID != nil {
		add("j.customer_id = ?", *jq.CustomerID)
	}
	if jq.ScheduleID != nil {
		add("j.schedule_id = ?", *jq.ScheduleID)
	}
	if jq.DeviceID != nil {
		add("EXISTS (SELECT 1 FROM job_targets ft WHERE ft.job_id = j.id AND ft.device_id = ?)", *jq.DeviceID)
	}
	if jq.FinishedAfter != nil {
		add("j.finished_at > ?", jq.FinishedAfter.UTC()) // SQLite compares UTC text
	}
	where := strings.Join(conds, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM jobs j WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count jobs: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+jobColumns+` FROM jobs j WHERE `+where+` ORDER BY j.id DESC LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	out := []webnet.Job{}
	for rows.Next() {
		var j webnet.Job
		if err := scanJob(rows, &j); err != nil {
			return nil, 0, fmt.Errorf("scan job: %w", err)
		}
		out = append(out, j)
	}
	return out, total, rows.Err()
}

// AppendJobLog appends a line to a job's log and returns its seq (the job's next, without
// gaps: the job row is the counter).
func (tx *Tx) AppendJobLog(ctx context.Context, jobID int64, l *webnet.JobLogLine) error {
	if tx.d == Postgres {
		// One round trip: the job's next seq and the line, in a data-modifying WITH.
		err := tx.queryRow(ctx, `WITH u AS (UPDATE jobs SET log_seq = log_seq + 1 WHERE id = ? RETURNING log_seq)
			INSERT INTO job_logs (job_id, seq, at, level, device_id, message) SELECT ?::bigint, u.log_seq, ?::timestamptz, ?::text, ?::bigint, ?::text FROM u
			RETURNING seq`, jobID, jobID, l.At, l.Level, l.DeviceID, l.Message).Scan(&l.Seq)
		if err != nil {
			return notFound(err, "Job")
		}
		return tx.notifyJob(ctx, jobID)
	}
	if err := tx.queryRow(ctx, `UPDATE jobs SET log_seq = log_seq + 1 WHERE id = ? RETURNING log_seq`, jobID).Scan(&l.Seq); err != nil {
		return notFound(err, "Job")
	}
	if _, err := tx.exec(ctx, `INSERT INTO job_logs (job_id, seq, at, level, device_id, message) VALUES (?, ?, ?, ?, ?, ?)`,
		jobID, l.Seq, l.At, l.Level, l.DeviceID, l.Message); err != nil {
		return fmt.Errorf("append job log: %w", err)
	}
	return tx.notifyJob(ctx, jobID)
}

// JobLogs returns up to limit lines of a job after seq after, in order.
func (q Q) JobLogs(ctx context.Context, jobID, after int64, limit int) ([]webnet.JobLogLine, error) {
	return q.jobLogLines(ctx, "job logs", `SELECT seq, at, level, device_id, message FROM job_logs WHERE job_id = ? AND seq > ?
		ORDER BY seq LIMIT ?`, jobID, after, limit)
}

// jobLogLines runs query (selecting seq, at, level, device_id, message) and returns its lines.
func (q Q) jobLogLines(ctx context.Context, what, query string, args ...any) ([]webnet.JobLogLine, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []webnet.JobLogLine{}
	for rows.Next() {
		var l webnet.JobLogLine
		var dev sql.NullInt64
		if err := rows.Scan(&l.Seq, &l.At, &l.Level, &dev, &l.Message); err != nil {
			return nil, err
		}
		l.At, l.DeviceID = l.At.UTC(), nullInt(dev)
		out = append(out, l)
	}
	return out, rows.Err()
}

// SetJobStatus moves a job from status from to status to, stamping started/finished times;
// a job no longer in from is a conflict (someone else moved it first).
func (tx *Tx) SetJobStatus(ctx context.Context, id int64, from, to string, at time.Time) error {
	if !webnet.JobTransitionAllowed(from, to) {
		return webnet.Errorf(webnet.EConflict, "A %s job cannot become %s.", from, to)
	}
	set := "status = ?"
	args := []any{to}
	if to == webnet.JobRunning {
		set += ", started_at = ?"
		args = append(args, at)
	}
	if webnet.JobFinished(to) {
		set += ", finished_at = ?"
		args = append(args, at)
	}
	res, err := tx.exec(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND status = ?`, append(args, id, from)...)
	if err != nil {
		return fmt.Errorf("set job status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return webnet.Errorf(webnet.EConflict, "The job is no longer %s.", from)
	}
	return tx.notifyJob(ctx, id)
}

// nextTargetsRev takes the next revision of job jobID's targets, adding done to its
// progress in the same statement, and returns it for the targets the caller changes. The
// job's row stays locked until the commit (PostgreSQL), so a job's revisions commit in their
// order and a reader that saw revision r has seen every change up to r (0014).
func (tx *Tx) nextTargetsRev(ctx context.Context, jobID int64, done int) (int64, error) {
	var rev int64
	err := tx.queryRow(ctx, `UPDATE jobs SET targets_rev = targets_rev + 1, progress_done = progress_done + ? WHERE id = ?
		RETURNING targets_rev`, done, jobID).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, webnet.Errorf(webnet.ENotFound, "Job %d not found.", jobID)
	}
	if err != nil {
		return 0, fmt.Errorf("job %d targets revision: %w", jobID, err)
	}
	return rev, nil
}

// CancelPendingTargets marks a job's pending and running targets cancelled.
func (tx *Tx) CancelPendingTargets(ctx context.Context, jobID int64) error {
	rev, err := tx.nextTargetsRev(ctx, jobID, 0)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `UPDATE job_targets SET status = 'cancelled', rev = ? WHERE job_id = ? AND status IN ('pending', 'running')`, rev, jobID)
	if err != nil {
		return fmt.Errorf("cancel targets: %w", err)
	}
	return tx.notifyJob(ctx, jobID)
}

// LockDevices takes the device lock of job jobID on each device (device_jobs) and returns
// the devices another unfinished job already holds, with that job's id; those are left
// unlocked. The inserts never fail on a held device (ON CONFLICT DO NOTHING), so the caller's
// transaction stays usable on PostgreSQL. deviceIDs must not repeat a device.
func (tx *Tx) LockDevices(ctx context.Context, jobID int64, deviceIDs []int64) (busy map[int64]int64, err error) {
	busy = map[int64]int64{}
	want := deviceIDs
	// A holder can let go between the insert that found its lock and the read of who holds
	// it: those devices are tried again.
	for try := 0; len(want) > 0; try++ {
		if try == 3 {
			return nil, webnet.Errorf(webnet.EConflict, "Devices %v were locked and released while this job was being created; try again.", want)
		}
		locked, err := tx.insertLocks(ctx, jobID, want)
		if err != nil {
			return nil, err
		}
		var held []int64
		for _, id := range want {
			if !locked[id] {
				held = append(held, id)
			}
		}
		if len(held) == 0 {
			break
		}
		holders, err := tx.lockHolders(ctx, held)
		if err != nil {
			return nil, err
		}
		want = nil
		for _, id := range held {
			if h, ok := holders[id]; ok {
				busy[id] = h
			} else {
				want = append(want, id)
			}
		}
	}
	return busy, nil
}

// insertLocks locks the devices that are free for job jobID and returns them.
func (tx *Tx) insertLocks(ctx context.Context, jobID int64, deviceIDs []int64) (map[int64]bool, error) {
	locked := make(map[int64]bool, len(deviceIDs))
	collect := func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		locked[id] = true
		return nil
	}
	if tx.d == Postgres {
		return locked, tx.eachRow(ctx, "lock devices", `INSERT INTO device_jobs (device_id, job_id) SELECT unnest(?::bigint[]), ?
			ON CONFLICT (device_id) DO NOTHING RETURNING device_id`, []any{deviceIDs, jobID}, collect)
	}
	for rest := deviceIDs; len(rest) > 0; {
		n := batchSize(len(rest))
		args := make([]any, 0, 2*n)
		for _, id := range rest[:n] {
			args = append(args, id, jobID)
		}
		if err := tx.eachRow(ctx, "lock devices", `INSERT INTO device_jobs (device_id, job_id) VALUES `+rowsOf(n, 2)+`
			ON CONFLICT (device_id) DO NOTHING RETURNING device_id`, args, collect); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return locked, nil
}

// lockHolders returns which job holds each of the devices that has a holder.
func (tx *Tx) lockHolders(ctx context.Context, deviceIDs []int64) (map[int64]int64, error) {
	holders := map[int64]int64{}
	collect := func(rows *sql.Rows) error {
		var device, job int64
		if err := rows.Scan(&device, &job); err != nil {
			return err
		}
		holders[device] = job
		return nil
	}
	if tx.d == Postgres {
		return holders, tx.eachRow(ctx, "device lock holders", `SELECT device_id, job_id FROM device_jobs WHERE device_id = ANY(?::bigint[])`,
			[]any{deviceIDs}, collect)
	}
	for rest := deviceIDs; len(rest) > 0; {
		n := batchSize(len(rest))
		if err := tx.eachRow(ctx, "device lock holders", `SELECT device_id, job_id FROM device_jobs WHERE device_id IN (`+placeholders(n)+`)`,
			int64Args(rest[:n]), collect); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return holders, nil
}

// UnlockDevice releases job jobID's lock on one device (its target finished).
func (tx *Tx) UnlockDevice(ctx context.Context, jobID, deviceID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM device_jobs WHERE device_id = ? AND job_id = ?`, deviceID, jobID); err != nil {
		return fmt.Errorf("unlock device %d: %w", deviceID, err)
	}
	return nil
}

// UnlockJobDevices releases every device lock job jobID holds (it finished or was cancelled).
func (tx *Tx) UnlockJobDevices(ctx context.Context, jobID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM device_jobs WHERE job_id = ?`, jobID); err != nil {
		return fmt.Errorf("unlock devices of job %d: %w", jobID, err)
	}
	return nil
}

// SetTargetStep records a running target's progress (step of steps) while worker holds its
// job; false when it does not (any more) or the target is not running.
func (tx *Tx) SetTargetStep(ctx context.Context, jobID, deviceID int64, worker string, step, steps int) (bool, error) {
	var rev int64
	err := tx.queryRow(ctx, `UPDATE jobs SET targets_rev = targets_rev + 1 WHERE id = ? AND worker = ? AND status = 'running'
		RETURNING targets_rev`, jobID, worker).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("set target step: %w", err)
	}
	res, err := tx.exec(ctx, `UPDATE job_targets SET step = ?, steps = ?, rev = ? WHERE job_id = ? AND device_id = ? AND status = 'running'`,
		step, steps, rev, jobID, deviceID)
	if err != nil {
		return false, fmt.Errorf("set target step: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, tx.notifyJob(ctx, jobID)
}

// SetTargetStatus moves one target from status from to status to with a message, counting
// it done in the job's progress when to is final; a target no longer in from is a conflict.
func (tx *Tx) SetTargetStatus(ctx context.Context, jobID, deviceID int64, from, to, message string) error {
	if !webnet.TargetTransitionAllowed(from, to) {
		return webnet.Errorf(webnet.EConflict, "A %s target cannot become %s.", from, to)
	}
	done := 0
	if to != webnet.TargetRunning {
		done = 1 // counted in the job's progress
	}
	rev, err := tx.nextTargetsRev(ctx, jobID, done)
	if err != nil {
		return err
	}
	res, err := tx.exec(ctx, `UPDATE job_targets SET status = ?, message = ?, rev = ? WHERE job_id = ? AND device_id = ? AND status = ?`,
		to, message, rev, jobID, deviceID, from)
	if err != nil {
		return fmt.Errorf("set target status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The caller's transaction ends with this error: the revision and the progress go.
		return webnet.Errorf(webnet.EConflict, "The target is no longer %s.", from)
	}
	return tx.notifyJob(ctx, jobID)
}
