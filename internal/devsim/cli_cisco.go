package devsim

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ciscoCLI is the command line of IOS-XE and, with eos set, of EOS: the two share their
// modes (user EXEC ">", privileged EXEC "#", configuration "(config…)#") and most commands,
// and differ in wording.
type ciscoCLI struct{ eos bool }

// errLogout ends the session normally.
var errLogout = errors.New("logout")

// Command tables; read-only.
var (
	iosCommands = ciscoCommands(false)
	eosCommands = ciscoCommands(true)
)

func ciscoCommands(eos bool) []cmdSpec {
	c := ciscoCLI{eos: eos}
	specs := []cmdSpec{
		cmd("enable", 1, c.enable),
		cmd("disable", 1, func(s *session, _ []string) (string, error) { s.priv = 1; return "", nil }),
		cmd("exit", 1, logout), cmd("logout", 1, logout), cmd("quit", 1, logout),
		cmd("terminal length <>", 1, c.terminalLength),
		cmd("terminal width <>", 1, c.terminalWidth),
		cmd("terminal monitor", 1, nothing), cmd("terminal no monitor", 1, nothing),
		cmd("show version", 1, func(s *session, _ []string) (string, error) {
			if eos {
				return s.d.eosShowVersion(), nil
			}
			return s.d.iosShowVersion(), nil
		}),
		cmd("show inventory", 1, func(s *session, _ []string) (string, error) {
			if eos {
				return s.d.eosShowInventory(), nil
			}
			return s.d.iosShowInventory(), nil
		}),
		cmd("show clock", 1, c.showClock),
		cmd("show running-config", 15, func(s *session, _ []string) (string, error) { return s.d.showConfig(false), nil }),
		cmd("show startup-config", 15, func(s *session, _ []string) (string, error) { return s.d.showConfig(true), nil }),
		cmd("dir []", 15, c.dir),
		cmd("copy <> <>", 15, c.copy),
		cmd("copy running-config startup-config", 15, c.copyRunStart),
		cmd("write", 15, c.writeMemory), cmd("write memory", 15, c.writeMemory),
		cmd("verify /md5 <> []", 15, c.verifyMD5),
		cmd("delete *", 15, c.delete),
		cmd("reload *", 15, c.reload),
		cmd("configure terminal", 15, c.configure),
		cmd("configure", 15, c.configureAsk),
	}
	if eos {
		specs = append(specs,
			cmd("show boot-config", 1, c.showBootConfig),
			cmd("boot system <>", 15, c.eosBootSystem))
	} else {
		specs = append(specs,
			cmd("show boot", 1, c.showBoot),
			cmd("show bootvar", 1, c.showBootvar),
			cmd("show flash:", 15, c.dir))
	}
	return specs
}

func logout(*session, []string) (string, error)  { return "", errLogout }
func nothing(*session, []string) (string, error) { return "", nil }

func (c ciscoCLI) commands() []cmdSpec {
	if c.eos {
		return eosCommands
	}
	return iosCommands
}

func (c ciscoCLI) start(s *session) string {
	s.priv = 15
	if s.d.f.cfg.EnableSecret != "" && s.interactive {
		s.priv = 1
	}
	return ""
}

func (c ciscoCLI) prompt(s *session) string {
	s.d.mu.Lock()
	host := s.d.hostname
	s.d.mu.Unlock()
	switch {
	case s.config:
		return host + "(" + c.modeName(s.path) + ")#"
	case s.priv >= 15:
		return host + "#"
	}
	return host + ">"
}

// modeName is the configuration mode's name in the prompt: "config", "config-if",
// EOS's "config-if-Et1".
func (c ciscoCLI) modeName(path []string) string {
	if len(path) == 0 {
		return "config"
	}
	last := path[len(path)-1]
	t := strings.Fields(last)
	kind := containerKind(last)
	if c.eos {
		switch kind {
		case "interface":
			return "config-if-" + shortInterface(t[1])
		case "vlan":
			return "config-vlan-" + t[1]
		case "router":
			return "config-router-" + t[1]
		case "acl":
			return "config-acl-" + t[len(t)-1]
		case "vrf":
			return "config-vrf-" + t[len(t)-1]
		case "management":
			return "config-mgmt-" + strings.Join(t[1:], "-")
		}
		return "config-" + t[0]
	}
	switch kind {
	case "interface":
		return "config-if"
	case "acl":
		if len(t) > 2 && t[2] == "standard" {
			return "config-std-nacl"
		}
		return "config-ext-nacl"
	case "address-family":
		return "config-router-af"
	case "aaa":
		return "config-sg-tacacs+"
	case "tacacs", "radius":
		return "config-server-" + t[0]
	case "redundancy":
		return "config-red"
	}
	return "config-" + t[0]
}

func (c ciscoCLI) expand(s *session, line string) string {
	cmdline, _ := splitPipe(line)
	if m := matchCommand(c.commands(), strings.Fields(cmdline), 15); m.outcome == matchOK {
		return m.expanded
	}
	return line
}

func (c ciscoCLI) run(s *session, line string) (bool, error) {
	if line == "" {
		return false, nil
	}
	var err error
	if s.config {
		err = c.runConfig(s, line)
	} else {
		err = c.runExec(s, line)
	}
	if errors.Is(err, errLogout) {
		return true, nil
	}
	return false, err
}

// runExec runs an EXEC command line, with its output filters.
func (c ciscoCLI) runExec(s *session, line string) error {
	cmdline, filters := splitPipe(line)
	tokens := strings.Fields(cmdline)
	m := matchCommand(c.commands(), tokens, s.priv)
	switch m.outcome {
	case matchAmbiguous:
		return c.fail(s, fmt.Sprintf("%% Ambiguous command:  %q\n", cmdline))
	case matchIncomplete:
		return c.fail(s, c.pick("% Incomplete command.\n\n", "% Incomplete command\n"))
	case matchInvalid:
		if !c.eos && len(tokens) == 1 {
			// A lone unknown word is a host name to telnet to, on IOS.
			return c.fail(s, fmt.Sprintf("Translating %q\n%% Unknown command or computer name, or unable to find computer address\n", tokens[0]))
		}
		return c.invalid(s, line, m.failAt)
	}
	out, err := m.spec.run(s, m.args)
	if err != nil {
		return err
	}
	out, ferr := ciscoFilter(out, filters)
	if ferr != nil {
		return c.invalid(s, line, len(tokens)+1)
	}
	return s.print(out)
}

func (c ciscoCLI) pick(ios, eos string) string {
	if c.eos {
		return eos
	}
	return ios
}

// fail prints an error message and marks the command failed (exit status of exec requests).
func (c ciscoCLI) fail(s *session, msg string) error {
	s.exitStatus = 1
	return s.print(msg)
}

// invalid reports input the parser rejects at token i, with IOS's caret under it.
func (c ciscoCLI) invalid(s *session, line string, i int) error {
	if c.eos {
		tokens := strings.Fields(line)
		if i < len(tokens) {
			return c.fail(s, fmt.Sprintf("%% Invalid input (at token %d: '%s')\n", i, tokens[i]))
		}
		return c.fail(s, "% Invalid input\n")
	}
	col := len(c.prompt(s)) + tokenColumn(line, i)
	if !s.interactive {
		col = tokenColumn(line, i)
	}
	return c.fail(s, strings.Repeat(" ", col)+"^\n% Invalid input detected at '^' marker.\n\n")
}

func (c ciscoCLI) enable(s *session, _ []string) (string, error) {
	secret := s.d.f.cfg.EnableSecret
	if s.priv >= 15 || secret == "" {
		s.priv = 15
		return "", nil
	}
	for range 3 {
		s.raw("Password: ")
		if err := s.flush(); err != nil {
			return "", err
		}
		pw, err := s.readSecret()
		if err != nil {
			return "", err
		}
		s.raw("\r\n")
		if subtle.ConstantTimeCompare([]byte(pw), []byte(secret)) == 1 {
			s.priv = 15
			return "", nil
		}
	}
	s.exitStatus = 1
	return c.pick("% Bad secrets\n\n", "% Access denied\n"), nil
}

func (c ciscoCLI) terminalLength(s *session, args []string) (string, error) {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 || n > 512 {
		return "", c.invalid(s, "terminal length "+args[0], 2)
	}
	s.length = n
	if c.eos {
		return "Pagination disabled.\n", nil
	}
	return "", nil
}

func (c ciscoCLI) terminalWidth(s *session, args []string) (string, error) {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 || n > 32767 || (!c.eos && n > 512) {
		return "", c.invalid(s, "terminal width "+args[0], 2)
	}
	s.width = n
	return "", nil
}

func (c ciscoCLI) showClock(s *session, _ []string) (string, error) {
	now := s.d.f.cfg.Clock().UTC()
	if c.eos {
		return fmt.Sprintf("%s\nTimezone: UTC\nClock source: NTP server (10.%d.0.123)\n", now.Format(eosTime), s.d.site), nil
	}
	return now.Format("15:04:05.000 MST Mon Jan 2 2006") + "\n", nil
}

func (c ciscoCLI) showBoot(s *session, _ []string) (string, error) {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	bootVar := func(cfg config) string {
		var b strings.Builder
		for _, img := range iosBootImages(cfg) {
			b.WriteString("flash:" + img + ";")
		}
		return b.String()
	}
	return fmt.Sprintf("---------------------------\nSwitch 1\n---------------------------\nCurrent Boot Variables:\nBOOT variable = %s\n\n"+
		"Boot Variables on next reload:\nBOOT variable = %s\nManual Boot = no\nEnable Break = no\nBoot Mode = DEVICE\niPXE Timeout = 0\n",
		bootVar(d.runningLocked()), bootVar(d.startupLocked())), nil
}

func (c ciscoCLI) showBootvar(s *session, _ []string) (string, error) {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for _, img := range iosBootImages(d.startupLocked()) {
		b.WriteString("flash:" + img + ",1;")
	}
	return fmt.Sprintf("BOOT variable = %s\nCONFIG_FILE variable does not exist\nBOOTLDR variable does not exist\nConfiguration register is 0x102\n", b.String()), nil
}

func (c ciscoCLI) showBootConfig(s *session, _ []string) (string, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return fmt.Sprintf("Software image: flash:/%s\nConsistency check: passed\nAbootd Password (encrypted): (not set)\nMemory test iterations: (not set)\n",
		s.d.eosBootImageLocked()), nil
}

func (c ciscoCLI) eosBootSystem(s *session, args []string) (string, error) {
	name := flashName(args[0])
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if f := d.fileLocked(name); f == nil || f.Dir {
		s.exitStatus = 1
		return fmt.Sprintf("%% Error: Could not find image flash:/%s\n", name), nil
	}
	d.bootVar = name
	return "", nil
}

func (c ciscoCLI) dir(s *session, args []string) (string, error) {
	if len(args) == 1 && !strings.HasPrefix(args[0], "flash:") {
		s.exitStatus = 1
		return fmt.Sprintf("%%Error opening %s (No such file or directory)\n", args[0]), nil
	}
	return s.d.dirListing(c.eos), nil
}

func (c ciscoCLI) configure(s *session, _ []string) (string, error) {
	s.config, s.path = true, nil
	return c.pick("Enter configuration commands, one per line.  End with CNTL/Z.\n", ""), nil
}

func (c ciscoCLI) configureAsk(s *session, args []string) (string, error) {
	if !c.eos {
		answer, err := s.ask("Configuring from terminal, memory, or network [terminal]? ")
		if err != nil {
			return "", err
		}
		if answer != "" && !strings.HasPrefix("terminal", answer) {
			s.exitStatus = 1
			return "% Not supported by the simulator\n", nil
		}
	}
	return c.configure(s, args)
}

// runConfig runs a line in configuration mode.
func (c ciscoCLI) runConfig(s *session, line string) error {
	tokens := strings.Fields(line)
	first := strings.ToLower(tokens[0])
	switch {
	case first == "end":
		s.config, s.path = false, nil
		return nil
	case first == "exit" || first == "exit-address-family":
		if len(s.path) == 0 {
			s.config = false
		} else {
			s.path = s.path[:len(s.path)-1]
		}
		return nil
	case first == "do":
		return c.runExec(s, strings.TrimSpace(line[2:]))
	case c.eos && strings.HasPrefix("show", first) && len(first) >= 2:
		return c.runExec(s, line) // EOS runs show commands in any mode
	}
	d := s.d
	d.mu.Lock()
	cfg := d.mutableRunningLocked().(*ciscoConfig)
	path, err := cfg.apply(d, s.path, line)
	if err == nil {
		d.noteChangeLocked(s.user)
	}
	d.mu.Unlock()
	var inv invalidAt
	if errors.As(err, &inv) {
		return c.invalid(s, line, inv.token)
	}
	s.path = path
	return nil
}

// ciscoApplyOutOfBand applies configuration lines as another administrator would: each line
// in the sub-mode the previous lines entered.
func ciscoApplyOutOfBand(d *Device, lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cfg := d.mutableRunningLocked().(*ciscoConfig)
	var path []string
	for _, line := range lines {
		switch strings.TrimSpace(line) {
		case "end":
			path = nil
			continue
		case "exit":
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
			continue
		}
		var err error
		if path, err = cfg.apply(d, path, line); err != nil {
			return fmt.Errorf("devsim: %s: %q: %w", d.name, line, err)
		}
		d.noteChangeLocked("netops")
	}
	return nil
}

// ciscoFilter applies "| include x", "| exclude x", "| begin x", "| section x" and
// "| count x" (EOS also "| no-more") to a command's output.
func ciscoFilter(out string, filters []string) (string, error) {
	for _, f := range filters {
		op, arg, _ := strings.Cut(f, " ")
		op, ok := uniquePrefix([]string{"include", "exclude", "begin", "section", "count", "no-more"}, op)
		if !ok {
			return "", errors.New("unknown filter")
		}
		if op == "no-more" {
			continue
		}
		re, err := regexp.Compile(arg)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(arg))
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		var kept []string
		switch op {
		case "include", "exclude":
			for _, l := range lines {
				if re.MatchString(l) == (op == "include") {
					kept = append(kept, l)
				}
			}
		case "begin":
			for i, l := range lines {
				if re.MatchString(l) {
					kept = lines[i:]
					break
				}
			}
		case "section":
			in := false
			for _, l := range lines {
				top := l != "" && l[0] != ' '
				if top {
					in = re.MatchString(l)
				}
				if in || (!top && re.MatchString(l)) {
					kept = append(kept, l)
				}
			}
		case "count":
			n := 0
			for _, l := range lines {
				if re.MatchString(l) {
					n++
				}
			}
			kept = []string{fmt.Sprintf("Number of lines which match regexp = %d", n)}
		}
		out = strings.Join(kept, "\n")
		if out != "" {
			out += "\n"
		}
	}
	return out, nil
}
