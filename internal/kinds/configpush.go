package kinds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"webnet/internal/backup"
	"webnet/internal/device"
	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// maxLoggedDiff bounds a diff written to the job log; the backup versions keep the whole.
const maxLoggedDiff = 32 << 10

// ConfigPush is the config_push kind (permission edit_configuration): it sends the job's
// configuration lines ({"config": "line\nline…"}) to the device in configuration mode and
// makes them durable — "write memory" on IOS-XE and EOS, a commit on Junos — then backs the
// configuration up, so that the push is a version of its own whose diff is exactly the push
// (the configuration as found is recorded first, so changes made outside webnet since the
// last backup are a version of their own). The diff is also in the job log, noise masked.
//
// The first line the device refuses fails the target with the device's words; the lines
// after it are not sent. On Junos nothing of the push is committed then (the private
// candidate is rolled back). On IOS-XE and EOS the lines before it are already running —
// those devices apply each line as it is entered — but nothing is saved: the target's message
// says so, and the running configuration is backed up as it now is.
//
// A dry run reads the running configuration, works out what the push would change with the
// model of backup.Preview (not the device's parser: the preview is approximate, and says
// what it could not model), logs the lines that would be sent and the expected diff, and
// changes nothing on the device: it never enters configuration mode.
func ConfigPush(cfg Config) jobs.Kind {
	if cfg.Timeout <= 0 {
		// Every line is a round trip or two: a 64 KiB push to a slow device takes minutes.
		cfg.Timeout = 15 * time.Minute
	}
	return jobs.Kind{Name: webnet.JobConfigPush, Timeout: cfg.Timeout, Run: func(ctx context.Context, t *jobs.Target) error {
		var p struct {
			Config string `json:"config"`
		}
		if err := t.Params(&p); err != nil {
			return err
		}
		platform := t.Device.Platform
		if why := backup.CheckPush(platform, p.Config); why != "" {
			return fmt.Errorf("this configuration cannot be pushed to a %s device: %s", platform, why)
		}
		lines := backup.PushLines(p.Config)
		s, err := connect(ctx, cfg, t)
		if err != nil {
			return err
		}
		defer s.Close()
		running, err := s.RunningConfig(ctx, platform)
		if err != nil {
			return fmt.Errorf("read the configuration: %w", err)
		}
		if t.Job.DryRun {
			previewPush(ctx, cfg, t, lines, running)
			return nil
		}
		return push(ctx, cfg, t, s, lines, running)
	}}
}

// push sends lines, saves, and backs the configuration up before and after.
func push(ctx context.Context, cfg Config, t *jobs.Target, s *device.Session, lines []string, before string) error {
	sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
	platform := t.Device.Platform
	if _, _, err := cfg.Core.RecordBackup(sys, t.Device.ID, &t.Job.ID, []byte(before)); err != nil {
		return err
	}
	t.Infof("Sending %d lines in configuration mode.", len(lines))
	if _, err := s.Configure(ctx, lines); err != nil {
		return refused(ctx, cfg, t, s, err)
	}
	if err := s.Save(ctx); err != nil {
		if platform == "juniper_junos" {
			discard(ctx, t, s)
			return fmt.Errorf("commit: %w; nothing of the push was committed", err)
		}
		return fmt.Errorf("save: %w; the lines are in the running configuration but not saved", err)
	}
	t.Infof("Saved (%s).", saveCommand(platform))
	after, err := s.RunningConfig(ctx, platform)
	if err != nil {
		return fmt.Errorf("read the configuration after the push (the push itself succeeded and was saved): %w", err)
	}
	b, made, err := cfg.Core.RecordBackup(sys, t.Device.ID, &t.Job.ID, []byte(after))
	if err != nil {
		return err
	}
	if !made {
		t.Result(fmt.Sprintf("Pushed %d lines and saved; the configuration did not change (every line was already in it).", len(lines)))
		return nil
	}
	diff := backup.Diff(platform, "before the push", fmt.Sprintf("backup %d", b.ID), []byte(before), []byte(after))
	t.Infof("Configuration diff (noise masked):\n%s", clip(diff, maxLoggedDiff))
	add, del := diffStat(diff)
	t.Result(fmt.Sprintf("Pushed %d lines and saved: backup %d, %d lines added and %d removed.", len(lines), b.ID, add, del))
	return nil
}

// refused handles a line the device refused (or a lost connection while sending): Junos
// drops the push; IOS-XE and EOS keep what was accepted running, unsaved, and the running
// configuration is backed up as it now is.
func refused(ctx context.Context, cfg Config, t *jobs.Target, s *device.Session, err error) error {
	var r *device.RefusedError
	if !errors.As(err, &r) {
		return fmt.Errorf("send the configuration: %w", err)
	}
	t.Errorf("The device refused line %d %q: %s", r.Line, r.Input, r.Message)
	if t.Device.Platform == "juniper_junos" {
		discard(ctx, t, s)
		return fmt.Errorf("%w; nothing was committed", r)
	}
	if r.Line == 1 {
		return fmt.Errorf("%w; nothing was changed", r)
	}
	t.Warnf("Lines 1 to %d were accepted and are in the running configuration, not saved; the startup configuration is unchanged.", r.Line-1)
	if now, rerr := s.RunningConfig(ctx, t.Device.Platform); rerr == nil {
		sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
		if b, made, berr := cfg.Core.RecordBackup(sys, t.Device.ID, &t.Job.ID, []byte(now)); berr == nil && made {
			t.Infof("Backed up the running configuration as it now is: backup %d.", b.ID)
		}
	}
	return fmt.Errorf("%w; lines 1 to %d are running but not saved", r, r.Line-1)
}

// discard rolls a Junos push back, logging rather than failing: closing the session drops a
// private candidate anyway.
func discard(ctx context.Context, t *jobs.Target, s *device.Session) {
	if err := s.Discard(ctx); err != nil {
		t.Warnf("Rolling the candidate configuration back failed (%v); it is dropped when the session ends.", err)
		return
	}
	t.Infof("Rolled the candidate configuration back: nothing was committed.")
}

// previewPush is the dry run: the lines that would be sent and the expected diff, by the
// model, from the running configuration just read.
func previewPush(ctx context.Context, cfg Config, t *jobs.Target, lines []string, running string) {
	platform := t.Device.Platform
	t.Infof("Dry run: these %d lines would be sent in configuration mode, then saved (%s):\n%s", len(lines), saveCommand(platform), strings.Join(lines, "\n"))
	sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
	if latest, err := cfg.Core.DeviceConfig(sys, t.Device.ID); err == nil &&
		backup.Diff(platform, "", "", latest.Content, []byte(running)) != "" {
		t.Warnf("The running configuration differs from the latest backup (%d): it changed outside webnet since. The preview starts from the running configuration.", latest.Backup.ID)
	}
	pv := backup.PreviewPush(platform, []byte(running), lines)
	form := "configuration"
	if platform == "juniper_junos" {
		form = "configuration as set statements"
	}
	diff := backup.Diff(platform, "running "+form+" (now)", "expected after the push", pv.From, pv.To)
	if diff == "" {
		t.Infof("Expected change: none — every line is already in the configuration, as far as the model can tell.")
	} else {
		t.Infof("Expected change (worked out by webnet's model of the configuration, not by the device; approximate):\n%s", clip(diff, maxLoggedDiff))
	}
	if len(pv.Unmodelled) > 0 {
		t.Warnf("Not in the expected change (the model does not apply these lines; the device may): %s", strings.Join(pv.Unmodelled, "; "))
	}
	add, del := diffStat(diff)
	t.Result(fmt.Sprintf("Dry run: %d lines would be sent; expected change %d lines added and %d removed (approximate); the device was not changed.",
		len(lines), add, del))
}

// saveCommand names how a platform makes configuration durable.
func saveCommand(platform string) string {
	if platform == "juniper_junos" {
		return "commit"
	}
	return "write memory"
}

// diffStat counts a unified diff's added and removed lines.
func diffStat(diff string) (added, removed int) {
	for l := range strings.SplitSeq(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added++
		case strings.HasPrefix(l, "-"):
			removed++
		}
	}
	return added, removed
}

// clip shortens s to about n bytes at a line boundary, saying how much was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], '\n') + 1
	return fmt.Sprintf("%s… (%d more bytes: see the backup's diff)\n", s[:cut], len(s)-cut)
}
