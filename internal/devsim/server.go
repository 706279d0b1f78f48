package devsim

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// handshakeTimeout bounds a connection's SSH handshake and authentication, as real devices
// bound their login (IOS: "ip ssh time-out 120").
const handshakeTimeout = 30 * time.Second

// run is the device's one long-lived goroutine: it accepts connections until the listener is
// closed, and when that was a reload, waits for the device to boot and listens again.
func (d *Device) run(ctx context.Context) {
	for {
		d.mu.Lock()
		ln := d.listener
		d.mu.Unlock()
		if ln != nil {
			d.acceptLoop(ctx, ln)
		}
		if ctx.Err() != nil {
			return
		}
		if !d.boot(ctx) {
			return
		}
	}
}

func (d *Device) acceptLoop(ctx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors or a similar passing condition: back off as net/http does.
			d.f.cfg.Logger.Warn("devsim accept", "device", d.name, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		d.f.wg.Go(func() { d.serveConn(ctx, nc) })
	}
}

// reload takes the device down: no more connections, every session dropped. run brings it
// back after ReloadTime.
func (d *Device) reload() {
	d.mu.Lock()
	if !d.up {
		d.mu.Unlock()
		return
	}
	d.up = false
	d.reloads++
	ln := d.listener
	d.listener = nil
	d.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	d.dropConnections()
	d.f.cfg.Logger.Info("devsim reload", "device", d.name)
}

// dropConnections closes every connection of the device.
func (d *Device) dropConnections() {
	d.mu.Lock()
	conns := d.conns
	d.conns = nil
	d.mu.Unlock()
	for nc, cancel := range conns {
		cancel()
		nc.Close()
	}
}

// boot waits out the reload, switches to the booted image and starts listening again on the
// same address. It returns false when the fleet stopped meanwhile.
func (d *Device) boot(ctx context.Context) bool {
	wait := d.f.cfg.ReloadTime
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		d.mu.Lock()
		stayDown := d.faults.StayDownAfterReload
		d.mu.Unlock()
		if !stayDown {
			break
		}
	}
	for {
		ln, err := listen(ctx, d.addr)
		if err == nil {
			d.mu.Lock()
			d.bootLocked()
			d.listener = ln
			d.up = true
			d.mu.Unlock()
			d.f.cfg.Logger.Info("devsim device up", "device", d.name, "version", d.Version())
			return true
		}
		// Someone else holds the port for now: a real device would be unreachable too.
		d.f.cfg.Logger.Warn("devsim relisten", "device", d.name, "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// bootLocked applies a reboot to the device's state: the running configuration becomes the
// startup configuration (Junos: uncommitted changes are lost) and the boot image, if it is
// present, intact and of this platform, becomes the running version. Otherwise the device
// falls back to the image it ran, as a real device tries its next boot candidate.
func (d *Device) bootLocked() {
	d.running = d.startup
	if d.running != nil {
		d.running = d.running.clone()
	}
	d.candidate = nil
	d.unsaved = false
	d.hostname = d.runningLocked().hostname()
	d.bootedAt = d.f.cfg.Clock()
	image := d.bootImageLocked()
	if d.plat.name == Junos {
		d.bootVar = "" // the pending package is consumed by the reboot
	}
	if image == "" {
		return
	}
	f := d.fileLocked(image)
	if f == nil || f.corrupt {
		return
	}
	if v, ok := d.plat.imageVersion(f.Name); ok {
		d.version, d.image = v, f.Name
	}
}

// track registers a new connection so that reloads and shutdown can drop it; it refuses
// connections that raced with a reload.
func (d *Device) track(nc net.Conn, cancel context.CancelFunc) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.up {
		return false
	}
	if d.conns == nil {
		d.conns = make(map[net.Conn]context.CancelFunc)
	}
	d.conns[nc] = cancel
	return true
}

func (d *Device) untrack(nc net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.conns, nc)
}

// serveConn runs one TCP connection: the SSH handshake, then its session channels.
func (d *Device) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer nc.Close()
	if !d.track(nc, cancel) {
		return
	}
	defer d.untrack(nc)

	if d.currentFaults().Unresponsive {
		// The TCP connection is accepted and nothing is ever said: clients must time out.
		// Reading until the client gives up (or a reload or shutdown closes the connection)
		// ends this goroutine with the connection.
		_, _ = io.Copy(io.Discard, nc)
		return
	}
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, d.serverConfig())
	if err != nil {
		d.f.cfg.Logger.Debug("devsim handshake", "device", d.name, "remote", nc.RemoteAddr(), "err", err)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() {
			if d.serveSession(ctx, sc.User(), ch, chReqs, func() { nc.Close() }) {
				// The interactive shell ended ("exit"): like a real device, hang up.
				nc.Close()
			}
		})
	}
	// The connection is gone: end sessions that wait (latency, hang) and wait for them.
	cancel()
	wg.Wait()
}

// serverConfig is built per connection, so that it picks up the current host key and faults.
func (d *Device) serverConfig() *ssh.ServerConfig {
	cfg := d.f.cfg
	sc := &ssh.ServerConfig{
		ServerVersion: d.plat.sshVersion,
		MaxAuthTries:  6,
		PasswordCallback: func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if d.allowLogin(meta.User()) && cfg.Password != "" &&
				subtle.ConstantTimeCompare(pw, []byte(cfg.Password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("authentication failed")
		},
		KeyboardInteractiveCallback: func(meta ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) == 1 && d.allowLogin(meta.User()) && cfg.Password != "" &&
				subtle.ConstantTimeCompare([]byte(ans[0]), []byte(cfg.Password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("authentication failed")
		},
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if d.allowLogin(meta.User()) {
				for _, k := range cfg.AuthorizedKeys {
					if subtle.ConstantTimeCompare(k.Marshal(), key.Marshal()) == 1 {
						return nil, nil
					}
				}
			}
			return nil, errors.New("authentication failed")
		},
	}
	d.mu.Lock()
	sc.AddHostKey(d.f.hostKey(d.index, d.keyGen))
	d.mu.Unlock()
	return sc
}

// allowLogin checks the user name and the auth-failure fault.
func (d *Device) allowLogin(user string) bool {
	return !d.currentFaults().RejectAuth &&
		subtle.ConstantTimeCompare([]byte(user), []byte(d.f.cfg.Username)) == 1
}

// sessionStart is what a session channel asked for: an interactive shell or one command.
type sessionStart struct {
	shell   bool
	command string
	height  int // terminal rows from the pty request, 0 if none
}

// serveSession runs one session channel and reports whether it was an interactive shell.
func (d *Device) serveSession(ctx context.Context, user string, ch ssh.Channel, reqs <-chan *ssh.Request, hangup func()) bool {
	starts := make(chan sessionStart, 1)
	var wg sync.WaitGroup
	defer wg.Wait() // after the Close below: the request loop ends when the channel closes
	defer ch.Close()
	wg.Go(func() { sessionRequests(reqs, starts) })

	var st sessionStart
	select {
	case <-ctx.Done():
		return false
	case s, ok := <-starts:
		if !ok {
			return false
		}
		st = s
	}
	s := newSession(ctx, d, user, ch, hangup, st)
	if st.shell {
		s.interact()
	} else {
		s.execOne(st.command)
	}
	status := make([]byte, 4)
	binary.BigEndian.PutUint32(status, uint32(s.exitStatus))
	_, _ = ch.SendRequest("exit-status", false, status)
	return st.shell
}

// sessionRequests answers a session's channel requests; the first "shell" or "exec" is sent
// on starts, which is closed when the channel ends without one.
func sessionRequests(reqs <-chan *ssh.Request, starts chan<- sessionStart) {
	var height int
	started := false
	defer func() {
		if !started {
			close(starts)
		}
	}()
	for req := range reqs {
		ok := false
		switch req.Type {
		case "pty-req":
			var pty struct {
				Term                 string
				Cols, Rows, PxW, PxH uint32
				Modes                string
			}
			if ssh.Unmarshal(req.Payload, &pty) == nil {
				height, ok = int(pty.Rows), true
			}
		case "env", "window-change":
			ok = true
		case "shell", "exec":
			if started {
				break
			}
			var cmd struct{ Command string }
			if req.Type == "exec" && ssh.Unmarshal(req.Payload, &cmd) != nil {
				break
			}
			// Reply before starting, so that the client sees the reply before any output.
			if req.WantReply {
				_ = req.Reply(true, nil)
			}
			started = true
			starts <- sessionStart{shell: req.Type == "shell", command: cmd.Command, height: height}
			continue
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
	}
}
