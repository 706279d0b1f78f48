package kinds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"webnet/internal/compliance"
	"webnet/internal/device"
	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// The readiness checks, in the order they run.
const (
	checkReachable  = "reachable"
	checkPlatform   = "platform"
	checkVersion    = "version"
	checkFlash      = "flash"
	checkSaved      = "config_saved"
	checkCompliance = "compliance"
	checkLock       = "no_other_job"
)

// flashMargin is the free space an image needs beyond its own size: devices unpack, log and
// write crash files into the same storage.
func flashMargin(size int64) int64 { return max(size/20, 32<<20) }

// assessment is what a readiness check found on a device: its checks and what the upgrade
// needs from them.
type assessment struct {
	checks []webnet.ReadinessCheck
	facts  device.Facts
	config string
	// onFlash: the image is already on the device with the right checksum.
	onFlash bool
}

func (a *assessment) add(name, status, format string, args ...any) {
	a.checks = append(a.checks, webnet.ReadinessCheck{Name: name, Status: status, Reason: fmt.Sprintf(format, args...)})
}

// status is the outcome of the checks so far.
func (a *assessment) status() string { return webnet.ReadinessStatus(a.checks) }

// failures are the reasons of the failed checks, for the target's message.
func (a *assessment) failures() string {
	var out []string
	for _, c := range a.checks {
		if c.Status == webnet.ReadinessFail {
			out = append(out, c.Name+": "+strings.TrimSuffix(c.Reason, "."))
		}
	}
	return strings.Join(out, "; ")
}

// reason is the first reason of a check with status st.
func (a *assessment) reason(st string) string {
	for _, c := range a.checks {
		if c.Status == st {
			return c.Reason
		}
	}
	return ""
}

// imageParam reads the job's image parameter and loads the image (nil when none is named).
func imageParam(ctx context.Context, cfg Config, t *jobs.Target) (*webnet.FirmwareImage, error) {
	var p struct {
		Image *int64 `json:"image"`
	}
	if err := t.Params(&p); err != nil {
		return nil, err
	}
	if p.Image == nil {
		return nil, nil
	}
	img, err := cfg.Core.GetFirmwareImage(service.WithSubject(ctx, service.System()), *p.Image)
	if err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return nil, fmt.Errorf("firmware image %d no longer exists", *p.Image)
		}
		return nil, err
	}
	return img, nil
}

// assess runs the readiness checks on an open session, logging each. img may be nil: the
// image checks (platform, version, flash) are then left out.
func assess(ctx context.Context, cfg Config, t *jobs.Target, s *device.Session, img *webnet.FirmwareImage) (*assessment, error) {
	sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
	d := t.Device
	a := &assessment{}
	a.add(checkReachable, webnet.ReadinessPass, "Connected to %s and logged in.", d.Address)
	f, err := s.Facts(ctx, d.Platform)
	if err != nil {
		return nil, fmt.Errorf("read facts: %w", err)
	}
	a.facts = f
	if img != nil {
		switch {
		case img.Platform != d.Platform:
			a.add(checkPlatform, webnet.ReadinessFail, "The image %s is for %s; the device is %s.", img.Filename, img.Platform, d.Platform)
		case img.Model != "" && !strings.EqualFold(img.Model, f.Model):
			a.add(checkPlatform, webnet.ReadinessFail, "The image %s is for model %s; the device is a %s.", img.Filename, img.Model, f.Model)
		default:
			a.add(checkPlatform, webnet.ReadinessPass, "The image %s is for %s devices like this %s.", img.Filename, img.Platform, f.Model)
		}
		if f.OSVersion == img.Version {
			a.add(checkVersion, webnet.ReadinessSkip, "The device already runs %s, the image's version.", img.Version)
		} else {
			a.add(checkVersion, webnet.ReadinessPass, "The device runs %s; the image is %s.", f.OSVersion, img.Version)
		}
		if err := checkFlashSpace(ctx, s, img, a); err != nil {
			return nil, err
		}
	}
	unsaved, n, err := s.Unsaved(ctx)
	switch {
	case err != nil:
		return nil, fmt.Errorf("compare the running and startup configurations: %w", err)
	case unsaved:
		a.add(checkSaved, webnet.ReadinessFail, "%d lines of the running configuration are not saved: save or discard them first (an upgrade saves the configuration and reloads).", n)
	case d.Platform == "juniper_junos":
		a.add(checkSaved, webnet.ReadinessPass, "Junos: the committed configuration is the one that boots.")
	default:
		a.add(checkSaved, webnet.ReadinessPass, "The running configuration is saved.")
	}
	if a.config, err = s.RunningConfig(ctx, d.Platform); err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	if err := checkRules(sys, cfg, t, a); err != nil {
		return nil, err
	}
	holder, err := cfg.Core.DeviceJobHolder(sys, d.ID)
	switch {
	case err != nil:
		return nil, err
	case holder != 0 && holder != t.Job.ID:
		a.add(checkLock, webnet.ReadinessFail, "Job %d is working on the device.", holder)
	default:
		a.add(checkLock, webnet.ReadinessPass, "No other job is working on the device.")
	}
	for _, c := range a.checks {
		line := fmt.Sprintf("Check %s: %s — %s", c.Name, c.Status, c.Reason)
		switch c.Status {
		case webnet.ReadinessFail:
			t.Errorf("%s", line)
		case webnet.ReadinessWarn:
			t.Warnf("%s", line)
		default:
			t.Infof("%s", line)
		}
	}
	return a, nil
}

// checkFlashSpace checks that the image fits, or is already there with its checksum.
func checkFlashSpace(ctx context.Context, s *device.Session, img *webnet.FirmwareImage, a *assessment) error {
	sum, err := s.FileMD5(ctx, img.Filename)
	if err != nil {
		return fmt.Errorf("look for the image on the device: %w", err)
	}
	if sum != "" && strings.EqualFold(sum, img.MD5) {
		a.onFlash = true
		a.add(checkFlash, webnet.ReadinessPass, "The image is already on the device (%s), MD5 verified.", device.ImagePath(s.Platform(), img.Filename))
		return nil
	}
	free, err := s.FlashFree(ctx)
	if err != nil {
		return fmt.Errorf("read the free space: %w", err)
	}
	need := img.Size + flashMargin(img.Size)
	if free < need {
		a.add(checkFlash, webnet.ReadinessFail, "%s free; the image needs %s (%s and a margin of %s).",
			bytesText(free), bytesText(need), bytesText(img.Size), bytesText(need-img.Size))
		return nil
	}
	a.add(checkFlash, webnet.ReadinessPass, "%s free; the image needs %s with its margin.", bytesText(free), bytesText(need))
	return nil
}

// checkRules evaluates the customer's compliance rules on the configuration: a failed rule
// of high or critical severity fails readiness, a lesser one warns.
func checkRules(sys context.Context, cfg Config, t *jobs.Target, a *assessment) error {
	rules, err := cfg.Core.ComplianceRulesFor(sys, t.Device.CustomerID, t.Device.Platform)
	if err != nil {
		return err
	}
	if len(rules) == 0 {
		a.add(checkCompliance, webnet.ReadinessPass, "No compliance rule applies to this device.")
		return nil
	}
	var severe, minor []string
	for _, r := range rules {
		m, err := compliance.Compile(r.Kind, r.Pattern)
		if err != nil {
			severe = append(severe, fmt.Sprintf("%s (cannot be evaluated)", r.Name))
			continue
		}
		if m.Evaluate(a.config).Passed {
			continue
		}
		if r.Severity == "high" || r.Severity == "critical" {
			severe = append(severe, fmt.Sprintf("%s (%s)", r.Name, r.Severity))
		} else {
			minor = append(minor, fmt.Sprintf("%s (%s)", r.Name, r.Severity))
		}
	}
	switch {
	case len(severe) > 0:
		a.add(checkCompliance, webnet.ReadinessFail, "%d of %d rules failed: %s.", len(severe)+len(minor), len(rules), strings.Join(append(severe, minor...), ", "))
	case len(minor) > 0:
		a.add(checkCompliance, webnet.ReadinessWarn, "%d of %d rules failed, none severe: %s.", len(minor), len(rules), strings.Join(minor, ", "))
	default:
		a.add(checkCompliance, webnet.ReadinessPass, "All %d compliance rules passed.", len(rules))
	}
	return nil
}

// Readiness is the readiness kind (permission check_device_readiness): it checks whether a
// device can be upgraded — to the job's image when one is named ({"image": id}) — and
// stores the checks as the device's latest readiness (not on a dry run). Each check passes,
// warns or fails with its reason: reachable and authenticated; the image's platform (and
// model); the current version against the image's (already there: the target is skipped);
// free space for the image and a margin (or the image already there, verified); no unsaved
// configuration; the customer's compliance rules (a severe rule failing fails, a lesser one
// warns); no other job on the device.
//
// The outcome is the readiness: a device that is not ready FAILS its target with the failed
// checks as the message, so a job over many devices is partial exactly when some are not
// ready. An unreachable device is a failed "reachable" check, recorded too.
func Readiness(cfg Config) jobs.Kind {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	return jobs.Kind{Name: webnet.JobReadiness, Timeout: cfg.Timeout, Run: func(ctx context.Context, t *jobs.Target) error {
		img, err := imageParam(ctx, cfg, t)
		if err != nil {
			return err
		}
		s, err := connect(ctx, cfg, t)
		if err != nil {
			if ctx.Err() == nil && !t.Job.DryRun {
				unreachable := []webnet.ReadinessCheck{{Name: checkReachable, Status: webnet.ReadinessFail, Reason: err.Error()}}
				if _, rerr := cfg.Core.RecordReadiness(service.WithSubject(context.WithoutCancel(ctx), service.System()),
					t.Device.ID, &t.Job.ID, imageID(img), unreachable); rerr != nil {
					return errors.Join(err, rerr)
				}
			}
			return fmt.Errorf("not ready: %s: %w", checkReachable, err)
		}
		defer s.Close()
		a, err := assess(ctx, cfg, t, s, img)
		if err != nil {
			return err
		}
		stored := ""
		if t.Job.DryRun {
			stored = " (dry run: not stored)"
		} else if _, err := cfg.Core.RecordReadiness(service.WithSubject(context.WithoutCancel(ctx), service.System()),
			t.Device.ID, &t.Job.ID, imageID(img), a.checks); err != nil {
			return err
		}
		switch a.status() {
		case webnet.ReadinessFail:
			return fmt.Errorf("not ready: %s%s", a.failures(), stored)
		case webnet.ReadinessSkip:
			return jobs.Skipped(a.reason(webnet.ReadinessSkip) + stored)
		case webnet.ReadinessWarn:
			t.Result(fmt.Sprintf("Ready, with warnings: %s%s", a.reason(webnet.ReadinessWarn), stored))
		default:
			t.Result(fmt.Sprintf("Ready: all %d checks passed%s.", len(a.checks), stored))
		}
		return nil
	}}
}

func imageID(img *webnet.FirmwareImage) *int64 {
	if img == nil {
		return nil
	}
	return &img.ID
}

// bytesText renders a size for people: "1.2 GB", "340 MB".
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
