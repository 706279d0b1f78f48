package devsim

import (
	"fmt"
	"regexp"
	"strings"
)

// platform is the fixed description of one simulated operating system. The tables below are
// read-only after package initialisation.
type platform struct {
	name       string
	sshVersion string // the server's SSH identification string, as the real devices send it
	role       string // middle part of generated host names
	models     []*model
	versions   []string       // versions a device may run when the fleet starts
	versionRE  *regexp.Regexp // finds an image's version in its file name
	imageExt   string         // an image must end so to be bootable
	indent     string         // one level of indentation in the running configuration
	more       string         // the pager's prompt
}

// model is one hardware model of a platform.
type model struct {
	name         string
	descr        string
	ports        []string // front-panel interface names, in order
	mgmt         string   // management interface
	flashSize    int64    // bytes
	imageSize    int64    // approximate size of a release image, bytes
	imageFmt     string   // the release image's file name, %s is the version
	serialPrefix string
	serialDigits int
}

// Image version rule: the version of an image is the first match of its platform's versionRE
// in the file name, and an image is bootable only if its name also ends with the platform's
// imageExt. So cat9k_iosxe.17.09.04a.SPA.bin boots 17.09.04a, EOS-4.30.1F.swi boots 4.30.1F
// and junos-install-mx-x86-64-21.4R3-S5.4.tgz installs 21.4R3-S5.4.
var (
	iosVersionRE   = regexp.MustCompile(`\d+\.\d+\.\d+[a-z]?`)
	eosVersionRE   = regexp.MustCompile(`\d+\.\d+\.\d+[A-Z]*`)
	junosVersionRE = regexp.MustCompile(`\d+\.\d+R\d+(?:-S\d+)?(?:\.\d+)?`)
)

// imageVersion returns the version an image file boots, and whether it is bootable at all.
func (p *platform) imageVersion(file string) (string, bool) {
	if !strings.HasSuffix(file, p.imageExt) {
		return "", false
	}
	v := p.versionRE.FindString(file)
	return v, v != ""
}

// numbered returns the interface names f%d for n in [from, to].
func numbered(f string, from, to int) []string {
	out := make([]string, 0, to-from+1)
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf(f, n))
	}
	return out
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var platforms = map[string]*platform{
	IOSXE: {
		name: IOSXE, sshVersion: "SSH-2.0-Cisco-1.25", role: "acc-sw",
		versions:  []string{"17.06.05", "17.09.04a", "17.09.05", "17.12.03"},
		versionRE: iosVersionRE, imageExt: ".bin", indent: " ", more: " --More-- ",
		models: []*model{
			{name: "C9300-48P", descr: "C9300-48P", mgmt: "GigabitEthernet0/0",
				ports:     concat(numbered("GigabitEthernet1/0/%d", 1, 48), numbered("TenGigabitEthernet1/1/%d", 1, 4)),
				flashSize: 11353194496, imageSize: 1_249_000_000, imageFmt: "cat9k_iosxe.%s.SPA.bin",
				serialPrefix: "FOC", serialDigits: 8},
			{name: "C9300-24T", descr: "C9300-24T", mgmt: "GigabitEthernet0/0",
				ports:     concat(numbered("GigabitEthernet1/0/%d", 1, 24), numbered("TenGigabitEthernet1/1/%d", 1, 4)),
				flashSize: 11353194496, imageSize: 1_249_000_000, imageFmt: "cat9k_iosxe.%s.SPA.bin",
				serialPrefix: "FCW", serialDigits: 8},
			{name: "C9500-24Y4C", descr: "C9500-24Y4C", mgmt: "GigabitEthernet0/0",
				ports:     concat(numbered("TwentyFiveGigE1/0/%d", 1, 24), numbered("HundredGigE1/0/%d", 25, 28)),
				flashSize: 11353194496, imageSize: 1_249_000_000, imageFmt: "cat9k_iosxe.%s.SPA.bin",
				serialPrefix: "FDO", serialDigits: 8},
		},
	},
	EOS: {
		name: EOS, sshVersion: "SSH-2.0-OpenSSH_8.7", role: "leaf",
		versions:  []string{"4.28.3M", "4.29.2F", "4.30.4M", "4.31.2F"},
		versionRE: eosVersionRE, imageExt: ".swi", indent: "   ", more: " --More-- ",
		models: []*model{
			{name: "DCS-7050SX3-48YC8", descr: "48x25G SFP and 8x100G QSFP switch", mgmt: "Management1",
				ports:     concat(numbered("Ethernet%d", 1, 48), numbered("Ethernet%d/1", 49, 56)),
				flashSize: 3957878784, imageSize: 1_012_000_000, imageFmt: "EOS-%s.swi",
				serialPrefix: "JPE", serialDigits: 8},
			{name: "DCS-7280SR-48C6", descr: "48x10G SFP and 6x100G QSFP switch", mgmt: "Management1",
				ports:     concat(numbered("Ethernet%d", 1, 48), numbered("Ethernet%d/1", 49, 54)),
				flashSize: 3957878784, imageSize: 1_012_000_000, imageFmt: "EOS-%s.swi",
				serialPrefix: "SSJ", serialDigits: 8},
			{name: "DCS-720XP-24ZY4", descr: "24x2.5G PoE and 4x25G SFP switch", mgmt: "Management1",
				ports:     numbered("Ethernet%d", 1, 28),
				flashSize: 3957878784, imageSize: 1_012_000_000, imageFmt: "EOS-%s.swi",
				serialPrefix: "HBG", serialDigits: 8},
		},
	},
	Junos: {
		name: Junos, sshVersion: "SSH-2.0-OpenSSH_7.5", role: "edge-rt",
		versions:  []string{"20.4R3-S9.2", "21.4R3-S5.4", "22.4R2-S2.6", "23.2R1.14"},
		versionRE: junosVersionRE, imageExt: ".tgz", indent: "    ", more: "---(more)---",
		models: []*model{
			{name: "mx204", descr: "MX204", mgmt: "fxp0",
				ports:     concat(numbered("et-0/0/%d", 0, 3), numbered("xe-0/1/%d", 0, 7)),
				flashSize: 18_253_611_008, imageSize: 2_791_000_000, imageFmt: "junos-vmhost-install-mx-x86-64-%s.tgz",
				serialPrefix: "BD", serialDigits: 3},
			{name: "ex4300-48t", descr: "EX4300-48T", mgmt: "me0",
				ports:     concat(numbered("ge-0/0/%d", 0, 47), numbered("xe-0/2/%d", 0, 3)),
				flashSize: 1_949_999_104, imageSize: 471_000_000, imageFmt: "jinstall-ex-4300-%s-signed.tgz",
				serialPrefix: "PE37", serialDigits: 8},
			{name: "qfx5120-48y-8c", descr: "QFX5120-48Y-8C", mgmt: "em0",
				ports:     concat(numbered("xe-0/0/%d", 0, 47), numbered("et-0/0/%d", 48, 55)),
				flashSize: 18_253_611_008, imageSize: 1_456_000_000, imageFmt: "jinstall-host-qfx-5e-x86-64-%s-secure-signed.tgz",
				serialPrefix: "WS37", serialDigits: 8},
		},
	},
}

// sites are the first part of generated host names.
var sites = []string{"ams", "fra", "lon", "par", "nyc", "chi", "sfo", "sin", "syd", "tyo", "gru", "jnb"}
