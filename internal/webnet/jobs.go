package webnet

import (
	"encoding/json"
	"time"
)

// Job kinds.
const (
	JobSync       = "sync"
	JobReadiness  = "readiness"
	JobUpgrade    = "upgrade"
	JobConfigPush = "config_push"
	JobCompliance = "compliance"
)

// Job statuses (design.md §1).
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobPartial   = "partial"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Target statuses.
const (
	TargetPending   = "pending"
	TargetRunning   = "running"
	TargetSucceeded = "succeeded"
	TargetFailed    = "failed"
	TargetSkipped   = "skipped"
	TargetCancelled = "cancelled"
)

// Job is a unit of device work: one kind, run on one or more target devices.
type Job struct {
	ID            int64           `json:"id"`
	CustomerID    int64           `json:"customer"`
	Kind          string          `json:"kind"`
	Status        string          `json:"status"`
	RequestedBy   *int64          `json:"requested_by"`
	Params        json.RawMessage `json:"params"`
	DryRun        bool            `json:"dry_run"`
	ProgressDone  int             `json:"progress_done"`
	ProgressTotal int             `json:"progress_total"`
	CreatedAt     time.Time       `json:"created_at"`
	StartedAt     *time.Time      `json:"started_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
	Targets       []JobTarget     `json:"targets"`
}

// JobTarget is one device of a job and how it fared.
type JobTarget struct {
	DeviceID int64  `json:"device"`
	Status   string `json:"status"`
	Message  string `json:"message"`
}
