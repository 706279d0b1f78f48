package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"webnet/internal/devsim"
)

const devsimSummary = `Run a fleet of simulated network devices (Cisco IOS-XE, Arista EOS, Juniper Junos), each
an SSH server on its own port, until SIGINT/SIGTERM. Everything is deterministic from --seed.
Prints the fleet's inventory on standard output (JSON or CSV, to import into webnet), logs
on standard error. Every device accepts the one --username/--password; the inventory says
"simulated": these are test credentials, never real ones.

For large fleets give --base-port: binding thousands of ephemeral ports is slow.

Faults (--faults name:count,…, given to distinct devices chosen from the seed):
  `

// devsim runs a simulated fleet until ctx ends.
func (c cli) devsim(ctx context.Context, args []string) error {
	var (
		cfg                  devsim.Config
		platforms, faults    string
		inventory, logFormat string
		logLevel             string
	)
	fs := newFlagSet("devsim", devsimSummary+strings.Join(devsim.FaultNames(), "\n  "))
	fs.IntVar(&cfg.Count, "count", 10, "number of devices")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of names, models, versions, host keys and configurations")
	fs.StringVar(&cfg.ListenAddress, "listen", "127.0.0.1", "IP address the devices listen on")
	fs.IntVar(&cfg.BasePort, "base-port", 0, "port of the first device, the others follow (0: an ephemeral port each)")
	fs.StringVar(&platforms, "platforms", strings.Join(devsim.Platforms(), ","), "platforms, assigned round-robin")
	fs.StringVar(&cfg.Username, "username", devsim.DefaultUsername, "login user name of every device")
	fs.StringVar(&cfg.Password, "password", devsim.DefaultPassword, "login password of every device")
	fs.StringVar(&cfg.EnableSecret, "enable-secret", "", "IOS-XE/EOS enable secret (empty: sessions start privileged)")
	fs.DurationVar(&cfg.ReloadTime, "reload-time", 30*time.Second, "how long a reloading device refuses connections")
	fs.BoolVar(&cfg.SharedHostKey, "shared-host-key", false, "one host key for every device (default: one each)")
	fs.StringVar(&inventory, "inventory", "json", "inventory printed on standard output: json, csv or none")
	fs.StringVar(&faults, "faults", "", `faulty devices, e.g. "auth:3,hang:1"`)
	fs.StringVar(&logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	switch inventory {
	case "json", "csv", "none":
	default:
		return usageError{fmt.Errorf("--inventory: %q is not json, csv or none", inventory)}
	}
	if _, err := parseLevel(logLevel); err != nil {
		return usageError{err}
	}
	plan, err := devsim.ParseFaultPlan(faults)
	if err != nil {
		return usageError{fmt.Errorf("--faults: %w", err)}
	}
	cfg.Platforms = strings.Split(platforms, ",")
	cfg.Logger = c.logger(Config{LogFormat: logFormat, LogLevel: logLevel})

	fleet, err := devsim.Start(ctx, cfg)
	if err != nil {
		return usageError{err}
	}
	defer fleet.Close()
	assigned, err := plan.Apply(fleet)
	if err != nil {
		return usageError{fmt.Errorf("--faults: %w", err)}
	}
	for name, fault := range assigned {
		cfg.Logger.Info("devsim fault", "device", name, "fault", fault)
	}
	if inventory != "none" {
		if err := fleet.WriteInventory(c.stdout, inventory); err != nil {
			return err
		}
	}
	cfg.Logger.Info("devsim running; stop with SIGINT or SIGTERM", "devices", cfg.Count,
		"credential", devsim.InventoryCredential, "username", cfg.Username,
		"note", "the inventory refers to a credential of this name: create it in the customer (this username and --password) before importing")
	<-ctx.Done()
	if err := fleet.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stop fleet: %w", err)
	}
	return nil
}
