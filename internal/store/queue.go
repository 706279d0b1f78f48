package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"webnet/internal/webnet"
)

// The job queue is the jobs table (README: "Why the queue is the jobs table"). A worker
// claims queued jobs, and running jobs whose lease has run out, by writing its name and a
// lease into them; it renews the lease while it works. These are the queue's statements; the
// rules (what a resumed job's interrupted targets become, when to give up) are the caller's.

// Notification topics of the queue. TopicEnqueued (no payload) wakes idle workers when a job
// is created; TopicCancelled (payload: job id) tells the worker running a job to stop it.
const (
	TopicEnqueued  = "jobq"
	TopicCancelled = "jobcancel"
)

// NotifyEnqueued wakes the workers of every process once tx commits.
func (tx *Tx) NotifyEnqueued(context.Context) error { return tx.Announce(TopicEnqueued, "") }

// NotifyCancelled tells the worker running job id, in whichever process, to stop it.
func (tx *Tx) NotifyCancelled(ctx context.Context, id int64) error {
	return tx.Notify(ctx, TopicCancelled, fmt.Sprint(id))
}

// ClaimedJob is a job a worker has just claimed: previous names the worker that held it
// before (empty for a queued job), so a non-empty one means the job is being resumed.
type ClaimedJob struct {
	ID       int64
	Previous string
	Attempts int
}

// claimQuery selects the jobs a claim takes: queued ones and those whose lease ran out. Its
// first condition is the partial index's own, so it reads only unfinished jobs.
const claimQuery = `SELECT id, worker, attempts FROM jobs
	WHERE status IN ('queued', 'running') AND (status = 'queued' OR lease_until < ?) ORDER BY id LIMIT ?`

// ClaimJobs claims up to n jobs for worker, oldest first: queued ones, and running ones
// whose lease ended before now (their worker died). Each becomes running with the lease
// until leaseUntil and one more attempt. On PostgreSQL, concurrent claimers skip each
// other's rows (SKIP LOCKED), so no job is claimed twice; on SQLite the write transaction
// already excludes other writers.
func (tx *Tx) ClaimJobs(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]ClaimedJob, error) {
	rows, err := tx.query(ctx, claimQuery+tx.d.skipLocked(), now, n)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var out []ClaimedJob
	for rows.Next() {
		var c ClaimedJob
		if err := rows.Scan(&c.ID, &c.Previous, &c.Attempts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		c.Attempts++
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(out))
	for i, c := range out {
		ids[i] = c.ID
	}
	args := append([]any{worker, leaseUntil, now}, int64Args(ids)...)
	if _, err := tx.exec(ctx, `UPDATE jobs SET status = 'running', worker = ?, lease_until = ?, attempts = attempts + 1,
		started_at = COALESCE(started_at, ?) WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	for _, id := range ids {
		if err := tx.notifyJob(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RenewLeases extends worker's lease on the given jobs until leaseUntil and returns the ids
// it still holds: a job missing from the answer was cancelled, finished or taken over, and
// the worker must stop it.
func (tx *Tx) RenewLeases(ctx context.Context, worker string, ids []int64, leaseUntil time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := append([]any{leaseUntil, worker}, int64Args(ids)...)
	rows, err := tx.query(ctx, `UPDATE jobs SET lease_until = ? WHERE worker = ? AND status = 'running'
		AND id IN (`+placeholders(len(ids))+`) RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	defer rows.Close()
	var kept []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("renew leases: %w", err)
		}
		kept = append(kept, id)
	}
	return kept, rows.Err()
}

// ReleaseJob ends worker's lease on a running job at once, so that the next claim (by any
// worker) resumes it: a worker shutting down hands its unfinished jobs on this way.
func (tx *Tx) ReleaseJob(ctx context.Context, id int64, worker string, now time.Time) error {
	if _, err := tx.exec(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND worker = ? AND status = 'running'`,
		now, id, worker); err != nil {
		return fmt.Errorf("release job %d: %w", id, err)
	}
	return nil
}

// HoldsJob reports whether worker holds the lease of running job id.
func (tx *Tx) HoldsJob(ctx context.Context, id int64, worker string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE id = ? AND worker = ? AND status = 'running'`+tx.d.forUpdate(),
		id, worker).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("job %d lease: %w", id, err)
	}
	return n == 1, nil
}

// TargetsInStatus returns the devices of a job's targets that are in status.
func (q Q) TargetsInStatus(ctx context.Context, jobID int64, status string) ([]int64, error) {
	rows, err := q.query(ctx, `SELECT device_id FROM job_targets WHERE job_id = ? AND status = ? ORDER BY device_id`, jobID, status)
	if err != nil {
		return nil, fmt.Errorf("job %d targets: %w", jobID, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// TargetCounts counts a job's targets by status.
func (q Q) TargetCounts(ctx context.Context, jobID int64) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT status, COUNT(*) FROM job_targets WHERE job_id = ? GROUP BY status`, jobID)
	if err != nil {
		return nil, fmt.Errorf("job %d target counts: %w", jobID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// TargetCountsOf counts the targets of several jobs by status, in one query: every job of ids
// has an entry (empty for a job without targets).
func (q Q) TargetCountsOf(ctx context.Context, ids []int64) (map[int64]map[string]int, error) {
	out := make(map[int64]map[string]int, len(ids))
	for _, id := range ids {
		out[id] = map[string]int{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, `SELECT job_id, status, COUNT(*) FROM job_targets WHERE job_id IN (`+placeholders(len(ids))+`)
		GROUP BY job_id, status`, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("target counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s string
		var n int
		if err := rows.Scan(&id, &s, &n); err != nil {
			return nil, err
		}
		if out[id] != nil {
			out[id][s] = n
		}
	}
	return out, rows.Err()
}

// FailTargets moves a job's targets in status from to failed with message, counting them
// done, and releases their devices. It returns how many it moved.
func (tx *Tx) FailTargets(ctx context.Context, jobID int64, from, message string) (int, error) {
	rev, err := tx.nextTargetsRev(ctx, jobID, 0)
	if err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, `UPDATE job_targets SET status = 'failed', message = ?, rev = ? WHERE job_id = ? AND status = ?`,
		message, rev, jobID, from)
	if err != nil {
		return 0, fmt.Errorf("fail targets of job %d: %w", jobID, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if _, err := tx.exec(ctx, `UPDATE jobs SET progress_done = progress_done + ? WHERE id = ?`, n, jobID); err != nil {
			return 0, fmt.Errorf("job progress: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM device_jobs WHERE job_id = ? AND device_id IN
			(SELECT device_id FROM job_targets WHERE job_id = ? AND status = 'failed')`, jobID, jobID); err != nil {
			return 0, fmt.Errorf("unlock devices of job %d: %w", jobID, err)
		}
	}
	return int(n), tx.notifyJob(ctx, jobID)
}

// FinishJob ends worker's running job with status to and clears its lease; false when the
// job is no longer running under worker (cancelled meanwhile, or taken over).
func (tx *Tx) FinishJob(ctx context.Context, id int64, worker, to string, at time.Time) (bool, error) {
	if !webnet.JobTransitionAllowed(webnet.JobRunning, to) || !webnet.JobFinished(to) {
		return false, webnet.Errorf(webnet.EConflict, "A running job cannot become %s.", to)
	}
	res, err := tx.exec(ctx, `UPDATE jobs SET status = ?, finished_at = ?, lease_until = NULL
		WHERE id = ? AND worker = ? AND status = 'running'`, to, at, id, worker)
	if err != nil {
		return false, fmt.Errorf("finish job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := tx.UnlockJobDevices(ctx, id); err != nil {
		return false, err
	}
	return true, tx.notifyJob(ctx, id)
}

// FinishJobLogged is AppendJobLogsAs and FinishJob in one statement and the lines' insert:
// it ends worker's running job id as to, at, after lines, releasing its device locks when
// unlock is set (a job without targets holds none). False: the job is no longer the worker's
// running job (nothing is written).
func (tx *Tx) FinishJobLogged(ctx context.Context, id int64, worker, to string, at time.Time, lines []webnet.JobLogLine, unlock bool) (bool, error) {
	if !webnet.JobTransitionAllowed(webnet.JobRunning, to) || !webnet.JobFinished(to) {
		return false, webnet.Errorf(webnet.EConflict, "A running job cannot become %s.", to)
	}
	if worker == "" {
		return false, fmt.Errorf("finish job %d: no worker", id)
	}
	if tx.d == Postgres && len(lines) > 0 {
		// One round trip: the job's row and its lines, the lines only if the row was the
		// worker's to change.
		ats, levels, devices, messages := make([]time.Time, len(lines)), make([]string, len(lines)), make([]*int64, len(lines)), make([]string, len(lines))
		for i, l := range lines {
			ats[i], levels[i], devices[i], messages[i] = l.At, l.Level, l.DeviceID, l.Message
		}
		var n int
		err := tx.queryRow(ctx, `WITH u AS (UPDATE jobs SET status = ?, finished_at = ?, lease_until = NULL, log_seq = log_seq + ?
				WHERE id = ? AND worker = ? AND status = 'running' RETURNING log_seq),
			i AS (INSERT INTO job_logs (job_id, seq, at, level, device_id, message)
				SELECT ?, u.log_seq - ? + x.ord, x.at, x.level, x.device, x.message
				FROM u, unnest(?::timestamptz[], ?::text[], ?::bigint[], ?::text[]) WITH ORDINALITY AS x(at, level, device, message, ord)
				RETURNING 1)
			SELECT COUNT(*) FROM i`, to, at, len(lines), id, worker, id, len(lines), ats, levels, devices, messages).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("finish job %d: %w", id, err)
		}
		if n == 0 {
			return false, nil
		}
	} else {
		var last int64
		err := tx.queryRow(ctx, `UPDATE jobs SET status = ?, finished_at = ?, lease_until = NULL, log_seq = log_seq + ?
			WHERE id = ? AND worker = ? AND status = 'running' RETURNING log_seq`, to, at, len(lines), id, worker).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("finish job %d: %w", id, err)
		}
		if err := tx.insertJobLogs(ctx, id, last, lines); err != nil {
			return false, err
		}
	}
	if unlock {
		if err := tx.UnlockJobDevices(ctx, id); err != nil {
			return false, err
		}
	}
	return true, tx.notifyJob(ctx, id)
}

// SweepDeviceLocks releases the device locks of finished jobs that no worker holds any more
// (a cancelled job's running targets keep their devices locked until their worker stops
// them, or until its lease runs out if it died).
func (tx *Tx) SweepDeviceLocks(ctx context.Context, now time.Time) (int, error) {
	res, err := tx.exec(ctx, `DELETE FROM device_jobs WHERE job_id IN (SELECT id FROM jobs j WHERE j.id = device_jobs.job_id
		AND j.status NOT IN ('queued', 'running') AND (j.lease_until IS NULL OR j.lease_until < ?))`, now)
	if err != nil {
		return 0, fmt.Errorf("sweep device locks: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// AppendJobLogs appends lines to a job's log in order, setting their seq: one counter update
// and batched inserts, however many lines there are.
func (tx *Tx) AppendJobLogs(ctx context.Context, jobID int64, lines []webnet.JobLogLine) error {
	_, err := tx.appendJobLogs(ctx, jobID, "", lines)
	return err
}

// AppendJobLogsAs appends lines like AppendJobLogs if worker holds running job jobID, and
// reports whether it does. The check and the seq counter are one statement on the job's row,
// which it locks until tx ends: a worker's write and another worker's takeover of the job
// cannot interleave.
func (tx *Tx) AppendJobLogsAs(ctx context.Context, jobID int64, worker string, lines []webnet.JobLogLine) (bool, error) {
	if worker == "" {
		return false, fmt.Errorf("append job log: no worker")
	}
	return tx.appendJobLogs(ctx, jobID, worker, lines)
}

func (tx *Tx) appendJobLogs(ctx context.Context, jobID int64, worker string, lines []webnet.JobLogLine) (bool, error) {
	if len(lines) == 0 && worker == "" {
		return true, nil
	}
	var last int64
	var err error
	if worker == "" {
		err = tx.queryRow(ctx, `UPDATE jobs SET log_seq = log_seq + ? WHERE id = ? RETURNING log_seq`, len(lines), jobID).Scan(&last)
	} else {
		err = tx.queryRow(ctx, `UPDATE jobs SET log_seq = log_seq + ? WHERE id = ? AND worker = ? AND status = 'running' RETURNING log_seq`,
			len(lines), jobID, worker).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
	}
	if err != nil {
		return false, notFound(err, "Job")
	}
	return true, tx.insertJobLogs(ctx, jobID, last, lines)
}

// insertJobLogs inserts lines as the job's lines up to seq last (the job's log_seq, already
// moved on by len(lines)), setting their Seq, and announces the change.
func (tx *Tx) insertJobLogs(ctx context.Context, jobID, last int64, lines []webnet.JobLogLine) error {
	first := last - int64(len(lines)) + 1
	for i := range lines {
		lines[i].Seq = first + int64(i)
	}
	if tx.d == Postgres && len(lines) > 1 {
		// One statement over arrays: PostgreSQL binds five arrays far faster than 6n
		// scalar parameters.
		seqs, ats, levels, devices, messages := make([]int64, len(lines)), make([]time.Time, len(lines)),
			make([]string, len(lines)), make([]*int64, len(lines)), make([]string, len(lines))
		for i, l := range lines {
			seqs[i], ats[i], levels[i], devices[i], messages[i] = l.Seq, l.At, l.Level, l.DeviceID, l.Message
		}
		if _, err := tx.exec(ctx, `INSERT INTO job_logs (job_id, seq, at, level, device_id, message)
			SELECT ?, * FROM unnest(?::bigint[], ?::timestamptz[], ?::text[], ?::bigint[], ?::text[])`,
			jobID, seqs, ats, levels, devices, messages); err != nil {
			return fmt.Errorf("append job log: %w", err)
		}
		return tx.notifyJob(ctx, jobID)
	}
	for rest := lines; len(rest) > 0; {
		n := batchSize(len(rest))
		args := make([]any, 0, n*6)
		for _, l := range rest[:n] {
			args = append(args, jobID, l.Seq, l.At, l.Level, nullable(l.DeviceID), l.Message)
		}
		if _, err := tx.exec(ctx, `INSERT INTO job_logs (job_id, seq, at, level, device_id, message) VALUES `+rowsOf(n, 6), args...); err != nil {
			return fmt.Errorf("append job log: %w", err)
		}
		rest = rest[n:]
	}
	if len(lines) == 0 {
		return nil
	}
	return tx.notifyJob(ctx, jobID)
}

func nullable(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// UnlockPendingDevices releases a job's locks on the devices of its pending targets (the job
// is being cancelled; running targets keep theirs until their worker stops them).
func (tx *Tx) UnlockPendingDevices(ctx context.Context, jobID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM device_jobs WHERE job_id = ? AND device_id IN
		(SELECT device_id FROM job_targets WHERE job_id = ? AND status = 'pending')`, jobID, jobID); err != nil {
		return fmt.Errorf("unlock devices of job %d: %w", jobID, err)
	}
	return nil
}

// JobsByIDs returns the jobs with the given ids, without their targets, in id order.
func (q Q) JobsByIDs(ctx context.Context, ids []int64) ([]webnet.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.query(ctx, `SELECT `+jobColumns+` FROM jobs j WHERE j.id IN (`+placeholders(len(ids))+`) ORDER BY j.id`,
		int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("jobs by id: %w", err)
	}
	defer rows.Close()
	var out []webnet.Job
	for rows.Next() {
		var j webnet.Job
		if err := scanJob(rows, &j); err != nil {
			return nil, fmt.Errorf("scan job: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// PendingDevices returns, for each of the jobs, the devices of its pending targets in id
// order: what a worker that claimed them has left to do.
func (q Q) PendingDevices(ctx context.Context, jobIDs []int64) (map[int64][]webnet.Device, error) {
	out := map[int64][]webnet.Device{}
	if len(jobIDs) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, `SELECT t.job_id, `+deviceColumns+` FROM job_targets t JOIN devices d ON d.id = t.device_id
		WHERE t.job_id IN (`+placeholders(len(jobIDs))+`) AND t.status = 'pending' ORDER BY t.job_id, d.id`, int64Args(jobIDs)...)
	if err != nil {
		return nil, fmt.Errorf("pending devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var jobID int64
		var d webnet.Device
		if err := scanDevice(prefixed{rows, &jobID}, &d); err != nil {
			return nil, fmt.Errorf("scan device: %w", err)
		}
		out[jobID] = append(out[jobID], d)
	}
	return out, rows.Err()
}

// prefixed scans one extra leading column into first before the columns its caller asks for.
type prefixed struct {
	s     scanner
	first any
}

func (p prefixed) Scan(dest ...any) error { return p.s.Scan(append([]any{p.first}, dest...)...) }

// JobProgress returns a job's finished and total target counts.
func (q Q) JobProgress(ctx context.Context, id int64) (done, total int, err error) {
	if err := q.queryRow(ctx, `SELECT progress_done, progress_total FROM jobs WHERE id = ?`, id).Scan(&done, &total); err != nil {
		return 0, 0, notFound(err, "Job")
	}
	return done, total, nil
}
