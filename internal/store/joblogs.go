package store

import (
	"context"
	"math"
	"slices"

	"webnet/internal/webnet"
)

// JobLogsBefore returns up to limit lines of a job with seq below before — the newest of
// them, read backwards on the (job_id, seq) key — in ascending order; before ≤ 0 reads from
// the end of the log. Callers authorize (and filter the lines).
func (q Q) JobLogsBefore(ctx context.Context, jobID, before int64, limit int) ([]webnet.JobLogLine, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	out, err := q.jobLogLines(ctx, "job logs before", `SELECT seq, at, level, device_id, message FROM job_logs
		WHERE job_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, jobID, before, limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}
