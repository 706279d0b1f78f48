package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds webnet once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "webnet-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "webnet")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestWorkerKilledMidJob runs a real `webnet worker` process, kills it with SIGKILL while a
// job's target is running, and starts another: the job must end (not stay running) with the
// interrupted target failed for a stated reason and the others run.
func TestWorkerKilledMidJob(t *testing.T) {
	bin := buildBinary(t)
	for name, d := range map[string]store.Dialect{"sqlite": store.SQLite, "postgres": store.Postgres} {
		t.Run(name, func(t *testing.T) {
			sc := storetest.Config(t, d)
			dataDir := sc.DataDir
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			ctx := context.Background()
			db, err := openDB(ctx, Config{DataDir: dataDir, DatabaseURL: sc.URL}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var jobID int64
			var devices []int64
			err = db.InTx(ctx, func(tx *store.Tx) error {
				now := time.Now().UTC()
				c := &webnet.Customer{Name: "Acme", Slug: "acme", CreatedAt: now}
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
				for i := range 3 {
					dev := &webnet.Device{CustomerID: c.ID, Name: fmt.Sprintf("r%d", i), Address: "192.0.2.1", Port: 22,
						Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
					if err := tx.CreateDevice(ctx, dev); err != nil {
						return err
					}
					devices = append(devices, dev.ID)
				}
				j, err := service.QueuedJobs{}.CreateJob(ctx, tx, service.NewJob{CustomerID: c.ID, Kind: "noop",
					Params: map[string]any{"sleep_ms": 1500, "concurrency": 1}, DeviceIDs: devices})
				if err == nil {
					jobID = j.ID
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			worker := func() (*exec.Cmd, *bytes.Buffer) {
				var out bytes.Buffer
				cmd := exec.Command(bin, "worker", "--data-dir", dataDir, "--job-lease", "3s", "--log-format", "json")
				cmd.Env = append(os.Environ(), "WEBNET_DATABASE_URL="+sc.URL)
				cmd.Stderr = &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return cmd, &out
			}
			job := func() *webnet.Job {
				j, err := db.Read().JobByID(ctx, jobID)
				if err != nil {
					t.Fatal(err)
				}
				return j
			}
			waitJob := func(what string, cond func(*webnet.Job) bool) *webnet.Job {
				deadline := time.Now().Add(30 * time.Second)
				for {
					if j := job(); cond(j) {
						return j
					}
					if time.Now().After(deadline) {
						t.Fatalf("job never %s: %+v", what, job())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}

			first, firstLog := worker()
			waitJob("running its first target", func(j *webnet.Job) bool {
				return j.Status == webnet.JobRunning && j.Targets[0].Status == webnet.TargetRunning
			})
			if err := first.Process.Kill(); err != nil { // SIGKILL: no cleanup of any kind
				t.Fatal(err)
			}
			first.Wait()
			killed := job()
			if killed.Status != webnet.JobRunning || killed.Targets[0].Status != webnet.TargetRunning {
				t.Fatalf("after the kill the job should look stuck: %+v", killed)
			}
			worker()
			j := waitJob("finished", func(j *webnet.Job) bool { return webnet.JobFinished(j.Status) })
			if j.Status != webnet.JobPartial || j.Attempts != 2 || j.Worker == killed.Worker {
				t.Fatalf("job after the restart: %+v (first worker log: %s)", j, firstLog)
			}
			if tg := j.Targets[0]; tg.Status != webnet.TargetFailed || !strings.HasPrefix(tg.Message,
				"Interrupted: worker "+killed.Worker+" stopped while this target was running") {
				t.Fatalf("interrupted target: %+v", tg)
			}
			for _, tg := range j.Targets[1:] {
				if tg.Status != webnet.TargetSucceeded {
					t.Fatalf("the other targets must run after the restart: %+v", j.Targets)
				}
			}
			lines, err := db.Read().JobLogs(ctx, jobID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var takeover bool
			for _, l := range lines {
				takeover = takeover || strings.HasPrefix(l.Message, "Worker "+killed.Worker+" stopped renewing its lease on this job")
			}
			if !takeover {
				t.Fatalf("no log line says why the job was resumed: %+v", lines)
			}
		})
	}
}

// TestMain removes the binary buildBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// TestWebAndWorkerProcesses: on PostgreSQL, `serve --no-worker` takes a sync request and a
// separate `worker` process runs the job; the web process shows the worker's result (the
// device has no credential, so its target fails saying so).
func TestWebAndWorkerProcesses(t *testing.T) {
	sc := storetest.Config(t, store.Postgres)
	dataDir := t.TempDir()
	web, stderr := runMain(t, Config{DataDir: dataDir, DatabaseURL: sc.URL, Listen: "127.0.0.1:0",
		ShutdownTimeout: time.Second, NoWorker: true})
	base := "http://" + web.Addr()
	pw := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(stderr.String())
	if pw == nil {
		t.Fatalf("no bootstrap password: %q", stderr.String())
	}
	_, tok := postJSON(t, base+"/api/auth/token/", `{"username":"admin","password":"`+pw[1]+`"}`)
	auth := []string{"Authorization", "Token " + tok["token"].(string)}
	_, cust := postJSON(t, base+"/api/customers/", `{"name":"Acme","slug":"acme"}`, auth...)
	_, dev := postJSON(t, base+"/api/devices/", fmt.Sprintf(`{"customer":%v,"name":"r1","address":"192.0.2.1","platform":"cisco_iosxe"}`, cust["id"]), auth...)
	resp, body := postJSON(t, base+fmt.Sprintf("/api/devices/%v/sync/", dev["id"]), "", auth...)
	if resp.StatusCode != 202 {
		t.Fatalf("sync: %d %v", resp.StatusCode, body)
	}
	jobURL := fmt.Sprintf("%s/api/jobs/%v/", base, body["job"].(map[string]any)["id"])
	get := func() map[string]any {
		req, _ := http.NewRequest("GET", jobURL, nil)
		req.Header.Set(auth[0], auth[1])
		_, j := doJSON(t, http.DefaultClient, req)
		return j
	}
	time.Sleep(300 * time.Millisecond)
	if j := get(); j["status"] != "queued" {
		t.Fatalf("a web process without a worker ran the job: %v", j)
	}
	worker, _ := runMain(t, Config{DataDir: dataDir, DatabaseURL: sc.URL, WorkerOnly: true, JobLease: 5 * time.Second})
	deadline := time.Now().Add(15 * time.Second)
	for {
		j := get()
		if j["status"] == "failed" {
			tg := j["targets"].([]any)[0].(map[string]any)
			if tg["message"] != "the device has no credential: an admin must give it one before webnet can log in" || j["worker"] != worker.runner.Name() {
				t.Fatalf("job run by the worker process: %v", j)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker process never ran the job: %v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
