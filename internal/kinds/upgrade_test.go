package kinds_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"webnet/internal/backup"
	"webnet/internal/devsim"
	"webnet/internal/httpapi"
	"webnet/internal/password"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// firmwareHandler is webnet's real HTTP API over the lab's database: devices fetch images
// from its signed URLs.
func firmwareHandler(t testing.TB, db *store.DB, core *service.Core) http.Handler {
	t.Helper()
	h, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := service.NewIdentity(service.IdentityConfig{DB: db, Hasher: h, Clock: webnet.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	health, err := service.NewHealth(db)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Identity: id, Core: core, Health: health})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	return httpapi.Wrap(mux, httpapi.MiddlewareConfig{Identity: id})
}

// imageNames are the image file names the simulator boots, per platform (%s: the version).
var imageNames = map[string]string{
	devsim.IOSXE: "cat9k_iosxe.%s.SPA.bin",
	devsim.EOS:   "EOS-%s.swi",
	devsim.Junos: "junos-install-x86-64-%s.tgz",
}

// targetVersions are versions each platform can be upgraded to, in order of preference.
var targetVersions = map[string][]string{
	devsim.IOSXE: {"17.12.03", "17.09.05"},
	devsim.EOS:   {"4.31.2F", "4.30.4M"},
	devsim.Junos: {"23.2R1.14", "22.4R2-S2.6"},
}

// image uploads a global image of platform and version (content of size bytes) as the system
// and returns it.
func (l *lab) image(t testing.TB, platform, version string, size int) *webnet.FirmwareImage {
	t.Helper()
	content := bytes.Repeat([]byte(platform+version), size/len(platform+version)+1)[:size]
	img, err := l.core.UploadFirmwareImage(l.sys, service.FirmwareUpload{Global: true, Platform: platform, Version: version,
		Filename: fmt.Sprintf(imageNames[platform], version), ContentLength: int64(size)}, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("upload %s %s: %v", platform, version, err)
	}
	return img
}

// target returns a version the device does not run, and an image of it (cached per version).
func (l *lab) upgradeImage(t testing.TB, name string, cache map[string]*webnet.FirmwareImage) *webnet.FirmwareImage {
	t.Helper()
	d := l.fleet.Device(name)
	platform := l.platform(name)
	for _, v := range targetVersions[platform] {
		if v == d.Version() {
			continue
		}
		if img := cache[platform+v]; img != nil {
			return img
		}
		img := l.image(t, platform, v, 256<<10)
		cache[platform+v] = img
		return img
	}
	t.Fatalf("no target version for %s", name)
	return nil
}

func (l *lab) platform(name string) string {
	for _, d := range l.fleet.Devices() {
		if d.Name == name {
			return d.Platform
		}
	}
	return ""
}

// deviceState is what a dry run must leave exactly as it was.
type deviceState struct {
	Version, Boot string
	Reloads       int
	Unsaved       bool
	Flash         []devsim.File
	Config        string
}

func stateOf(l *lab, name string) deviceState {
	d := l.fleet.Device(name)
	flash := d.Flash()
	for i := range flash {
		flash[i].ModTime = time.Time{}
	}
	// Configuration noise (timestamps, salts) changes on every read: compare it masked.
	cfg := string(backup.Mask(d.Platform(), []byte(d.StartupConfig())))
	return deviceState{Version: d.Version(), Boot: d.BootImage(), Reloads: d.Reloads(), Unsaved: d.Unsaved(), Flash: flash,
		Config: cfg}
}

func (l *lab) readiness(t *testing.T, name string) *webnet.Readiness {
	t.Helper()
	r, err := l.core.DeviceReadiness(l.sys, l.ids[name])
	if err != nil {
		t.Fatalf("readiness of %s: %v", name, err)
	}
	return r
}

func checkStatus(r *webnet.Readiness, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status + ": " + c.Reason
		}
	}
	return "(no " + name + " check)"
}

func (l *lab) jobLog(t *testing.T, id int64) string {
	t.Helper()
	lines, err := l.db.Read().JobLogs(context.Background(), id, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, ln := range lines {
		b.WriteString(ln.Message)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestUpgradeOverSSH: on a device of each platform, a dry run changes nothing on the device
// and reports the plan; the upgrade then really transfers the image (verified on the
// device), sets it to boot, reloads and comes back on the new version, with facts, readiness
// and backups recorded; upgrading again skips the device.
func TestUpgradeOverSSH(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := newLab(t, db, 3)
		names := l.names()
		l.sync(t, names...)
		images := map[string]*webnet.FirmwareImage{}
		for _, name := range names {
			img := l.upgradeImage(t, name, images)
			before := stateOf(l, name)
			dry := l.run(t, webnet.JobUpgrade, map[string]any{"image": img.ID}, true, name)
			if dry.Status != webnet.JobSucceeded || !strings.Contains(target(dry, l.ids[name]).Message, "Dry run: ready; would upgrade from "+before.Version+" to "+img.Version) {
				t.Fatalf("%s dry run: %s %+v\n%s", name, dry.Status, dry.Targets, l.jobLog(t, dry.ID))
			}
			if after := stateOf(l, name); !equalState(before, after) {
				t.Fatalf("%s: the dry run changed the device:\nbefore %+v\nafter  %+v", name, before, after)
			}
			if _, err := l.core.DeviceReadiness(l.sys, l.ids[name]); webnet.ErrorCode(err) != webnet.ENotFound {
				t.Fatalf("%s: a dry run stored a readiness: %v", name, err)
			}

			j := l.run(t, webnet.JobUpgrade, map[string]any{"image": img.ID}, false, name)
			log := l.jobLog(t, j.ID)
			if j.Status != webnet.JobSucceeded {
				t.Fatalf("%s upgrade: %s %+v\n%s", name, j.Status, j.Targets, log)
			}
			if tg := target(j, l.ids[name]); tg.Step != 9 || tg.Steps != 9 {
				t.Fatalf("%s: the target's progress is step %d of %d, want 9 of 9", name, tg.Step, tg.Steps)
			}
			d := l.fleet.Device(name)
			if d.Version() != img.Version || d.Reloads() != before.Reloads+1 {
				t.Fatalf("%s after the upgrade: version %s (want %s), %d reloads", name, d.Version(), img.Version, d.Reloads())
			}
			i := slices.IndexFunc(d.Flash(), func(f devsim.File) bool { return f.Name == img.Filename })
			if i < 0 || d.Flash()[i].MD5 != img.MD5 || d.Flash()[i].Size != img.Size {
				t.Fatalf("%s: the image on flash is not the image: %+v", name, d.Flash())
			}
			for step := 1; step <= len(webnet.UpgradeSteps); step++ {
				want := fmt.Sprintf("Step %d/%d (%s)", step, len(webnet.UpgradeSteps), webnet.UpgradeSteps[step-1])
				if !strings.Contains(log, want) {
					t.Fatalf("%s: no %q in the log:\n%s", name, want, log)
				}
			}
			dev, err := l.core.GetDevice(l.sys, l.ids[name])
			if err != nil {
				t.Fatal(err)
			}
			if dev.OSVersion != img.Version {
				t.Fatalf("%s: the inventory says %s after the upgrade", name, dev.OSVersion)
			}
			if r := l.readiness(t, name); r.Status != webnet.ReadinessPass || r.ImageID == nil || *r.ImageID != img.ID || r.JobID == nil || *r.JobID != j.ID {
				t.Fatalf("%s: readiness recorded by the upgrade: %+v", name, r)
			}
			again := l.run(t, webnet.JobUpgrade, map[string]any{"image": img.ID}, false, name)
			if tg := target(again, l.ids[name]); tg.Status != webnet.TargetSkipped || !strings.Contains(tg.Message, "already runs "+img.Version) {
				t.Fatalf("%s upgraded again: %+v", name, tg)
			}
			if d.Reloads() != before.Reloads+1 {
				t.Fatalf("%s reloaded by an upgrade it did not need", name)
			}
		}
	})
}

func equalState(a, b deviceState) bool {
	return a.Version == b.Version && a.Boot == b.Boot && a.Reloads == b.Reloads && a.Unsaved == b.Unsaved &&
		slices.Equal(a.Flash, b.Flash) && a.Config == b.Config
}

// TestReadinessChecks: each check passes and fails with its reason, over SSH, and the latest
// readiness is stored per device.
func TestReadinessChecks(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 3)
	names := l.names()
	ios, eos, junos := names[0], names[1], names[2]
	images := map[string]*webnet.FirmwareImage{}
	iosImg, eosImg, junosImg := l.upgradeImage(t, ios, images), l.upgradeImage(t, eos, images), l.upgradeImage(t, junos, images)

	ready := func(name string, img *webnet.FirmwareImage) (*webnet.Job, *webnet.Readiness) {
		params := map[string]any{}
		if img != nil {
			params["image"] = img.ID
		}
		j := l.run(t, webnet.JobReadiness, params, false, name)
		return j, l.readiness(t, name)
	}
	// All pass, on every platform.
	for name, img := range map[string]*webnet.FirmwareImage{ios: iosImg, eos: eosImg, junos: junosImg} {
		j, r := ready(name, img)
		if j.Status != webnet.JobSucceeded || r.Status != webnet.ReadinessPass || len(r.Checks) != 7 {
			t.Fatalf("%s: %s %+v %+v\n%s", name, j.Status, j.Targets, r, l.jobLog(t, j.ID))
		}
	}
	// No image: only the checks that need none.
	if j, r := ready(ios, nil); j.Status != webnet.JobSucceeded || len(r.Checks) != 4 || r.ImageID != nil {
		t.Fatalf("without an image: %s %+v", j.Status, r)
	}
	// Platform: an EOS image for an IOS-XE device.
	if j, r := ready(ios, eosImg); j.Status != webnet.JobFailed || !strings.HasPrefix(checkStatus(r, "platform"), "fail: The image EOS-") {
		t.Fatalf("platform mismatch: %s %+v", j.Status, r)
	}
	// Version: already there → skipped.
	same := l.image(t, devsim.EOS, l.fleet.Device(eos).Version(), 1024)
	if j, r := ready(eos, same); target(j, l.ids[eos]).Status != webnet.TargetSkipped || r.Status != webnet.ReadinessSkip ||
		!strings.HasPrefix(checkStatus(r, "version"), "skip: The device already runs") {
		t.Fatalf("already on target: %+v %+v", j.Targets, r)
	}
	// Flash: full.
	l.fleet.Device(junos).SetFaults(devsim.Faults{FullFlash: true})
	if j, r := ready(junos, junosImg); j.Status != webnet.JobFailed || !strings.Contains(checkStatus(r, "flash"), "fail: ") ||
		!strings.Contains(target(j, l.ids[junos]).Message, "not ready: flash:") {
		t.Fatalf("full flash: %s %+v %+v", j.Status, j.Targets, r)
	}
	l.fleet.Device(junos).ClearFaults()
	// Unsaved configuration (IOS-XE and EOS).
	for _, name := range []string{ios, eos} {
		if err := l.fleet.Device(name).ChangeConfig("ntp server 10.77.0.1"); err != nil {
			t.Fatal(err)
		}
		if j, r := ready(name, nil); j.Status != webnet.JobFailed || !strings.HasPrefix(checkStatus(r, "config_saved"), "fail: 1 lines of the running configuration are not saved") {
			t.Fatalf("%s unsaved: %s %+v", name, j.Status, r)
		}
	}
	// Compliance: a severe rule fails, a lesser one warns.
	l.rule(t, "no-ntp-77", devsim.IOSXE, "must_not_contain", "ntp server 10.77.0.1", "low")
	saveDevice(t, l, ios)
	if j, r := ready(ios, iosImg); j.Status != webnet.JobSucceeded || r.Status != webnet.ReadinessWarn ||
		!strings.HasPrefix(checkStatus(r, "compliance"), "warn: 1 of 1 rules failed, none severe: no-ntp-77 (low)") {
		t.Fatalf("minor rule: %s %+v\n%s", j.Status, r, l.jobLog(t, j.ID))
	}
	l.rule(t, "no-ntp-77-critical", devsim.IOSXE, "must_not_contain", "ntp server 10.77.0.1", "critical")
	if j, r := ready(ios, iosImg); j.Status != webnet.JobFailed || !strings.HasPrefix(checkStatus(r, "compliance"), "fail: 2 of 2 rules failed") {
		t.Fatalf("severe rule: %s %+v", j.Status, r)
	}
	// Reachable: authentication refused; recorded as the device's readiness.
	l.fleet.Device(eos).SetFaults(devsim.Faults{RejectAuth: true})
	if j, r := ready(eos, eosImg); j.Status != webnet.JobFailed || r.Status != webnet.ReadinessFail ||
		!strings.Contains(checkStatus(r, "reachable"), "authentication failed") {
		t.Fatalf("unreachable: %s %+v", j.Status, r)
	}
}

// saveDevice saves a simulated device's running configuration over SSH, as an operator would.
func saveDevice(t *testing.T, l *lab, name string) {
	t.Helper()
	j := l.run(t, webnet.JobConfigPush, map[string]any{"config": "ntp server 10.77.0.2"}, false, name)
	if j.Status != webnet.JobSucceeded {
		t.Fatalf("save %s: %+v", name, j.Targets)
	}
}

// TestUpgradeFaults: each injected fault stops the upgrade at its step, with the device not
// reloaded wherever that would be unsafe.
func TestUpgradeFaults(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 6)
	names := l.names() // IOS-XE, EOS, Junos, IOS-XE, EOS, Junos
	l.sync(t, names...)
	images := map[string]*webnet.FirmwareImage{}
	cases := []struct {
		device   string
		faults   devsim.Faults
		params   map[string]any
		step     string
		reloaded bool
		words    string
	}{
		{names[0], devsim.Faults{CorruptTransfer: true}, nil, "3/9 (verify)", false, "the copy is corrupt"},
		{names[1], devsim.Faults{FullFlash: true}, nil, "1/9 (readiness)", false, "not ready: flash:"},
		{names[2], devsim.Faults{StayDownAfterReload: true}, map[string]any{"reload_timeout": 3}, "7/9 (wait)", true, "did not come back within 3 s"},
		{names[3], devsim.Faults{DisconnectOn: "copy"}, nil, "2/9 (copy)", false, "the copy failed"},
		{names[4], devsim.Faults{AbortTransfer: true}, nil, "2/9 (copy)", false, "I/O error"},
		{names[5], devsim.Faults{CorruptTransfer: true}, nil, "3/9 (verify)", false, "the copy is corrupt"},
	}
	for _, c := range cases {
		img := l.upgradeImage(t, c.device, images)
		d := l.fleet.Device(c.device)
		version, reloads := d.Version(), d.Reloads()
		d.SetFaults(c.faults)
		params := map[string]any{"image": img.ID}
		for k, v := range c.params {
			params[k] = v
		}
		j := l.run(t, webnet.JobUpgrade, params, false, c.device)
		tg := target(j, l.ids[c.device])
		if j.Status != webnet.JobFailed || !strings.Contains(tg.Message, "upgrade stopped at step "+c.step) || !strings.Contains(tg.Message, c.words) {
			t.Fatalf("%s with %+v: %s %q\n%s", c.device, c.faults, j.Status, tg.Message, l.jobLog(t, j.ID))
		}
		if step := fmt.Sprintf("%d/9", tg.Step); !strings.HasPrefix(c.step, step) || tg.Steps != 9 {
			t.Fatalf("%s: the target's progress is %d of %d, want %s", c.device, tg.Step, tg.Steps, c.step)
		}
		if got := d.Reloads() > reloads; got != c.reloaded {
			t.Fatalf("%s with %+v: reloaded %v, want %v", c.device, c.faults, got, c.reloaded)
		}
		if !c.reloaded && (d.Version() != version || !strings.Contains(tg.Message, "was not reloaded and still runs its previous version")) {
			t.Fatalf("%s: %s, message %q", c.device, d.Version(), tg.Message)
		}
		if c.faults.CorruptTransfer && slices.ContainsFunc(d.Flash(), func(f devsim.File) bool { return f.Name == img.Filename }) {
			t.Fatalf("%s: the corrupt copy was left on flash", c.device)
		}
		d.ClearFaults()
	}
}

// TestUpgradeStopsAfterFailures: with max_failures, a rolling upgrade stops starting devices
// once that many failed.
func TestUpgradeStopsAfterFailures(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 4)
	names := l.names()
	images := map[string]*webnet.FirmwareImage{}
	img := l.upgradeImage(t, names[0], images)
	ios := []string{names[0], names[3]} // both IOS-XE
	for _, n := range ios {
		l.fleet.Device(n).SetFaults(devsim.Faults{FullFlash: true})
	}
	j := l.run(t, webnet.JobUpgrade, map[string]any{"image": img.ID, "concurrency": 1, "max_failures": 1}, false, ios...)
	first, second := target(j, l.ids[ios[0]]), target(j, l.ids[ios[1]])
	if j.Status != webnet.JobPartial || first.Status != webnet.TargetFailed || second.Status != webnet.TargetSkipped ||
		!strings.Contains(second.Message, "Not started: 1 targets of this job failed, its limit (max_failures 1)") {
		t.Fatalf("max_failures: %s %+v", j.Status, j.Targets)
	}
}
