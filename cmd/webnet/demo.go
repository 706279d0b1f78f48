package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"webnet/internal/devsim"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

const demoSummary = `Try webnet on this machine. Starts a simulated fleet (SSH devices on 127.0.0.1; a few
faulty on purpose), fills an empty database with demo customers, device groups, credentials,
the fleet's devices, users of every role, a device-group role and a nightly schedule, asks
for a first sync of every device, and serves like "webnet serve" until SIGINT/SIGTERM.

Every demo user's password is "` + demoPassword + `": the banner lists the users. The data lives
in --data-dir (default ./data-demo, never ./data, so that it cannot mix with real data). A
second run on the same data dir reuses that data and restarts the same fleet, on the same
ports: its count, seed and base port are kept in the data dir's ` + demoMarkerFile + `. --reset
deletes the demo's data dir first. The demo fills only an empty database; one holding any
other data is refused, WEBNET_DATABASE_URL included.`

// demoMarkerFile, in the data dir, records that the demo made the data there and with which
// fleet; --reset deletes only a data dir that has one.
const demoMarkerFile = "demo.json"

// demoFleet is what makes the simulated fleet the same from one run to the next: the
// database names its devices, their ports and (through the seed) their host keys.
type demoFleet struct {
	Count    int    `json:"count"`
	Seed     uint64 `json:"seed"`
	BasePort int    `json:"sim_base_port"`
}

// demoMarker is the content of demoMarkerFile.
type demoMarker struct {
	Fleet demoFleet `json:"fleet"`
	// Complete is false while the demo fills the database: data left by a run interrupted
	// then is not whole, and a later run must not take it for the demo's.
	Complete bool `json:"complete"`
}

// demo is `webnet demo`: a simulated fleet, demo data and a server, until ctx ends.
func (c cli) demo(ctx context.Context, args []string) error {
	var (
		cfg    Config
		want   demoFleet
		faults string
		reset  bool
	)
	fs := newFlagSet("demo", demoSummary)
	cfg.serveFlags(fs, demoEnv(c.getenv))
	fs.Lookup("data-dir").Usage = "directory of the demo's SQLite database, keys and " + demoMarkerFile +
		"; not WEBNET_DATA_DIR, which names real data (WEBNET_DEMO_DATA_DIR)"
	fs.IntVar(&want.Count, "count", 50, "number of simulated devices, split evenly over the demo's device groups")
	fs.Uint64Var(&want.Seed, "seed", 1, "seed of the simulated devices' names, models, versions, host keys and configurations")
	fs.IntVar(&want.BasePort, "sim-base-port", 24000,
		"TCP port of the first simulated device on 127.0.0.1; the others follow (below 32768: outside the ephemeral ports)")
	fs.StringVar(&faults, "faults", "auth:1,hang:1,latency:1",
		`devices faulty on purpose, e.g. "auth:1,hang:1" ("" for none; "webnet devsim --help" lists the faults)`)
	fs.BoolVar(&reset, "reset", false, "delete the demo's data dir first and start over")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	plan, err := devsim.ParseFaultPlan(faults)
	if err != nil {
		return usageError{fmt.Errorf("--faults: %w", err)}
	}
	if reset && cfg.DatabaseURL != "" {
		return usageError{errors.New("--reset deletes the SQLite data dir only: with --database-url, drop that database's tables yourself")}
	}
	// The data dir's marker says which fleet its data names; with --reset there will be no data.
	var marker *demoMarker
	if !reset {
		if marker, err = readDemoMarker(cfg.DataDir); err != nil {
			return err
		}
	}
	if marker == nil && !reset {
		if err := checkOwnDir(cfg.DataDir); err != nil {
			return usageError{err}
		}
	}
	fleetCfg := want
	if marker != nil && marker.Complete {
		if fleetCfg, err = keptFleet(marker.Fleet, want, setFlags(fs)); err != nil {
			return usageError{err}
		}
	}
	if err := fleetCfg.validate(plan); err != nil {
		return usageError{err}
	}
	if reset {
		if err := resetDemoDir(cfg.DataDir); err != nil {
			return err
		}
	}

	log := c.logger(cfg)
	// The fleet outlives ctx until the deferred Close, which runs last: a worker stopping on
	// SIGTERM lets its running targets finish first, and they need their devices for that.
	fleet, err := devsim.Start(context.WithoutCancel(ctx), devsim.Config{Count: fleetCfg.Count, Seed: fleetCfg.Seed,
		BasePort: fleetCfg.BasePort, Logger: log.With("component", "devsim")})
	if err != nil {
		return fmt.Errorf("start the simulated fleet (choose other ports with --sim-base-port): %w", err)
	}
	defer fleet.Close()
	faulty, err := plan.Apply(fleet)
	if err != nil {
		return usageError{fmt.Errorf("--faults: %w", err)}
	}

	// Main.Open prints a one-time password when it bootstraps the superuser. The demo gives
	// admin the demo password instead when it fills the database; otherwise that password
	// may be the only way into whatever database this is, so it is shown after all.
	var bootstrap bytes.Buffer
	seeded := false
	defer func() {
		if !seeded {
			c.stderr.Write(bootstrap.Bytes())
		}
	}()
	m := &Main{Config: cfg, Logger: log, Stderr: &bootstrap}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	seeded, jobs, err := prepareDemoData(ctx, m.core, fleet, cfg.DataDir, marker, fleetCfg)
	if err != nil {
		return err
	}
	if seeded {
		log.Info("made the demo data; admin's password is now the demo password", "data_dir", cfg.DataDir, "jobs", len(jobs))
	} else {
		log.Info("reusing the demo data", "data_dir", cfg.DataDir)
	}
	printDemoBanner(c.stderr, demoBanner{addr: m.Addr(), cfg: cfg, fleet: fleet, faulty: faulty, seeded: seeded, jobs: jobs})
	return m.Run(ctx)
}

// demoEnv is getenv for the demo's flags: its data dir comes from WEBNET_DEMO_DATA_DIR
// (default ./data-demo), never from WEBNET_DATA_DIR, which names a real installation's data.
func demoEnv(getenv func(string) string) func(string) string {
	return func(name string) string {
		if name == "WEBNET_DATA_DIR" {
			return env(getenv, "WEBNET_DEMO_DATA_DIR", "./data-demo")
		}
		return getenv(name)
	}
}

// setFlags names the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// validate checks the fleet's size and ports, and that it has the devices the fault plan
// wants faulty.
func (f demoFleet) validate(plan devsim.FaultPlan) error {
	var errs []error
	if n := sumValues(plan); n > f.Count {
		errs = append(errs, fmt.Errorf("--faults: %d faulty devices planned, but the fleet has %d", n, f.Count))
	}
	if lo, hi := demoGroupCount(), service.MaxImportRows; f.Count < lo || f.Count > hi {
		errs = append(errs, fmt.Errorf("--count: %d is not between %d (a device for each demo device group) and %d", f.Count, lo, hi))
	}
	if f.BasePort < 1 || f.BasePort+f.Count-1 > 65535 {
		errs = append(errs, fmt.Errorf("--sim-base-port: ports %d to %d are not all TCP ports", f.BasePort, f.BasePort+f.Count-1))
	}
	return errors.Join(errs...)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// keptFleet is the fleet of the demo data already in the data dir. A flag given now must
// agree with it: the database names those devices at those ports with those host keys.
func keptFleet(kept, asked demoFleet, given map[string]bool) (demoFleet, error) {
	if (given["count"] && asked.Count != kept.Count) || (given["seed"] && asked.Seed != kept.Seed) ||
		(given["sim-base-port"] && asked.BasePort != kept.BasePort) {
		return kept, fmt.Errorf("the demo data in this data dir was made with --count %d --seed %d --sim-base-port %d: "+
			"give those, or start over with --reset", kept.Count, kept.Seed, kept.BasePort)
	}
	return kept, nil
}

// readDemoMarker reads the data dir's demo marker; nil when there is none.
func readDemoMarker(dir string) (*demoMarker, error) {
	data, err := os.ReadFile(filepath.Join(dir, demoMarkerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the demo marker: %w", err)
	}
	var m demoMarker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read the demo marker %s: %w (start over with --reset)", filepath.Join(dir, demoMarkerFile), err)
	}
	return &m, nil
}

// writeDemoMarker replaces the data dir's demo marker at once (write, then rename), so that
// a reader never sees half of it.
func writeDemoMarker(dir string, m demoMarker) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write the demo marker: %w", err)
	}
	path := filepath.Join(dir, demoMarkerFile)
	if err := os.WriteFile(path+".tmp", append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the demo marker: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("write the demo marker: %w", err)
	}
	return nil
}

// resetDemoDir deletes the demo's data dir. Only a dir with a demo marker (or an empty one)
// is deleted: --reset with a mistyped --data-dir must not wipe real data.
func resetDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--reset: %w", err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, demoMarkerFile)); err != nil {
			return usageError{fmt.Errorf("--reset: %s has no %s, so it is not the demo's data dir; delete it yourself if you mean to", dir, demoMarkerFile)}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("--reset: %w", err)
	}
	return nil
}

// isWebnetFile reports whether webnet itself writes files of this name in a data dir.
func isWebnetFile(name string) bool {
	switch name {
	case "webnet.db", "webnet.db-wal", "webnet.db-shm", "webnet.db-journal", "secret.keys", demoMarkerFile, demoMarkerFile + ".tmp":
		return true
	}
	return false
}

// checkOwnDir refuses a data dir holding anything webnet did not write: the demo writes its
// database there and marks the dir as its own, and --reset deletes a marked dir whole, so
// "webnet demo --data-dir ." in a source tree must not even begin.
func checkOwnDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if !isWebnetFile(e.Name()) {
			return fmt.Errorf("%s holds %s, which is not webnet's: the demo keeps its data in a directory of its own "+
				"(give another --data-dir)", dir, e.Name())
		}
	}
	return nil
}

// prepareDemoData makes the database the demo's: it fills an empty one, reuses the data a
// previous demo finished making, and refuses anything else. seeded says whether it began to
// fill the database now (and so gave admin the demo password), even if it then failed; jobs
// are the first sync's (none when the data is reused: that sync ran then, and the devices'
// facts and backups are still there).
func prepareDemoData(ctx context.Context, core *service.Core, fleet *devsim.Fleet, dir string, marker *demoMarker, f demoFleet) (seeded bool, jobs []*webnet.Job, err error) {
	state, err := demoDatabaseState(service.WithSubject(ctx, service.System()), core)
	switch {
	case err != nil:
		return false, nil, fmt.Errorf("look at the database: %w", err)
	case state == dbOther || (state == dbDemo && marker == nil):
		return false, nil, errors.New("the database already holds data that webnet demo did not make, and the demo fills only an " +
			"empty one: give another --data-dir, or unset WEBNET_DATABASE_URL")
	case state == dbDemo && !marker.Complete:
		return false, nil, fmt.Errorf("a previous webnet demo stopped before it had made all of its data in %s: start over with --reset", dir)
	case state == dbDemo:
		return false, nil, nil
	}
	if err := writeDemoMarker(dir, demoMarker{Fleet: f}); err != nil {
		return false, nil, err
	}
	if jobs, err = seedDemo(ctx, core, fleet); err != nil {
		return true, nil, fmt.Errorf("make the demo data (start over with --reset): %w", err)
	}
	if err := writeDemoMarker(dir, demoMarker{Fleet: f, Complete: true}); err != nil {
		return true, nil, err
	}
	return true, jobs, nil
}

// demoBanner is what the demo says once it is ready to serve.
type demoBanner struct {
	addr   string
	cfg    Config
	fleet  *devsim.Fleet
	faulty map[string]string // device name → fault preset
	seeded bool
	jobs   []*webnet.Job
}

// printDemoBanner tells where to sign in, as whom, and that the devices are simulated.
func printDemoBanner(w io.Writer, b demoBanner) {
	var s strings.Builder
	fmt.Fprintf(&s, "\n  webnet demo: http://%s/\n\n", b.addr)
	if host, _, err := net.SplitHostPort(b.addr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(&s, "  WARNING: listening on %s, not on loopback: anyone who can reach it can sign in\n"+
				"  with the demo's published passwords. Use --listen 127.0.0.1:8080 unless you mean it.\n\n", b.addr)
		}
	}
	fmt.Fprintf(&s, "  Sign in as one of these users; every password is %s\n", demoPassword)
	fmt.Fprintf(&s, "    %-14s %-12s %s\n", "admin", demoPassword, "superuser: everything, every customer")
	for _, dc := range demoCustomers() {
		for _, u := range dc.Users {
			fmt.Fprintf(&s, "    %-14s %-12s %s\n", u.Username, demoPassword, u.Summary)
		}
	}
	devs := b.fleet.Devices()
	fmt.Fprintf(&s, "\n  The %d devices are SIMULATED: Cisco IOS-XE, Arista EOS and Juniper Junos SSH servers in this\n"+
		"  process, on %s ports %d to %d.\n", len(devs), devs[0].Address, devs[0].Port, devs[len(devs)-1].Port)
	if len(b.faulty) > 0 {
		effects := map[string]string{}
		for _, line := range devsim.FaultNames() {
			name, effect, _ := strings.Cut(line, ": ")
			effects[name] = effect
		}
		s.WriteString("  Faulty on purpose:\n")
		for _, n := range slices.Sorted(maps.Keys(b.faulty)) {
			fmt.Fprintf(&s, "    %-20s %s: %s\n", n, b.faulty[n], effects[b.faulty[n]])
		}
	}
	if b.seeded {
		ids := make([]string, len(b.jobs))
		for i, j := range b.jobs {
			ids[i] = strconv.FormatInt(j.ID, 10)
		}
		fmt.Fprintf(&s, "\n  First sync of every device: %s %s (GET /api/jobs/).\n", plural(len(ids), "job", "jobs"), strings.Join(ids, " and "))
		if len(b.faulty) > 0 {
			s.WriteString("  A device that cannot be synced fails its target and its job ends \"partial\" (a hung one only\n" +
				"  once its command times out): that is part of the demo.\n")
		}
	} else {
		s.WriteString("\n  Reusing the demo data made before: the devices keep their facts and backups. Sync them\n" +
			"  again with POST /api/devices/sync/.\n")
	}
	where := b.cfg.DataDir + " (SQLite)"
	if b.cfg.DatabaseURL != "" {
		where = "PostgreSQL (--database-url), with keys in " + b.cfg.DataDir
	}
	fmt.Fprintf(&s, "  Data: %s. Start over with --reset; stop with Ctrl-C.\n\n", where)
	io.WriteString(w, s.String())
}
