package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// Live updates (the service's Feed) read here what a notification said had changed: a job
// with its targets' devices, and which devices changed and where they were.

// TopicDevice is the notification topic of device changes. The payload lists the changed
// devices with where each was before and after the change (DeviceChange), so that a listener
// can tell who could see a device even after it is gone.
const TopicDevice = "device"

// NoDevice stands for "no device" in DeviceChange.Before (the change created it) and After
// (the change deleted it).
const NoDevice int64 = -1

// DeviceChange is one device in a TopicDevice notification.
type DeviceChange struct {
	ID         int64
	CustomerID int64
	// Before and After are the device's group before and after the change: 0 for ungrouped,
	// NoDevice when the device did not exist yet or does not exist any more.
	Before, After int64
}

// maxDevicePayload keeps each device notification well under Notify's limit.
const maxDevicePayload = 6000

// notifyDevices queues the TopicDevice notifications of changes: entries "id:customer:
// before:after" joined by commas, as many notifications as the payload limit needs.
func (tx *Tx) notifyDevices(ctx context.Context, changes []DeviceChange) error {
	var b strings.Builder
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := tx.Announce(TopicDevice, b.String())
		b.Reset()
		return err
	}
	for _, c := range changes {
		entry := fmt.Sprintf("%d:%d:%d:%d", c.ID, c.CustomerID, c.Before, c.After)
		if b.Len()+1+len(entry) > maxDevicePayload {
			if err := flush(); err != nil {
				return err
			}
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(entry)
	}
	return flush()
}

// ParseDeviceChanges reads the payload of a TopicDevice notification.
func ParseDeviceChanges(payload string) ([]DeviceChange, error) {
	var out []DeviceChange
	for entry := range strings.SplitSeq(payload, ",") {
		f := strings.Split(entry, ":")
		if len(f) != 4 {
			return nil, fmt.Errorf("device change %q: want id:customer:before:after", entry)
		}
		var n [4]int64
		for i, s := range f {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("device change %q: %w", entry, err)
			}
			n[i] = v
		}
		out = append(out, DeviceChange{ID: n[0], CustomerID: n[1], Before: n[2], After: n[3]})
	}
	return out, nil
}

// LiveTarget is a job target with where its device is, for deciding who may see it, and the
// revision of its last change.
type LiveTarget struct {
	webnet.JobTarget
	Device authz.Target
	Rev    int64
}

// LiveJob is a job as live updates need it: the job (without Targets), the seq of its newest
// log line and the revision of its targets' last change.
type LiveJob struct {
	Job        webnet.Job
	LogSeq     int64
	TargetsRev int64
}

// extraScanner lets scanJob read a row that carries further columns after the job's.
type extraScanner struct {
	s     scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// LiveJob returns a job, its newest log seq and its targets' revision (without its targets:
// LiveTargets reads those).
func (q Q) LiveJob(ctx context.Context, id int64) (*LiveJob, error) {
	var lj LiveJob
	row := q.queryRow(ctx, `SELECT `+jobColumns+`, j.log_seq, j.targets_rev FROM jobs j WHERE j.id = ?`, id)
	if err := scanJob(extraScanner{s: row, extra: []any{&lj.LogSeq, &lj.TargetsRev}}, &lj.Job); err != nil {
		return nil, notFound(err, "Job")
	}
	return &lj, nil
}

// LiveTargets returns a job's targets changed after revision after (all of them when after
// is negative), in device order, with their devices' places. Revisions commit in order
// (nextTargetsRev), so the newest revision returned covers every change before it.
func (q Q) LiveTargets(ctx context.Context, jobID, after int64) ([]LiveTarget, error) {
	// Targets' devices always exist: deleting a device deletes its targets.
	var out []LiveTarget
	err := q.eachRow(ctx, "live job targets", `SELECT t.device_id, t.status, t.message, t.step, t.steps, t.rev, d.customer_id, d.device_group_id
		FROM job_targets t JOIN devices d ON d.id = t.device_id WHERE t.job_id = ? AND t.rev > ? ORDER BY t.device_id`, []any{jobID, after},
		func(rows *sql.Rows) error {
			var t LiveTarget
			p := placeOf(&t.Device)
			if err := rows.Scan(&t.DeviceID, &t.Status, &t.Message, &t.Step, &t.Steps, &t.Rev, &p.customer, &p.group); err != nil {
				return err
			}
			p.set()
			out = append(out, t)
			return nil
		})
	return out, err
}

// JobPlaces returns the distinct places (customer, group) of a job's target devices.
func (q Q) JobPlaces(ctx context.Context, jobID int64) ([]authz.Target, error) {
	var out []authz.Target
	err := q.eachRow(ctx, "job places", `SELECT DISTINCT d.customer_id, d.device_group_id
		FROM job_targets t JOIN devices d ON d.id = t.device_id WHERE t.job_id = ?`, []any{jobID},
		func(rows *sql.Rows) error {
			var t authz.Target
			p := placeOf(&t)
			if err := rows.Scan(&p.customer, &p.group); err != nil {
				return err
			}
			p.set()
			out = append(out, t)
			return nil
		})
	return out, err
}

// JobTargetPlaces returns the places of those of deviceIDs that are targets of job jobID.
func (q Q) JobTargetPlaces(ctx context.Context, jobID int64, deviceIDs []int64) (map[int64]authz.Target, error) {
	out := map[int64]authz.Target{}
	for rest := deviceIDs; len(rest) > 0; {
		n := batchSize(len(rest))
		err := q.eachRow(ctx, "job target places", `SELECT d.id, d.customer_id, d.device_group_id FROM job_targets t
			JOIN devices d ON d.id = t.device_id WHERE t.job_id = ? AND t.device_id IN (`+placeholders(n)+`)`,
			append([]any{jobID}, int64Args(rest[:n])...), func(rows *sql.Rows) error {
				var id int64
				var t authz.Target
				p := placeOf(&t)
				if err := rows.Scan(&id, &p.customer, &p.group); err != nil {
					return err
				}
				p.set()
				out[id] = t
				return nil
			})
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// placeScan reads a device's place from its customer_id and (nullable) device_group_id
// columns into t.
type placeScan struct {
	t        *authz.Target
	customer int64
	group    sql.NullInt64
}

func placeOf(t *authz.Target) *placeScan { return &placeScan{t: t} }

// set writes the scanned place into its target (0: ungrouped).
func (p *placeScan) set() { p.t.CustomerID, p.t.DeviceGroupID = p.customer, p.group.Int64 }
