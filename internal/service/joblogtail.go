package service

import (
	"context"

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
	_, seen, err := c.visibleJob(ctx, g, id)
	if err != nil {
		return nil, 0, err
	}
	all, err := c.db.Read().JobLogsBefore(ctx, id, before, limit)
	if err != nil {
		return nil, 0, err
	}
	if len(all) > 0 {
		from = all[0].Seq
	}
	return visibleLogLines(g, seen, all), from, nil
}

// visibleLogLines keeps, in place, the lines about the job itself and about the devices in
// seen (the job's target devices the caller may see); staff and superusers keep all. It is
// the rule of every read of a job's log (JobLogs, JobLogTail).
func visibleLogLines(g *authz.Grants, seen map[int64]bool, lines []webnet.JobLogLine) []webnet.JobLogLine {
	out := lines[:0]
	for _, l := range lines {
		if l.DeviceID == nil || seen[*l.DeviceID] || g.Bypass() {
			out = append(out, l)
		}
	}
	return out
}
