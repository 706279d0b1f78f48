package service

import (
	"context"
	"encoding/json"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// jobVisibility is the SQL condition of the jobs the caller may see (design.md §2): staff
// and superusers all; others the jobs they requested and those with a target device they
// can see.
func jobVisibility(ctx context.Context, g *authz.Grants) (string, []any, error) {
	if g.Bypass() {
		return "1=1", nil, nil
	}
	if !g.Active {
		return "1=0", nil, nil
	}
	u, err := requireUser(ctx)
	if err != nil {
		return "", nil, err
	}
	return store.JobVisibility(u.ID, g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id"))
}

// ListJobs returns a page of the jobs the caller may see, newest first, filtered in the
// query. Targets are left out of lists. Any signed-in user may call it. Errors:
// unauthenticated.
func (c *Core) ListJobs(ctx context.Context, jq webnet.JobQuery, page webnet.Page) ([]webnet.Job, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	vis, args, err := jobVisibility(ctx, g)
	if err != nil {
		return nil, 0, err
	}
	if jq.Status != "" && !webnet.JobFinished(jq.Status) && jq.Status != webnet.JobQueued && jq.Status != webnet.JobRunning {
		return nil, 0, webnet.Invalid("Invalid filter.", map[string]string{"status": "Not a job status."})
	}
	return c.db.Read().ListJobs(ctx, vis, args, jq, page)
}

// visibleJob loads a job the caller may see, with only the targets on devices the caller may
// see (design.md §2), or not_found. The targets come with their devices' places in one read
// (not the devices themselves): a job over a fleet has tens of thousands.
func (c *Core) visibleJob(ctx context.Context, g *authz.Grants, id int64) (*webnet.Job, error) {
	q := c.db.Read()
	lj, err := q.LiveJob(ctx, id)
	if err != nil {
		return nil, err
	}
	all, err := q.LiveTargets(ctx, id, -1)
	if err != nil {
		return nil, err
	}
	j := &lj.Job
	j.Targets = []webnet.JobTarget{}
	decided := map[authz.Target]bool{}
	for _, t := range all {
		ok, done := decided[t.Device]
		if !done {
			ok = g.Visible(t.Device)
			decided[t.Device] = ok
		}
		if ok {
			j.Targets = append(j.Targets, t.JobTarget)
		}
	}
	mine := false
	if sub := SubjectFrom(ctx); sub != nil && sub.User != nil && j.RequestedBy != nil {
		mine = *j.RequestedBy == sub.User.ID
	}
	if len(j.Targets) == 0 && !mine && !g.Bypass() {
		return nil, notFoundErr("Job")
	}
	return j, nil
}

// GetJob returns a job the caller may see with the targets they may see. Errors:
// unauthenticated, not_found.
func (c *Core) GetJob(ctx context.Context, id int64) (*webnet.Job, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	j, err := c.visibleJob(ctx, g, id)
	return j, err
}

// JobLogs returns up to limit log lines of a job after seq after, leaving out lines about
// devices the caller may not see (so seq numbers may skip). Errors: unauthenticated,
// not_found.
//
// It reads neither the job's targets nor its devices, only the places of the devices its
// lines name: a client following a fleet-sized job asks for page after page.
func (c *Core) JobLogs(ctx context.Context, id, after int64, limit int) ([]webnet.JobLogLine, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.readableLog(ctx, g, id); err != nil {
		return nil, err
	}
	lines, err := c.db.Read().JobLogs(ctx, id, after, limit)
	if err != nil {
		return nil, err
	}
	return c.visibleLogLines(ctx, g, id, lines)
}

// CancelJob cancels a queued or running job: the status, its unfinished targets and a log
// line change in one transaction with the audit record; the worker running it, in whichever
// process, is told at once and cancels the context of its running targets. The requester, the job's customer's admins and staff may cancel. Errors:
// unauthenticated, not_found, forbidden, conflict (already finished).
func (c *Core) CancelJob(ctx context.Context, id int64) (*webnet.Job, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	j, err := c.visibleJob(ctx, g, id)
	if err != nil {
		return nil, err
	}
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "job.cancel", objectType: "job", objectID: j.ID, repr: j.Kind, customerID: j.CustomerID}
	if !mayCancel(g, u, j) {
		return nil, c.denied(ctx, e, forbidden("Only the requester, the customer's admins and staff may cancel a job."))
	}
	if webnet.JobFinished(j.Status) {
		return nil, webnet.Errorf(webnet.EConflict, "The job is already %s.", j.Status)
	}
	now := c.clock.Now()
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetJobStatus(ctx, j.ID, j.Status, webnet.JobCancelled, now); err != nil {
			return err
		}
		// Devices of running targets stay locked until their worker has stopped them.
		if err := tx.UnlockPendingDevices(ctx, j.ID); err != nil {
			return err
		}
		if err := tx.CancelPendingTargets(ctx, j.ID); err != nil {
			return err
		}
		if err := tx.NotifyCancelled(ctx, j.ID); err != nil {
			return err
		}
		if err := tx.AppendJobLog(ctx, j.ID, &webnet.JobLogLine{At: now, Level: "warn",
			Message: fmt.Sprintf("Cancelled by %s.", u.Username)}); err != nil {
			return err
		}
		e.details = map[string]any{"status": map[string]any{"before": j.Status, "after": webnet.JobCancelled}}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return c.GetJob(ctx, id)
}

// RetryJob creates a new job of a finished job's kind, parameters and dry-run setting on the
// devices of its failed targets that the caller can see, through the same checks as the
// custom action itself (RunAction: the kind's permission on every one of them, all or
// nothing, audited). confirm is the upgrade's confirmation; bodyErr, what is wrong with the
// request's body, is reported after the checks on the job and its devices. Errors: unauthenticated,
// not_found, forbidden, invalid (an upgrade without confirm), conflict (not finished, no
// failed targets, a device busy with another job, or a kind that is not a custom action).
func (c *Core) RetryJob(ctx context.Context, id int64, confirm bool, bodyErr error) (*webnet.Job, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	j, err := c.visibleJob(ctx, g, id)
	if err != nil {
		return nil, err
	}
	if !webnet.JobFinished(j.Status) {
		return nil, webnet.Errorf(webnet.EConflict, "Only a finished job can be retried; this one is %s.", j.Status)
	}
	a, ok := actions[j.Kind]
	if !ok {
		return nil, webnet.Errorf(webnet.EConflict, "Jobs of kind %s cannot be retried.", j.Kind)
	}
	var failed []int64
	for _, t := range j.Targets {
		if t.Status == webnet.TargetFailed {
			failed = append(failed, t.DeviceID)
		}
	}
	if len(failed) == 0 {
		return nil, webnet.Errorf(webnet.EConflict, "The job has no failed targets to retry.")
	}
	var params map[string]any
	if err := json.Unmarshal(j.Params, &params); err != nil {
		return nil, fmt.Errorf("params of job %d: %w", j.ID, err)
	}
	if len(params) == 0 {
		params = nil
	}
	jobs, err := c.RunAction(ctx, a, ActionRequest{Devices: failed, Params: params, DryRun: j.DryRun, Confirm: confirm, RetryOf: &j.ID, BodyErr: bodyErr})
	if err != nil {
		return nil, err
	}
	return jobs[0], nil
}
