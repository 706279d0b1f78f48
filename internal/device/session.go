// Package device talks to network devices over SSH through scrapligo (README: "Device
// access"): prompts, privilege levels and paging per platform are scrapligo's; the SSH
// transport is webnet's own, so that every connection honours the job's context and the
// device's trusted host key. Credentials arrive as secret.Value and are revealed only to
// the SSH authentication; nothing here logs them or puts them in an error.
package device

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/util"
	"golang.org/x/crypto/ssh"

	"webnet/internal/secret"
)

// Target is a device to connect to.
type Target struct {
	Address  string
	Port     int
	Platform string
	Username string
	Password secret.Value
	// EnableSecret is the privileged-mode password (IOS-XE, EOS), if the device wants one.
	EnableSecret secret.Value
	// PrivateKey is a PEM private key for public-key authentication, if any.
	PrivateKey secret.Value
	// HostKey is the host key the device is trusted with (authorized_keys form); empty to
	// trust the first key presented.
	HostKey string
}

// Options bound a session's waits.
type Options struct {
	// ConnectTimeout bounds the TCP connection, SSH handshake and login (default 15 s).
	ConnectTimeout time.Duration
	// CommandTimeout bounds one command or configuration change (default 60 s).
	CommandTimeout time.Duration
}

// Session is an open CLI session on a device.
type Session struct {
	d         *network.Driver
	t         *sshTransport
	platform  string
	opTimeout time.Duration
	// broken is set when an operation failed mid-way (timed out, cancelled, cut off): the
	// CLI is in an unknown state, so Close drops the connection instead of logging out
	// politely (which would wait for a prompt that may never come).
	broken bool
}

// Open connects to a device, logs in and prepares its CLI (privileged mode, no paging).
// A host key other than t.HostKey fails with *HostKeyError. ctx ends the attempt at once.
func Open(ctx context.Context, t Target, o Options) (*Session, error) {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 15 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 60 * time.Second
	}
	var auth []ssh.AuthMethod
	if !t.PrivateKey.IsZero() {
		signer, err := ssh.ParsePrivateKey([]byte(t.PrivateKey.Reveal()))
		if err != nil {
			return nil, errors.New("the credential's private key cannot be read")
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if !t.Password.IsZero() {
		pw := t.Password
		auth = append(auth, ssh.Password(pw.Reveal()), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			answers := make([]string, len(qs))
			for i := range answers {
				answers[i] = pw.Reveal()
			}
			return answers, nil
		}))
	}
	tr := &sshTransport{ctx: ctx, addr: hostPort(t.Address, t.Port), user: t.Username, auth: auth, trusted: t.HostKey}
	opts := []util.Option{
		options.WithCustomTransport(tr),
		options.WithPort(t.Port),
		options.WithAuthUsername(t.Username),
		options.WithTimeoutSocket(o.ConnectTimeout),
		options.WithTimeoutOps(o.CommandTimeout),
	}
	if !t.EnableSecret.IsZero() {
		opts = append(opts, options.WithAuthSecondary(t.EnableSecret.Reveal()))
	}
	p, err := platform.NewPlatform(t.Platform, t.Address, opts...)
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", t.Platform, err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", t.Platform, err)
	}
	s := &Session{d: d, t: tr, platform: t.Platform, opTimeout: o.CommandTimeout}
	err = s.guard(ctx, d.Open)
	if err != nil {
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("connect to %s: %w", tr.addr, cleanErr(ctx, err))
	}
	return s, nil
}

// guard runs op with ctx able to end it: cancellation closes the transport, which ends any
// read or write in progress.
func (s *Session) guard(ctx context.Context, op func() error) error {
	stop := context.AfterFunc(ctx, func() { s.t.Close() })
	defer stop()
	err := op()
	if ctx.Err() != nil {
		s.broken = true
		return context.Cause(ctx)
	}
	return err
}

// cleanErr makes an error of the SSH layer into a sentence, and the context's cause into
// itself.
func cleanErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"):
		return errors.New("authentication failed (check the device's credential)")
	case strings.Contains(msg, "connection refused"):
		return errors.New("connection refused")
	case strings.Contains(msg, "i/o timeout"), errors.Is(err, util.ErrTimeoutError):
		return errors.New("timed out")
	}
	return err
}

// PresentedHostKey is the host key the device presented (authorized_keys form), to trust on
// first use.
func (s *Session) PresentedHostKey() string { return s.t.presentedKey() }

// Run runs one command in privileged mode and returns its output. A device's error message
// (such as "% Invalid input") is an error quoting it.
func (s *Session) Run(ctx context.Context, command string) (string, error) {
	var out string
	err := s.guard(ctx, func() error {
		// scrapligo would strip the prompt with its pattern over the whole output: slow on a
		// 50 KB configuration (a fifth of a fleet sync's CPU), and wrong for a line of it
		// that looks like a prompt (a banner's "router#"). The prompt is the last line only.
		r, err := s.d.SendCommand(command, opoptions.WithNoStripPrompt())
		if err != nil {
			s.broken = true
			return cleanErr(ctx, err)
		}
		r.Result = stripPrompt(r.Result, s.d.Channel.PromptPattern)
		out = r.Result
		if r.Failed != nil {
			return fmt.Errorf("%q failed on the device: %s", command, firstLine(r.Result))
		}
		return nil
	})
	return out, err
}

// promptTail is how much of a command's output's end is searched for its prompt.
const promptTail = 512

// stripPrompt removes the prompt that ends a command's output: the last match of the
// platform's prompt pattern in the output's tail, if nothing but blanks follows it (Junos's
// may take two lines: "{master:0}" and "user@host>").
func stripPrompt(out string, prompt *regexp.Regexp) string {
	start := 0
	if len(out) > promptTail {
		// From a line's start, so that the pattern's ^ anchors as in the whole output.
		i := strings.IndexByte(out[len(out)-promptTail:], '\n')
		if i < 0 {
			return out
		}
		start = len(out) - promptTail + i + 1
	}
	tail := out[start:]
	locs := prompt.FindAllStringIndex(tail, -1)
	if len(locs) == 0 {
		return out
	}
	last := locs[len(locs)-1]
	if strings.TrimRight(tail[last[1]:], " \r\n") != "" {
		return out // something follows: not the prompt that ended the command
	}
	return strings.TrimRight(out[:start+last[0]], " \r\n")
}

// Close logs out and closes the connection; after a failed operation it only closes it.
func (s *Session) Close() error {
	if s.broken {
		return s.t.Close()
	}
	err := s.d.Close()
	s.t.Close()
	return err
}

// firstLine is the first non-empty line of a device's answer, for an error message.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "^" {
			return l
		}
	}
	return "(no output)"
}

// Platform is the session's device platform.
func (s *Session) Platform() string { return s.platform }
