package devsim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialect is one platform's command line: its prompts and commands.
type dialect interface {
	// start sets up a new session (privilege level) and returns the login banner.
	start(s *session) string
	prompt(s *session) string
	// expand returns the command with its keywords expanded ("sh run" → "show
	// running-config"), as far as it can tell; faults match on it.
	expand(s *session, line string) string
	// run executes one line and reports whether the session ends.
	run(s *session, line string) (exit bool, err error)
}

// Errors that end a command early.
var (
	errHangup    = errors.New("connection dropped by fault")
	errInterrupt = errors.New("interrupted")
	errCtrlZ     = errors.New("ctrl-z")
)

// session is one SSH session channel: a line discipline (echo, editing, paging) in front of
// a platform dialect. It runs on one goroutine, which owns all of its fields.
type session struct {
	ctx         context.Context
	d           *Device
	user        string
	ch          ssh.Channel
	hangup      func() // drops the whole TCP connection
	in          *bufio.Reader
	out         *bufio.Writer
	dialect     dialect
	interactive bool // a shell: echo, prompts and paging; otherwise one exec command
	length      int  // page length in lines, 0: no paging
	width       int
	exitStatus  int
	skipLF      bool // the last line ended with CR: a following LF is part of that Enter

	// Platform state, kept here so that dialects stay stateless.
	priv   int      // privilege level: 1 user EXEC, 15 privileged EXEC
	config bool     // in configuration mode
	path   []string // IOS/EOS: the configuration sub-mode lines entered, outermost first

	// Per-command output state.
	lines   int  // lines printed on the current page
	atBOL   bool // the cursor is at the beginning of a line
	aborted bool // the pager was quit: drop the rest of the output
	budget  int  // bytes left before the disconnect fault drops the connection; <0: none
}

func newSession(ctx context.Context, d *Device, user string, ch ssh.Channel, hangup func(), st sessionStart) *session {
	s := &session{
		ctx: ctx, d: d, user: user, ch: ch, hangup: hangup,
		in:          bufio.NewReaderSize(ch, 512),
		out:         bufio.NewWriterSize(ch, 16<<10),
		interactive: st.shell, length: 24, width: 80, budget: -1, atBOL: true,
	}
	if d.plat.name == Junos {
		s.dialect = junosCLI{}
		if st.height > 0 {
			s.length = st.height // Junos pages at the terminal's height
		}
	} else {
		s.dialect = ciscoCLI{eos: d.plat.name == EOS}
	}
	if !s.interactive {
		s.length = 0
	}
	return s
}

// interact runs an interactive shell until the user leaves or the connection drops.
func (s *session) interact() {
	if banner := s.dialect.start(s); banner != "" {
		if s.print(banner) != nil {
			return
		}
	}
	for {
		s.raw(s.dialect.prompt(s))
		if s.flush() != nil {
			return
		}
		line, err := s.readLine()
		switch {
		case errors.Is(err, errInterrupt):
			s.raw("\r\n")
			continue
		case errors.Is(err, errCtrlZ):
			if s.config {
				line = "end" // Ctrl-Z leaves configuration mode; elsewhere it does nothing
			}
		case err != nil:
			return
		}
		s.raw("\r\n")
		if exit := s.execute(line); exit {
			_ = s.flush()
			return
		}
	}
}

// execOne runs one command of an "exec" request, without echo, prompts or paging.
func (s *session) execOne(command string) {
	s.dialect.start(s)
	s.execute(command)
	_ = s.flush()
}

// execute runs one command line, applying the device's faults, and reports whether the
// session ends.
func (s *session) execute(line string) bool {
	line = strings.Join(strings.Fields(line), " ")
	f := s.d.currentFaults()
	expanded := s.dialect.expand(s, line)
	if line != "" && matchesCommand(f.HangOn, line, expanded) {
		_ = s.flush()
		<-s.ctx.Done()
		return true
	}
	if f.Latency > 0 && line != "" {
		_ = s.flush()
		if !s.sleep(f.Latency) {
			return true
		}
	}
	s.lines, s.aborted, s.budget = 0, false, -1
	if line != "" && matchesCommand(f.DisconnectOn, line, expanded) {
		s.budget = max(0, f.DisconnectAfter)
	}
	exit, err := s.dialect.run(s, line)
	if err != nil {
		return true
	}
	if !s.atBOL {
		s.raw("\r\n")
	}
	return exit
}

// sleep waits for d or until the session ends, reporting whether the session goes on.
func (s *session) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// readByte reads one input byte, treating CR LF as a single Enter.
func (s *session) readByte() (byte, error) {
	for {
		b, err := s.in.ReadByte()
		if err != nil {
			return 0, err
		}
		if s.skipLF {
			s.skipLF = false
			if b == '\n' {
				continue
			}
		}
		if b == '\r' {
			s.skipLF = true
			return '\n', nil
		}
		return b, nil
	}
}

// readLine reads one line with echo and simple editing (backspace, Ctrl-U, Ctrl-C, Ctrl-Z,
// escape sequences ignored), as a device's terminal does.
func (s *session) readLine() (string, error) {
	return s.readInput(true)
}

// readSecret reads a line without echo (passwords).
func (s *session) readSecret() (string, error) {
	return s.readInput(false)
}

// maxLine bounds one input line, as real devices do.
const maxLine = 4096

func (s *session) readInput(echo bool) (string, error) {
	var line []byte
	for {
		b, err := s.readByte()
		if err != nil {
			return "", err
		}
		switch {
		case b == '\n':
			return string(line), nil
		case b == 0x03: // Ctrl-C
			return "", errInterrupt
		case b == 0x1a: // Ctrl-Z
			return "", errCtrlZ
		case b == 0x7f || b == 0x08:
			if len(line) > 0 {
				line = line[:len(line)-1]
				if echo {
					s.raw("\b \b")
				}
			}
		case b == 0x15: // Ctrl-U
			if echo {
				s.raw(strings.Repeat("\b \b", len(line)))
			}
			line = line[:0]
		case b == 0x1b: // escape sequence (arrow keys): swallow "[X"
			if next, err := s.readByte(); err == nil && next == '[' {
				_, _ = s.readByte()
			}
		case b == '\t' || b >= 0x20:
			if len(line) >= maxLine {
				continue
			}
			if b == '\t' {
				b = ' '
			}
			line = append(line, b)
			if echo {
				s.raw(string(b))
			}
		}
		if echo {
			if err := s.flush(); err != nil {
				return "", err
			}
		}
	}
}

// ask prints a question and reads the answer line (with echo).
func (s *session) ask(question string) (string, error) {
	s.raw(question)
	if err := s.flush(); err != nil {
		return "", err
	}
	if !s.interactive {
		return "", nil // an exec request takes every default
	}
	answer, err := s.readLine()
	s.raw("\r\n")
	return strings.TrimSpace(answer), err
}

// confirm prints a "[confirm]" question and reads one key: Enter or y confirms.
func (s *session) confirm(question string) (bool, error) {
	s.raw(question)
	if err := s.flush(); err != nil {
		return false, err
	}
	if !s.interactive {
		return true, nil
	}
	b, err := s.readByte()
	if err != nil {
		return false, err
	}
	if b == 'y' || b == 'Y' || b == 'n' || b == 'N' {
		s.raw(string(b))
	}
	s.raw("\r\n")
	return b == '\n' || b == 'y' || b == 'Y', nil
}

// print writes command output: newlines become CR LF on a terminal, long output pages, and
// the disconnect fault counts its bytes.
func (s *session) print(text string) error {
	for text != "" && !s.aborted {
		line, rest, nl := strings.Cut(text, "\n")
		text = rest
		if err := s.emit(line); err != nil {
			return err
		}
		if !nl {
			break
		}
		if err := s.emit("\r\n"); err != nil {
			return err
		}
		s.lines++
		if s.length > 0 && s.lines >= s.length-1 && text != "" {
			if err := s.page(); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit writes output text, dropping the connection when the disconnect budget runs out.
func (s *session) emit(text string) error {
	if text == "" {
		return nil
	}
	if !s.interactive && text == "\r\n" {
		text = "\n"
	}
	if s.budget >= 0 {
		if len(text) >= s.budget {
			s.raw(text[:s.budget])
			_ = s.flush()
			s.hangup() // as a crashing line card or a cut cable would
			return errHangup
		}
		s.budget -= len(text)
	}
	s.raw(text)
	return nil
}

// page shows the pager prompt and waits for a key: space for a page, Enter for a line,
// anything else quits the output.
func (s *session) page() error {
	more := s.d.plat.more
	s.raw(more)
	if err := s.flush(); err != nil {
		return err
	}
	b, err := s.readByte()
	if err != nil {
		return err
	}
	erase := strings.Repeat("\b", len(more)) + strings.Repeat(" ", len(more)) + strings.Repeat("\b", len(more))
	s.raw(erase)
	switch b {
	case ' ':
		s.lines = 0
	case '\n':
		s.lines = s.length - 2
	default:
		s.aborted = true
	}
	return nil
}

// raw writes to the terminal as is; errors surface at flush.
func (s *session) raw(text string) {
	if text == "" {
		return
	}
	_, _ = s.out.WriteString(text)
	s.atBOL = strings.HasSuffix(text, "\n")
}

func (s *session) flush() error {
	if err := s.out.Flush(); err != nil {
		return err
	}
	if s.ctx.Err() != nil {
		return io.ErrClosedPipe
	}
	return nil
}
