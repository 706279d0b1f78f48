package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// NewJob asks for a job on some of one customer's devices.
type NewJob struct {
	CustomerID  int64
	Kind        string
	RequestedBy *int64
	Params      map[string]any
	DryRun      bool
	DeviceIDs   []int64
	// RetryOf and ScheduleID say where the job came from.
	RetryOf    *int64
	ScheduleID *int64
	// SkipBusy makes a device that another unfinished job holds a skipped target instead of
	// failing the whole request with conflict (schedules use it; API requests do not).
	SkipBusy bool
}

// JobService is the seam between custom actions and the job system: CreateJob runs inside the
// caller's transaction, so a job exists if and only if the action that asked for it (and its
// audit record) committed. The jobs issue replaces QueuedJobs with the durable queue.
type JobService interface {
	CreateJob(ctx context.Context, tx *store.Tx, j NewJob) (*webnet.Job, error)
}

// QueuedJobs creates jobs with status queued and their targets pending. A queued job is
// its own queue entry (README: the queue is the jobs table): the workers of every process
// claim it from there once the caller's transaction commits. One device-affecting job per
// device at a time: each device is locked for the job (device_jobs) until its target
// finishes; a device held by another job makes the request a conflict (409) naming the
// devices and the jobs holding them, or, with SkipBusy, a skipped target.
type QueuedJobs struct {
	Clock webnet.Clock
}

// CreateJob inserts the job in tx.
func (q QueuedJobs) CreateJob(ctx context.Context, tx *store.Tx, nj NewJob) (*webnet.Job, error) {
	clock := q.Clock
	if clock == nil {
		clock = webnet.SystemClock{}
	}
	params, err := json.Marshal(nj.Params)
	if err != nil {
		return nil, fmt.Errorf("job params: %w", err)
	}
	if nj.Params == nil {
		params = []byte(`{}`)
	}
	j := &webnet.Job{CustomerID: nj.CustomerID, Kind: nj.Kind, Status: webnet.JobQueued, RequestedBy: nj.RequestedBy,
		Params: params, DryRun: nj.DryRun, CreatedAt: clock.Now(), RetryOf: nj.RetryOf, ScheduleID: nj.ScheduleID}
	for _, id := range nj.DeviceIDs {
		j.Targets = append(j.Targets, webnet.JobTarget{DeviceID: id, Status: webnet.TargetPending})
	}
	if err := tx.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	busy, err := tx.LockDevices(ctx, j.ID, nj.DeviceIDs)
	if err != nil {
		return nil, err
	}
	if len(busy) > 0 && !nj.SkipBusy {
		return nil, busyErr(busy)
	}
	for i := range j.Targets {
		t := &j.Targets[i]
		if holder, ok := busy[t.DeviceID]; ok {
			t.Status, t.Message = webnet.TargetSkipped, fmt.Sprintf("Skipped: job %d is still working on this device.", holder)
			if err := tx.SetTargetStatus(ctx, j.ID, t.DeviceID, webnet.TargetPending, t.Status, t.Message); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.NotifyEnqueued(ctx); err != nil {
		return nil, err
	}
	line := &webnet.JobLogLine{At: j.CreatedAt, Level: "info", Message: fmt.Sprintf("Queued: %s of %d devices.", j.Kind, len(j.Targets))}
	if j.DryRun {
		line.Message = fmt.Sprintf("Queued: %s of %d devices (dry run).", j.Kind, len(j.Targets))
	}
	if err := tx.AppendJobLog(ctx, j.ID, line); err != nil {
		return nil, err
	}
	return j, nil
}

// busyErr is the conflict of a request naming devices other jobs hold.
func busyErr(busy map[int64]int64) error {
	devices := make([]int64, 0, len(busy))
	holders := map[string]int64{}
	for d, j := range busy {
		devices = append(devices, d)
		holders[strconv.FormatInt(d, 10)] = j
	}
	slices.Sort(devices)
	return &webnet.Error{Code: webnet.EConflict,
		Message: "Another job is still working on some of these devices; try again when it has finished.",
		Extra:   map[string]any{"devices": devices, "jobs": holders}}
}
