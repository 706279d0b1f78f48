package device

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Facts are what webnet records about a device on each sync.
type Facts struct {
	Vendor, Model, Serial, OSVersion, Uptime string
}

// Commands per platform: the facts, and the running configuration to back up.
type commands struct {
	vendor string
	facts  []string
	config string
	parse  func(outputs []string, f *Facts)
}

var platforms = map[string]commands{
	"cisco_iosxe": {vendor: "Cisco", facts: []string{"show version"}, config: "show running-config", parse: func(o []string, f *Facts) {
		f.OSVersion = find(o[0], iosVersion)
		f.Uptime = find(o[0], iosUptime)
		f.Model = first(find(o[0], iosModelNumber), find(o[0], iosProcessor))
		f.Serial = first(find(o[0], iosSerialNumber), find(o[0], iosBoardID))
	}},
	"arista_eos": {vendor: "Arista", facts: []string{"show version"}, config: "show running-config", parse: func(o []string, f *Facts) {
		f.Model = find(o[0], eosModel)
		f.Serial = find(o[0], eosSerial)
		f.OSVersion = find(o[0], eosVersion)
		f.Uptime = find(o[0], eosUptime)
	}},
	"juniper_junos": {vendor: "Juniper", facts: []string{"show version", "show chassis hardware", "show system uptime"},
		config: "show configuration", parse: func(o []string, f *Facts) {
			f.Model = find(o[0], junosModel)
			f.OSVersion = find(o[0], junosVersion)
			f.Serial = find(o[1], junosChassis)
			f.Uptime = find(o[2], junosBooted)
		}},
}

// The patterns of the facts, compiled once.
var (
	iosVersion      = regexp.MustCompile(`(?m)^Cisco IOS XE Software, Version (\S+)`)
	iosUptime       = regexp.MustCompile(`(?m)^\S+ uptime is (.+)$`)
	iosModelNumber  = regexp.MustCompile(`(?m)^Model Number\s*:\s*(\S+)`)
	iosProcessor    = regexp.MustCompile(`(?m)^cisco (\S+) \(.*\) processor`)
	iosSerialNumber = regexp.MustCompile(`(?m)^System Serial Number\s*:\s*(\S+)`)
	iosBoardID      = regexp.MustCompile(`(?m)^Processor board ID (\S+)`)
	eosModel        = regexp.MustCompile(`(?m)^Arista (\S+)`)
	eosSerial       = regexp.MustCompile(`(?m)^Serial number:\s*(\S+)`)
	eosVersion      = regexp.MustCompile(`(?m)^Software image version:\s*(\S+)`)
	eosUptime       = regexp.MustCompile(`(?m)^Uptime:\s*(.+)$`)
	junosModel      = regexp.MustCompile(`(?m)^Model:\s*(\S+)`)
	junosVersion    = regexp.MustCompile(`(?m)^Junos:\s*(\S+)`)
	junosChassis    = regexp.MustCompile(`(?m)^Chassis\s+(\S+)`)
	junosBooted     = regexp.MustCompile(`(?m)^System booted: .*\((.+) ago\)`)
)

// find returns the first submatch of re in s, trimmed ("" when none).
func find(s string, re *regexp.Regexp) string {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(m[1], "\r"))
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ParseFacts reads facts from the outputs of FactCommands(platform), in order.
func ParseFacts(platform string, outputs []string) (Facts, error) {
	c, ok := platforms[platform]
	if !ok {
		return Facts{}, fmt.Errorf("unknown platform %q", platform)
	}
	if len(outputs) != len(c.facts) {
		return Facts{}, fmt.Errorf("%s facts need %d outputs, got %d", platform, len(c.facts), len(outputs))
	}
	f := Facts{Vendor: c.vendor}
	c.parse(outputs, &f)
	if f.OSVersion == "" || f.Model == "" {
		return f, fmt.Errorf("could not read the model and software version from %q", c.facts[0])
	}
	return f, nil
}

// FactCommands are the commands whose outputs ParseFacts reads.
func FactCommands(platform string) []string { return platforms[platform].facts }

// Facts runs the platform's fact commands and parses them.
func (s *Session) Facts(ctx context.Context, platform string) (Facts, error) {
	cmds := FactCommands(platform)
	if cmds == nil {
		return Facts{}, fmt.Errorf("unknown platform %q", platform)
	}
	outs := make([]string, len(cmds))
	for i, c := range cmds {
		out, err := s.Run(ctx, c)
		if err != nil {
			return Facts{}, err
		}
		outs[i] = out
	}
	return ParseFacts(platform, outs)
}

// RunningConfig returns the device's running configuration.
func (s *Session) RunningConfig(ctx context.Context, platform string) (string, error) {
	c, ok := platforms[platform]
	if !ok {
		return "", fmt.Errorf("unknown platform %q", platform)
	}
	return s.Run(ctx, c.config)
}
