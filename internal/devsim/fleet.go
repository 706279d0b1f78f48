package devsim

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Fleet is a running set of simulated devices. It stops when the context given to Start ends
// or when Close is called, whichever comes first.
type Fleet struct {
	cfg     Config
	devices []*Device
	byName  map[string]*Device
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine of the fleet: accept loops, connections, reloads
}

// Start creates cfg.Count devices and makes each listen on its own port. It returns once
// every device accepts connections; on any listen error it closes what it opened.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &Fleet{cfg: cfg, devices: make([]*Device, cfg.Count), byName: make(map[string]*Device, cfg.Count), cancel: cancel}
	addr, _ := netip.ParseAddr(cfg.ListenAddress) // validated by withDefaults
	width := max(3, len(strconv.Itoa(cfg.Count)))
	for i := range cfg.Count {
		d := newDevice(f, i, width)
		port := 0
		if cfg.BasePort > 0 {
			port = cfg.BasePort + i
		}
		ln, err := listen(ctx, netip.AddrPortFrom(addr, uint16(port)))
		if err != nil {
			f.closeListeners()
			cancel()
			return nil, fmt.Errorf("devsim: device %s: %w", d.name, err)
		}
		d.listener = ln
		d.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		f.devices[i] = d
		f.byName[d.name] = d
	}
	for _, d := range f.devices {
		f.wg.Go(func() { d.run(ctx) })
	}
	// The fleet's own watcher: when ctx ends, close every listener and connection, which ends
	// every other goroutine of the fleet.
	f.wg.Go(func() {
		<-ctx.Done()
		f.closeListeners()
		for _, d := range f.devices {
			d.dropConnections()
		}
	})
	cfg.Logger.Info("devsim fleet started", "devices", cfg.Count, "seed", cfg.Seed)
	return f, nil
}

func listen(ctx context.Context, ap netip.AddrPort) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", ap, err)
	}
	return ln, nil
}

// closeListeners closes every device's listener (Start's clean-up and shutdown).
func (f *Fleet) closeListeners() {
	for _, d := range f.devices {
		if d == nil {
			continue
		}
		d.mu.Lock()
		ln := d.listener
		d.listener = nil
		d.mu.Unlock()
		if ln != nil {
			ln.Close()
		}
	}
}

// Close stops every device, drops every session and waits for all of the fleet's goroutines.
// It is safe to call more than once.
func (f *Fleet) Close() error {
	f.cancel()
	f.wg.Wait()
	return nil
}

// Devices describes every device, in order.
func (f *Fleet) Devices() []Info {
	out := make([]Info, len(f.devices))
	for i, d := range f.devices {
		out[i] = d.Info()
	}
	return out
}

// Device returns the device of that name, or nil.
func (f *Fleet) Device(name string) *Device { return f.byName[name] }

// DeviceAt returns the i-th device (0 ≤ i < Count).
func (f *Fleet) DeviceAt(i int) *Device { return f.devices[i] }

// Len is the number of devices.
func (f *Fleet) Len() int { return len(f.devices) }

// Info is what a client needs to reach a device, and what the inventory prints.
type Info struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"password"`
	// HostKey is the device's current public host key in authorized_keys format.
	HostKey string `json:"host_key"`
	// HostKeyFingerprint is its SHA-256 fingerprint, as ssh-keygen -l prints it.
	HostKeyFingerprint string `json:"host_key_fingerprint"`
	Model              string `json:"model"`
	Serial             string `json:"serial"`
	Version            string `json:"version"`
}

// stream returns the deterministic random stream number purpose of device index: identity,
// configuration and host keys each have their own, so that generating one never shifts
// another.
func (f *Fleet) stream(index int, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(f.cfg.Seed, uint64(index)<<8|purpose))
}

// Random stream purposes.
const (
	streamIdentity = 1
	streamConfig   = 2
	streamFlash    = 3
)

// hostKey derives the ed25519 host key of device index at key generation gen. With a shared
// key, every device at generation 0 uses the fleet's key (index -1).
func (f *Fleet) hostKey(index int, gen uint32) ssh.Signer {
	if f.cfg.SharedHostKey && gen == 0 {
		index = -1
	}
	var b [8 + 8 + 4]byte
	binary.BigEndian.PutUint64(b[0:], f.cfg.Seed)
	binary.BigEndian.PutUint64(b[8:], uint64(int64(index)))
	binary.BigEndian.PutUint32(b[16:], gen)
	seed := sha256.Sum256(append([]byte("webnet devsim host key\x00"), b[:]...))
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		panic(fmt.Sprintf("devsim: ed25519 signer: %v", err)) // cannot happen for a valid key
	}
	return signer
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}}
}
