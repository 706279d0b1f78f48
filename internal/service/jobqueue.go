package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"webnet/internal/jobs"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// JobQueue is the durable queue the workers of every process share: the jobs table, through
// the store (README: "Why the queue is the jobs table"). It implements jobs.Queue. Workers are
// system actors: what they change is the job they hold, checked by its lease in every
// transaction, and the job's log is its record (users' actions on jobs are audited where they
// happen: creating, cancelling, retrying).
type JobQueue struct {
	db    *store.DB
	clock webnet.Clock
	// maxAttempts is how many workers may claim one job: a job whose workers keep dying (a
	// kind that crashes the process, say) is failed instead of taking every worker down.
	maxAttempts int

	mu        sync.Mutex
	lastSweep time.Time

	// Job ends are committed in batches (group commit): fmu guards the ends waiting and
	// whether a goroutine is committing them.
	fmu       sync.Mutex
	finishing []*finishReq
	leading   bool
}

// finishReq is a FinishJob call waiting for its batch's commit.
type finishReq struct {
	worker string
	jobID  int64
	lines  []webnet.JobLogLine
	status string
	err    error
	done   chan struct{}
}

// finishBatchTimeout bounds one batch of job ends.
const finishBatchTimeout = 30 * time.Second

// JobQueueConfig configures a JobQueue.
type JobQueueConfig struct {
	DB    *store.DB
	Clock webnet.Clock
	// MaxAttempts is how many workers may claim one job (default 3).
	MaxAttempts int
}

// NewJobQueue checks cfg and returns the queue.
func NewJobQueue(cfg JobQueueConfig) (*JobQueue, error) {
	if cfg.DB == nil {
		return nil, errors.New("job queue: DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = webnet.SystemClock{}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	return &JobQueue{db: cfg.DB, clock: cfg.Clock, maxAttempts: cfg.MaxAttempts}, nil
}

var _ jobs.Queue = (*JobQueue)(nil)

// sweepEvery is how often claims also release the device locks of finished jobs left by
// stopped workers.
const sweepEvery = 10 * time.Second

// Claim claims up to n jobs for worker. A job resumed after its worker stopped renewing the
// lease gets its interrupted (running) targets failed — their effect on the device is
// unknown, so they are not run again — and a log line naming both workers; its pending
// targets run as usual. A job claimed more than MaxAttempts times is failed instead.
func (q *JobQueue) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]jobs.Claim, error) {
	now := q.clock.Now()
	var ids, resumed []int64
	err := q.db.InTx(ctx, func(tx *store.Tx) error {
		ids, resumed = ids[:0], resumed[:0]
		if q.sweepDue(now) {
			if _, err := tx.SweepDeviceLocks(ctx, now); err != nil {
				return err
			}
		}
		claimed, err := tx.ClaimJobs(ctx, worker, n, now, now.Add(lease))
		if err != nil {
			return err
		}
		for _, c := range claimed {
			if c.Previous == "" {
				ids = append(ids, c.ID)
				continue
			}
			ok, err := q.resume(ctx, tx, c, worker, now)
			if err != nil {
				return err
			}
			if ok {
				ids = append(ids, c.ID)
				resumed = append(resumed, c.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Two reads, however many jobs were claimed (WAL readers see the committed claim).
	r := q.db.Read()
	claimed, err := r.JobsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load claimed jobs: %w", err)
	}
	pending, err := r.PendingDevices(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load claimed jobs: %w", err)
	}
	// A resumed job's targets that failed already count towards its max_failures.
	counts, err := r.TargetCountsOf(ctx, resumed)
	if err != nil {
		return nil, fmt.Errorf("load claimed jobs: %w", err)
	}
	out := make([]jobs.Claim, len(claimed))
	for i := range claimed {
		out[i] = jobs.Claim{Job: &claimed[i], Pending: pending[claimed[i].ID], Failed: counts[claimed[i].ID][webnet.TargetFailed]}
	}
	return out, nil
}

func (q *JobQueue) sweepDue(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Sub(q.lastSweep) < sweepEvery {
		return false
	}
	q.lastSweep = now
	return true
}

// resume records the takeover of a job whose worker stopped, in the claim's transaction,
// and reports whether the job should run (false: it was failed for too many attempts).
func (q *JobQueue) resume(ctx context.Context, tx *store.Tx, c store.ClaimedJob, worker string, now time.Time) (bool, error) {
	interrupted, err := tx.FailTargets(ctx, c.ID, webnet.TargetRunning, fmt.Sprintf(
		"Interrupted: worker %s stopped while this target was running; what it did to the device is unknown, so it was not run again.", c.Previous))
	if err != nil {
		return false, err
	}
	lines := []webnet.JobLogLine{{At: now, Level: "warn", Message: fmt.Sprintf(
		"Worker %s stopped renewing its lease on this job (crashed, killed or cut off); worker %s resumes it (attempt %d). %d interrupted target(s) failed.",
		c.Previous, worker, c.Attempts, interrupted)}}
	if c.Attempts <= q.maxAttempts {
		_, err := tx.AppendJobLogsAs(ctx, c.ID, worker, lines)
		return err == nil, err
	}
	if _, err := tx.FailTargets(ctx, c.ID, webnet.TargetPending, fmt.Sprintf(
		"Not run: the job was given up after %d workers stopped while running it.", q.maxAttempts)); err != nil {
		return false, err
	}
	lines = append(lines, webnet.JobLogLine{At: now, Level: "error", Message: fmt.Sprintf(
		"Given up: %d workers stopped while running this job.", q.maxAttempts)})
	if _, err := tx.AppendJobLogsAs(ctx, c.ID, worker, lines); err != nil {
		return false, err
	}
	_, err = tx.FinishJob(ctx, c.ID, worker, webnet.JobFailed, now)
	return false, err
}

// Renew extends worker's leases; see jobs.Queue.
func (q *JobQueue) Renew(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error) {
	var kept []int64
	err := q.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		kept, err = tx.RenewLeases(ctx, worker, ids, q.clock.Now().Add(lease))
		return err
	})
	return kept, err
}

// Release hands a job on; see jobs.Queue.
func (q *JobQueue) Release(ctx context.Context, worker string, id int64) error {
	return q.db.InTx(ctx, func(tx *store.Tx) error { return tx.ReleaseJob(ctx, id, worker, q.clock.Now()) })
}

// StartTarget moves a pending target to running if worker still holds the job; see
// jobs.Queue.
func (q *JobQueue) StartTarget(ctx context.Context, worker string, jobID, deviceID int64, lines []webnet.JobLogLine) error {
	return q.db.InTx(ctx, func(tx *store.Tx) error {
		held, err := tx.AppendJobLogsAs(ctx, jobID, worker, lines)
		if err != nil {
			return err
		}
		if !held {
			return webnet.Errorf(webnet.EConflict, "Job %d is no longer this worker's.", jobID)
		}
		return tx.SetTargetStatus(ctx, jobID, deviceID, webnet.TargetPending, webnet.TargetRunning, "")
	})
}

// FinishTarget ends a running target, and the job with it when it was the last; see
// jobs.Queue.
func (q *JobQueue) FinishTarget(ctx context.Context, worker string, jobID, deviceID int64, status, message string, lines []webnet.JobLogLine) (string, error) {
	var final string
	err := q.db.InTx(ctx, func(tx *store.Tx) error {
		final = ""
		held, err := tx.AppendJobLogsAs(ctx, jobID, worker, lines)
		if err != nil {
			return err
		}
		if !held {
			// Cancelled meanwhile (the target says so already), or taken over: keep the
			// lines; free the device only if the job is over.
			if err := tx.AppendJobLogs(ctx, jobID, lines); err != nil {
				return err
			}
			j, err := tx.JobByID(ctx, jobID)
			if err != nil {
				return err
			}
			if webnet.JobFinished(j.Status) {
				return tx.UnlockDevice(ctx, jobID, deviceID)
			}
			return nil
		}
		if err := tx.SetTargetStatus(ctx, jobID, deviceID, webnet.TargetRunning, status, message); err != nil {
			return err
		}
		if err := tx.UnlockDevice(ctx, jobID, deviceID); err != nil {
			return err
		}
		// The job's progress row says whether targets remain (a key lookup): counting the
		// targets by status at every end would cost a job of n targets n² row reads.
		done, total, err := tx.JobProgress(ctx, jobID)
		if err != nil || done < total {
			return err
		}
		counts, err := tx.TargetCounts(ctx, jobID)
		if err != nil {
			return err
		}
		if counts[webnet.TargetPending]+counts[webnet.TargetRunning] > 0 {
			return nil
		}
		final, err = q.finish(ctx, tx, worker, jobID, counts, nil)
		return err
	})
	return final, err
}

// AppendLog appends lines to a job's log; see jobs.Queue.
func (q *JobQueue) AppendLog(ctx context.Context, jobID int64, lines []webnet.JobLogLine) error {
	if len(lines) == 0 {
		return nil
	}
	return q.db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendJobLogs(ctx, jobID, lines) })
}

// FinishJob ends a running job with the status its targets add up to; see jobs.Queue.
func (q *JobQueue) FinishJob(ctx context.Context, worker string, jobID int64, lines []webnet.JobLogLine) (string, error) {
	r := &finishReq{worker: worker, jobID: jobID, lines: lines, done: make(chan struct{})}
	q.fmu.Lock()
	q.finishing = append(q.finishing, r)
	lead := !q.leading
	q.leading = true
	q.fmu.Unlock()
	if lead {
		q.finishBatch(context.WithoutCancel(ctx))
	}
	select {
	case <-r.done:
		return r.status, r.err
	case <-ctx.Done():
		// The batch goes on without this caller; the job's end is committed or not with it.
		return "", context.Cause(ctx)
	}
}

// finishBatch commits the job ends waiting now in one transaction — while it commits, the
// next ends gather — and hands on to a new goroutine if more are waiting when it is done.
// Each end is still all or nothing: if the batch fails, each end is tried alone, so one
// job's error never decides another's.
func (q *JobQueue) finishBatch(ctx context.Context) {
	q.fmu.Lock()
	batch := q.finishing
	q.finishing = nil
	q.fmu.Unlock()
	bctx, cancel := context.WithTimeout(ctx, finishBatchTimeout)
	defer cancel()
	statuses := make([]string, len(batch))
	err := q.db.InTx(bctx, func(tx *store.Tx) error {
		// The usual end — every target ended — needs the targets' counts only: one query for
		// the batch, then one statement per job (two on SQLite).
		ids := make([]int64, len(batch))
		for i, r := range batch {
			ids[i] = r.jobID
		}
		counts, err := tx.TargetCountsOf(bctx, ids)
		if err != nil {
			return err
		}
		for i, r := range batch {
			c := counts[r.jobID]
			if c[webnet.TargetPending]+c[webnet.TargetRunning] > 0 {
				statuses[i], err = q.finishIn(bctx, tx, r.worker, r.jobID, r.lines)
			} else {
				statuses[i], err = q.finish(bctx, tx, r.worker, r.jobID, c, r.lines)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	for i, r := range batch {
		if err == nil || len(batch) == 1 {
			r.status, r.err = statuses[i], err
		} else {
			r.err = q.db.InTx(bctx, func(tx *store.Tx) error {
				var err error
				r.status, err = q.finishIn(bctx, tx, r.worker, r.jobID, r.lines)
				return err
			})
		}
		close(r.done)
	}
	q.fmu.Lock()
	more := len(q.finishing) > 0
	q.leading = more
	q.fmu.Unlock()
	if more {
		go q.finishBatch(ctx)
	}
}

// TargetStep records a running target's progress through its kind's steps; see jobs.Queue.
func (q *JobQueue) TargetStep(ctx context.Context, worker string, jobID, deviceID int64, step, steps int, lines []webnet.JobLogLine) error {
	return q.db.InTx(ctx, func(tx *store.Tx) error {
		held, err := tx.AppendJobLogsAs(ctx, jobID, worker, lines)
		if err != nil || !held {
			return err
		}
		_, err = tx.SetTargetStep(ctx, jobID, deviceID, worker, step, steps)
		return err
	})
}

// finishIn ends worker's job jobID in tx (see FinishJob).
func (q *JobQueue) finishIn(ctx context.Context, tx *store.Tx, worker string, jobID int64, lines []webnet.JobLogLine) (string, error) {
	counts, err := tx.TargetCounts(ctx, jobID)
	if err != nil {
		return "", err
	}
	if counts[webnet.TargetPending]+counts[webnet.TargetRunning] > 0 {
		// The worker has run every target it could: any still pending or running had its
		// end lost (the write failed); a finished job must not pretend they succeeded.
		if held, err := tx.HoldsJob(ctx, jobID, worker); err != nil || !held {
			return "", err
		}
		for _, from := range []string{webnet.TargetRunning, webnet.TargetPending} {
			if _, err := tx.FailTargets(ctx, jobID, from,
				"The worker could not record this target's end; its result is unknown (see the worker's log)."); err != nil {
				return "", err
			}
		}
		if counts, err = tx.TargetCounts(ctx, jobID); err != nil {
			return "", err
		}
	}
	return q.finish(ctx, tx, worker, jobID, counts, lines)
}

// finish ends worker's running job in tx with the status counts add up to, after lines and
// a summary line; "" when the job is no longer the worker's. Three statements: the job's row
// (status and log sequence at once), its lines, and its device locks when it has targets.
func (q *JobQueue) finish(ctx context.Context, tx *store.Tx, worker string, jobID int64, counts map[string]int, lines []webnet.JobLogLine) (string, error) {
	status := JobOutcome(counts)
	now := q.clock.Now()
	lines = append(lines, webnet.JobLogLine{At: now, Level: outcomeLevel[status], Message: fmt.Sprintf(
		"Finished %s: %d succeeded, %d failed, %d skipped.", status,
		counts[webnet.TargetSucceeded], counts[webnet.TargetFailed], counts[webnet.TargetSkipped])})
	targets := 0
	for _, n := range counts {
		targets += n
	}
	ok, err := tx.FinishJobLogged(ctx, jobID, worker, status, now, lines, targets > 0)
	if err != nil || !ok {
		return "", err
	}
	return status, nil
}

var outcomeLevel = map[string]string{webnet.JobSucceeded: "info", webnet.JobPartial: "warn", webnet.JobFailed: "error"}

// JobOutcome is the status a finished job's target counts add up to: failed when targets
// failed and none succeeded, partial when some of each, succeeded otherwise (skipped targets
// had nothing to do; a job without targets did nothing wrong).
func JobOutcome(counts map[string]int) string {
	failed := counts[webnet.TargetFailed] + counts[webnet.TargetCancelled]
	switch {
	case failed == 0:
		return webnet.JobSucceeded
	case counts[webnet.TargetSucceeded] == 0 && counts[webnet.TargetSkipped] == 0:
		return webnet.JobFailed
	default:
		return webnet.JobPartial
	}
}

// Subscribe delivers queue events from every process; see jobs.Queue.
func (q *JobQueue) Subscribe(fn func(jobs.Event)) func() {
	return q.db.Subscribe(func(n store.Notification) {
		switch {
		case n.Reset:
			fn(jobs.Event{Reset: true})
		case n.Topic == store.TopicEnqueued:
			fn(jobs.Event{Enqueued: true})
		case n.Topic == store.TopicCancelled:
			if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				fn(jobs.Event{Cancelled: id})
			}
		}
	})
}
