package service

import (
	"context"
	"slices"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// JobLogTail returns a job's log lines before seq before (before ≤ 0: from the end of the
// log): the newest limit lines of the log below it, read backwards from the database, in
// ascending order, leaving out — as JobLogs does — lines about devices the caller may not see
// (so seq numbers may skip, and a page may hold fewer than limit lines or none). from is the
// lowest seq read, hidden or not (0 when there was none), so that the page before it is
// JobLogTail(…, from, limit) even when its own lines were all hidden. limit is 1 to
// webnet.MaxLimit. Errors: unauthenticated, not_found, invalid (limit).
func (c *Core) JobLogTail(ctx context.Context, id, before int64, limit int) (lines []webnet.JobLogLine, from int64, err error) {
	if limit < 1 || limit > webnet.MaxLimit {
		return nil, 0, webnet.Invalid("Invalid page.", map[string]string{"limit": "A number of lines from 1 to 1000."})
	}
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := c.readableLog(ctx, g, id); err != nil {
		return nil, 0, err
	}
	all, err := c.db.Read().JobLogsBefore(ctx, id, before, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(all) > 0 {
		from = all[0].Seq
	}
	lines, err = c.visibleLogLines(ctx, g, id, all)
	return lines, from, err
}

// readableLog answers not_found unless the caller may see job id: a key lookup and, for a
// user whose view is by device, the first target they may see. Reads of a job's log check
// this and then filter the lines they read (visibleLogLines), never reading all the job's
// targets: a client following a fleet-sized job asks for page after page.
func (c *Core) readableLog(ctx context.Context, g *authz.Grants, id int64) error {
	vis, args, err := jobVisibility(ctx, g)
	if err != nil {
		return err
	}
	ok, err := c.db.Read().JobVisible(ctx, id, vis, args)
	if err == nil && !ok {
		err = notFoundErr("Job")
	}
	return err
}

// visibleLogLines keeps, in place, the lines about the job itself and about its target
// devices the caller may see; staff and superusers keep all. It is the rule of every read of
// a job's log (JobLogs, JobLogTail, as of the job's targets in visibleJob).
func (c *Core) visibleLogLines(ctx context.Context, g *authz.Grants, id int64, lines []webnet.JobLogLine) ([]webnet.JobLogLine, error) {
	if g.Bypass() {
		return lines, nil
	}
	var named []int64
	for _, l := range lines {
		if l.DeviceID != nil && !slices.Contains(named, *l.DeviceID) {
			named = append(named, *l.DeviceID)
		}
	}
	places, err := c.db.Read().JobTargetPlaces(ctx, id, named)
	if err != nil {
		return nil, err
	}
	out := lines[:0]
	for _, l := range lines {
		if l.DeviceID == nil {
			out = append(out, l)
		} else if p, ok := places[*l.DeviceID]; ok && g.Visible(p) {
			out = append(out, l)
		}
	}
	return out, nil
}
