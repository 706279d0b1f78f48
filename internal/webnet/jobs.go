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
	// Worker names the worker that runs (or ran) the job.
	Worker string `json:"worker"`
	// Attempts counts the workers that claimed the job (more than one after a crash).
	Attempts int `json:"attempts"`
	// RetryOf is the job whose failed targets this job retries.
	RetryOf *int64 `json:"retry_of"`
	// ScheduleID is the schedule that created the job.
	ScheduleID *int64      `json:"schedule"`
	Targets    []JobTarget `json:"targets"`
}

// JobTarget is one device of a job and how it fared.
type JobTarget struct {
	DeviceID int64  `json:"device"`
	Status   string `json:"status"`
	Message  string `json:"message"`
	// Step and Steps are the target's progress through a kind's steps (an upgrade's nine):
	// at step Step of Steps; both 0 for kinds without steps.
	Step  int `json:"step"`
	Steps int `json:"steps"`
}

// jobTransitions is the job status machine of design.md §1.
var jobTransitions = map[string][]string{
	JobQueued:  {JobRunning, JobCancelled, JobFailed},
	JobRunning: {JobSucceeded, JobPartial, JobFailed, JobCancelled},
}

// JobTransitionAllowed reports whether a job may go from status from to status to. Finished
// statuses (succeeded, partial, failed, cancelled) are final.
func JobTransitionAllowed(from, to string) bool {
	for _, s := range jobTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// targetTransitions is the target status machine.
var targetTransitions = map[string][]string{
	TargetPending: {TargetRunning, TargetSkipped, TargetCancelled, TargetFailed},
	// A running target ends skipped when its kind finds nothing to do (jobs.Skipped).
	TargetRunning: {TargetSucceeded, TargetFailed, TargetSkipped, TargetCancelled},
}

// TargetTransitionAllowed reports whether a job target may go from status from to to.
func TargetTransitionAllowed(from, to string) bool {
	for _, s := range targetTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// JobFinished reports whether status is final.
func JobFinished(status string) bool {
	return status == JobSucceeded || status == JobPartial || status == JobFailed || status == JobCancelled
}

// JobLogLine is one line of a job's log; seq orders a job's lines without gaps.
type JobLogLine struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Level    string    `json:"level"`
	DeviceID *int64    `json:"device"`
	Message  string    `json:"message"`
}

// JobQuery holds the list filters of GET /api/jobs/.
type JobQuery struct {
	Status      string
	Kind        string
	DeviceID    *int64
	RequestedBy *int64
	CustomerID  *int64
	ScheduleID  *int64
	// FinishedAfter keeps the jobs that finished after this instant (the dashboard's
	// "failed in the last 24 h"); the API does not offer it yet.
	FinishedAfter *time.Time
}
