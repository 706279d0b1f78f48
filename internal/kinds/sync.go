// Package kinds holds the job kinds that work on devices (sync now; readiness, upgrade,
// configuration push and compliance next). Each is a jobs.Kind: a function over one target
// that acts as the system — the permission was checked when the job was created — through
// the service layer, and talks to the device through internal/device. Never imports store.
package kinds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"webnet/internal/device"
	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// Config is what the device kinds need.
type Config struct {
	Core *service.Core
	// Device bounds connections and commands.
	Device device.Options
	// Timeout bounds one target (default 5 minutes).
	Timeout time.Duration
}

// connect opens a session on the target's device as the system: the credential decrypted
// for this connection only, the host key checked against the trusted one, or trusted now
// on first use (logged with its fingerprint).
func connect(ctx context.Context, cfg Config, t *jobs.Target) (*device.Session, error) {
	return dial(ctx, cfg, t, t.Infof)
}

// dial is connect with the "Connecting…" line logged by say (a retry loop logs it at debug
// level).
func dial(ctx context.Context, cfg Config, t *jobs.Target, say func(format string, args ...any)) (*device.Session, error) {
	sys := service.WithSubject(ctx, service.System())
	d := t.Device
	if d.CredentialID == nil {
		return nil, errors.New("the device has no credential: an admin must give it one before webnet can log in")
	}
	login, err := cfg.Core.DecryptCredential(sys, *d.CredentialID)
	if err != nil {
		return nil, fmt.Errorf("the device's credential cannot be used: %w", err)
	}
	trusted, err := cfg.Core.DeviceHostKey(sys, d.ID)
	if err != nil {
		return nil, err
	}
	say("Connecting to %s port %d as %s.", d.Address, d.Port, login.Username)
	s, err := device.Open(ctx, device.Target{Address: d.Address, Port: d.Port, Platform: d.Platform, Username: login.Username,
		Password: login.Password, EnableSecret: login.EnableSecret, PrivateKey: login.PrivateKey, HostKey: trusted}, cfg.Device)
	if err != nil {
		return nil, err
	}
	if trusted == "" {
		presented := s.PresentedHostKey()
		now, err := cfg.Core.TrustHostKey(sys, d.ID, presented)
		if err != nil {
			s.Close()
			return nil, err
		}
		if now != presented { // another worker trusted a different key in the meantime
			s.Close()
			return nil, &device.HostKeyError{Trusted: now, Presented: presented}
		}
		t.Warnf("Trusted the device's SSH host key %s on first use.", device.Fingerprint(presented))
	}
	return s, nil
}

// Sync is the sync kind (custom action sync_device_inventory): it reads the device's facts
// (vendor, model, serial, software version, uptime) into the inventory and backs up its
// running configuration. A dry run reads both and stores neither.
func Sync(cfg Config) jobs.Kind {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	return jobs.Kind{Name: webnet.JobSync, Timeout: cfg.Timeout, Run: func(ctx context.Context, t *jobs.Target) error {
		s, err := connect(ctx, cfg, t)
		if err != nil {
			return err
		}
		defer s.Close()
		f, err := s.Facts(ctx, t.Device.Platform)
		if err != nil {
			return fmt.Errorf("read facts: %w", err)
		}
		t.Infof("%s %s, serial %s, software %s, up %s.", f.Vendor, f.Model, f.Serial, f.OSVersion, f.Uptime)
		config, err := s.RunningConfig(ctx, t.Device.Platform)
		if err != nil {
			return fmt.Errorf("read the configuration: %w", err)
		}
		if t.Job.DryRun {
			t.Result(fmt.Sprintf("Dry run: read facts and %d bytes of configuration; stored nothing.", len(config)))
			return nil
		}
		sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
		if err := cfg.Core.RecordFacts(sys, t.Device.ID, webnet.DeviceFacts{Vendor: f.Vendor, Model: f.Model, Serial: f.Serial,
			OSVersion: f.OSVersion, Uptime: f.Uptime}); err != nil {
			return err
		}
		b, made, err := cfg.Core.RecordBackup(sys, t.Device.ID, &t.Job.ID, []byte(config))
		if err != nil {
			return err
		}
		if made {
			t.Result(fmt.Sprintf("Facts collected; configuration changed: backup %d (%d bytes).", b.ID, b.Size))
		} else {
			t.Result(fmt.Sprintf("Facts collected; configuration unchanged since backup %d.", b.ID))
		}
		return nil
	}}
}
