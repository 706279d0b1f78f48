package webnet

import (
	"encoding/json"
	"time"
)

// Schedule runs a job of one kind on a cron schedule, against a device group (its devices at
// each run) or a list of devices, as its owner: the owner's permissions are checked again at
// every run, and a schedule whose owner may no longer do the work runs nothing and says why in
// LastError.
type Schedule struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	// Cron is a standard five-field cron expression or a descriptor (@hourly, @daily,
	// @every 1h…), read in Timezone (an IANA name, "UTC" by default).
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Exactly one of DeviceGroupID and DeviceIDs is the target; DeviceIDs is empty, never
	// nil, for a group target.
	DeviceGroupID *int64          `json:"device_group"`
	DeviceIDs     []int64         `json:"devices"`
	Params        json.RawMessage `json:"params"`
	DryRun        bool            `json:"dry_run"`
	Enabled       bool            `json:"enabled"`
	// OwnerID is the user the schedule runs as: whoever created it or last changed what it
	// does. Nil only if that user was deleted.
	OwnerID *int64 `json:"owner"`
	// NextRunAt is the next tick; nil while the schedule is disabled.
	NextRunAt *time.Time `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
	LastJobID *int64     `json:"last_job"`
	// LastError says why the last tick ran nothing, or is empty when it ran.
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ScheduleQuery holds the list filters of GET /api/schedules/.
type ScheduleQuery struct {
	CustomerID    *int64
	OwnerID       *int64
	DeviceGroupID *int64
	Kind          string
	Enabled       *bool
}
