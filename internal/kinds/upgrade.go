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

// UpgradeConfig bounds the waits of an upgrade.
type UpgradeConfig struct {
	// CopyTimeout bounds the image transfer (default 60 minutes).
	CopyTimeout time.Duration
	// ReloadTimeout is how long a reloading device has to come back (default 20 minutes);
	// a job's reload_timeout parameter (seconds) overrides it.
	ReloadTimeout time.Duration
	// ReloadPoll is the first wait before trying to reach a reloading device, doubled after
	// each failed try up to ReloadPollMax (defaults 5 s and 30 s).
	ReloadPoll, ReloadPollMax time.Duration
}

func (u *UpgradeConfig) defaults() {
	if u.CopyTimeout <= 0 {
		u.CopyTimeout = 60 * time.Minute
	}
	if u.ReloadTimeout <= 0 {
		u.ReloadTimeout = 20 * time.Minute
	}
	if u.ReloadPoll <= 0 {
		u.ReloadPoll = 5 * time.Second
	}
	if u.ReloadPollMax <= 0 {
		u.ReloadPollMax = 30 * time.Second
	}
}

// upgradeSteps is how many steps an upgrade logs ("step 3/9").
var upgradeSteps = len(webnet.UpgradeSteps)

// upgrade is one device's upgrade in progress.
type upgrade struct {
	cfg  Config
	ucfg UpgradeConfig
	t    *jobs.Target
	img  *webnet.FirmwareImage
	sys  context.Context
	step int
}

// next logs the start of the next step and records it as the target's progress.
func (u *upgrade) next(format string, args ...any) {
	u.step++
	u.t.Step(u.step, upgradeSteps, "Step %d/%d (%s): %s", u.step, upgradeSteps, webnet.UpgradeSteps[u.step-1], fmt.Sprintf(format, args...))
}

// stop is the error that ends the upgrade at the current step.
func (u *upgrade) stop(reloaded bool, format string, args ...any) error {
	state := "the device was not reloaded and still runs its previous version"
	if reloaded {
		state = "the device was reloaded"
	}
	return fmt.Errorf("upgrade stopped at step %d/%d (%s): %s; %s", u.step, upgradeSteps, webnet.UpgradeSteps[u.step-1],
		fmt.Sprintf(format, args...), state)
}

// Upgrade is the upgrade kind (permission upgrade_device_firmware; the API requires
// confirm: true unless it is a dry run). Per device, in steps that each log a line:
//
//  1. readiness: the readiness checks against the job's image ({"image": id}), recorded as
//     the device's latest; any failed check stops here, and a device already on the image's
//     version is skipped. The configuration is backed up as it is before the upgrade.
//  2. copy: the device fetches the image from webnet's signed URL (skipped when it is
//     already there, verified).
//  3. verify: the device's MD5 of the copy must be the image's; a bad copy is deleted and
//     the upgrade stops — a device is never reloaded onto an image that failed verification.
//  4. set_boot: the image becomes the next boot image (IOS-XE "boot system", EOS
//     boot-config, Junos "request system software add").
//  5. save: the configuration is saved (nothing to do on Junos).
//  6. reload.
//  7. wait: the device is tried again after 5 s, doubling to 30 s between tries, until it
//     answers or the reload timeout (20 minutes, or the job's reload_timeout) passes.
//  8. verify_version: the device must run the image's version.
//  9. post_checks: facts re-collected, a backup taken and diffed against the one of step 1.
//
// A dry run runs the read-only part of step 1 (the checks, stored nowhere) and logs the plan.
// The job parameters concurrency (devices at once: a rolling upgrade) and max_failures
// (stop starting devices after that many failed) are the runner's.
func Upgrade(cfg Config, ucfg UpgradeConfig) jobs.Kind {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Hour
	}
	ucfg.defaults()
	return jobs.Kind{Name: webnet.JobUpgrade, Timeout: cfg.Timeout, Run: func(ctx context.Context, t *jobs.Target) error {
		var p struct {
			ReloadTimeout int `json:"reload_timeout"`
		}
		if err := t.Params(&p); err != nil {
			return err
		}
		img, err := imageParam(ctx, cfg, t)
		if err != nil {
			return err
		}
		if img == nil {
			return errors.New("the job names no firmware image")
		}
		uc := ucfg
		if p.ReloadTimeout > 0 {
			uc.ReloadTimeout = time.Duration(p.ReloadTimeout) * time.Second
		}
		u := &upgrade{cfg: cfg, ucfg: uc, t: t, img: img, sys: service.WithSubject(context.WithoutCancel(ctx), service.System())}
		return u.run(ctx)
	}}
}

func (u *upgrade) run(ctx context.Context) error {
	t, img := u.t, u.img
	u.next("checking %s against %s (%s %s).", t.Device.Name, img.Filename, img.Platform, img.Version)
	s, err := connect(ctx, u.cfg, t)
	if err != nil {
		return u.stop(false, "cannot reach the device: %v", err)
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	a, err := assess(ctx, u.cfg, t, s, img)
	if err != nil {
		return u.stop(false, "%v", err)
	}
	if !t.Job.DryRun {
		if _, err := u.cfg.Core.RecordReadiness(u.sys, t.Device.ID, &t.Job.ID, &img.ID, a.checks); err != nil {
			return err
		}
	}
	switch a.status() {
	case webnet.ReadinessFail:
		return u.stop(false, "not ready: %s", a.failures())
	case webnet.ReadinessSkip:
		return jobs.Skipped(a.reason(webnet.ReadinessSkip))
	}
	if t.Job.DryRun {
		u.plan(a)
		return nil
	}
	before, _, err := u.cfg.Core.RecordBackup(u.sys, t.Device.ID, &t.Job.ID, []byte(a.config))
	if err != nil {
		return err
	}
	t.Infof("Configuration before the upgrade: backup %d.", before.ID)

	u.next("copying %s (%s) to %s.", img.Filename, bytesText(img.Size), device.ImagePath(t.Device.Platform, img.Filename))
	if a.onFlash {
		t.Infof("The image is already on the device with the right MD5: nothing to copy.")
	} else {
		url, err := u.cfg.Core.FirmwareURL(u.sys, img.ID, min(u.ucfg.CopyTimeout+5*time.Minute, service.MaxFirmwareURLTTL))
		if err != nil {
			return u.stop(false, "cannot make the image's URL: %v", err)
		}
		started := time.Now()
		if err := s.CopyImage(ctx, url, img.Filename, u.ucfg.CopyTimeout); err != nil {
			if ctx.Err() != nil {
				return u.stop(false, "the copy was interrupted: %v", context.Cause(ctx))
			}
			return u.stop(false, "the copy failed: %v", err)
		}
		secs := max(time.Since(started).Seconds(), 0.001)
		t.Infof("Copied in %.1f s (%s/s).", secs, bytesText(int64(float64(img.Size)/secs)))
	}

	u.next("verifying the copy's MD5 on the device (expected %s).", img.MD5)
	sum, err := s.FileMD5(ctx, img.Filename)
	switch {
	case err != nil:
		return u.stop(false, "cannot verify the copy: %v", err)
	case sum == "":
		return u.stop(false, "the image is not on the device after the copy")
	case !strings.EqualFold(sum, img.MD5):
		why := fmt.Sprintf("the copy is corrupt: the device computes MD5 %s, the image's is %s", sum, img.MD5)
		if err := s.DeleteImage(ctx, img.Filename); err != nil {
			t.Warnf("Could not delete the corrupt copy: %v", err)
			return u.stop(false, "%s (the corrupt copy is still on the device: delete it)", why)
		}
		t.Infof("Deleted the corrupt copy.")
		return u.stop(false, "%s (the corrupt copy was deleted)", why)
	}
	t.Infof("MD5 verified: %s.", sum)

	u.next("making %s the boot image.", img.Filename)
	if err := s.SetBoot(ctx, img.Filename); err != nil {
		return u.stop(false, "%v", err)
	}

	u.next("saving the configuration.")
	if t.Device.Platform == "juniper_junos" {
		t.Infof("Junos: the installed package and the committed configuration are durable; nothing to save.")
	} else if err := s.Save(ctx); err != nil {
		return u.stop(false, "%v", err)
	}
	if boot, err := s.BootImage(ctx); err != nil {
		return u.stop(false, "cannot read the boot image back: %v", err)
	} else if boot != "" && boot != img.Filename {
		return u.stop(false, "the device would boot %s, not %s", boot, img.Filename)
	}

	u.next("reloading the device.")
	if err := s.Reload(ctx); err != nil {
		return u.stop(false, "%v", err)
	}
	s.Close()
	s = nil
	reloadedAt := time.Now()

	u.next("waiting up to %s for the device to come back.", durationText(u.ucfg.ReloadTimeout))
	s, err = u.waitBack(ctx)
	if err != nil {
		return u.stop(true, "%v", err)
	}
	t.Infof("The device is back after %.1f s.", time.Since(reloadedAt).Seconds())

	u.next("checking the running version.")
	f, err := s.Facts(ctx, t.Device.Platform)
	if err != nil {
		return u.stop(true, "read facts: %v", err)
	}
	if f.OSVersion != img.Version {
		return u.stop(true, "the device came back running %s, not %s: it did not boot the new image", f.OSVersion, img.Version)
	}
	t.Infof("The device runs %s.", f.OSVersion)

	u.next("recording facts and backing the configuration up.")
	if err := u.cfg.Core.RecordFacts(u.sys, t.Device.ID, webnet.DeviceFacts{Vendor: f.Vendor, Model: f.Model, Serial: f.Serial,
		OSVersion: f.OSVersion, Uptime: f.Uptime}); err != nil {
		return err
	}
	config, err := s.RunningConfig(ctx, t.Device.Platform)
	if err != nil {
		return fmt.Errorf("upgraded to %s, but reading the configuration afterwards failed: %w", img.Version, err)
	}
	after, made, err := u.cfg.Core.RecordBackup(u.sys, t.Device.ID, &t.Job.ID, []byte(config))
	if err != nil {
		return err
	}
	if !made {
		t.Result(fmt.Sprintf("Upgraded from %s to %s; the configuration is unchanged (backup %d).", a.facts.OSVersion, f.OSVersion, after.ID))
		return nil
	}
	diff := backup.Diff(t.Device.Platform, fmt.Sprintf("backup %d (before)", before.ID), fmt.Sprintf("backup %d (after)", after.ID),
		[]byte(a.config), []byte(config))
	t.Infof("Configuration diff across the upgrade (noise masked):\n%s", clip(diff, maxLoggedDiff))
	add, del := diffStat(diff)
	t.Result(fmt.Sprintf("Upgraded from %s to %s; the configuration changed across the reload: backup %d, %d lines added and %d removed.",
		a.facts.OSVersion, f.OSVersion, after.ID, add, del))
	return nil
}

// waitBack tries to log in to a reloading device until it answers, with backoff.
func (u *upgrade) waitBack(ctx context.Context) (*device.Session, error) {
	deadline := time.Now().Add(u.ucfg.ReloadTimeout)
	wait := u.ucfg.ReloadPoll
	var last error
	for try := 1; ; try++ {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("the device did not come back within %s (last try: %v)", durationText(u.ucfg.ReloadTimeout), last)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting for the device: %w", context.Cause(ctx))
		case <-time.After(min(wait, left)):
		}
		s, err := dial(ctx, u.cfg, u.t, u.t.Debugf)
		if err == nil {
			return s, nil
		}
		var hk *device.HostKeyError
		if errors.As(err, &hk) {
			return nil, err // a different device answers: never go on
		}
		last = err
		u.t.Debugf("Try %d: %v", try, err)
		wait = min(wait*2, u.ucfg.ReloadPollMax)
	}
}

// plan logs what a real upgrade would do (a dry run).
func (u *upgrade) plan(a *assessment) {
	t, img := u.t, u.img
	copyStep := fmt.Sprintf("copy %s (%s) from webnet to %s", img.Filename, bytesText(img.Size), device.ImagePath(t.Device.Platform, img.Filename))
	if a.onFlash {
		copyStep = "no copy: the image is already on the device, verified"
	}
	steps := []string{
		fmt.Sprintf("back up the configuration, %s", copyStep),
		fmt.Sprintf("verify its MD5 %s on the device (a mismatch stops the upgrade before any change)", img.MD5),
		fmt.Sprintf("make %s the boot image and save the configuration", img.Filename),
		fmt.Sprintf("reload, wait up to %s for the device", durationText(u.ucfg.ReloadTimeout)),
		fmt.Sprintf("check it runs %s (now %s), record facts and diff the configuration", img.Version, a.facts.OSVersion),
	}
	for i, s := range steps {
		t.Infof("Plan %d/%d: %s.", i+1, len(steps), s)
	}
	t.Result(fmt.Sprintf("Dry run: ready; would upgrade from %s to %s (%s). Nothing was changed.", a.facts.OSVersion, img.Version, strings.Join(steps, "; ")))
}

// durationText renders a wait for people: "20 min", "1 h 30 min", "45 s".
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d.Hours()))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int((d % time.Hour).Minutes()))
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int((d % time.Minute).Seconds()))
}
