package devsim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// showConfig renders the running or startup configuration as the device prints it.
func (d *Device) showConfig(startup bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.plat.name == Junos:
		return d.junosConfigTextLocked(d.runningLocked(), "")
	case d.plat.name == EOS:
		return d.eosConfigTextLocked(startup)
	}
	return d.iosConfigTextLocked(startup)
}

// iosConfigTextLocked renders "show running-config" or "show startup-config" of IOS-XE.
func (d *Device) iosConfigTextLocked(startup bool) string {
	c := d.runningLocked()
	if startup {
		c = d.startupLocked()
	}
	short := strings.TrimLeft(majorMinor(d.version), "0")
	var b strings.Builder
	fmt.Fprintf(&b, "!\n! Last configuration change at %s by %s\n", d.lastChange.UTC().Format(iosTime), d.changedBy)
	fmt.Fprintf(&b, "! NVRAM config last updated at %s by %s\n!\n", d.lastSave.UTC().Format(iosTime), d.changedBy)
	fmt.Fprintf(&b, "version %s\n", short)
	b.WriteString(c.body())
	b.WriteString("end\n")
	text := resalt(b.String(), d.noiseLocked())
	if startup {
		return fmt.Sprintf("Using %d out of 2097152 bytes\n%s", len(text), text)
	}
	return fmt.Sprintf("Building configuration...\n\nCurrent configuration : %d bytes\n%s", len(text), text)
}

// majorMinor is "17.9" for "17.09.04a": the "version" line of an IOS configuration.
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + strings.TrimLeft(parts[1], "0")
}

// eosConfigTextLocked renders EOS's "show running-config" or "show startup-config".
func (d *Device) eosConfigTextLocked(startup bool) string {
	var b strings.Builder
	c := d.runningLocked()
	if startup {
		c = d.startupLocked()
		fmt.Fprintf(&b, "! Command: show startup-config\n! Startup-config last modified at %s by %s\n",
			d.lastSave.UTC().Format(eosTime), d.changedBy)
	} else {
		fmt.Fprintf(&b, "! Command: show running-config\n! Time: %s\n", d.f.cfg.Clock().UTC().Format(eosTime))
	}
	fmt.Fprintf(&b, "! device: %s (%s, EOS-%s)\n!\n! boot system flash:/%s\n!\n", d.hostname, d.model.name, d.version, d.eosBootImageLocked())
	b.WriteString(c.body())
	b.WriteString("end\n")
	return resalt(b.String(), d.noiseLocked())
}

func (d *Device) eosBootImageLocked() string {
	if d.bootVar != "" {
		return d.bootVar
	}
	return d.image
}

// bootImageLocked is the image the device boots next: IOS-XE's first "boot system" line of
// the startup configuration (the boot variable is written when the configuration is saved),
// EOS's boot-config, Junos's installed package. Empty means the running image.
func (d *Device) bootImageLocked() string {
	switch d.plat.name {
	case EOS, Junos:
		return d.bootVar
	}
	images := iosBootImages(d.startupLocked())
	for _, img := range images {
		if f := d.fileLocked(img); f != nil && !f.corrupt {
			return img
		}
	}
	if len(images) > 0 {
		return images[0]
	}
	return ""
}

// iosBootImages lists the files of a configuration's "boot system" lines, in order.
func iosBootImages(c config) []string {
	var out []string
	for _, l := range c.(*ciscoConfig).lines {
		if v, ok := strings.CutPrefix(l.text, "boot system "); ok {
			v = strings.TrimPrefix(v, "switch all ")
			out = append(out, flashName(v))
		}
	}
	return out
}

// BootImage is the image file the device boots on its next reload ("" for the running one).
func (d *Device) BootImage() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if img := d.bootImageLocked(); img != "" {
		return img
	}
	return d.image
}

// flashName strips the file system from a flash path: "flash:/x.bin", "flash:x.bin" and
// "/var/tmp/x.tgz" all name the file "x.bin" or "x.tgz".
func flashName(p string) string {
	p = strings.TrimPrefix(p, "flash:")
	p = strings.TrimPrefix(p, "bootflash:")
	p = strings.TrimPrefix(p, "/mnt/flash")
	p = strings.TrimPrefix(p, "/var/tmp")
	return strings.TrimPrefix(p, "/")
}

// uptime renders a duration as "1 week, 2 days, 3 hours, 4 minutes".
func uptime(d time.Duration, lastAnd bool) string {
	mins := int(d.Minutes())
	parts := []struct {
		n    int
		unit string
	}{{mins / (7 * 24 * 60), "week"}, {mins / (24 * 60) % 7, "day"}, {mins / 60 % 24, "hour"}, {mins % 60, "minute"}}
	var out []string
	for _, p := range parts {
		if p.n == 0 && !(p.unit == "minute" && len(out) == 0) {
			continue
		}
		s := fmt.Sprintf("%d %s", p.n, p.unit)
		if p.n != 1 {
			s += "s"
		}
		out = append(out, s)
	}
	if lastAnd && len(out) > 1 {
		return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
	}
	return strings.Join(out, ", ")
}

// mac derives the device's base MAC address from its serial number.
func (d *Device) mac() [6]byte {
	h := fnv.New64a()
	h.Write([]byte(d.serial))
	v := h.Sum64()
	oui := map[string][3]byte{IOSXE: {0x70, 0x1f, 0x53}, EOS: {0x00, 0x1c, 0x73}, Junos: {0x2c, 0x6b, 0xf5}}[d.plat.name]
	return [6]byte{oui[0], oui[1], oui[2], byte(v >> 16), byte(v >> 8), byte(v)}
}

func (d *Device) iosShowVersion() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.f.cfg.Clock()
	m := d.mac()
	short := strings.TrimLeft(strings.ReplaceAll(d.version, ".0", "."), "0")
	var b strings.Builder
	fmt.Fprintf(&b, "Cisco IOS XE Software, Version %s\n", d.version)
	fmt.Fprintf(&b, "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version %s, RELEASE SOFTWARE (fc3)\n", short)
	b.WriteString("Technical Support: http://www.cisco.com/techsupport\nCopyright (c) 1986-2024 by Cisco Systems, Inc.\nCompiled Fri 20-Oct-23 10:44 by mcpre\n\n\n")
	b.WriteString("Cisco IOS-XE software, Copyright (c) 2005-2024 by cisco Systems, Inc.\nAll rights reserved.  Certain components of Cisco IOS-XE software are\nlicensed under the GNU General Public License (\"GPL\") Version 2.0.\n\n\n")
	b.WriteString("ROM: IOS-XE ROMMON\nBOOTLDR: System Bootstrap, Version 17.9.1r, RELEASE SOFTWARE (P)\n\n")
	fmt.Fprintf(&b, "%s uptime is %s\n", d.hostname, uptime(now.Sub(d.bootedAt), false))
	fmt.Fprintf(&b, "Uptime for this control processor is %s\n", uptime(now.Sub(d.bootedAt)+2*time.Minute, false))
	b.WriteString("System returned to ROM by Reload Command\n")
	fmt.Fprintf(&b, "System image file is \"flash:%s\"\nLast reload reason: Reload Command\n\n\n", d.image)
	b.WriteString("This product contains cryptographic features and is subject to United\nStates and local country laws governing import, export, transfer and\nuse. Delivery of Cisco cryptographic products does not imply\nthird-party authority to import, export, distribute or use encryption.\n\n\n")
	b.WriteString("Technology Package License Information:\n\n------------------------------------------------------------------------------\nTechnology-package                                     Technology-package\nCurrent                        Type                       Next reboot\n------------------------------------------------------------------------------\nnetwork-advantage     \tSmart License                 \t network-advantage\ndna-advantage         \tSubscription Smart License    \t dna-advantage\n\n\n")
	fmt.Fprintf(&b, "cisco %s (X86) processor with 1339440K/6147K bytes of memory.\nProcessor board ID %s\n", d.model.name, d.serial)
	fmt.Fprintf(&b, "%d Ethernet interfaces\n1 Virtual Ethernet interface\n", len(d.model.ports))
	b.WriteString("2048K bytes of non-volatile configuration memory.\n8388608K bytes of physical memory.\n1638400K bytes of Crash Files at crashinfo:.\n")
	fmt.Fprintf(&b, "%dK bytes of Flash at flash:.\n\n", d.model.flashSize/1024)
	fmt.Fprintf(&b, "Base Ethernet MAC Address          : %02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5])
	fmt.Fprintf(&b, "Motherboard Assembly Number        : 73-18785-05\nModel Revision Number              : C0\nModel Number                       : %s\nSystem Serial Number               : %s\n\n\n", d.model.name, d.serial)
	b.WriteString("Switch Ports Model              SW Version        SW Image              Mode   \n------ ----- -----              ----------        ----------            ----   \n")
	fmt.Fprintf(&b, "*    1 %-5d %-18s %-17s CAT9K_IOSXE           BUNDLE \n\n\n", len(d.model.ports)+1, d.model.name, d.version)
	b.WriteString("Configuration register is 0x102\n")
	return b.String()
}

func (d *Device) eosShowVersion() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.mac()
	mac := fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	var b strings.Builder
	fmt.Fprintf(&b, "Arista %s\nHardware version: 11.00\nSerial number: %s\n", d.model.name, d.serial)
	fmt.Fprintf(&b, "Hardware MAC address: %s\nSystem MAC address: %s\n\n", mac, mac)
	fmt.Fprintf(&b, "Software image version: %s\nArchitecture: x86_64\nInternal build version: %s-%d.%s\n", d.version, d.version, 28000000+int(m[5])*1000, strings.ReplaceAll(d.version, ".", ""))
	b.WriteString("Internal build ID: 3d1bd4a1-6f25-47a4-9a4b-55b5c7e1a1c1\nImage format version: 3.0\nImage optimization: Strata-4GB\n\n")
	fmt.Fprintf(&b, "Uptime: %s\nTotal memory: 8098532 kB\nFree memory: %d kB\n", uptime(d.f.cfg.Clock().Sub(d.bootedAt), true), 5_000_000+int(m[4])*1000)
	return b.String()
}

func (d *Device) iosShowInventory() string {
	var b strings.Builder
	entry := func(name, descr, pid, vid, sn string) {
		fmt.Fprintf(&b, "NAME: %q, DESCR: %q\nPID: %-18s, VID: %-5s, SN: %s\n\n", name, descr, pid, vid, sn)
	}
	entry("c93xx Stack", "c93xx Stack", d.model.name, "V02", d.serial)
	entry("Switch 1", d.model.descr, d.model.name, "V02", d.serial)
	entry("Switch 1 - Power Supply A", "Switch 1 - Power Supply A", "PWR-C1-715WAC", "V03", "LIT"+d.serial[3:])
	entry("Switch 1 FRU Uplink Module 1", "8x10G Uplink Module", "C9300-NM-8X", "V02", "FOC"+reverse(d.serial[3:]))
	return b.String()
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func (d *Device) eosShowInventory() string {
	var b strings.Builder
	b.WriteString("System information\n  Model                    Description\n  ------------------------ ----------------------------------------------------\n")
	fmt.Fprintf(&b, "  %-24s %s\n\n", d.model.name, d.model.descr)
	b.WriteString("  HW Version  Serial Number  Mfg Date    Epoch\n  ----------- -------------- ----------- --------\n")
	fmt.Fprintf(&b, "  11.00       %-14s 2021-03-02  2.00\n\n", d.serial)
	b.WriteString("System has 2 power supply slots\n  Slot Model            Serial Number\n  ---- ---------------- ----------------\n")
	fmt.Fprintf(&b, "  1    PWR-511-AC-RED   EEWT%s\n  2    PWR-511-AC-RED   EEWT%s\n\n", d.serial[3:], reverse(d.serial[3:]))
	b.WriteString("System has 4 fan modules\n  Module  Number of Fans  Model            Serial Number\n  ------- --------------- ---------------- ----------------\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "  %-7d 1               FAN-7000-AC      N/A\n", i)
	}
	return b.String()
}

// dirListing renders the flash directory as IOS-XE ("dir") or EOS ("dir flash:") do.
func (d *Device) dirListing(eos bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	b.WriteString("Directory of flash:/\n\n")
	for _, f := range d.filesLocked() {
		h := fnv.New32a()
		h.Write([]byte(f.Name))
		perm := "-rw-"
		if eos {
			perm = "-rwx"
		}
		if f.Dir {
			perm = "drwx"
		}
		if eos {
			fmt.Fprintf(&b, "       %s %12d  %s  %s\n", perm, f.Size, f.ModTime.UTC().Format("Jan _2 15:04"), f.Name)
		} else {
			fmt.Fprintf(&b, "%7d  %s %15d  %s  %s\n", h.Sum32()%900000+1000, perm, f.Size, f.ModTime.UTC().Format("Jan 2 2006 15:04:05 -07:00"), f.Name)
		}
	}
	fmt.Fprintf(&b, "\n%d bytes total (%d bytes free)\n", d.model.flashSize, d.freeLocked())
	return b.String()
}
