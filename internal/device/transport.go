package device

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/transport"
	"golang.org/x/crypto/ssh"
)

// sshTransport is the SSH transport webnet gives scrapligo (WithCustomTransport): the same
// golang.org/x/crypto/ssh session as scrapligo's "standard" transport, but dialled with the
// job's context and checking the device's host key against the one webnet trusts (scrapligo's
// own transports only know known_hosts files).
type sshTransport struct {
	ctx     context.Context
	addr    string
	user    string
	auth    []ssh.AuthMethod
	trusted string // authorized_keys form; "" trusts the first key (and records it)

	mu        sync.Mutex
	presented string
	client    *ssh.Client
	session   *ssh.Session
	w         io.WriteCloser
	r         io.Reader
}

var _ transport.Implementation = (*sshTransport)(nil)

// HostKeyError is the refusal of a host key other than the one the device is trusted with.
type HostKeyError struct {
	Trusted, Presented string
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("the device presented SSH host key %s, not the %s it is trusted with: it may have been replaced, "+
		"or someone is intercepting the connection; an admin must clear the device's host key before webnet connects again",
		Fingerprint(e.Presented), Fingerprint(e.Trusted))
}

// Fingerprint is the SHA256 fingerprint of a key in authorized_keys form, as ssh-keygen -l
// prints it ("" stays "").
func Fingerprint(authorized string) string {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return authorized
	}
	return ssh.FingerprintSHA256(k)
}

func (t *sshTransport) checkHostKey(_ string, _ net.Addr, key ssh.PublicKey) error {
	presented := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	t.mu.Lock()
	t.presented = presented
	t.mu.Unlock()
	if t.trusted != "" && t.trusted != presented {
		return &HostKeyError{Trusted: t.trusted, Presented: presented}
	}
	return nil
}

// Open dials, authenticates and starts a shell on a terminal.
func (t *sshTransport) Open(a *transport.Args) error {
	timeout := a.TimeoutSocket
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(t.ctx, "tcp", t.addr)
	if err != nil {
		return err
	}
	// The handshake and authentication are bounded too (a device that accepts the TCP
	// connection and then says nothing must not hold a worker).
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(t.ctx, func() { conn.Close() })
	defer stop()
	cc, chans, reqs, err := ssh.NewClientConn(conn, t.addr, &ssh.ClientConfig{User: t.user, Auth: t.auth,
		HostKeyCallback: t.checkHostKey, Timeout: timeout})
	if err != nil {
		conn.Close()
		return err
	}
	client := ssh.NewClient(cc, chans, reqs)
	session, err := client.NewSession()
	if err == nil {
		err = session.RequestPty("xterm", a.TermHeight, a.TermWidth, ssh.TerminalModes{ssh.ECHO: 1,
			ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400})
	}
	var w io.WriteCloser
	var r io.Reader
	if err == nil {
		w, err = session.StdinPipe()
	}
	if err == nil {
		r, err = session.StdoutPipe()
	}
	if err == nil {
		err = session.Shell()
	}
	if err != nil {
		client.Close()
		return err
	}
	_ = conn.SetDeadline(time.Time{})
	t.mu.Lock()
	t.client, t.session, t.w, t.r = client, session, w, r
	t.mu.Unlock()
	return nil
}

// Close ends the session and the connection; safe to call more than once and from another
// goroutine (cancellation).
func (t *sshTransport) Close() error {
	t.mu.Lock()
	client := t.client
	t.client, t.session = nil, nil
	t.mu.Unlock()
	if client != nil {
		return client.Close()
	}
	return nil
}

// IsAlive reports whether the session is open.
func (t *sshTransport) IsAlive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session != nil
}

// Read reads up to n bytes.
func (t *sshTransport) Read(n int) ([]byte, error) {
	t.mu.Lock()
	r := t.r
	t.mu.Unlock()
	if r == nil {
		return nil, io.EOF
	}
	b := make([]byte, n)
	n, err := r.Read(b)
	return b[:n], err
}

// Write writes b.
func (t *sshTransport) Write(b []byte) error {
	t.mu.Lock()
	w := t.w
	t.mu.Unlock()
	if w == nil {
		return io.ErrClosedPipe
	}
	_, err := w.Write(b)
	return err
}

func (t *sshTransport) presentedKey() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.presented
}

func hostPort(address string, port int) string { return net.JoinHostPort(address, strconv.Itoa(port)) }
