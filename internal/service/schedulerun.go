package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// scheduleBatch is how many due schedules one scan reads at a time.
const scheduleBatch = 100

// RunDueSchedules runs every enabled schedule whose tick has come (next_run_at at or before
// the clock's now) and returns how many jobs it created. It is webnet's own work: call it
// without a subject, from the scheduler loop of every process.
//
// Each tick runs exactly once however many processes scan at the same time: a schedule's
// tick is taken by moving next_run_at on to the first tick after now with a compare-and-set,
// in the one transaction that also creates the tick's job and its audit record; a process
// whose compare-and-set matches no row lost the tick to another and skips it. Ticks missed
// while no process ran (or the database was unreachable) are not caught up: the schedule
// fires once, late, and moves on to its next future tick.
//
// A run is the owner's: their grants are compiled afresh from the database (never a cache)
// and must allow the schedule's action on every device it targets now (a device group's
// current devices, or those of the device list that still exist). When they do not, or the
// owner is deactivated or no longer a member, or there is no device to run on, the tick
// creates nothing, last_error says why, and the audit log records the refusal as the
// owner's. Each tick taken leaves exactly one audit record: schedule.run with result
// success, denied or failure.
func (c *Core) RunDueSchedules(ctx context.Context) (int, error) {
	ctx = WithSubject(ctx, System())
	now := c.clock.Now()
	ran := 0
	tried := map[int64]bool{}
	for {
		due, err := c.db.Read().DueSchedules(ctx, now, scheduleBatch)
		if err != nil {
			return ran, err
		}
		fresh := 0
		for i := range due {
			s := &due[i]
			if tried[s.ID] {
				continue // changed while this scan ran: its next tick is the next scan's
			}
			tried[s.ID] = true
			fresh++
			if err := ctx.Err(); err != nil {
				return ran, err
			}
			job, err := c.runSchedule(ctx, s, now)
			if err != nil {
				return ran, fmt.Errorf("run schedule %d: %w", s.ID, err)
			}
			if job != nil {
				ran++
			}
		}
		if len(due) < scheduleBatch || fresh == 0 {
			return ran, nil
		}
	}
}

// runSchedule takes schedule s's due tick and runs it, returning the job it created (nil
// when another process took the tick, or the run was refused). When creating the job
// fails, the tick's transaction rolls back and a second one takes the tick and records the
// failure, so that a schedule that cannot run does not retry at every scan; an error is
// returned only when even that fails (the database is unreachable), and the next scan tries
// the tick again.
func (c *Core) runSchedule(ctx context.Context, s *webnet.Schedule, now time.Time) (*webnet.Job, error) {
	next, specErr := c.nextTick(s, now)
	var job *webnet.Job
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		took, err := tx.TakeScheduleTick(ctx, s, next)
		if err != nil || !took {
			return err
		}
		if specErr != "" {
			return c.refuseRun(ctx, tx, s, nil, "failure", specErr, nil)
		}
		job, err = c.fireSchedule(ctx, tx, s, now)
		return err
	})
	if err == nil {
		return job, nil
	}
	if ctx.Err() != nil {
		return nil, err // shutting down: the next scan of some process takes the tick
	}
	c.log.ErrorContext(ctx, "scheduled job not created", "schedule", s.ID, "err", err)
	msg := "The job could not be created (" + webnet.ErrorMessage(err) + "); nothing ran."
	ferr := c.db.InTx(ctx, func(tx *store.Tx) error {
		took, err := tx.TakeScheduleTick(ctx, s, next)
		if err != nil || !took {
			return err
		}
		return c.refuseRun(ctx, tx, s, nil, "failure", msg, nil)
	})
	if ferr != nil {
		return nil, fmt.Errorf("%w (and recording it: %w)", err, ferr)
	}
	return nil, nil
}

// nextTick is the tick that follows s's due one, or nil if it never ticks again. A stored
// expression that no longer parses (it was checked when saved) stops the schedule: the
// second result says why.
func (c *Core) nextTick(s *webnet.Schedule, now time.Time) (*time.Time, string) {
	f := fieldErrors{}
	spec, ok := parseCron(s.Cron, s.Timezone, now, f)
	if !ok {
		why := f["cron"]
		if why == "" {
			why = f["timezone"]
		}
		return nil, fmt.Sprintf("The schedule's timing is no longer valid (%s); it will not run until it is changed.", why)
	}
	next := spec.next(*s.NextRunAt, now)
	if next.IsZero() {
		return nil, ""
	}
	return &next, ""
}

// fireSchedule runs the tick of s that tx took: it checks the owner and the targets now and
// creates the job, or records why not.
func (c *Core) fireSchedule(ctx context.Context, tx *store.Tx, s *webnet.Schedule, now time.Time) (*webnet.Job, error) {
	act, ok := scheduleActions[s.Kind]
	if !ok {
		return nil, c.refuseRun(ctx, tx, s, nil, "failure", fmt.Sprintf("Unknown job kind %q; nothing ran.", s.Kind), nil)
	}
	owner, why, err := c.scheduleOwner(ctx, tx, s)
	if err != nil || why != "" {
		if err != nil {
			return nil, err
		}
		return nil, c.refuseRun(ctx, tx, s, owner, "denied", why, nil)
	}
	rows, err := tx.GrantRows(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	g, err := Compile(owner, rows)
	if err != nil {
		return nil, err
	}
	if !g.Bypass() && !g.Member(s.CustomerID) {
		return nil, c.refuseRun(ctx, tx, s, owner, "denied",
			fmt.Sprintf("Owner %s is no longer a member of the schedule's customer; nothing ran.", owner.Username), nil)
	}
	devices, err := c.scheduleTargets(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		why := "None of the schedule's devices exist any more; nothing ran."
		if s.DeviceGroupID != nil {
			why = "The device group has no devices; nothing ran."
		}
		return nil, c.refuseRun(ctx, tx, s, owner, "failure", why, nil)
	}
	ids := make([]int64, len(devices))
	var denied []int64
	for i, d := range devices {
		ids[i] = d.ID
		if !g.Can(act.Perm, authz.TargetOf(&d)) {
			denied = append(denied, d.ID)
		}
	}
	if len(denied) > 0 {
		return nil, c.refuseRun(ctx, tx, s, owner, "denied", fmt.Sprintf("Owner %s no longer has permission to %s on %s; nothing ran.",
			owner.Username, act.doing, plural(len(denied), "device")), denied)
	}
	var params map[string]any
	if err := json.Unmarshal(s.Params, &params); err != nil {
		return nil, fmt.Errorf("schedule params: %w", err)
	}
	job, err := c.jobs.CreateJob(ctx, tx, NewJob{CustomerID: s.CustomerID, Kind: s.Kind, RequestedBy: &owner.ID,
		Params: params, DryRun: s.DryRun, DeviceIDs: ids, ScheduleID: &s.ID, SkipBusy: true})
	if err != nil {
		return nil, fmt.Errorf("create %s job: %w", s.Kind, err)
	}
	if err := tx.RecordScheduleRun(ctx, s.ID, now, job.ID); err != nil {
		return nil, err
	}
	e := entry{action: "schedule.run", objectType: "schedule", objectID: s.ID, repr: s.Name, customerID: s.CustomerID,
		actor: owner, details: map[string]any{"job": job.ID, "kind": s.Kind, "devices": ids, "dry_run": s.DryRun,
			"tick": s.NextRunAt}}
	return job, c.audit(ctx, tx, e)
}

// scheduleOwner loads the owner a run of s acts as; why says what makes them unable to, if
// anything.
func (c *Core) scheduleOwner(ctx context.Context, tx *store.Tx, s *webnet.Schedule) (*webnet.User, string, error) {
	if s.OwnerID == nil {
		return nil, "The schedule's owner no longer exists; nothing ran.", nil
	}
	u, err := tx.UserByID(ctx, *s.OwnerID)
	if webnet.ErrorCode(err) == webnet.ENotFound {
		return nil, "The schedule's owner no longer exists; nothing ran.", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !u.IsActive {
		return u, fmt.Sprintf("Owner %s is deactivated; nothing ran.", u.Username), nil
	}
	return u, "", nil
}

// scheduleTargets returns the devices a run of s targets now: its device group's, or those
// of its list that still exist (in its customer).
func (c *Core) scheduleTargets(ctx context.Context, tx *store.Tx, s *webnet.Schedule) ([]webnet.Device, error) {
	if s.DeviceGroupID != nil {
		return tx.DevicesInGroup(ctx, *s.DeviceGroupID)
	}
	devices, err := tx.DevicesByIDs(ctx, s.DeviceIDs)
	if err != nil {
		return nil, err
	}
	out := devices[:0]
	for _, d := range devices {
		if d.CustomerID == s.CustomerID {
			out = append(out, d)
		}
	}
	return out, nil
}

// refuseRun records in tx that the tick of s ran nothing and why: last_error, a log line,
// and an audit record with result ("denied" or "failure") as the owner's (the system's when
// there is none), naming the refused devices if any.
func (c *Core) refuseRun(ctx context.Context, tx *store.Tx, s *webnet.Schedule, owner *webnet.User, result, why string, devices []int64) error {
	c.log.WarnContext(ctx, "scheduled run refused", "schedule", s.ID, "result", result, "why", why)
	if err := tx.RecordScheduleError(ctx, s.ID, why); err != nil {
		return err
	}
	details := map[string]any{"error": why, "kind": s.Kind, "tick": s.NextRunAt}
	if devices != nil {
		details["devices"] = devices
	}
	e := entry{action: "schedule.run", objectType: "schedule", objectID: s.ID, repr: s.Name, customerID: s.CustomerID,
		actor: owner, details: details}
	return tx.AppendActivity(ctx, c.activity(ctx, e, result))
}

// plural writes "1 device", "3 devices".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
