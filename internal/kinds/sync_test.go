package kinds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/device"
	"webnet/internal/devsim"
	"webnet/internal/jobs"
	"webnet/internal/kinds"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// lab is a simulated fleet imported into a real database, with a worker running the device
// kinds over real SSH.
type lab struct {
	db       *store.DB
	core     *service.Core
	fleet    *devsim.Fleet
	sys      context.Context
	cust     int64
	ids      map[string]int64 // device name → id
	password string
	logs     *lockedBuffer // the worker's own log
}

// lockedBuffer is a bytes.Buffer safe for the worker's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLab(t testing.TB, db *store.DB, n int) *lab {
	t.Helper()
	return newLabWith(t, db, labConfig{Devices: n})
}

// labConfig shapes a lab: Devices devices of Platforms (default: IOS-XE, EOS and Junos in
// turn) that take ReloadTime (default 1 s) to reload.
type labConfig struct {
	Devices    int
	Platforms  []string
	ReloadTime time.Duration
}

func newLabWith(t testing.TB, db *store.DB, lc labConfig) *lab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if lc.ReloadTime <= 0 {
		lc.ReloadTime = time.Second
	}
	if lc.Platforms == nil {
		lc.Platforms = []string{"cisco_iosxe", "arista_eos", "juniper_junos"}
	}
	const password = "sim-Pa55word-7f3e"
	fleet, err := devsim.Start(ctx, devsim.Config{Count: lc.Devices, Seed: 7, Password: password, ReloadTime: lc.ReloadTime,
		Platforms: lc.Platforms})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	keyring, err := secret.LoadKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	// webnet's HTTP side, for the signed firmware URLs devices fetch images from.
	web := httptest.NewUnstartedServer(nil)
	web.Start()
	t.Cleanup(web.Close)
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: webnet.SystemClock{}, Keyring: keyring,
		Jobs: service.QueuedJobs{}, DataDir: t.TempDir(), PublicURL: web.URL})
	if err != nil {
		t.Fatal(err)
	}
	web.Config.Handler = firmwareHandler(t, db, core)
	l := &lab{db: db, core: core, fleet: fleet, sys: service.WithSubject(ctx, service.System()), ids: map[string]int64{}, password: password}
	c, err := core.CreateCustomer(l.sys, service.CustomerInput{Name: "Acme", Slug: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	l.cust = c.ID
	var pw service.SecretField
	json.Unmarshal([]byte(fmt.Sprintf("%q", password)), &pw)
	cred, err := core.CreateCredential(l.sys, service.CredentialInput{Customer: &l.cust, Name: "devsim", Username: "admin", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	var rows []service.ImportRow
	for _, d := range fleet.Devices() {
		port := d.Port
		rows = append(rows, service.ImportRow{Name: d.Name, Address: d.Address, Port: &port, Platform: d.Platform, Credential: cred.Name})
	}
	res, err := core.ImportDevices(l.sys, service.ImportRequest{Customer: l.cust, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range res.Devices {
		l.ids[rows[i].Name] = id
	}
	q, err := service.NewJobQueue(service.JobQueueConfig{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	l.logs = &lockedBuffer{}
	r, err := jobs.New(jobs.Config{Queue: q, Poll: 50 * time.Millisecond, FlushEvery: 20 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(l.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Kinds:  allKinds(kinds.Config{Core: core, Device: device.Options{ConnectTimeout: 3 * time.Second, CommandTimeout: 5 * time.Second}})})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// allKinds are the device kinds the lab's worker runs.
func allKinds(cfg kinds.Config) []jobs.Kind {
	return []jobs.Kind{kinds.Sync(cfg), kinds.ConfigPush(cfg), kinds.Compliance(cfg), kinds.Readiness(cfg),
		kinds.Upgrade(cfg, kinds.UpgradeConfig{ReloadPoll: 100 * time.Millisecond, ReloadPollMax: 500 * time.Millisecond, ReloadTimeout: 10 * time.Second})}
}

// sync runs a sync job on the named devices and returns it finished.
func (l *lab) sync(t testing.TB, names ...string) *webnet.Job {
	t.Helper()
	return l.run(t, webnet.JobSync, nil, false, names...)
}

// run runs a job of kind on the named devices, as the system, and returns it finished.
func (l *lab) run(t testing.TB, kind string, params map[string]any, dryRun bool, names ...string) *webnet.Job {
	t.Helper()
	return l.wait(t, l.create(t, kind, params, dryRun, names...), max(30*time.Second, time.Duration(len(names))*50*time.Millisecond))
}

// runWithin is run with its own time limit and no dry run.
func (l *lab) runWithin(t testing.TB, kind string, params map[string]any, limit time.Duration, names ...string) *webnet.Job {
	t.Helper()
	return l.wait(t, l.create(t, kind, params, false, names...), limit)
}

// create queues a job of kind on the named devices as the system and returns its id.
func (l *lab) create(t testing.TB, kind string, params map[string]any, dryRun bool, names ...string) int64 {
	t.Helper()
	var ids []int64
	for _, n := range names {
		ids = append(ids, l.ids[n])
	}
	var id int64
	err := l.db.InTx(l.sys, func(tx *store.Tx) error {
		j, err := service.QueuedJobs{}.CreateJob(l.sys, tx, service.NewJob{CustomerID: l.cust, Kind: kind, DeviceIDs: ids,
			Params: params, DryRun: dryRun})
		if err == nil {
			id = j.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (l *lab) wait(t testing.TB, id int64, limit time.Duration) *webnet.Job {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		// The job's row alone: reading its targets every 20 ms would cost a fleet-sized job
		// most of a core, taken from the sync being measured.
		lj, err := l.db.Read().LiveJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j := &lj.Job; webnet.JobFinished(j.Status) {
			if j, err = l.db.Read().JobByID(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			return j
		}
		j := &lj.Job
		if time.Now().After(deadline) {
			t.Fatalf("job %d not finished after %s: %s, %d of %d targets done", id, limit, j.Status, j.ProgressDone, j.ProgressTotal)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *lab) names() []string {
	var out []string
	for _, d := range l.fleet.Devices() {
		out = append(out, d.Name)
	}
	return out
}

func target(j *webnet.Job, id int64) webnet.JobTarget {
	for _, t := range j.Targets {
		if t.DeviceID == id {
			return t
		}
	}
	return webnet.JobTarget{}
}

func TestSyncOverSSH(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := newLab(t, db, 3) // one device of each platform
		names := l.names()
		j := l.sync(t, names...)
		if j.Status != webnet.JobSucceeded {
			t.Fatalf("first sync: %+v", j)
		}
		for _, info := range l.fleet.Devices() {
			id := l.ids[info.Name]
			d, err := db.Read().DeviceByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Model != info.Model || d.Serial != info.Serial || d.OSVersion != info.Version || d.Uptime == "" || d.LastSyncAt == nil {
				t.Errorf("%s facts: %+v; device says %+v", info.Name, d, info)
			}
			backups, n, err := db.Read().ListBackups(context.Background(), id, webnet.Page{Limit: 10})
			if err != nil || n != 1 || backups[0].Size < 5000 {
				t.Fatalf("%s backups: %d %+v %v", info.Name, n, backups, err)
			}
			if k, _ := l.core.DeviceHostKey(l.sys, id); k != strings.TrimSpace(info.HostKey) {
				t.Errorf("%s host key trusted on first use: %q, device has %q", info.Name, k, info.HostKey)
			}
		}
		// A second sync reads configurations that differ only by noise: no new versions.
		if j := l.sync(t, names...); j.Status != webnet.JobSucceeded {
			t.Fatalf("second sync: %+v", j)
		}
		for _, n := range names {
			if list, count, _ := db.Read().ListBackups(context.Background(), l.ids[n], webnet.Page{Limit: 10}); count != 1 {
				d, _ := l.core.DiffBackups(l.sys, list[0].ID, nil)
				t.Errorf("%s: noise made a new version (%d):\n%s", n, count, d.Diff)
			}
		}
		// A real change makes a version whose diff shows exactly it.
		dev := l.fleet.Device(names[0])
		if err := dev.ChangeConfig("hostname changed-by-test"); err != nil {
			t.Fatal(err)
		}
		l.sync(t, names[0])
		list, count, _ := db.Read().ListBackups(context.Background(), l.ids[names[0]], webnet.Page{Limit: 10})
		if count != 2 {
			t.Fatalf("a real change made %d versions", count)
		}
		diff, err := l.core.DiffBackups(l.sys, list[0].ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(diff.Diff, "+hostname changed-by-test") || strings.Count(diff.Diff, "\n+") > 3 {
			t.Fatalf("diff of the change:\n%s", diff.Diff)
		}
	})
}

// TestSyncFaults: each fault fails its own target with a clear message; the others succeed.
func TestSyncFaults(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 8)
	names := l.names()
	faults := map[string]devsim.Faults{
		names[0]: {RejectAuth: true},
		names[1]: {DisconnectOn: "show running-config", DisconnectAfter: 200},
		names[2]: {Unresponsive: true},
		names[3]: {HangOn: "show version"},
		names[4]: {Latency: 100 * time.Millisecond}, // slow, but within the timeouts: succeeds
	}
	for n, f := range faults {
		l.fleet.Device(n).SetFaults(f)
	}
	j := l.sync(t, names...)
	if j.Status != webnet.JobPartial {
		t.Fatalf("job: %+v", j)
	}
	want := map[string]string{names[0]: "authentication failed", names[1]: "read the configuration", names[2]: "timed out",
		names[3]: "read facts: timed out"}
	for n, msg := range want {
		if tg := target(j, l.ids[n]); tg.Status != webnet.TargetFailed || !strings.Contains(tg.Message, msg) {
			t.Errorf("%s: %+v; want failed with %q", n, tg, msg)
		}
	}
	for _, n := range names[4:] {
		if tg := target(j, l.ids[n]); tg.Status != webnet.TargetSucceeded {
			t.Errorf("%s: %+v", n, tg)
		}
	}
	// No credential plaintext anywhere: the worker's log, the job log, messages, the database
	// files.
	// The worker logs the job's end just after committing it, so maybe after l.sync saw it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(l.logs.String(), `"job finished"`) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if logs := l.logs.String(); !strings.Contains(logs, `"job finished"`) || strings.Contains(logs, l.password) {
		t.Fatalf("the worker's log is empty or holds the password: %d bytes", len(logs))
	}
	lines, _ := l.db.Read().JobLogs(context.Background(), j.ID, 0, 10000)
	for _, ln := range lines {
		if strings.Contains(ln.Message, l.password) {
			t.Fatalf("password in a job log line: %q", ln.Message)
		}
	}
	for _, tg := range j.Targets {
		if strings.Contains(tg.Message, l.password) {
			t.Fatalf("password in a target message")
		}
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(l.dbPath(t)), "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), l.password) {
			t.Fatalf("password in %s", f)
		}
	}
}

func (l *lab) dbPath(t *testing.T) string {
	t.Helper()
	var path string
	if err := l.db.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChangedHostKeyFailsTheTarget until an admin clears it.
func TestChangedHostKeyFailsTheTarget(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 1)
	name := l.names()[0]
	if j := l.sync(t, name); j.Status != webnet.JobSucceeded {
		t.Fatalf("first sync: %+v", j)
	}
	l.fleet.Device(name).ChangeHostKey()
	j := l.sync(t, name)
	if tg := j.Targets[0]; j.Status != webnet.JobFailed || !strings.Contains(tg.Message, "not the SHA256:") ||
		!strings.Contains(tg.Message, "an admin must clear the device's host key") {
		t.Fatalf("changed key: %+v", j)
	}
}

// TestCancelStopsAHungTarget within 2 s.
func TestCancelStopsAHungTarget(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 2)
	names := l.names()
	l.fleet.Device(names[0]).SetFaults(devsim.Faults{HangOn: "show running-config"})
	var id int64
	l.db.InTx(l.sys, func(tx *store.Tx) error {
		j, err := service.QueuedJobs{}.CreateJob(l.sys, tx, service.NewJob{CustomerID: l.cust, Kind: webnet.JobSync,
			DeviceIDs: []int64{l.ids[names[0]], l.ids[names[1]]}})
		id = j.ID
		return err
	})
	// Wait until the healthy device is done and the hung one is running.
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, _ := l.db.Read().JobByID(context.Background(), id)
		if target(j, l.ids[names[1]]).Status == webnet.TargetSucceeded && target(j, l.ids[names[0]]).Status == webnet.TargetRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job never reached the hang: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // well inside the hung command
	start := time.Now()
	err := l.db.InTx(l.sys, func(tx *store.Tx) error {
		if err := tx.SetJobStatus(l.sys, id, webnet.JobRunning, webnet.JobCancelled, time.Now()); err != nil {
			return err
		}
		if err := tx.CancelPendingTargets(l.sys, id); err != nil {
			return err
		}
		return tx.NotifyCancelled(l.sys, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	for l.fleet.Device(names[0]).Sessions() > 0 {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the hung session is still open %s after the cancel", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("hung target stopped %s after the cancel", time.Since(start))
}
