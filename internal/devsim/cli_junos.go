package devsim

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// junosCLI is the Junos command line: operational mode ("user@host> ") and configuration
// mode ("[edit]" then "user@host# ") with a shared candidate configuration that "commit"
// makes active.
type junosCLI struct{}

var junosCommands = []cmdSpec{
	cmd("exit", 1, logout), cmd("quit", 1, logout),
	cmd("set cli screen-length <>", 1, junosScreenLength),
	cmd("set cli screen-width <>", 1, func(s *session, a []string) (string, error) {
		return "Screen width set to " + a[0] + "\n", nil
	}),
	cmd("set cli complete-on-space <>", 1, func(s *session, a []string) (string, error) {
		if a[0] == "off" {
			return "Disabling complete-on-space\n", nil
		}
		return "Enabling complete-on-space\n", nil
	}),
	cmd("show version", 1, func(s *session, _ []string) (string, error) { return s.d.junosShowVersion(), nil }),
	cmd("show chassis hardware", 1, func(s *session, _ []string) (string, error) { return s.d.junosShowHardware(), nil }),
	cmd("show configuration *", 1, junosShowConfiguration),
	cmd("show system storage", 1, func(s *session, _ []string) (string, error) { return s.d.junosStorage(), nil }),
	cmd("show system uptime", 1, func(s *session, _ []string) (string, error) { return s.d.junosUptime(), nil }),
	cmd("file list *", 1, junosFileList),
	cmd("file copy <> <>", 1, junosFileCopy),
	cmd("file checksum md5 <>", 1, junosChecksum),
	cmd("file delete <>", 1, junosFileDelete),
	cmd("request system software add <> *", 1, junosSoftwareAdd),
	cmd("request system reboot", 1, junosReboot),
	cmd("configure []", 1, junosConfigure),
}

func (junosCLI) start(s *session) string {
	s.priv = 15
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return fmt.Sprintf("--- JUNOS %s Kernel 64-bit  JNPR-12.1-20230301.9c0c7d2_buil\n", s.d.version)
}

func (junosCLI) prompt(s *session) string {
	s.d.mu.Lock()
	host := s.d.hostname
	s.d.mu.Unlock()
	if s.config {
		return "\r\n[edit]\r\n" + s.user + "@" + host + "# "
	}
	return s.user + "@" + host + "> "
}

func (junosCLI) expand(s *session, line string) string {
	cmdline, _ := splitPipe(line)
	if m := matchCommand(junosCommands, junosTokens(cmdline), 15); m.outcome == matchOK {
		return m.expanded
	}
	return line
}

func (j junosCLI) run(s *session, line string) (bool, error) {
	if line == "" {
		return false, nil
	}
	var err error
	if s.config {
		err = j.runConfig(s, line)
	} else {
		err = j.runOperational(s, line)
	}
	if errors.Is(err, errLogout) {
		return true, nil
	}
	if err == nil && !s.config && s.interactive {
		err = s.print("\n") // Junos leaves a blank line before the next prompt
	}
	return false, err
}

func (j junosCLI) runOperational(s *session, line string) error {
	cmdline, filters := splitPipe(line)
	tokens := junosTokens(cmdline)
	m := matchCommand(junosCommands, tokens, s.priv)
	switch m.outcome {
	case matchAmbiguous:
		return j.syntaxError(s, line, 0, fmt.Sprintf("'%s' is ambiguous.", tokens[0]))
	case matchIncomplete:
		return j.syntaxError(s, line, len(tokens), "syntax error, expecting <command>.")
	case matchInvalid:
		if m.failAt == 0 {
			return j.syntaxError(s, line, 0, "unknown command.")
		}
		return j.syntaxError(s, line, m.failAt, "syntax error, expecting <command>.")
	}
	out, err := m.spec.run(s, m.args)
	if err != nil {
		return err
	}
	out, ferr := junosFilter(s, out, filters)
	if ferr != nil {
		return j.syntaxError(s, line, len(tokens)+1, "syntax error.")
	}
	return s.print(out)
}

// syntaxError prints Junos's caret under token i and the message.
func (j junosCLI) syntaxError(s *session, line string, i int, msg string) error {
	s.exitStatus = 1
	prompt := j.prompt(s)
	if k := strings.LastIndex(prompt, "\n"); k >= 0 {
		prompt = prompt[k+1:]
	}
	col := len(prompt) + tokenColumn(line, i)
	if !s.interactive {
		col = tokenColumn(line, i)
	}
	return s.print(strings.Repeat(" ", col) + "^\n" + msg + "\n")
}

func junosScreenLength(s *session, a []string) (string, error) {
	n, err := strconv.Atoi(a[0])
	if err != nil || n < 0 {
		return "", junosCLI{}.syntaxError(s, "set cli screen-length "+a[0], 3, "syntax error.")
	}
	s.length = n
	return "Screen length set to " + a[0] + "\n", nil
}

func junosShowConfiguration(s *session, path []string) (string, error) {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.junosConfigTextLocked(d.runningLocked(), strings.Join(path, " ")), nil
}

// junosConfigTextLocked renders a configuration, or the part under path, as "show
// configuration" does; "" for a path that does not exist.
func (d *Device) junosConfigTextLocked(c config, path string) string {
	jc := c.(*junosConfig)
	if path != "" {
		n := jc.subtree(junosTokens(path))
		if n == nil {
			return ""
		}
		var b strings.Builder
		renderNode(&b, n, 0)
		return resalt(b.String(), d.noiseLocked())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Last commit: %s by %s\nversion %s;\n", d.lastChange.UTC().Format(junosTime), d.changedBy, d.version)
	b.WriteString(jc.body())
	return resalt(b.String(), d.noiseLocked())
}

// junosFilter applies "| display set", "| match x", "| except x", "| count" and
// "| no-more".
func junosFilter(s *session, out string, filters []string) (string, error) {
	for _, f := range filters {
		op, arg, _ := strings.Cut(f, " ")
		op, ok := uniquePrefix([]string{"display", "match", "except", "count", "no-more", "last"}, op)
		if !ok {
			return "", errors.New("unknown filter")
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		var kept []string
		switch op {
		case "no-more":
			s.length = 0
			continue
		case "display":
			if strings.TrimSpace(arg) != "set" {
				return "", errors.New("unknown display")
			}
			kept = displaySet(out)
		case "match", "except":
			re, err := regexp.Compile(strings.Trim(arg, `"`))
			if err != nil {
				return "", err
			}
			for _, l := range lines {
				if re.MatchString(l) == (op == "match") {
					kept = append(kept, l)
				}
			}
		case "count":
			kept = []string{fmt.Sprintf("Count: %d lines", len(lines))}
		case "last":
			n, err := strconv.Atoi(strings.TrimSpace(arg))
			if err != nil {
				n = 10
			}
			kept = lines[max(0, len(lines)-n):]
		}
		out = strings.Join(kept, "\n")
		if out != "" {
			out += "\n"
		}
	}
	return out, nil
}

// displaySet turns rendered hierarchical configuration back into "set" lines (it is how
// "| display set" works on text that may be a subtree).
func displaySet(text string) []string {
	var out, stack []string
	for raw := range strings.SplitSeq(text, "\n") {
		l := strings.TrimSpace(raw)
		if i := strings.Index(l, "; ##"); i >= 0 {
			l = l[:i+1]
		}
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasSuffix(l, " {"):
			stack = append(stack, strings.TrimSuffix(l, " {"))
		case l == "}":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case strings.HasSuffix(l, ";"):
			parts := append(append([]string{"set"}, stack...), strings.TrimSuffix(l, ";"))
			out = append(out, strings.Join(parts, " "))
		}
	}
	return out
}

func junosConfigure(s *session, args []string) (string, error) {
	if len(args) == 1 && args[0] != "exclusive" && args[0] != "private" {
		return "", junosCLI{}.syntaxError(s, "configure "+args[0], 1, "syntax error, expecting <command>.")
	}
	s.config = true
	s.d.mu.Lock()
	others := s.d.candidate != nil
	s.d.mu.Unlock()
	out := "Entering configuration mode\n"
	if others {
		out += "The configuration has been changed but not committed\n"
	}
	return out, nil
}

// runConfig runs a configuration-mode line.
func (j junosCLI) runConfig(s *session, line string) error {
	cmdline, filters := splitPipe(line)
	tokens := junosTokens(cmdline)
	d := s.d
	switch tokens[0] {
	case "set", "delete":
		if len(tokens) == 1 {
			return j.syntaxError(s, line, 1, "syntax error, expecting <statement> or <identifier>.")
		}
		d.mu.Lock()
		if d.candidate == nil {
			d.candidate = d.runningLocked().clone()
		}
		cand := d.candidate.(*junosConfig)
		ok := true
		if tokens[0] == "set" {
			ok = cand.set(tokens[1:])
		} else if !cand.delete(tokens[1:]) {
			d.mu.Unlock()
			return s.print("warning: statement not found\n")
		}
		d.mu.Unlock()
		if !ok {
			return j.syntaxError(s, line, 1, "syntax error.")
		}
		return nil
	case "show":
		d.mu.Lock()
		c := d.runningLocked()
		if d.candidate != nil {
			c = d.candidate
		}
		var out string
		if len(filters) == 1 && strings.HasPrefix(filters[0], "compare") {
			out = junosCompare(d.runningLocked().(*junosConfig), c.(*junosConfig))
			filters = nil
		} else {
			out = d.junosConfigTextLocked(c, strings.Join(tokens[1:], " "))
		}
		d.mu.Unlock()
		out, err := junosFilter(s, out, filters)
		if err != nil {
			return j.syntaxError(s, line, len(tokens)+1, "syntax error.")
		}
		return s.print(out)
	case "commit":
		if len(tokens) > 1 && tokens[1] == "check" {
			return s.print("configuration check succeeds\n")
		}
		d.mu.Lock()
		if d.candidate != nil {
			d.running = d.candidate
			d.candidate = nil
			d.noteChangeLocked(s.user)
			d.unsaved = false
		}
		d.mu.Unlock()
		if err := s.print("commit complete\n"); err != nil {
			return err
		}
		if len(tokens) > 1 && tokens[1] == "and-quit" {
			s.config = false
			return s.print("Exiting configuration mode\n")
		}
		return nil
	case "rollback":
		d.mu.Lock()
		d.candidate = nil
		d.mu.Unlock()
		return s.print("load complete\n")
	case "run":
		return j.runOperational(s, strings.TrimSpace(strings.TrimPrefix(line, "run")))
	case "top", "up":
		return nil
	case "exit", "quit":
		return j.exitConfig(s, len(tokens) > 1 && tokens[1] == "configuration-mode")
	}
	return j.syntaxError(s, line, 0, "unknown command.")
}

// exitConfig leaves configuration mode; "exit" with uncommitted changes asks first,
// "exit configuration-mode" only warns.
func (j junosCLI) exitConfig(s *session, force bool) error {
	s.d.mu.Lock()
	uncommitted := s.d.candidate != nil
	s.d.mu.Unlock()
	if uncommitted {
		if err := s.print("The configuration has been changed but not committed\n"); err != nil {
			return err
		}
		if !force {
			answer, err := s.ask("Exit with uncommitted changes? [yes,no] (yes) ")
			if err != nil {
				return err
			}
			if answer != "" && !strings.HasPrefix("yes", answer) {
				return nil
			}
		}
	}
	s.config = false
	return s.print("Exiting configuration mode\n")
}

// junosCompare is "show | compare": the statements removed and added, by hierarchy level.
func junosCompare(active, candidate *junosConfig) string {
	before := active.setLines(nil, "", nil)
	after := candidate.setLines(nil, "", nil)
	in := func(list []string, s string) bool {
		for _, l := range list {
			if l == s {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	emit := func(sign string, line string) {
		words := junosTokens(strings.TrimPrefix(line, "set "))
		fmt.Fprintf(&b, "[edit %s]\n%s  %s;\n", strings.Join(words[:max(1, len(words)-2)], " "), sign, strings.Join(words[max(1, len(words)-2):], " "))
	}
	for _, l := range before {
		if !in(after, l) {
			emit("-", l)
		}
	}
	for _, l := range after {
		if !in(before, l) {
			emit("+", l)
		}
	}
	return b.String()
}

// junosApplyOutOfBand applies "set"/"delete" statements and commits them.
func junosApplyOutOfBand(d *Device, lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.runningLocked().clone().(*junosConfig)
	for _, line := range lines {
		tokens := junosTokens(line)
		ok := len(tokens) > 1
		if ok && tokens[0] == "set" {
			ok = c.set(tokens[1:])
		} else if ok && tokens[0] == "delete" {
			ok = c.delete(tokens[1:])
		} else {
			ok = false
		}
		if !ok {
			return fmt.Errorf("devsim: %s: %q: syntax error", d.name, line)
		}
	}
	d.running = c
	d.noteChangeLocked("netops")
	d.unsaved = false
	return nil
}
