package device

import "testing"

// Outputs as the real platforms print them (abridged).
func TestParseFacts(t *testing.T) {
	for _, c := range []struct {
		platform string
		outputs  []string
		want     Facts
	}{
		{"cisco_iosxe", []string{`Cisco IOS XE Software, Version 17.09.04a
Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4a, RELEASE SOFTWARE (fc3)
core-r1 uptime is 3 weeks, 2 days, 4 hours, 12 minutes
Uptime for this control processor is 3 weeks, 2 days, 4 hours, 14 minutes
cisco C9300-48P (X86) processor with 1339440K/6147K bytes of memory.
Processor board ID FOC2418L0AB
Model Number                       : C9300-48P
System Serial Number               : FOC2418L0AB
`}, Facts{"Cisco", "C9300-48P", "FOC2418L0AB", "17.09.04a", "3 weeks, 2 days, 4 hours, 12 minutes"}},
		{"arista_eos", []string{`Arista DCS-7050SX3-48YC8
Hardware version: 11.00
Serial number: JPE19181234
Hardware MAC address: 001c.7312.3456

Software image version: 4.30.1F
Architecture: x86_64
Uptime: 1 week, 3 days, 2 hours and 5 minutes
`}, Facts{"Arista", "DCS-7050SX3-48YC8", "JPE19181234", "4.30.1F", "1 week, 3 days, 2 hours and 5 minutes"}},
		{"juniper_junos", []string{"Hostname: edge1\nModel: mx204\nJunos: 22.4R3.25\n",
			"Hardware inventory:\nItem             Version  Part number  Serial number     Description\nChassis                                VM6512AB01        MX204\n",
			"Current time: 2026-11-26 09:00:00 UTC\nSystem booted: 2026-11-01 08:00:00 UTC (3w4d 01:00 ago)\n"},
			Facts{"Juniper", "mx204", "VM6512AB01", "22.4R3.25", "3w4d 01:00"}},
	} {
		got, err := ParseFacts(c.platform, c.outputs)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.platform, got, err, c.want)
		}
	}
	if _, err := ParseFacts("cisco_iosxe", []string{"% Invalid input"}); err == nil {
		t.Error("facts from garbage")
	}
	if _, err := ParseFacts("nokia_sros", []string{""}); err == nil {
		t.Error("unknown platform")
	}
}
