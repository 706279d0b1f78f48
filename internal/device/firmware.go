package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/scrapli/scrapligo/channel"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/util"

	"webnet/internal/backup"
)

// The firmware operations of an upgrade, per platform. IOS-XE and EOS keep images in
// flash: and boot the first "boot system" image (IOS-XE: a configuration line, written to
// the startup configuration by "write memory"; EOS: the boot-config file, set by the exec
// command "boot system"). Junos fetches packages to /var/tmp and installs one with
// "request system software add", which boots at the next reboot.

// ImagePath is where the platform keeps image file name.
func ImagePath(platform, name string) string {
	if platform == junos {
		return "/var/tmp/" + name
	}
	return "flash:" + name
}

var (
	ciscoFreeRE = regexp.MustCompile(`\((\d+) bytes free\)`)
	// Junos's "show system storage" line of the file system holding /var (where /var/tmp is).
	junosVarRE = regexp.MustCompile(`(?m)^\S+\s+\S+\s+\S+\s+(\S+)\s+\d+%\s+\S*/var\s*$`)
	md5RE      = regexp.MustCompile(`(?i)(?:=|\s)\s*([0-9a-f]{32})\s*$`)
	// An IOS-XE or EOS file operation that failed: "%Error opening …", "% Error copying …".
	ciscoFileErrRE = regexp.MustCompile(`(?m)^%\s?Error.*$`)
	// A Junos operation that failed: "error: …", "ERROR: …", "fetch: …: No space left on device".
	junosErrRE = regexp.MustCompile(`(?m)^(?:error:|ERROR:|fetch: ).*$`)
)

// iosCopyDone is what ends an IOS-XE copy: the question whether to overwrite an existing
// file, or the privileged prompt (the patterns are regular expressions).
const iosCopyDone = `(?im)(do you want to over write\? \[confirm\]|^[\w.\-@/:]{1,63}#\s*$)`

// FlashFree returns the bytes free where images are stored.
func (s *Session) FlashFree(ctx context.Context) (int64, error) {
	if s.platform == junos {
		out, err := s.Run(ctx, "show system storage")
		if err != nil {
			return 0, err
		}
		m := junosVarRE.FindStringSubmatch(out)
		if m == nil {
			return 0, errors.New("cannot read the free space of /var from \"show system storage\"")
		}
		return parseHumanSize(m[1])
	}
	out, err := s.Run(ctx, "dir flash:")
	if err != nil {
		return 0, err
	}
	m := ciscoFreeRE.FindStringSubmatch(out)
	if m == nil {
		return 0, errors.New("cannot read the free space from \"dir flash:\"")
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// parseHumanSize reads Junos's sizes ("17G", "1.2G", "512M", "32K", "734B"). They are
// rounded: the result is a lower bound only to the precision the device printed.
func parseHumanSize(s string) (int64, error) {
	mult := float64(1)
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult, num = 1<<10, s[:n-1]
		case 'M':
			mult, num = 1<<20, s[:n-1]
		case 'G':
			mult, num = 1<<30, s[:n-1]
		case 'T':
			mult, num = 1<<40, s[:n-1]
		case 'B':
			num = s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("cannot read the size %q", s)
	}
	return int64(f * mult), nil
}

// FileMD5 returns the MD5 the device computes of the image file name, or "" when the file is
// not there.
func (s *Session) FileMD5(ctx context.Context, name string) (string, error) {
	path := ImagePath(s.platform, name)
	cmd := "verify /md5 " + path
	if s.platform == junos {
		cmd = "file checksum md5 " + path
	}
	var out string
	err := s.guard(ctx, func() error {
		// Hashing a gigabyte takes the device a while: allow more than one command's time.
		r, err := s.d.SendCommand(cmd, opoptions.WithTimeoutOps(max(s.opTimeout, 10*time.Minute)))
		if err != nil {
			s.broken = true
			return cleanErr(ctx, err)
		}
		out = r.Result
		return nil
	})
	if err != nil {
		return "", err
	}
	if strings.Contains(out, "No such file") {
		return "", nil
	}
	m := md5RE.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return "", fmt.Errorf("%q answered without a checksum: %s", cmd, firstLine(out))
	}
	return strings.ToLower(m[1]), nil
}

// CopyImage has the device fetch url into its image storage as name, waiting up to limit
// for the transfer. The device's own error ("No space left on device", "I/O error") is the
// error's text.
func (s *Session) CopyImage(ctx context.Context, url, name string, limit time.Duration) error {
	path := ImagePath(s.platform, name)
	var out string
	err := s.guard(ctx, func() error {
		var err error
		switch s.platform {
		case "cisco_iosxe":
			// IOS-XE asks for the destination name (and whether to overwrite an existing
			// file) unless "file prompt quiet" is configured.
			out, err = s.interactive(limit, []*channel.SendInteractiveEvent{
				{ChannelInput: "copy " + url + " " + path, ChannelResponse: "Destination filename"},
				{ChannelInput: "", ChannelResponse: iosCopyDone},
			})
			if err == nil && strings.Contains(out, "Do you want to over write") {
				var more string
				more, err = s.interactive(limit, []*channel.SendInteractiveEvent{{ChannelInput: "", ChannelResponse: ""}})
				out += more
			}
		case junos:
			out, err = s.command("file copy "+url+" "+path, limit)
		default:
			out, err = s.command("copy "+url+" "+path, limit)
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.fileError(out)
}

// fileError is the device's error in the output of a file operation, if any.
func (s *Session) fileError(out string) error {
	re := ciscoFileErrRE
	if s.platform == junos {
		re = junosErrRE
	}
	if m := re.FindString(out); m != "" {
		return fmt.Errorf("the device said: %s", strings.TrimSpace(m))
	}
	return nil
}

// DeleteImage removes image file name from the device's storage (a failed transfer's
// leftover).
func (s *Session) DeleteImage(ctx context.Context, name string) error {
	path := ImagePath(s.platform, name)
	cmd := "delete /force " + path
	if s.platform == junos {
		cmd = "file delete " + path
	}
	out, err := s.Run(ctx, cmd)
	if err != nil {
		return err
	}
	return s.fileError(out)
}

// SetBoot makes image name the one the device boots next: IOS-XE replaces its "boot system"
// lines (in the running configuration: Save makes it the boot variable), EOS sets its
// boot-config, Junos installs the package (durable; it activates at the next reboot).
func (s *Session) SetBoot(ctx context.Context, name string) error {
	path := ImagePath(s.platform, name)
	switch s.platform {
	case "cisco_iosxe":
		_, err := s.Configure(ctx, []string{"no boot system", "boot system " + path})
		return err
	case junos:
		var out string
		err := s.guard(ctx, func() error {
			var err error
			// Validating and installing a package takes minutes on real devices.
			out, err = s.command("request system software add "+path+" no-validate", max(s.opTimeout, 30*time.Minute))
			return err
		})
		if err != nil {
			return err
		}
		return s.fileError(out)
	default:
		out, err := s.Run(ctx, "boot system "+path)
		if err != nil {
			return err
		}
		return s.fileError(out)
	}
}

// BootImage returns the image file the device boots next ("" if it cannot tell): IOS-XE's
// first boot variable of the next reload, EOS's boot-config image. Junos reports the
// pending package only through the install's own output, so it returns "".
func (s *Session) BootImage(ctx context.Context) (string, error) {
	var cmd string
	var re *regexp.Regexp
	switch s.platform {
	case "cisco_iosxe":
		cmd, re = "show boot", regexp.MustCompile(`(?s)Boot Variables on next reload:\s*BOOT variable = (?:bootflash:|flash:)/?([^;,\s]+)`)
	case junos:
		return "", nil
	default:
		cmd, re = "show boot-config", regexp.MustCompile(`Software image: flash:/?(\S+)`)
	}
	out, err := s.Run(ctx, cmd)
	if err != nil {
		return "", err
	}
	if m := re.FindStringSubmatch(out); m != nil {
		return m[1], nil
	}
	return "", nil
}

// Reload restarts the device now. The device drops the session as it goes down, so the
// session is unusable afterwards; an error means the device did not accept the reload.
func (s *Session) Reload(ctx context.Context) error {
	var out string
	err := s.guard(ctx, func() error {
		var err error
		switch s.platform {
		case "cisco_iosxe":
			out, err = s.interactive(s.opTimeout, []*channel.SendInteractiveEvent{
				{ChannelInput: "reload", ChannelResponse: "Proceed with reload"},
				{ChannelInput: "", ChannelResponse: "Reload requested"},
			})
		case junos:
			out, err = s.interactive(s.opTimeout, []*channel.SendInteractiveEvent{
				{ChannelInput: "request system reboot", ChannelResponse: "Reboot the system"},
				{ChannelInput: "yes", ChannelResponse: "Shutdown NOW"},
			})
		default:
			out, err = s.interactive(s.opTimeout, []*channel.SendInteractiveEvent{
				{ChannelInput: "reload now", ChannelResponse: "going down for reboot"},
			})
		}
		return err
	})
	// Whatever happened, the session is over: the device went down or is mid-question.
	s.broken = true
	switch {
	case err == nil:
		return nil
	case strings.Contains(out, "Reload requested") || strings.Contains(out, "going down") || strings.Contains(out, "Shutdown NOW"):
		return nil // it said it goes down, then dropped the connection
	case errors.Is(err, util.ErrConnectionError) || errors.Is(err, io.EOF):
		// The device dropped the session after taking the command: it is going down. (Had
		// the connection failed for another reason, the version check after the wait
		// finds the device on its old version.)
		return nil
	}
	return fmt.Errorf("reload: %w", cleanErr(ctx, err))
}

// Unsaved reports whether the running configuration differs from the one the device boots
// with (IOS-XE and EOS: running against startup, noise masked, headers ignored), with the
// number of lines that differ. Junos has nothing to save — a commit is durable — so it
// reports false.
func (s *Session) Unsaved(ctx context.Context) (bool, int, error) {
	if s.platform == junos {
		return false, 0, nil
	}
	running, err := s.Run(ctx, "show running-config")
	if err != nil {
		return false, 0, err
	}
	startup, err := s.Run(ctx, "show startup-config")
	if err != nil {
		return false, 0, err
	}
	a, b := configBody(s.platform, running), configBody(s.platform, startup)
	if a == b {
		return false, 0, nil
	}
	diff := backup.Diff(s.platform, "startup-config", "running-config", []byte(b), []byte(a))
	n := 0
	for _, l := range strings.Split(diff, "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			n++
		}
	}
	return n > 0, n, nil
}

// configBody is a configuration without what differs between running and startup by nature:
// the command's header and comment lines (build banners, "Last configuration change", the
// size), with the platform's noise masked.
func configBody(platform, config string) string {
	var b strings.Builder
	for _, l := range strings.Split(string(backup.Mask(platform, []byte(config))), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "!") || strings.HasPrefix(t, "Building configuration") ||
			strings.HasPrefix(t, "Current configuration") || strings.HasPrefix(t, "Using ") {
			continue
		}
		b.WriteString(strings.TrimRight(l, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// command sends one command with its own time limit and returns the output (errors of the
// channel only; the caller reads the device's answer).
func (s *Session) command(cmd string, limit time.Duration) (string, error) {
	r, err := s.d.SendCommand(cmd, opoptions.WithTimeoutOps(limit))
	if err != nil {
		s.broken = true
		return "", err
	}
	return r.Result, nil
}

// interactive sends events (each input, then waiting for its expected answer; "" waits for
// the prompt) with a time limit for all.
func (s *Session) interactive(limit time.Duration, events []*channel.SendInteractiveEvent) (string, error) {
	r, err := s.d.SendInteractive(events, opoptions.WithTimeoutOps(limit))
	if err != nil {
		s.broken = true
		if r != nil {
			return r.Result, err
		}
		return "", err
	}
	return r.Result, nil
}
