package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/authz"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// schedWorld is one customer with a device group of two devices, an ungrouped device, and
// users of each standing, over a real database with a manual clock.
type schedWorld struct {
	db       *store.DB
	core     *service.Core
	clock    *webnet.ManualClock
	customer int64
	group    int64   // "core": two devices
	empty    int64   // a device group with no devices
	devices  []int64 // core's devices
	loose    int64   // an ungrouped device
	users    map[string]*webnet.User
}

// schedStart is the tests' first clock reading: half a minute past a five-minute tick.
var schedStart = time.Date(2026, 11, 26, 9, 0, 30, 0, time.UTC)

// newSchedCore is the Core of one webnet process on db.
func newSchedCore(t *testing.T, db *store.DB, clock webnet.Clock) *service.Core {
	t.Helper()
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, Jobs: service.QueuedJobs{Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	return core
}

func newSchedWorld(t *testing.T, db *store.DB) *schedWorld {
	t.Helper()
	clock := webnet.NewManualClock(schedStart)
	w := &schedWorld{db: db, core: newSchedCore(t, db, clock), clock: clock, users: map[string]*webnet.User{}}
	now := clock.Now()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		c := &webnet.Customer{Name: "acme", Slug: "acme", CreatedAt: now}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		w.customer = c.ID
		for _, name := range []string{"core", "empty"} {
			g := &webnet.DeviceGroup{CustomerID: c.ID, Name: name, CreatedAt: now}
			if err := tx.CreateDeviceGroup(ctx, g); err != nil {
				return err
			}
			if name == "core" {
				w.group = g.ID
			} else {
				w.empty = g.ID
			}
		}
		for i, group := range []*int64{&w.group, &w.group, nil} {
			d := &webnet.Device{CustomerID: c.ID, DeviceGroupID: group, Name: fmt.Sprintf("r%d", i), Address: "192.0.2.1",
				Port: 22, Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
			if group == nil {
				w.loose = d.ID
			} else {
				w.devices = append(w.devices, d.ID)
			}
		}
		for name, role := range map[string]webnet.Role{"op": webnet.RoleOperator, "viewer": webnet.RoleViewer, "admin": webnet.RoleAdmin} {
			u := &webnet.User{Username: name, PasswordHash: "unusable", IsActive: true, CreatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: c.ID, Role: role, CreatedAt: now}); err != nil {
				return err
			}
			w.users[name] = u
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// as is a context acting as the named user.
func (w *schedWorld) as(name string) context.Context {
	return service.WithSubject(context.Background(), &service.Subject{User: w.users[name]})
}

// syncGroup creates, as the operator, a sync of the core group every five minutes.
func (w *schedWorld) syncGroup(t *testing.T, name string) *webnet.Schedule {
	t.Helper()
	s, err := w.core.CreateSchedule(w.as("op"), service.ScheduleInput{Customer: &w.customer, Name: &name,
		Kind: ptr(webnet.JobSync), Cron: ptr("*/5 * * * *"), DeviceGroup: service.OptionalID{Set: true, Value: &w.group}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs the due schedules and checks how many jobs that created.
func (w *schedWorld) run(t *testing.T, want int) {
	t.Helper()
	n, err := w.core.RunDueSchedules(context.Background())
	if err != nil || n != want {
		t.Fatalf("RunDueSchedules at %s: %d jobs, %v; want %d", w.clock.Now().Format(time.TimeOnly), n, err, want)
	}
}

// schedule reads a schedule back as the admin.
func (w *schedWorld) schedule(t *testing.T, id int64) *webnet.Schedule {
	t.Helper()
	s, err := w.core.GetSchedule(w.as("admin"), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runRecords returns the schedule.run audit records of a schedule, oldest first.
func (w *schedWorld) runRecords(t *testing.T, id int64) []store.Activity {
	t.Helper()
	recs, _, err := w.db.Read().ListActivity(context.Background(), store.ActivityFilter{
		Visibility: "a.action = 'schedule.run' AND a.object_id = ?", VisibilityArgs: []any{store.ActivityIDString(id)}}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs
}

func ptr[T any](v T) *T { return &v }

func at(hhmmss string) time.Time {
	t, err := time.Parse(time.DateOnly+" "+time.TimeOnly, "2026-11-26 "+hhmmss)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestScheduleFiresOncePerTick: a schedule fires at its tick, once, creating a job with the
// schedule's id and the owner as requester; a rename does not move a due tick; it fires
// again at the next tick; ticks missed while nothing scanned fire once, and the schedule
// moves on to its next future tick.
func TestScheduleFiresOncePerTick(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newSchedWorld(t, db)
		s := w.syncGroup(t, "nightly")
		if s.NextRunAt == nil || !s.NextRunAt.Equal(at("09:05:00")) || *s.OwnerID != w.users["op"].ID || !s.Enabled {
			t.Fatalf("created %+v; want next tick 09:05 owned by op", s)
		}
		w.run(t, 0) // 09:00:30: not yet
		w.clock.Advance(4*time.Minute + 30*time.Second)
		// Renamed when due: the due tick stays.
		if r, err := w.core.UpdateSchedule(w.as("op"), s.ID, service.ScheduleInput{Name: ptr("renamed")}); err != nil ||
			!r.NextRunAt.Equal(at("09:05:00")) {
			t.Fatalf("renamed when due: %+v, %v", r, err)
		}
		w.run(t, 1) // 09:05:00
		w.run(t, 0) // the same tick again
		got := w.schedule(t, s.ID)
		if got.LastJobID == nil || got.LastRunAt == nil || !got.LastRunAt.Equal(at("09:05:00")) || got.LastError != "" ||
			!got.NextRunAt.Equal(at("09:10:00")) {
			t.Fatalf("after the run: %+v", got)
		}
		job, err := w.core.GetJob(w.as("admin"), *got.LastJobID)
		if err != nil {
			t.Fatal(err)
		}
		if job.ScheduleID == nil || *job.ScheduleID != s.ID || job.RequestedBy == nil || *job.RequestedBy != w.users["op"].ID ||
			job.Kind != webnet.JobSync || job.Status != webnet.JobQueued || len(job.Targets) != 2 {
			t.Fatalf("job %+v", job)
		}
		if list, n, err := w.core.ListJobs(w.as("admin"), webnet.JobQuery{ScheduleID: &s.ID}, webnet.Page{Limit: 10}); err != nil ||
			n != 1 || list[0].ID != job.ID {
			t.Fatalf("jobs of the schedule: %d %+v %v", n, list, err)
		}
		recs := w.runRecords(t, s.ID)
		if len(recs) != 1 || recs[0].Result != "success" || recs[0].ActorID == nil || *recs[0].ActorID != w.users["op"].ID ||
			recs[0].CustomerID == nil || *recs[0].CustomerID != w.customer {
			t.Fatalf("audit %+v", recs)
		}

		w.clock.Advance(time.Minute)
		w.run(t, 0) // 09:06
		w.clock.Advance(4*time.Minute + 10*time.Second)
		w.run(t, 1) // 09:10:10, a scan late
		// Nothing scanned for an hour: one run, then the next tick after now.
		w.clock.Advance(time.Hour)
		w.run(t, 1)
		w.run(t, 0)
		if got := w.schedule(t, s.ID); !got.NextRunAt.Equal(at("10:15:00")) {
			t.Fatalf("next tick after the gap %s; want 10:15", got.NextRunAt)
		}
		if n, _ := db.Read().CountJobs(context.Background()); n != 3 {
			t.Fatalf("%d jobs; want 3", n)
		}
	})
}

// TestScheduleTimingInTimezoneAndEvery: expressions are read in the schedule's time zone;
// "@every" ticks keep their phase when a scan is late.
func TestScheduleTimingInTimezoneAndEvery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newSchedWorld(t, db)
		create := func(name, cron, tz string) *webnet.Schedule {
			s, err := w.core.CreateSchedule(w.as("op"), service.ScheduleInput{Customer: &w.customer, Name: &name,
				Kind: ptr(webnet.JobReadiness), Cron: &cron, Timezone: &tz, Devices: w.devices})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		paris := create("paris", "0 9 * * *", "Europe/Paris")
		if want := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC); !paris.NextRunAt.Equal(want) || paris.Timezone != "Europe/Paris" {
			t.Fatalf("09:00 Paris: next %s; want %s", paris.NextRunAt, want)
		}
		if string(paris.Params) != `{}` {
			t.Fatalf("params %s", paris.Params)
		}
		every := create("every", "@every 90m", "")
		if !every.NextRunAt.Equal(at("10:30:30")) || every.Timezone != "UTC" {
			t.Fatalf("@every 90m: next %s", every.NextRunAt)
		}
		w.clock.Advance(90*time.Minute + 7*time.Minute) // a scan 7 minutes late
		w.run(t, 1)
		if got := w.schedule(t, every.ID); !got.NextRunAt.Equal(at("12:00:30")) {
			t.Fatalf("@every after a late scan: next %s; want 12:00:30", got.NextRunAt)
		}
	})
}

// TestRevokedOwnerRunsNothing: each way of losing the right to run a schedule (a role
// without the permission, deactivation, leaving the customer) makes its next tick create no
// job, say why in last_error and leave a denied audit record as the owner; given back, the
// next tick runs again.
func TestRevokedOwnerRunsNothing(t *testing.T) {
	type revocation struct {
		name            string
		revoke, restore func(ctx context.Context, tx *store.Tx, w *schedWorld) error
		why             string
	}
	membership := func(ctx context.Context, tx *store.Tx, w *schedWorld) (*store.MembershipDetail, error) {
		ms, _, err := tx.ListMemberships(ctx, authz.All(), 0, store.MembershipFilter{UserID: &w.users["op"].ID}, webnet.Page{Limit: 10})
		if err != nil || len(ms) != 1 {
			return nil, fmt.Errorf("op's membership: %v (%d)", err, len(ms))
		}
		return &ms[0], nil
	}
	setRole := func(role webnet.Role) func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
		return func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
			m, err := membership(ctx, tx, w)
			if err != nil {
				return err
			}
			return tx.SetMembershipRole(ctx, m.ID, m.UserID, role)
		}
	}
	setActive := func(active bool) func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
		return func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
			return tx.SetUserFlags(ctx, w.users["op"].ID, active, false, false)
		}
	}
	for _, c := range []revocation{
		{"role without the permission", setRole(webnet.RoleViewer), setRole(webnet.RoleOperator),
			"Owner op no longer has permission to sync device inventory on 2 devices; nothing ran."},
		{"deactivated", setActive(false), setActive(true), "Owner op is deactivated; nothing ran."},
		{"membership removed", func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
			m, err := membership(ctx, tx, w)
			if err != nil {
				return err
			}
			return tx.DeleteMembership(ctx, &m.Membership)
		}, func(ctx context.Context, tx *store.Tx, w *schedWorld) error {
			return tx.CreateMembership(ctx, &webnet.Membership{UserID: w.users["op"].ID, CustomerID: w.customer,
				Role: webnet.RoleOperator, CreatedAt: w.clock.Now()})
		}, "Owner op is no longer a member of the schedule's customer; nothing ran."},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				w := newSchedWorld(t, db)
				s := w.syncGroup(t, "nightly")
				// Warm the grants cache of this process: a run must not trust it.
				if _, err := w.core.GetSchedule(w.as("op"), s.ID); err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				if err := db.InTx(ctx, func(tx *store.Tx) error { return c.revoke(ctx, tx, w) }); err != nil {
					t.Fatal(err)
				}
				w.clock.Advance(5 * time.Minute)
				w.run(t, 0)
				got := w.schedule(t, s.ID)
				if got.LastError != c.why || got.LastJobID != nil || got.LastRunAt != nil || !got.NextRunAt.Equal(at("09:10:00")) {
					t.Fatalf("after the refused tick: last_error %q, last_job %v, next %s; want %q", got.LastError, got.LastJobID, got.NextRunAt, c.why)
				}
				recs := w.runRecords(t, s.ID)
				if len(recs) != 1 || recs[0].Result != "denied" || recs[0].ActorID == nil || *recs[0].ActorID != w.users["op"].ID ||
					!strings.Contains(string(recs[0].Details), c.why) {
					b, _ := json.Marshal(recs)
					t.Fatalf("audit %s; want one denied record of op", b)
				}
				if n, _ := db.Read().CountJobs(ctx); n != 0 {
					t.Fatalf("%d jobs created", n)
				}
				w.run(t, 0) // the refused tick is taken: no retry
				if err := db.InTx(ctx, func(tx *store.Tx) error { return c.restore(ctx, tx, w) }); err != nil {
					t.Fatal(err)
				}
				w.clock.Advance(5 * time.Minute)
				w.run(t, 1)
				if got := w.schedule(t, s.ID); got.LastError != "" || got.LastJobID == nil {
					t.Fatalf("after the restored tick: %+v", got)
				}
			})
		})
	}
}

// TestDisabledScheduleNeverFires: a disabled schedule has no next tick and never runs; once
// enabled it waits for its next tick.
func TestDisabledScheduleNeverFires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newSchedWorld(t, db)
		s := w.syncGroup(t, "nightly")
		off, err := w.core.UpdateSchedule(w.as("admin"), s.ID, service.ScheduleInput{Enabled: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if off.NextRunAt != nil || off.Enabled || *off.OwnerID != w.users["op"].ID {
			t.Fatalf("disabled by the admin: %+v; want no next tick and op still the owner", off)
		}
		for range 12 {
			w.clock.Advance(5 * time.Minute)
			w.run(t, 0)
		}
		on, err := w.core.UpdateSchedule(w.as("op"), s.ID, service.ScheduleInput{Enabled: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !on.NextRunAt.Equal(at("10:05:00")) {
			t.Fatalf("enabled at %s: next %s", w.clock.Now(), on.NextRunAt)
		}
		w.run(t, 0)
		w.clock.Advance(5 * time.Minute)
		w.run(t, 1)
	})
}

// TestScheduleWithoutDevicesRunsNothing: an empty device group, or a device list whose
// devices are all gone, creates no job and says so.
func TestScheduleWithoutDevicesRunsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newSchedWorld(t, db)
		ctx := context.Background()
		empty, err := w.core.CreateSchedule(w.as("admin"), service.ScheduleInput{Customer: &w.customer, Name: ptr("empty"),
			Kind: ptr(webnet.JobSync), Cron: ptr("@hourly"), DeviceGroup: service.OptionalID{Set: true, Value: &w.empty}})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := w.core.CreateSchedule(w.as("admin"), service.ScheduleInput{Customer: &w.customer, Name: ptr("gone"),
			Kind: ptr(webnet.JobSync), Cron: ptr("@hourly"), Devices: []int64{w.loose}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DeleteDevices(ctx, []int64{w.loose}); return err }); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
		w.run(t, 0)
		for id, why := range map[int64]string{empty.ID: "The device group has no devices; nothing ran.",
			gone.ID: "None of the schedule's devices exist any more; nothing ran."} {
			if got := w.schedule(t, id); got.LastError != why {
				t.Errorf("schedule %d: last_error %q; want %q", id, got.LastError, why)
			}
			if recs := w.runRecords(t, id); len(recs) != 1 || recs[0].Result != "failure" {
				t.Errorf("schedule %d: audit %+v; want one failure record", id, recs)
			}
		}
	})
}

// TestScheduleRunsExactlyOnceAcrossProcesses: two webnet processes (two stores and Cores on
// one database) scan for due schedules concurrently, many times per tick, over several
// ticks: every schedule creates exactly one job per tick.
func TestScheduleRunsExactlyOnceAcrossProcesses(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, d)
			dbA := storetest.OpenProcess(t, cfg)
			w := newSchedWorld(t, dbA)
			coreB := newSchedCore(t, storetest.OpenProcess(t, cfg), w.clock)
			const schedules, ticks, scans = 4, 5, 8
			for i := range schedules {
				w.syncGroup(t, fmt.Sprintf("sync-%d", i))
			}
			total := 0
			for range ticks {
				w.clock.Advance(5 * time.Minute)
				var mu sync.Mutex
				created := 0
				var wg sync.WaitGroup
				for _, core := range []*service.Core{w.core, coreB} {
					for range 2 {
						wg.Go(func() {
							for range scans {
								n, err := core.RunDueSchedules(ctx)
								if err != nil {
									t.Errorf("RunDueSchedules: %v", err)
								}
								mu.Lock()
								created += n
								mu.Unlock()
							}
						})
					}
				}
				wg.Wait()
				if created != schedules {
					t.Fatalf("tick at %s: %d jobs created; want %d", w.clock.Now().Format(time.TimeOnly), created, schedules)
				}
				total += created
			}
			jobs, _, err := w.core.ListJobs(w.as("admin"), webnet.JobQuery{}, webnet.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			perSchedule := map[int64]int{}
			for _, j := range jobs {
				perSchedule[*j.ScheduleID]++
			}
			if len(jobs) != total || len(perSchedule) != schedules {
				t.Fatalf("%d jobs over %d schedules; want %d over %d", len(jobs), len(perSchedule), schedules*ticks, schedules)
			}
			for id, n := range perSchedule {
				if n != ticks {
					t.Errorf("schedule %d: %d jobs; want %d", id, n, ticks)
				}
				if recs := w.runRecords(t, id); len(recs) != ticks {
					t.Errorf("schedule %d: %d run records; want %d", id, len(recs), ticks)
				}
			}
		})
	}
}

// brokenJobs is a job service whose every job fails to be created.
type brokenJobs struct{}

func (brokenJobs) CreateJob(context.Context, *store.Tx, service.NewJob) (*webnet.Job, error) {
	return nil, fmt.Errorf("queue unavailable")
}

// TestScheduleJobFailureTakesTheTick: when creating the job fails, the tick is taken all the
// same and the failure recorded, so that the schedule does not retry at every scan.
func TestScheduleJobFailureTakesTheTick(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newSchedWorld(t, db)
		s := w.syncGroup(t, "nightly")
		access, err := service.NewAccess(db)
		if err != nil {
			t.Fatal(err)
		}
		broken, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: w.clock, Jobs: brokenJobs{}})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(5 * time.Minute)
		for range 2 {
			if n, err := broken.RunDueSchedules(context.Background()); n != 0 || err != nil {
				t.Fatalf("RunDueSchedules: %d, %v", n, err)
			}
		}
		got := w.schedule(t, s.ID)
		if want := "The job could not be created (Internal error.); nothing ran."; got.LastError != want || !got.NextRunAt.Equal(at("09:10:00")) {
			t.Fatalf("after the failed tick: last_error %q, next %s; want %q", got.LastError, got.NextRunAt, want)
		}
		if recs := w.runRecords(t, s.ID); len(recs) != 1 || recs[0].Result != "failure" {
			t.Fatalf("audit %+v; want one failure record", recs)
		}
		if n, _ := db.Read().CountJobs(context.Background()); n != 0 {
			t.Fatalf("%d jobs", n)
		}
	})
}
