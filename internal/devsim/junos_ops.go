package devsim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// junosTmp is the directory Junos file commands work in; the simulated flash is that
// directory.
const junosTmp = "/var/tmp/"

func (d *Device) junosShowVersion() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	build := "20230301.9c0c7d2_builder_stable_12_214"
	var b strings.Builder
	fmt.Fprintf(&b, "Hostname: %s\nModel: %s\nJunos: %s\n", d.hostname, d.model.name, d.version)
	for _, pkg := range []string{"JUNOS OS Kernel 64-bit ", "JUNOS OS libs", "JUNOS OS runtime", "JUNOS OS time zone information",
		"JUNOS network stack and utilities", "JUNOS libs", "JUNOS OS libs compat32", "JUNOS runtime", "JUNOS Packet Forwarding Engine Support (MX/EX92XX Common)"} {
		fmt.Fprintf(&b, "%s [%s]\n", pkg, build)
	}
	fmt.Fprintf(&b, "JUNOS Version %s built by builder on 2023-03-10 05:45:34 UTC\n", d.version)
	return b.String()
}

func (d *Device) junosShowHardware() string {
	var b strings.Builder
	b.WriteString("Hardware inventory:\nItem             Version  Part number  Serial number     Description\n")
	fmt.Fprintf(&b, "%-16s %-8s %-12s %-17s %s\n", "Chassis", "", "", d.serial, d.model.descr)
	fmt.Fprintf(&b, "%-16s %-8s %-12s %-17s %s\n", "Routing Engine 0", "", "BUILTIN", "BUILTIN", "RE-S-1600x8")
	fmt.Fprintf(&b, "%-16s %-8s %-12s %-17s %s\n", "FPC 0", "", "BUILTIN", "BUILTIN", d.model.descr)
	fmt.Fprintf(&b, "  %-14s %-8s %-12s %-17s %d ports\n", "PIC 0", "", "BUILTIN", "BUILTIN", len(d.model.ports))
	fmt.Fprintf(&b, "%-16s %-8s %-12s %-17s %s\n", "Power Supply 0", "REV 04", "740-045593", "1EDT"+reverse(d.serial), "AC 650W PSU")
	fmt.Fprintf(&b, "%-16s %-8s %-12s %-17s %s\n", "Fan Tray 0", "", "", "", "Fan Tray")
	return b.String()
}

// human renders bytes as Junos's "df -h" does.
func human(n int64) string {
	f := float64(n)
	for _, unit := range []string{"B", "K", "M", "G", "T"} {
		if f < 1024 || unit == "T" {
			if f < 10 && unit != "B" {
				return fmt.Sprintf("%.1f%s", f, unit)
			}
			return fmt.Sprintf("%.0f%s", f, unit)
		}
		f /= 1024
	}
	return ""
}

func (d *Device) junosStorage() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	size, free := d.model.flashSize, d.freeLocked()
	used := size - free
	var b strings.Builder
	b.WriteString("Filesystem              Size       Used      Avail  Capacity  Mounted on\n")
	fmt.Fprintf(&b, "%-20s %8s %10s %10s %8d%%  %s\n", "/dev/gpt/junos", "20G", "1.2G", "17G", 7, "/.mount")
	fmt.Fprintf(&b, "%-20s %8s %10s %10s %8d%%  %s\n", "tmpfs", "2.5G", "32K", "2.5G", 0, "/.mount/tmp")
	fmt.Fprintf(&b, "%-20s %8s %10s %10s %8d%%  %s\n", "/dev/gpt/var", human(size), human(used), human(free), used*100/max(1, size), "/.mount/var")
	return b.String()
}

func (d *Device) junosUptime() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.f.cfg.Clock().UTC()
	up := now.Sub(d.bootedAt)
	return fmt.Sprintf("Current time: %s\nTime Source:  NTP CLOCK \nSystem booted: %s (%s ago)\nLast configured: %s by %s\n%s  up %d days, %s, 1 user, load averages: 0.31, 0.28, 0.27\n",
		now.Format(junosTime), d.bootedAt.UTC().Format(junosTime), uptime(up, false),
		d.lastChange.UTC().Format(junosTime), d.changedBy, now.Format("3:04PM"), int(up.Hours()/24), now.Format("15:04"))
}

// junosPath reduces a Junos file path to a flash file name; only /var/tmp is simulated.
func junosPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		p = junosTmp + p
	}
	if !strings.HasPrefix(p, junosTmp) && p != strings.TrimSuffix(junosTmp, "/") {
		return "", false
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, strings.TrimSuffix(junosTmp, "/")), "/"), true
}

func junosFileList(s *session, args []string) (string, error) {
	detail := false
	dir := junosTmp
	for _, a := range args {
		if a == "detail" {
			detail = true
		} else {
			dir = a
		}
	}
	if name, ok := junosPath(dir); !ok || name != "" {
		s.exitStatus = 1
		return fmt.Sprintf("%s: No such file or directory\n", dir), nil
	}
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(junosTmp, "/") + ":\n")
	files := d.filesLocked()
	if detail {
		var blocks int64
		for _, f := range files {
			blocks += (f.Size + 511) / 512
		}
		fmt.Fprintf(&b, "total blocks: %d\n", blocks)
	}
	for _, f := range files {
		name := f.Name
		if f.Dir {
			name += "/"
		}
		if !detail {
			b.WriteString(name + "\n")
			continue
		}
		perm := "-rw-r--r--  1 root  wheel"
		if f.Dir {
			perm = "drwxr-xr-x  2 root  wheel"
		}
		fmt.Fprintf(&b, "%s %12d %s %s\n", perm, f.Size, f.ModTime.UTC().Format("Jan _2 15:04"), name)
	}
	if detail {
		fmt.Fprintf(&b, "total files: %d\n", len(files))
	}
	return b.String(), nil
}

func junosFileCopy(s *session, args []string) (string, error) {
	src, dst := args[0], args[1]
	name, ok := junosPath(dst)
	if !ok {
		s.exitStatus = 1
		return fmt.Sprintf("error: %s: Permission denied\nerror: file-fetch failed\n", dst), nil
	}
	if name == "" {
		name = urlFileName(src)
	}
	started := time.Now()
	f, err := s.d.download(s.ctx, src, name, func() error { return nil })
	var te *transferError
	switch {
	case errors.As(err, &te) && te.opening:
		s.exitStatus = 1
		return fmt.Sprintf("fetch: %s: %v\nerror: file-fetch failed\n", src, te.err), nil
	case errors.As(err, &te):
		s.exitStatus = 1
		return fmt.Sprintf("fetch: %s%s: %v\nerror: file-fetch failed\n", junosTmp, name, te.err), nil
	case err != nil:
		return "", err
	}
	secs := max(time.Since(started).Seconds(), 0.001)
	return fmt.Sprintf("%-44s 100%% of %6s %6sBps\n", junosTmp+name, human(f.Size), human(int64(float64(f.Size)/secs))), nil
}

func junosChecksum(s *session, args []string) (string, error) {
	name, ok := junosPath(args[0])
	d := s.d
	d.mu.Lock()
	var f *File
	if ok {
		f = d.fileLocked(name)
	}
	d.mu.Unlock()
	if f == nil || f.Dir {
		s.exitStatus = 1
		return fmt.Sprintf("md5: %s: No such file or directory\n", args[0]), nil
	}
	return fmt.Sprintf("MD5 (%s%s) = %s\n", junosTmp, name, f.MD5), nil
}

func junosFileDelete(s *session, args []string) (string, error) {
	name, ok := junosPath(args[0])
	d := s.d
	d.mu.Lock()
	deleted := ok && name != "" && d.deleteFileLocked(name)
	d.mu.Unlock()
	if !deleted {
		s.exitStatus = 1
		return fmt.Sprintf("rm: %s: No such file or directory\n", args[0]), nil
	}
	return "", nil
}

// junosSoftwareAdd installs a package: it becomes the version of the next boot.
func junosSoftwareAdd(s *session, args []string) (string, error) {
	name, ok := junosPath(args[0])
	d := s.d
	d.mu.Lock()
	var f *File
	if ok {
		f = d.fileLocked(name)
	}
	version, valid := d.plat.imageVersion(name)
	d.mu.Unlock()
	switch {
	case f == nil || f.Dir:
		s.exitStatus = 1
		return fmt.Sprintf("error: %s: No such file or directory\n", args[0]), nil
	case !valid:
		s.exitStatus = 1
		return fmt.Sprintf("ERROR: %s: not a valid package\n", args[0]), nil
	case f.corrupt:
		s.exitStatus = 1
		return fmt.Sprintf("ERROR: Package signature validation failed for %s%s\nERROR: Failed to add %s%s\n", junosTmp, name, junosTmp, name), nil
	}
	d.mu.Lock()
	d.bootVar = name
	d.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "Verified %s signed by PackageProductionECP256_2023 method ECDSA256+SHA256\n", strings.TrimSuffix(name, ".tgz"))
	fmt.Fprintf(&b, "Installing package '%s%s' ...\nSaving package file in /var/sw/pkg/%s ...\nSaving state for rollback ...\n", junosTmp, name, name)
	fmt.Fprintf(&b, "NOTICE: 'pending' set will be activated at next reboot (%s)...\n", version)
	rebootNow := false
	for _, a := range args[1:] {
		rebootNow = rebootNow || a == "reboot"
	}
	if !rebootNow {
		b.WriteString("WARNING: A reboot is required to install the software\nWARNING:     Use the 'request system reboot' command immediately\n")
		return b.String(), nil
	}
	b.WriteString("Rebooting ...\nshutdown: [pid 41231]\nShutdown NOW!\n")
	if err := s.print(b.String()); err != nil {
		return "", err
	}
	_ = s.flush()
	d.reload()
	return "", errHangup
}

func junosReboot(s *session, _ []string) (string, error) {
	answer, err := s.ask("Reboot the system ? [yes,no] (no) ")
	if err != nil {
		return "", err
	}
	if answer == "" || !strings.HasPrefix("yes", strings.ToLower(answer)) {
		return "", nil
	}
	_ = s.print(fmt.Sprintf("\n*** FINAL System shutdown message from %s@%s ***\n\nSystem going down IMMEDIATELY\n\n\nShutdown NOW!\n", s.user, s.d.name))
	_ = s.flush()
	s.d.reload()
	return "", errHangup
}
