package store

import (
	"context"
	"fmt"

	"webnet/internal/webnet"
)

// CreateJob inserts a job and its targets and sets the job's ID.
func (tx *Tx) CreateJob(ctx context.Context, j *webnet.Job) error {
	params := string(j.Params)
	if params == "" {
		params = "{}"
	}
	err := tx.queryRow(ctx, `INSERT INTO jobs (customer_id, kind, status, requested_by, params, dry_run, progress_total, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		j.CustomerID, j.Kind, j.Status, j.RequestedBy, params, j.DryRun, len(j.Targets), j.CreatedAt).Scan(&j.ID)
	if err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	j.ProgressTotal = len(j.Targets)
	for _, t := range j.Targets {
		if _, err := tx.exec(ctx, `INSERT INTO job_targets (job_id, device_id, status, message) VALUES (?, ?, ?, ?)`,
			j.ID, t.DeviceID, t.Status, t.Message); err != nil {
			return fmt.Errorf("insert job target: %w", err)
		}
	}
	return nil
}

// CountJobs returns how many jobs a customer has (tests and the seam's callers).
func (q Q) CountJobs(ctx context.Context) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&n)
	return n, err
}
