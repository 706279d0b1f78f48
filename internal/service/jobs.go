package service

import (
	"context"
	"encoding/json"
	"fmt"

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
}

// JobService is the seam between custom actions and the job system: CreateJob runs inside the
// caller's transaction, so a job exists if and only if the action that asked for it (and its
// audit record) committed. The jobs issue replaces QueuedJobs with the durable queue.
type JobService interface {
	CreateJob(ctx context.Context, tx *store.Tx, j NewJob) (*webnet.Job, error)
}

// QueuedJobs records jobs with status queued and their targets pending; nothing runs them
// yet.
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
		Params: params, DryRun: nj.DryRun, CreatedAt: clock.Now()}
	for _, id := range nj.DeviceIDs {
		j.Targets = append(j.Targets, webnet.JobTarget{DeviceID: id, Status: webnet.TargetPending})
	}
	if err := tx.CreateJob(ctx, j); err != nil {
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
