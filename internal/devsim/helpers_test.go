package devsim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// startFleet starts a fleet for one test and closes it when the test ends.
func startFleet(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	if cfg.ReloadTime == 0 {
		cfg.ReloadTime = 300 * time.Millisecond
	}
	f, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// eachDevice runs a subtest per device of the fleet, named after its platform.
func eachDevice(t *testing.T, f *Fleet, fn func(t *testing.T, d *Device)) {
	t.Helper()
	for i := range f.Len() {
		d := f.DeviceAt(i)
		t.Run(d.Platform(), func(t *testing.T) { fn(t, d) })
	}
}

// firstOf returns the first device of a platform.
func firstOf(t *testing.T, f *Fleet, platform string) *Device {
	t.Helper()
	for i := range f.Len() {
		if d := f.DeviceAt(i); d.Platform() == platform {
			return d
		}
	}
	t.Fatalf("no %s device", platform)
	return nil
}

func clientConfig(user, password string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	}
}

func dial(t testing.TB, d *Device) (*ssh.Client, error) {
	t.Helper()
	info := d.Info()
	c, err := ssh.Dial("tcp", net.JoinHostPort(info.Address, strconv.Itoa(info.Port)), clientConfig(info.Username, info.Password))
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// terminal is an interactive shell on a device, driven like a person at a keyboard.
type terminal struct {
	t      *testing.T
	client *ssh.Client
	stdin  io.WriteCloser
	mu     sync.Mutex
	buf    bytes.Buffer // output not yet consumed
	closed bool
	more   chan struct{} // signalled when output arrives
	wg     sync.WaitGroup
}

// shell logs in and opens an interactive shell with a pty of the given height.
func shell(t *testing.T, d *Device, height int) *terminal {
	t.Helper()
	c, err := dial(t, d)
	if err != nil {
		t.Fatalf("dial %s: %v", d.Name(), err)
	}
	return openShell(t, c, height)
}

func openShell(t *testing.T, c *ssh.Client, height int) *terminal {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	if err := s.RequestPty("xterm", height, 200, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	stdin, _ := s.StdinPipe()
	stdout, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	term := &terminal{t: t, client: c, stdin: stdin, more: make(chan struct{}, 1)}
	term.wg.Go(func() {
		b := make([]byte, 4096)
		for {
			n, err := stdout.Read(b)
			term.mu.Lock()
			term.buf.Write(b[:n])
			if err != nil {
				term.closed = true
			}
			term.mu.Unlock()
			select {
			case term.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	})
	t.Cleanup(func() { c.Close(); term.wg.Wait() })
	return term
}

// expect waits until the output matches re and consumes it up to the end of the match.
func (tm *terminal) expect(re string) string {
	tm.t.Helper()
	out, err := tm.tryExpect(re, 5*time.Second)
	if err != nil {
		tm.t.Fatal(err)
	}
	return out
}

func (tm *terminal) tryExpect(re string, timeout time.Duration) (string, error) {
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		tm.mu.Lock()
		b := tm.buf.Bytes()
		if loc := rx.FindIndex(b); loc != nil {
			out := string(b[:loc[1]])
			tm.buf.Next(loc[1])
			tm.mu.Unlock()
			return out, nil
		}
		closed := tm.closed
		pending := string(b)
		tm.mu.Unlock()
		if closed {
			return pending, fmt.Errorf("session closed waiting for %q; got %q", re, pending)
		}
		select {
		case <-tm.more:
		case <-deadline:
			return pending, fmt.Errorf("timeout waiting for %q; got %q", re, pending)
		}
	}
}

// waitClosed waits for the device to hang up.
func (tm *terminal) waitClosed(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		tm.mu.Lock()
		closed := tm.closed
		tm.mu.Unlock()
		if closed {
			return true
		}
		select {
		case <-tm.more:
		case <-deadline:
			return false
		}
	}
}

func (tm *terminal) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.stdin, s); err != nil {
		tm.t.Fatalf("write %q: %v", s, err)
	}
}

// run types a command and returns its output (without the echo and the next prompt).
func (tm *terminal) run(command, prompt string) string {
	tm.t.Helper()
	tm.send(command + "\n")
	out := tm.expect(prompt)
	out = strings.ReplaceAll(out, "\r\n", "\n")
	out = strings.TrimPrefix(out, command+"\n")
	return strings.TrimSuffix(out, regexp.MustCompile(prompt).FindString(out))
}

// exec runs one command over an exec request.
func execCommand(t testing.TB, d *Device, command string) (string, error) {
	t.Helper()
	c, err := dial(t, d)
	if err != nil {
		return "", err
	}
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(command)
	return string(out), err
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
