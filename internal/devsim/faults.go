package devsim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the failures injected into one device. The zero value is a healthy device; a
// change takes effect at the next login, command or transfer.
type Faults struct {
	// RejectAuth makes every authentication attempt fail.
	RejectAuth bool
	// Latency delays every command's output.
	Latency time.Duration
	// DisconnectOn drops the connection while the device prints the output of a command that
	// starts with this text, typed or expanded ("show run" and "show running-config" both
	// match "show running-config"); "*" matches every command.
	DisconnectOn string
	// DisconnectAfter is how many bytes of that output are sent before the connection drops.
	DisconnectAfter int
	// HangOn makes the device never answer a command that starts with this text ("*": every
	// command after login). The session stays open.
	HangOn string
	// Unresponsive makes the device accept TCP connections and never say anything.
	Unresponsive bool
	// AbortTransfer makes image copies fail halfway: the HTTP download is dropped and the
	// partial file removed.
	AbortTransfer bool
	// FullFlash leaves no free space: copies fail with "No space left on device".
	FullFlash bool
	// CorruptTransfer stores copied images with one byte changed, so that their MD5 differs
	// from the source's and they do not boot.
	CorruptTransfer bool
	// StayDownAfterReload keeps a reloading device down until the fault is cleared.
	StayDownAfterReload bool
}

// SetFaults replaces the device's faults.
func (d *Device) SetFaults(f Faults) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = f
}

// ClearFaults makes the device healthy again.
func (d *Device) ClearFaults() { d.SetFaults(Faults{}) }

// Faults returns the device's current faults.
func (d *Device) Faults() Faults { return d.currentFaults() }

func (d *Device) currentFaults() Faults {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.faults
}

// matchesCommand reports whether a fault's command pattern selects a command, given as typed
// and as expanded.
func matchesCommand(pattern, typed, expanded string) bool {
	switch pattern {
	case "":
		return false
	case "*":
		return true
	}
	return strings.HasPrefix(typed, pattern) || strings.HasPrefix(expanded, pattern)
}

// FaultPlan says how many devices get each named fault preset (see FaultNames).
type FaultPlan map[string]int

// faultPresets are the names a FaultPlan may use, with what each injects.
var faultPresets = map[string]string{
	"auth":           "every login is rejected",
	"latency":        "every command's output is delayed by 2s",
	"disconnect":     "the connection drops after 2 KiB of the configuration's output",
	"transfer-abort": "image copies are dropped halfway",
	"full-flash":     "flash is full: copies fail with No space left on device",
	"corrupt":        "copied images are stored corrupted (wrong MD5, not bootable)",
	"hang":           "the configuration command is never answered",
	"unresponsive":   "TCP is accepted, SSH never answers",
	"no-return":      "the device never comes back from a reload",
}

// FaultNames describes the fault presets, one "name: effect" line each, sorted.
func FaultNames() []string {
	var out []string
	for n, what := range faultPresets {
		out = append(out, n+": "+what)
	}
	slices.Sort(out)
	return out
}

// ParseFaultPlan parses "auth:3,hang:1": how many devices get each preset.
func ParseFaultPlan(s string) (FaultPlan, error) {
	plan := FaultPlan{}
	if strings.TrimSpace(s) == "" {
		return plan, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		name, count, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			count = "1"
		}
		if _, known := faultPresets[name]; !known {
			return nil, fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(faultPresets)), ", "))
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("fault %q: %q is not a device count", name, count)
		}
		plan[name] += n
	}
	return plan, nil
}

// Apply gives the planned faults to distinct devices of the fleet, chosen deterministically
// from the fleet's seed, and returns which device got which preset.
func (p FaultPlan) Apply(f *Fleet) (map[string]string, error) {
	total := 0
	for _, n := range p {
		total += n
	}
	if total > f.Len() {
		return nil, fmt.Errorf("%d faulty devices planned, but the fleet has %d", total, f.Len())
	}
	order := rand.New(rand.NewPCG(f.cfg.Seed, 0xfa17)).Perm(f.Len())
	names := slices.Sorted(maps.Keys(p))
	got := map[string]string{}
	next := 0
	for _, name := range names {
		for range p[name] {
			d := f.devices[order[next]]
			next++
			d.SetFaults(presetFaults(name, d.plat.name))
			got[d.name] = name
		}
	}
	return got, nil
}

// presetFaults is the Faults of a named preset on a platform.
func presetFaults(name, platform string) Faults {
	configCommand := "show running-config"
	if platform == Junos {
		configCommand = "show configuration"
	}
	switch name {
	case "auth":
		return Faults{RejectAuth: true}
	case "latency":
		return Faults{Latency: 2 * time.Second}
	case "disconnect":
		return Faults{DisconnectOn: configCommand, DisconnectAfter: 2048}
	case "transfer-abort":
		return Faults{AbortTransfer: true}
	case "full-flash":
		return Faults{FullFlash: true}
	case "corrupt":
		return Faults{CorruptTransfer: true}
	case "hang":
		return Faults{HangOn: configCommand}
	case "unresponsive":
		return Faults{Unresponsive: true}
	case "no-return":
		return Faults{StayDownAfterReload: true}
	}
	return Faults{}
}
