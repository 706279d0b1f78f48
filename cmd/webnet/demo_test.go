package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// demoRun is a `webnet demo` running in process.
type demoRun struct {
	base   string // http://host:port
	stderr *lockedBuffer
	stop   func() error // cancels the command's context and returns what it returned
}

// startDemo runs `webnet demo args…` with env as its environment until it has printed its
// banner, and stops it when the test ends.
func startDemo(t *testing.T, env map[string]string, args ...string) *demoRun {
	t.Helper()
	var stdout, stderr lockedBuffer
	c := cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.demo(ctx, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json", "--shutdown-timeout", "2s"}, args...))
	}()
	r := &demoRun{stderr: &stderr}
	stopped := false
	var result error
	r.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("webnet demo did not stop within 30s of its context ending")
			}
		}
		return result
	}
	t.Cleanup(func() { r.stop() })
	banner := regexp.MustCompile(`webnet demo: (http://\S+)/\n`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := banner.FindStringSubmatch(stderr.String()); m != nil {
			r.base = m[1]
			break
		}
		select {
		case err := <-done:
			stopped, result = true, err
			t.Fatalf("webnet demo ended before its banner: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 60s:\n%s", stderr.String())
		}
	}
	waitReady(t, r.base, 10*time.Second)
	return r
}

// password is the password the banner prints for username.
func (r *demoRun) password(t *testing.T, username string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(username) + `\s+(\S+)\s`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Fatalf("the banner names no password for %s:\n%s", username, r.stderr.String())
	}
	return m[1]
}

// token signs username in through the API with the printed password.
func (r *demoRun) token(t *testing.T, username string) string {
	t.Helper()
	resp, body := postJSON(t, r.base+"/api/auth/token/", fmt.Sprintf(`{"username":%q,"password":%q}`, username, r.password(t, username)))
	if resp.StatusCode != 200 {
		t.Fatalf("sign in as %s: %d %v", username, resp.StatusCode, body)
	}
	return body["token"].(string)
}

// get is GET path with a token; it returns the status and the decoded body.
func (r *demoRun) get(t *testing.T, token, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", r.base+path, nil)
	req.Header.Set("Authorization", "Token "+token)
	resp, body := doJSON(t, http.DefaultClient, req)
	return resp.StatusCode, body
}

// list is GET path (a list) with a token: its results and count.
func (r *demoRun) list(t *testing.T, token, path string) ([]map[string]any, int) {
	t.Helper()
	status, body := r.get(t, token, path)
	if status != 200 {
		t.Fatalf("GET %s: %d %v", path, status, body)
	}
	var out []map[string]any
	for _, v := range body["results"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out, int(body["count"].(float64))
}

// freePortRange returns the first of n consecutive TCP ports of 127.0.0.1 that are free now,
// below the ephemeral range so that no other test's connection takes one in the meantime.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(12000-n)
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if len(lns) == n {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// TestDemo is the README's first command: a fleet with a faulty device, the demo's data, a
// first sync that fills the healthy devices' facts and backups, tenants kept apart, and a
// clean stop; on both backends.
func TestDemo(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			sc := storetest.Config(t, d)
			dataDir := t.TempDir()
			r := startDemo(t, map[string]string{"WEBNET_DATABASE_URL": sc.URL}, "--data-dir", dataDir, "--count", "6",
				"--faults", "auth:1", "--sim-base-port", strconv.Itoa(freePortRange(t, 6)))
			if !strings.Contains(r.stderr.String(), "SIMULATED") || strings.Contains(r.stderr.String(), "one-time password") {
				t.Errorf("banner:\n%s", r.stderr.String())
			}
			admin := r.token(t, "admin")
			jobs := waitDemoJobs(t, r, admin)

			// Exactly the faulty device failed; every other one has its facts and a backup.
			devices, n := r.list(t, admin, "/api/devices/?limit=100")
			if n != 6 {
				t.Fatalf("%d devices, want 6", n)
			}
			failed := 0
			for _, j := range jobs {
				_, detail := r.get(t, admin, fmt.Sprintf("/api/jobs/%d/", int(j["id"].(float64))))
				for _, tg := range detail["targets"].([]any) {
					tg := tg.(map[string]any)
					if tg["status"] == "failed" {
						failed++
						if !strings.Contains(tg["message"].(string), "authentication failed") {
							t.Errorf("failed target: %v", tg)
						}
					}
				}
			}
			if failed != 1 {
				t.Fatalf("%d failed targets, want the one faulty device", failed)
			}
			synced := 0
			for _, dev := range devices {
				if dev["model"] == "" {
					continue
				}
				synced++
				if dev["os_version"] == "" || dev["last_sync_at"] == nil {
					t.Errorf("device facts: %v", dev)
				}
				if _, n := r.list(t, admin, fmt.Sprintf("/api/devices/%d/backups/", int(dev["id"].(float64)))); n != 1 {
					t.Errorf("%s has %d backups, want 1", dev["name"], n)
				}
			}
			if synced != 5 {
				t.Fatalf("%d devices have facts, want 5", synced)
			}
			// A golden image per platform, for the upgrade wizard; an acme operator sees them.
			images, n := r.list(t, r.token(t, "acme-operator"), "/api/firmware-images/?golden=true")
			if n != 3 {
				t.Fatalf("%d golden images, want one per platform: %v", n, images)
			}

			// Tenants and roles: 6 devices over core, edge, lab (acme) and dc (globex) are 1, 2, 1, 2.
			acme, globex := demoCustomerIDs(t, r, admin)
			acmeAdmin := r.token(t, "acme-admin")
			if _, n := r.list(t, acmeAdmin, "/api/devices/"); n != 4 {
				t.Errorf("acme-admin sees %d devices, want Acme's 4", n)
			}
			if _, n := r.list(t, acmeAdmin, "/api/schedules/"); n != 1 {
				t.Errorf("acme-admin sees %d schedules, want the nightly sync", n)
			}
			viewer := r.token(t, "acme-viewer")
			seen, _ := r.list(t, viewer, "/api/devices/")
			for _, dev := range seen {
				if int64(dev["customer"].(float64)) != acme {
					t.Errorf("acme-viewer sees %v", dev)
				}
			}
			if len(seen) != 4 {
				t.Errorf("acme-viewer sees %d devices, want 4", len(seen))
			}
			for _, dev := range devices {
				if int64(dev["customer"].(float64)) != globex {
					continue
				}
				if status, _ := r.get(t, viewer, fmt.Sprintf("/api/devices/%d/", int(dev["id"].(float64)))); status != 404 {
					t.Errorf("acme-viewer reads Globex's device %s: %d, want 404", dev["name"], status)
				}
			}
			if _, n := r.list(t, r.token(t, "acme-member"), "/api/devices/"); n != 1 {
				t.Errorf("acme-member sees %d devices, want lab's 1", n)
			}
			if _, n := r.list(t, r.token(t, "globex-admin"), "/api/devices/"); n != 2 {
				t.Errorf("globex-admin sees %d devices, want Globex's 2", n)
			}

			if err := r.stop(); err != nil {
				t.Fatalf("demo stopped with %v", err)
			}
		})
	}
}

// waitDemoJobs waits until the first sync's jobs have finished, and returns them.
func waitDemoJobs(t *testing.T, r *demoRun, token string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		jobs, n := r.list(t, token, "/api/jobs/")
		finished := 0
		for _, j := range jobs {
			if webnet.JobFinished(j["status"].(string)) {
				finished++
			}
		}
		if n == 2 && finished == 2 {
			return jobs
		}
		if time.Now().After(deadline) {
			t.Fatalf("first sync not finished after 60s: %v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// demoCustomerIDs are the ids of Acme and Globex.
func demoCustomerIDs(t *testing.T, r *demoRun, token string) (acme, globex int64) {
	t.Helper()
	customers, _ := r.list(t, token, "/api/customers/")
	for _, c := range customers {
		switch c["slug"] {
		case "acme":
			acme = int64(c["id"].(float64))
		case "globex":
			globex = int64(c["id"].(float64))
		}
	}
	if acme == 0 || globex == 0 {
		t.Fatalf("customers: %v", customers)
	}
	return acme, globex
}

// TestDemoRunsAgain: a second run on the same data dir reuses its data, whatever the flags
// left out, and makes nothing twice; flags that contradict the data are refused; --reset
// starts over.
func TestDemoRunsAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	port := strconv.Itoa(freePortRange(t, 4))
	first := startDemo(t, nil, "--data-dir", dir, "--count", "4", "--faults", "", "--sim-base-port", port)
	counts := func(r *demoRun) map[string]int {
		admin := r.token(t, "admin")
		waitDemoJobs(t, r, admin)
		out := map[string]int{}
		for _, path := range []string{"customers", "users", "devices", "device-groups", "device-group-roles",
			"user-device-group-roles", "credentials", "schedules", "jobs"} {
			_, out[path] = r.list(t, admin, "/api/"+path+"/")
		}
		return out
	}
	before := counts(first)
	want := map[string]int{"customers": 2, "users": 6, "devices": 4, "device-groups": 4, "device-group-roles": 1,
		"user-device-group-roles": 1, "credentials": 2, "schedules": 1, "jobs": 2}
	for k, n := range want {
		if before[k] != n {
			t.Errorf("%s: %d, want %d", k, before[k], n)
		}
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	// No --count, --sim-base-port or --faults: the fleet of the data is started again.
	second := startDemo(t, nil, "--data-dir", dir)
	if !strings.Contains(second.stderr.String(), "Reusing the demo data") {
		t.Errorf("second banner:\n%s", second.stderr.String())
	}
	if after := counts(second); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("second run: %v, first: %v", after, before)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCLI(t, "", nil, "demo", "--data-dir", dir, "--count", "5", "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "--count 4") || !strings.Contains(errOut, "--reset") {
		t.Errorf("contradicting --count: %d %q", code, errOut)
	}

	third := startDemo(t, nil, "--data-dir", dir, "--reset", "--count", "5", "--faults", "",
		"--sim-base-port", strconv.Itoa(freePortRange(t, 5)))
	if _, n := third.list(t, third.token(t, "admin"), "/api/devices/"); n != 5 || !strings.Contains(third.stderr.String(), "First sync") {
		t.Errorf("after --reset: %d devices\n%s", n, third.stderr.String())
	}
}

// TestDemoRefusesOtherData: the demo never puts its published passwords into a database it
// did not make, never writes into a directory holding anything but webnet's files, and
// --reset deletes neither.
func TestDemoRefusesOtherData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		code  int
		why   string
		kept  string // a file that must survive
	}{
		{"someone's database", makeSomeonesDatabase, 1, "did not make", "webnet.db"},
		{"a source tree", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 2, "go.mod, which is not webnet's", "go.mod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			port := strconv.Itoa(freePortRange(t, 4))
			code, _, errOut := runCLI(t, "", nil, "demo", "--data-dir", dir, "--count", "4", "--sim-base-port", port, "--listen", "127.0.0.1:0")
			if code != tc.code || !strings.Contains(errOut, tc.why) {
				t.Fatalf("demo: %d %q", code, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, demoMarkerFile)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the demo marked the dir as its own: %v", err)
			}
			// On someone's database Main.Open bootstrapped a superuser: its password is the
			// only way in, so it must be shown.
			if tc.kept == "webnet.db" && !strings.Contains(errOut, "one-time password") {
				t.Errorf("the bootstrap password was swallowed: %q", errOut)
			}
			code, _, errOut = runCLI(t, "", nil, "demo", "--data-dir", dir, "--reset", "--listen", "127.0.0.1:0")
			if code != 2 || !strings.Contains(errOut, "not the demo's data dir") {
				t.Fatalf("--reset: %d %q", code, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.kept)); err != nil {
				t.Fatalf("%s is gone: %v", tc.kept, err)
			}
		})
	}
}

// makeSomeonesDatabase makes a database in dir with a customer the demo did not create.
func makeSomeonesDatabase(t *testing.T, dir string) {
	ctx := context.Background()
	db, err := openDB(ctx, Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &webnet.Customer{Name: "Real Customer", Slug: "real", CreatedAt: time.Now().UTC()}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
		t.Fatal(err)
	}
}

func TestDemoUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--count", "3"},
		{"--count", "10001"},
		{"--sim-base-port", "0"},
		{"--sim-base-port", "65530", "--count", "10"},
		{"--faults", "meteor:1"},
		{"--count", "4", "--faults", "auth:5"},
		{"--reset", "--database-url", "postgres://localhost/x"},
		{"--listen", "127.0.0.1:0", "extra"},
	} {
		code, _, errOut := runCLI(t, "", nil, append([]string{"demo", "--data-dir", dir}, args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%q)", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", nil, "demo", "--help"); code != 0 || !strings.Contains(errOut, "WEBNET_DEMO_DATA_DIR") {
		t.Errorf("--help: %d %q", code, errOut)
	}
}

func TestDemoDataSplit(t *testing.T) {
	for _, dc := range demoCustomers() {
		firstAdmin(dc) // panics without one
	}
	got := splitEvenly([]int{1, 2, 3, 4, 5, 6}, 4)
	if fmt.Sprint(got) != "[[1] [2 3] [4] [5 6]]" {
		t.Fatalf("split: %v", got)
	}
	// Every group gets a block of at least three consecutive devices from 12 on: all platforms.
	for _, b := range splitEvenly(make([]int, 12), demoGroupCount()) {
		if len(b) < 3 {
			t.Fatalf("blocks of 12: %v", splitEvenly(make([]int, 12), demoGroupCount()))
		}
	}
}
