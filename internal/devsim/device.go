package devsim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Device is one simulated device. Its methods are for tests: they read and change the same
// state that the device's command line does, safely from any goroutine.
type Device struct {
	f      *Fleet
	index  int
	name   string // also the initial host name
	plat   *platform
	model  *model
	serial string
	site   int // index into sites, also the second octet of its addresses

	mu       sync.Mutex
	listener net.Listener // nil while down
	addr     netip.AddrPort
	up       bool
	conns    map[net.Conn]context.CancelFunc
	faults   Faults
	keyGen   uint32
	reloads  int
	reads    uint64 // configuration reads so far: the per-read noise is derived from it
	bootedAt time.Time
	version  string // running version
	image    string // running image file name
	// running and startup are nil until the configuration first changes: until then both
	// are the configuration generated from the seed. Junos has no startup configuration (a
	// commit is durable); its candidate is nil when no one is editing.
	running, startup, candidate config
	hostname                    string // of the running configuration, for the prompt
	unsaved                     bool
	lastChange, lastSave        time.Time
	changedBy                   string
	// files is nil until the flash changes: until then it holds defaultFiles().
	files []*File
	// bootVar is EOS's boot-config image and Junos's pending (installed, not yet booted)
	// package; IOS-XE's boot variable lives in its startup configuration.
	bootVar string
}

// config is a device configuration: a tree of lines (IOS-XE, EOS) or of statements (Junos).
type config interface {
	clone() config
	// body renders the configuration without the header lines and secrets' noise.
	body() string
	hostname() string
}

func newDevice(f *Fleet, index, width int) *Device {
	r := f.stream(index, streamIdentity)
	p := platforms[f.cfg.Platforms[index%len(f.cfg.Platforms)]]
	d := &Device{f: f, index: index, plat: p, up: true}
	d.site = r.IntN(len(sites))
	d.name = fmt.Sprintf("%s-%s-%0*d", sites[d.site], p.role, width, index+1)
	d.hostname = d.name
	d.model = p.models[r.IntN(len(p.models))]
	d.serial = d.model.serialPrefix + randomSerial(r.Uint64(), d.model.serialDigits)
	d.version = p.versions[r.IntN(len(p.versions))]
	d.image = fmt.Sprintf(d.model.imageFmt, d.version)
	now := f.cfg.Clock()
	// Devices have been up for a while when the fleet starts, and last changed before that.
	d.bootedAt = now.Add(-time.Duration(1+r.IntN(400*24)) * time.Hour).Truncate(time.Second)
	d.lastChange = d.bootedAt.Add(time.Duration(r.IntN(3600)) * time.Second)
	d.lastSave = d.lastChange.Add(time.Duration(5+r.IntN(60)) * time.Second)
	d.changedBy = f.cfg.Username
	return d
}

// randomSerial renders n as digits upper-case alphanumerics.
func randomSerial(n uint64, digits int) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, digits)
	for i := range b {
		b[i] = alphabet[n%uint64(len(alphabet))]
		n /= uint64(len(alphabet))
	}
	return string(b)
}

// Name is the device's inventory name (its initial host name).
func (d *Device) Name() string { return d.name }

// Platform is the device's scrapligo platform name.
func (d *Device) Platform() string { return d.plat.name }

// Info describes the device as clients reach it.
func (d *Device) Info() Info {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := d.f.hostKey(d.index, d.keyGen).PublicKey()
	return Info{
		Name: d.name, Platform: d.plat.name,
		Address: d.addr.Addr().String(), Port: int(d.addr.Port()),
		Username: d.f.cfg.Username, Password: d.f.cfg.Password,
		HostKey:            string(trimNewline(ssh.MarshalAuthorizedKey(key))),
		HostKeyFingerprint: ssh.FingerprintSHA256(key),
		Model:              d.model.name, Serial: d.serial, Version: d.version,
	}
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// Addr is the device's address and port.
func (d *Device) Addr() string { return d.addr.String() }

// HostKey is the public host key the device presents now.
func (d *Device) HostKey() ssh.PublicKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.hostKey(d.index, d.keyGen).PublicKey()
}

// ChangeHostKey gives the device a new host key (as a re-installed device would have) and
// returns it. Existing sessions are not affected.
func (d *Device) ChangeHostKey() ssh.PublicKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keyGen++
	return d.f.hostKey(d.index, d.keyGen).PublicKey()
}

// Version is the software version the device runs.
func (d *Device) Version() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Reloads counts the device's reloads since the fleet started.
func (d *Device) Reloads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reloads
}

// Up reports whether the device accepts connections (false while it reloads).
func (d *Device) Up() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.up
}

// Sessions counts the device's open connections.
func (d *Device) Sessions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// Unsaved reports whether the running configuration has changes not yet saved to the startup
// configuration (Junos: whether the candidate configuration has uncommitted changes).
func (d *Device) Unsaved() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plat.name == Junos {
		return d.candidate != nil
	}
	return d.unsaved
}

// RunningConfig is the running configuration exactly as "show running-config" (Junos: "show
// configuration") prints it now; like every read it has fresh noise.
func (d *Device) RunningConfig() string {
	return d.showConfig(false)
}

// StartupConfig is the startup configuration as "show startup-config" prints it. Junos has
// none: a committed configuration is durable, so it returns the running configuration.
func (d *Device) StartupConfig() string {
	return d.showConfig(d.plat.name != Junos)
}

// ChangeConfig applies configuration lines out of band, as another administrator would, and
// returns the first error the device's parser reports. IOS-XE and EOS take configuration-mode
// lines ("interface Ethernet1", "description x", "no ntp server 10.0.0.1"); Junos takes
// "set …" and "delete …" statements, which are committed at once.
func (d *Device) ChangeConfig(lines ...string) error {
	if d.plat.name == Junos {
		return junosApplyOutOfBand(d, lines)
	}
	return ciscoApplyOutOfBand(d, lines)
}

// Reload power-cycles the device: its sessions drop, it refuses connections for ReloadTime,
// then it comes back on the booted image with its startup configuration.
func (d *Device) Reload() { d.reload() }

// runningLocked returns the running configuration, generated if never changed. Callers hold
// d.mu and must not modify the result unless they own it (see mutableRunningLocked).
func (d *Device) runningLocked() config {
	if d.running == nil {
		return d.generate()
	}
	return d.running
}

// startupLocked is runningLocked's counterpart for the startup configuration.
func (d *Device) startupLocked() config {
	if d.startup == nil {
		return d.generate()
	}
	return d.startup
}

// mutableRunningLocked materialises the running configuration so that it may be changed.
func (d *Device) mutableRunningLocked() config {
	if d.running == nil {
		d.running = d.generate()
	}
	return d.running
}

// generate builds the device's configuration from the seed: the same every time.
func (d *Device) generate() config {
	g := newGenerator(d)
	switch d.plat.name {
	case IOSXE:
		return g.iosxe()
	case EOS:
		return g.eos()
	default:
		return g.junos()
	}
}

// noteChangeLocked records a configuration change made by user.
func (d *Device) noteChangeLocked(user string) {
	d.unsaved = true
	d.lastChange = d.f.cfg.Clock()
	d.changedBy = user
	d.hostname = d.running.hostname()
}

// saveLocked copies the running configuration to the startup configuration.
func (d *Device) saveLocked(user string) {
	if d.running != nil {
		d.startup = d.running.clone()
	}
	d.unsaved = false
	d.lastSave = d.f.cfg.Clock()
	d.changedBy = user
}
