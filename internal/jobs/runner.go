package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"webnet/internal/webnet"
)

// Why a running job's context ends, besides a target's own timeout.
var (
	// ErrCancelled: a user cancelled the job.
	ErrCancelled = errors.New("the job was cancelled")
	// errShutdown: this worker is stopping; the job is handed on to another worker.
	errShutdown = errors.New("the worker is shutting down")
	// errLost: this worker no longer holds the job's lease.
	errLost = errors.New("the worker lost the job's lease")
)

// Config configures a Runner.
type Config struct {
	Queue Queue
	Kinds []Kind
	// Name identifies the worker in the queue (default: host, pid and a random suffix).
	Name string
	// Jobs is how many jobs the worker runs at once (default 16).
	Jobs int
	// Concurrency is how many targets of one job run at once unless the kind or the job's
	// "concurrency" parameter says otherwise (default 32: SSH sessions are mostly waiting).
	Concurrency int
	// Lease is how long a job stays the worker's without renewal (default 30 s); a crashed
	// worker's jobs are resumed that long after its last renewal. Renewed every Lease/3.
	Lease time.Duration
	// Poll is how often an idle worker looks for jobs when no notification woke it (2 s).
	Poll time.Duration
	// FlushEvery is how long log lines may wait before they are written (default 100 ms).
	FlushEvery time.Duration
	// ShutdownGrace is how long a stopping worker lets running jobs finish before it stops
	// their targets and hands the jobs on (default 10 s).
	ShutdownGrace time.Duration
	Clock         webnet.Clock
	Logger        *slog.Logger
}

// claimWindow is how long a worker with a backlog waits for more free slots before it claims.
const claimWindow = 5 * time.Millisecond

// maxConcurrency bounds a job's "concurrency" parameter.
const maxConcurrency = 256

// Runner is one worker: it claims jobs from the queue and runs them until its context ends.
type Runner struct {
	cfg   Config
	kinds map[string]Kind
	wake  chan struct{}

	mu      sync.Mutex
	running map[int64]context.CancelCauseFunc
}

// New checks cfg and returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Queue == nil {
		return nil, errors.New("jobs: Config.Queue is required")
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		cfg.Name = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = 16
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 100 * time.Millisecond
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = webnet.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	kinds := map[string]Kind{}
	for _, k := range cfg.Kinds {
		if k.Name == "" || k.Run == nil {
			return nil, fmt.Errorf("jobs: kind %q needs a name and a Run function", k.Name)
		}
		if k.Timeout <= 0 {
			k.Timeout = 10 * time.Minute
		}
		kinds[k.Name] = k
	}
	return &Runner{cfg: cfg, kinds: kinds, wake: make(chan struct{}, 1), running: map[int64]context.CancelCauseFunc{}}, nil
}

// Name is the worker's name in the queue.
func (r *Runner) Name() string { return r.cfg.Name }

func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) onEvent(e Event) {
	if e.Cancelled != 0 {
		r.stop(e.Cancelled, ErrCancelled)
		return
	}
	r.poke()
}

// stop cancels a running job's context with cause.
func (r *Runner) stop(id int64, cause error) {
	r.mu.Lock()
	cancel := r.running[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

func (r *Runner) runningIDs() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]int64, 0, len(r.running))
	for id := range r.running {
		ids = append(ids, id)
	}
	return ids
}

// Run claims and runs jobs until ctx ends; then it stops claiming, gives running jobs
// ShutdownGrace to finish, stops the rest and hands them on (their lease released), and
// returns once every job goroutine has ended.
func (r *Runner) Run(ctx context.Context) error {
	unsubscribe := r.cfg.Queue.Subscribe(r.onEvent)
	defer unsubscribe()
	// Job goroutines outlive ctx by up to the grace period: they run under jobsCtx.
	jobsCtx, stopJobs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopJobs(errShutdown)
	var jobs sync.WaitGroup
	var beat sync.WaitGroup
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beat.Go(func() { r.heartbeat(beatCtx) })
	defer func() { stopBeat(); beat.Wait() }()

	backoff := r.cfg.Poll
	backlog := false // the last claim filled every free slot: more jobs are probably waiting
	for ctx.Err() == nil {
		free := r.cfg.Jobs - len(r.runningIDs())
		if backlog && free > 0 && free < max(2, r.cfg.Jobs/4) {
			// Under a backlog, claim in batches: one claim (one commit) for the slots that
			// free up within a few milliseconds, rather than one claim per finished job.
			select {
			case <-ctx.Done():
			case <-time.After(claimWindow):
			}
			free = r.cfg.Jobs - len(r.runningIDs())
		}
		if free > 0 {
			claims, err := r.cfg.Queue.Claim(ctx, r.cfg.Name, free, r.cfg.Lease)
			if err != nil {
				if ctx.Err() == nil {
					r.cfg.Logger.Error("claim jobs", "worker", r.cfg.Name, "err", err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, time.Minute)
				continue
			}
			backoff = r.cfg.Poll
			backlog = len(claims) == free
			for _, c := range claims {
				r.start(jobsCtx, &jobs, c)
			}
			if len(claims) == free {
				continue // there may be more waiting
			}
		}
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-time.After(r.cfg.Poll):
		}
	}
	done := make(chan struct{})
	go func() { jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.cfg.ShutdownGrace):
		stopJobs(errShutdown)
		<-done
	}
	return nil
}

// heartbeat renews the leases of running jobs every Lease/3 and stops those the worker no
// longer holds.
func (r *Runner) heartbeat(ctx context.Context) {
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := r.runningIDs()
		if len(ids) == 0 {
			continue
		}
		kept, err := r.cfg.Queue.Renew(ctx, r.cfg.Name, ids, r.cfg.Lease)
		if err != nil {
			r.cfg.Logger.Error("renew job leases", "worker", r.cfg.Name, "err", err)
			continue
		}
		held := map[int64]bool{}
		for _, id := range kept {
			held[id] = true
		}
		for _, id := range ids {
			if !held[id] {
				r.stop(id, errLost)
			}
		}
	}
}

func (r *Runner) start(ctx context.Context, wg *sync.WaitGroup, c Claim) {
	jctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	r.running[c.Job.ID] = cancel
	r.mu.Unlock()
	wg.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, c.Job.ID)
			r.mu.Unlock()
			cancel(nil)
			r.poke()
		}()
		r.runJob(jctx, c)
	})
}

// write gives the queue's final writes of a job their own deadline: they must happen even
// when the job's context has ended (cancelled, or the worker stopping).
func (r *Runner) write(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

func (r *Runner) runJob(ctx context.Context, c Claim) {
	j := c.Job
	log := r.cfg.Logger.With("job", j.ID, "kind", j.Kind, "worker", r.cfg.Name)
	buf := newLogBuffer(r.cfg.Clock)
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	var flusher sync.WaitGroup
	flusher.Go(func() { r.flushLoop(flushCtx, j.ID, buf, log) })
	defer func() { stopFlush(); flusher.Wait() }()

	kind, ok := r.kinds[j.Kind]
	if !ok {
		kind = Kind{Name: j.Kind, Timeout: time.Minute, Run: func(context.Context, *Target) error {
			return fmt.Errorf("this worker cannot run %s jobs", j.Kind)
		}}
	}
	n := r.concurrency(kind, j)
	sem := make(chan struct{}, n)
	stop := newFailureLimit(j, c.Failed)
	var ended atomic.Bool // the last target's end ended the job
	var targets sync.WaitGroup
	for _, d := range c.Pending {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		targets.Go(func() {
			defer func() { <-sem }()
			r.runTarget(ctx, kind, j, d, buf, &ended, stop, log)
		})
	}
	targets.Wait()

	wctx, cancel := r.write(ctx)
	defer cancel()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errShutdown):
		if err := r.cfg.Queue.AppendLog(wctx, j.ID, buf.take(buf.line("warn", nil,
			"The worker running this job is shutting down; another worker will resume it."))); err != nil {
			log.Error("job log", "err", err)
		}
		if err := r.cfg.Queue.Release(wctx, r.cfg.Name, j.ID); err != nil {
			log.Error("release job", "err", err)
		}
	case cause != nil:
		// Cancelled or lost: the job is no longer this worker's to finish.
		if err := r.cfg.Queue.AppendLog(wctx, j.ID, buf.take()); err != nil {
			log.Error("job log", "err", err)
		}
	case ended.Load():
		if err := r.cfg.Queue.AppendLog(wctx, j.ID, buf.take()); err != nil {
			log.Error("job log", "err", err)
		}
	default:
		status, err := r.cfg.Queue.FinishJob(wctx, r.cfg.Name, j.ID, buf.take())
		if err != nil {
			log.Error("finish job", "err", err)
			return
		}
		log.Info("job finished", "status", status)
	}
}

// failureLimit stops a job's remaining targets once max_failures of its targets failed (the
// job parameter; 0 or absent: no limit). Targets already running go on; those not started
// yet are skipped with the reason. Failures from before a resume count (already).
type failureLimit struct {
	max int64
	n   atomic.Int64
}

func newFailureLimit(j *webnet.Job, already int) *failureLimit {
	var p struct {
		MaxFailures int64 `json:"max_failures"`
	}
	l := &failureLimit{}
	if (&Target{Job: j}).Params(&p) == nil && p.MaxFailures > 0 {
		l.max = p.MaxFailures
		l.n.Store(int64(already))
	}
	return l
}

func (l *failureLimit) failed() { l.n.Add(1) }

// reached returns why the next target must not start ("" when it may).
func (l *failureLimit) reached() string {
	if l.max == 0 {
		return ""
	}
	if n := l.n.Load(); n >= l.max {
		return fmt.Sprintf("Not started: %d targets of this job failed, its limit (max_failures %d).", n, l.max)
	}
	return ""
}

// concurrency is how many targets of job j run at once.
func (r *Runner) concurrency(k Kind, j *webnet.Job) int {
	n := r.cfg.Concurrency
	if k.Concurrency > 0 {
		n = k.Concurrency
	}
	var p struct {
		Concurrency int `json:"concurrency"`
	}
	if (&Target{Job: j}).Params(&p) == nil && p.Concurrency > 0 {
		n = min(p.Concurrency, maxConcurrency)
	}
	return n
}

// flushLoop writes the job's waiting log lines every FlushEvery, or at once when many wait.
func (r *Runner) flushLoop(ctx context.Context, jobID int64, buf *logBuffer, log *slog.Logger) {
	t := time.NewTicker(r.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-buf.full:
		}
		buf.write.Lock()
		lines := buf.take()
		var err error
		if len(lines) > 0 {
			err = r.cfg.Queue.AppendLog(ctx, jobID, lines)
		}
		buf.write.Unlock()
		if err != nil && ctx.Err() == nil {
			log.Error("job log", "err", err, "lines", len(lines))
		}
	}
}

// runTarget runs one target; done is set when its end also ended the job (the last target).
func (r *Runner) runTarget(ctx context.Context, k Kind, j *webnet.Job, d webnet.Device, buf *logBuffer, done *atomic.Bool, stop *failureLimit, log *slog.Logger) {
	id := d.ID
	buf.write.Lock()
	err := r.cfg.Queue.StartTarget(ctx, r.cfg.Name, j.ID, id, buf.take(buf.line("info", &id, "Started on "+d.Name+".")))
	buf.write.Unlock()
	if err != nil {
		if ctx.Err() == nil && webnet.ErrorCode(err) != webnet.EConflict {
			log.Error("start target", "device", id, "err", err)
		}
		return
	}
	t := &Target{Job: j, Device: d, log: buf}
	t.step = func(step, steps int, message string) {
		wctx, cancel := r.write(ctx)
		defer cancel()
		buf.write.Lock()
		err := r.cfg.Queue.TargetStep(wctx, r.cfg.Name, j.ID, id, step, steps, buf.take(buf.line("info", &id, message)))
		buf.write.Unlock()
		if err != nil {
			log.Error("target step", "device", id, "step", step, "err", err)
		}
	}
	tctx, cancel := context.WithTimeoutCause(ctx, k.Timeout, fmt.Errorf("timed out after %s", k.Timeout))
	var runErr error
	if why := stop.reached(); why != "" {
		runErr = Skipped(why)
	} else {
		runErr = safeRun(tctx, k, t, log)
	}
	cancel()
	status, message := outcome(runErr, t.resultMessage())
	if status == webnet.TargetFailed {
		stop.failed()
	}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errShutdown) || errors.Is(cause, errLost):
		// Leave the target running: whoever resumes the job records it as interrupted.
		return
	case runErr != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		status, message = webnet.TargetFailed, fmt.Sprintf("Timed out after %s: %s", k.Timeout, runErr)
	}
	level := "info"
	switch status {
	case webnet.TargetFailed:
		level = "error"
	case webnet.TargetSkipped:
		level = "warn"
	}
	wctx, wcancel := r.write(ctx)
	defer wcancel()
	buf.write.Lock()
	final, err := r.cfg.Queue.FinishTarget(wctx, r.cfg.Name, j.ID, id, status, message,
		buf.take(buf.line(level, &id, fmt.Sprintf("%s: %s", targetWord[status], message))))
	buf.write.Unlock()
	if err != nil {
		log.Error("finish target", "device", id, "err", err)
	}
	if final != "" {
		done.Store(true)
		log.Info("job finished", "status", final)
	}
}

var targetWord = map[string]string{
	webnet.TargetSucceeded: "Succeeded",
	webnet.TargetFailed:    "Failed",
	webnet.TargetSkipped:   "Skipped",
}

// safeRun runs the kind on one target, turning a panic into the target's failure (and a
// stack trace in the worker's log, never in the job's).
func safeRun(ctx context.Context, k Kind, t *Target, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("job kind panicked", "kind", k.Name, "job", t.Job.ID, "device", t.Device.ID,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error in the %s job kind", k.Name)
		}
	}()
	return k.Run(ctx, t)
}
