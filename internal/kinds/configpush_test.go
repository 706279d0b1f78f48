package kinds_test

import (
	"context"
	"strings"
	"testing"

	"webnet/internal/backup"
	"webnet/internal/devsim"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// pushes are valid configuration per platform, and what the device's configuration shows
// for them once applied.
var pushes = map[string]struct{ config, shows string }{
	devsim.IOSXE: {"interface Loopback42\n description pushed-by-webnet\n", " description pushed-by-webnet"},
	devsim.EOS:   {"interface Loopback42\n   description pushed-by-webnet\n", "   description pushed-by-webnet"},
	devsim.Junos: {"set snmp location pushed-by-webnet\n", "    location pushed-by-webnet;"},
}

// backups returns a device's backups, newest first.
func (l *lab) backups(t *testing.T, name string) []webnet.Backup {
	t.Helper()
	list, _, err := l.db.Read().ListBackups(context.Background(), l.ids[name], webnet.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// logText is the job's log as text, one line per log line.
func (l *lab) logText(t *testing.T, j *webnet.Job) string {
	t.Helper()
	lines, err := l.db.Read().JobLogs(context.Background(), j.ID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, ln := range lines {
		b.WriteString(ln.Level + ": " + ln.Message + "\n")
	}
	return b.String()
}

// newSyncedLab is a lab of n devices on SQLite, each synced once (one backup each).
func newSyncedLab(t *testing.T, n int) *lab {
	t.Helper()
	l := newLab(t, storetest.Open(t, store.SQLite), n)
	if j := l.sync(t, l.names()...); j.Status != webnet.JobSucceeded {
		t.Fatalf("sync: %+v", j)
	}
	return l
}

// state is a device's configuration as it stands, noise masked: running, startup, unsaved.
func state(d *devsim.Device) string {
	return string(backup.Mask(d.Platform(), []byte(d.RunningConfig()))) + "\n--- startup ---\n" +
		string(backup.Mask(d.Platform(), []byte(d.StartupConfig()))) + "\n--- unsaved: " + map[bool]string{true: "yes", false: "no"}[d.Unsaved()]
}

// TestConfigPushOverSSH pushes valid lines to a device of each platform: the running
// configuration has them, they are saved (startup configuration, Junos commit), and the
// push is a new backup version whose diff shows the lines.
func TestConfigPushOverSSH(t *testing.T) {
	l := newSyncedLab(t, 3)
	names := l.names()
	for _, name := range names {
		dev := l.fleet.Device(name)
		p := pushes[dev.Platform()]
		t.Run(dev.Platform(), func(t *testing.T) {
			j := l.run(t, webnet.JobConfigPush, map[string]any{"config": p.config}, false, name)
			tg := target(j, l.ids[name])
			if j.Status != webnet.JobSucceeded || !strings.Contains(tg.Message, "Pushed 1 lines") && !strings.Contains(tg.Message, "Pushed 2 lines") {
				t.Fatalf("push: %+v\n%s", j, l.logText(t, j))
			}
			if !strings.Contains(dev.RunningConfig(), p.shows) || !strings.Contains(dev.StartupConfig(), p.shows) || dev.Unsaved() {
				t.Fatalf("device after the push (unsaved %v):\n%s", dev.Unsaved(), dev.RunningConfig())
			}
			list := l.backups(t, name)
			if len(list) != 2 || list[0].JobID == nil || *list[0].JobID != j.ID {
				t.Fatalf("backups after the push: %+v", list)
			}
			diff, err := l.core.DiffBackups(l.sys, list[0].ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(diff.Diff, "+"+p.shows) || strings.Count(diff.Diff, "\n+") > 6 {
				t.Fatalf("the push's diff:\n%s", diff.Diff)
			}
			if log := l.logText(t, j); !strings.Contains(log, "+"+p.shows) || !strings.Contains(log, "Saved (") {
				t.Fatalf("job log:\n%s", log)
			}
			// The same push again changes nothing and makes no version.
			again := l.run(t, webnet.JobConfigPush, map[string]any{"config": p.config}, false, name)
			if tg := target(again, l.ids[name]); again.Status != webnet.JobSucceeded || !strings.Contains(tg.Message, "did not change") {
				t.Fatalf("second push: %+v", again)
			}
			if n := len(l.backups(t, name)); n != 2 {
				t.Fatalf("a push that changed nothing made a version (%d)", n)
			}
		})
	}
}

// TestConfigPushRefusedLineFailsThatTargetOnly: one job, the same lines to every platform;
// Junos refuses them ("unknown command") and fails with the device's words, committing nothing;
// IOS-XE and EOS take them.
func TestConfigPushRefusedLineFailsThatTargetOnly(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 3)
	names := l.names()
	junos := l.fleet.Device(names[2])
	before := state(junos)
	j := l.run(t, webnet.JobConfigPush, map[string]any{"config": "interface Loopback7\n description shared-push\n"}, false, names...)
	if j.Status != webnet.JobPartial {
		t.Fatalf("job: %+v\n%s", j, l.logText(t, j))
	}
	for _, name := range names[:2] {
		if tg := target(j, l.ids[name]); tg.Status != webnet.TargetSucceeded {
			t.Errorf("%s: %+v", name, tg)
		}
		if !strings.Contains(l.fleet.Device(name).StartupConfig(), "description shared-push") {
			t.Errorf("%s: not saved", name)
		}
	}
	tg := target(j, l.ids[names[2]])
	if tg.Status != webnet.TargetFailed || !strings.Contains(tg.Message, `refused line 1 "interface Loopback7"`) ||
		!strings.Contains(tg.Message, "unknown command") || !strings.Contains(tg.Message, "nothing was committed") {
		t.Fatalf("junos target: %+v", tg)
	}
	if after := state(junos); after != before {
		t.Fatalf("the refused push changed the Junos device")
	}
	if !strings.Contains(l.logText(t, j), "Rolled the candidate configuration back") {
		t.Errorf("log:\n%s", l.logText(t, j))
	}

	// On IOS-XE the lines before the refused one are running, unsaved; the rest never sent.
	ios := l.fleet.Device(names[0])
	j = l.run(t, webnet.JobConfigPush, map[string]any{"config": "interface Loopback8\n description first\n frobnicate now\n description never\n"}, false, names[0])
	tg = target(j, l.ids[names[0]])
	if j.Status != webnet.JobFailed || !strings.Contains(tg.Message, `refused line 3 " frobnicate now": % Invalid input`) ||
		!strings.Contains(tg.Message, "lines 1 to 2 are running but not saved") {
		t.Fatalf("ios target: %+v\n%s", tg, l.logText(t, j))
	}
	if run := ios.RunningConfig(); !strings.Contains(run, "interface Loopback8\n description first") || strings.Contains(run, "never") {
		t.Fatalf("running configuration after the refusal:\n%s", run)
	}
	if strings.Contains(ios.StartupConfig(), "Loopback8") || !ios.Unsaved() {
		t.Fatal("a refused push was saved")
	}
	if list := l.backups(t, names[0]); !strings.Contains(string(mustContent(t, l, list[0].ID)), "interface Loopback8") {
		t.Fatal("the running configuration after a refusal was not backed up")
	}
}

// TestConfigPushNeverRunsExecCommands: a line that leaves configuration mode ("end") does
// not make the next one an exec command: the session enters configuration mode again, and
// the device refuses "reload" there.
func TestConfigPushNeverRunsExecCommands(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 2)
	for _, name := range l.names() {
		dev := l.fleet.Device(name)
		j := l.run(t, webnet.JobConfigPush, map[string]any{"config": "interface Loopback9\nend\nreload"}, false, name)
		if tg := target(j, l.ids[name]); j.Status != webnet.JobFailed || !strings.Contains(tg.Message, `refused line 3 "reload"`) {
			t.Fatalf("%s: %+v\n%s", dev.Platform(), tg, l.logText(t, j))
		}
		if dev.Reloads() != 0 || !dev.Up() {
			t.Fatalf("%s reloaded", dev.Platform())
		}
	}
}

func mustContent(t *testing.T, l *lab, backupID int64) []byte {
	t.Helper()
	f, err := l.core.BackupContent(l.sys, backupID)
	if err != nil {
		t.Fatal(err)
	}
	return f.Content
}

// TestConfigPushDryRunChangesNothing: the device's state compared before and after, per
// platform; the log has the lines and the expected diff; no backup is stored.
func TestConfigPushDryRunChangesNothing(t *testing.T) {
	l := newSyncedLab(t, 3)
	names := l.names()
	for _, name := range names {
		dev := l.fleet.Device(name)
		p := pushes[dev.Platform()]
		t.Run(dev.Platform(), func(t *testing.T) {
			before := state(dev)
			j := l.run(t, webnet.JobConfigPush, map[string]any{"config": p.config}, true, name)
			tg := target(j, l.ids[name])
			if j.Status != webnet.JobSucceeded || !strings.Contains(tg.Message, "Dry run:") || !strings.Contains(tg.Message, "the device was not changed") {
				t.Fatalf("dry run: %+v\n%s", tg, l.logText(t, j))
			}
			if after := state(dev); after != before {
				t.Fatalf("the dry run changed the device")
			}
			if n := len(l.backups(t, name)); n != 1 {
				t.Fatalf("the dry run stored a backup (%d versions)", n)
			}
			want := "+" + p.shows
			if dev.Platform() == devsim.Junos {
				want = "+set snmp location pushed-by-webnet"
			}
			if log := l.logText(t, j); !strings.Contains(log, want) || !strings.Contains(log, "approximate") ||
				!strings.Contains(log, strings.TrimSpace(strings.Split(p.config, "\n")[0])) {
				t.Fatalf("dry-run log (want %q):\n%s", want, log)
			}
		})
	}
	// A device changed outside webnet since its backup: the dry run says so.
	dev := l.fleet.Device(names[0])
	if err := dev.ChangeConfig("ntp server 10.1.2.3"); err != nil {
		t.Fatal(err)
	}
	j := l.run(t, webnet.JobConfigPush, map[string]any{"config": "hostname dry"}, true, names[0])
	if log := l.logText(t, j); !strings.Contains(log, "differs from the latest backup") || !strings.Contains(log, "+hostname dry") {
		t.Fatalf("drift not reported:\n%s", log)
	}
}
