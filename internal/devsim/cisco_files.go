package devsim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// fileCopyQuiet reports whether IOS-XE asks no confirmations for file operations ("file
// prompt quiet" in the running configuration), as real devices do.
func (d *Device) fileCopyQuiet() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.runningLocked().(*ciscoConfig).lines {
		if l.text == "file prompt quiet" {
			return true
		}
	}
	return false
}

func (c ciscoCLI) writeMemory(s *session, _ []string) (string, error) {
	s.d.mu.Lock()
	s.d.saveLocked(s.user)
	s.d.mu.Unlock()
	return c.pick("Building configuration...\n[OK]\n", "Copy completed successfully.\n"), nil
}

func (c ciscoCLI) copyRunStart(s *session, args []string) (string, error) {
	if !c.eos && !s.d.fileCopyQuiet() {
		if _, err := s.ask("Destination filename [startup-config]? "); err != nil {
			return "", err
		}
	}
	return c.writeMemory(s, args)
}

// copy copies an image from an HTTP URL into flash. Other sources and destinations are not
// simulated.
func (c ciscoCLI) copy(s *session, args []string) (string, error) {
	src, dst := args[0], args[1]
	if !strings.HasPrefix(dst, "flash:") && !strings.HasPrefix(dst, "bootflash:") {
		s.exitStatus = 1
		return c.pick(fmt.Sprintf("%%Error opening %s (Permission denied)\n", dst),
			fmt.Sprintf("%% Error copying %s to %s (Permission denied)\n", src, dst)), nil
	}
	name := flashName(dst)
	if name == "" {
		name = urlFileName(src)
	}
	if !c.eos && !s.d.fileCopyQuiet() {
		answer, err := s.ask(fmt.Sprintf("Destination filename [%s]? ", name))
		if err != nil {
			return "", err
		}
		if answer != "" {
			name = flashName(answer)
		}
		s.d.mu.Lock()
		exists := s.d.fileLocked(name) != nil
		s.d.mu.Unlock()
		if exists {
			ok, err := s.confirm("%Warning:There is a file already existing with this name\nDo you want to over write? [confirm]")
			if err != nil || !ok {
				return "", err
			}
		}
	}
	if !c.eos {
		if err := s.print(fmt.Sprintf("Accessing %s...\nLoading %s ", src, src)); err != nil {
			return "", err
		}
		_ = s.flush()
	}
	started := time.Now()
	f, err := s.d.download(s.ctx, src, name, func() error {
		if c.eos {
			return nil
		}
		if err := s.emit("!"); err != nil {
			return err
		}
		return s.flush()
	})
	var te *transferError
	switch {
	case errors.As(err, &te):
		s.exitStatus = 1
		if c.eos {
			return fmt.Sprintf("\n%% Error copying %s to flash:/%s (%v)\n", src, name, te.err), nil
		}
		verb := "copying"
		if te.opening {
			verb = "opening"
		} else if errors.Is(te, errAborted) {
			verb = "reading"
		}
		return fmt.Sprintf("\n%%Error %s %s (%v)\n", verb, src, te.err), nil
	case err != nil:
		return "", err // the session is gone
	}
	if c.eos {
		return "Copy completed successfully.\n", nil
	}
	secs := max(time.Since(started).Seconds(), 0.001)
	return fmt.Sprintf("\n[OK - %d/4096 bytes]\n\n%d bytes copied in %.3f secs (%d bytes/sec)\n",
		f.Size, f.Size, secs, int64(float64(f.Size)/secs)), nil
}

func (c ciscoCLI) verifyMD5(s *session, args []string) (string, error) {
	name := flashName(args[0])
	d := s.d
	d.mu.Lock()
	f := d.fileLocked(name)
	d.mu.Unlock()
	if f == nil || f.Dir {
		s.exitStatus = 1
		return c.pick(fmt.Sprintf("%%Error opening flash:%s (No such file or directory)\n", name),
			fmt.Sprintf("%% Error: flash:/%s: No such file or directory\n", name)), nil
	}
	dots := ""
	if !c.eos {
		dots = strings.Repeat(".", int(min(f.Size/(32<<20), 60))) + "Done!\n"
	}
	if len(args) == 2 {
		if strings.EqualFold(args[1], f.MD5) {
			return fmt.Sprintf("%sVerified (flash:%s) = %s\n", dots, name, f.MD5), nil
		}
		s.exitStatus = 1
		return fmt.Sprintf("%s%%Error verifying flash:%s\nComputed signature = %s\nSubmitted signature = %s\n", dots, name, f.MD5, args[1]), nil
	}
	return fmt.Sprintf("%sverify /md5 (flash:%s) = %s\n", dots, name, f.MD5), nil
}

func (c ciscoCLI) delete(s *session, args []string) (string, error) {
	force := len(args) > 0 && args[0] == "/force"
	if force {
		args = args[1:]
	}
	if len(args) != 1 {
		return "", c.invalid(s, "delete "+strings.Join(args, " "), 1)
	}
	name := flashName(args[0])
	if !c.eos && !force && !s.d.fileCopyQuiet() {
		if _, err := s.ask(fmt.Sprintf("Delete filename [%s]? ", name)); err != nil {
			return "", err
		}
		ok, err := s.confirm(fmt.Sprintf("Delete flash:/%s? [confirm]", name))
		if err != nil || !ok {
			return "", err
		}
	}
	s.d.mu.Lock()
	deleted := s.d.deleteFileLocked(name)
	s.d.mu.Unlock()
	if !deleted {
		s.exitStatus = 1
		return c.pick(fmt.Sprintf("%%Error deleting flash:/%s (No such file or directory)\n", name),
			fmt.Sprintf("%% Error deleting flash:/%s: No such file or directory\n", name)), nil
	}
	return "", nil
}

// reload asks to save unsaved changes and to confirm, then reloads: the session drops.
func (c ciscoCLI) reload(s *session, args []string) (string, error) {
	now := len(args) > 0 && c.eos && args[0] == "now"
	if len(args) > 0 && !now {
		return "", c.invalid(s, "reload "+strings.Join(args, " "), 1)
	}
	if !now && s.d.Unsaved() {
		question := c.pick("System configuration has been modified. Save? [yes/no]: ",
			"System configuration has been modified. Save? [yes/no/cancel/diff]:")
		saved := false
		for tries := 0; ; tries++ {
			if tries == 3 {
				return "% Reload aborted\n", nil
			}
			answer, err := s.ask(question)
			if err != nil {
				return "", err
			}
			answer = strings.ToLower(answer)
			switch {
			case answer != "" && strings.HasPrefix("yes", answer):
				s.d.mu.Lock()
				s.d.saveLocked(s.user)
				s.d.mu.Unlock()
				if err := s.print(c.pick("Building configuration...\n[OK]\n", "Copy completed successfully.\n")); err != nil {
					return "", err
				}
				saved = true
			case answer != "" && strings.HasPrefix("no", answer):
				saved = true
			case c.eos && answer != "" && strings.HasPrefix("cancel", answer):
				return "", nil
			default:
				if err := s.print("% Please answer 'yes' or 'no'.\n"); err != nil {
					return "", err
				}
			}
			if saved {
				break
			}
		}
	}
	if !now {
		ok, err := s.confirm("Proceed with reload? [confirm]")
		if err != nil || !ok {
			return "", err
		}
	}
	at := s.d.f.cfg.Clock().UTC().Format("Jan _2 15:04:05.000")
	_ = s.print(c.pick(fmt.Sprintf("\n*%s: %%SYS-5-RELOAD: Reload requested by %s on vty0. Reload Reason: Reload Command.\n", at, s.user),
		"\nBroadcast message from root@"+s.d.name+"\n\tThe system is going down for reboot NOW!\n"))
	_ = s.flush()
	s.d.reload()
	return "", errHangup
}
