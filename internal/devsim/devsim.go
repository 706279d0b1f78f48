// Package devsim simulates a fleet of network devices for tests, benchmarks and the demo
// (design.md §5). Every device is its own SSH server (golang.org/x/crypto/ssh) on its own
// address and port, with the command line of a Cisco IOS-XE switch, an Arista EOS switch or a
// Juniper Junos router: prompts and privilege levels as scrapligo's platform definitions
// expect them, paging, show commands, a configuration mode that really changes the running
// configuration, saving, a flash file system, image copies over HTTP with a real transfer and
// MD5 verification, a boot variable and reloads that drop the session, refuse connections for
// a while and come back on the booted version. Faults can be injected per device.
//
// Everything is deterministic from Config.Seed: names, models, serial numbers, versions, host
// keys and configurations. Only the parts that real devices change on every read (hashed
// secrets re-salted, EOS's "! Time:" line) and the clock differ between two fleets of the same
// seed, so that backup code has realistic noise to mask.
//
// Memory is the design constraint (10,000 idle devices in well under 1 GiB): an idle device is
// a small struct, a listening socket and one goroutine blocked in Accept. Its configuration and
// flash contents are generated from the seed when read and stored only once changed; image
// copies are hashed while streaming and never kept.
//
// devsim must never be reachable from anything but tests, benchmarks and the demo: it accepts
// one fixed credential and holds no real data.
package devsim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// Platform names, spelled as scrapligo's platform definitions spell them.
const (
	IOSXE = "cisco_iosxe"
	EOS   = "arista_eos"
	Junos = "juniper_junos"
)

// Platforms lists every simulated platform, in the order devices are assigned to them by
// default.
func Platforms() []string { return []string{IOSXE, EOS, Junos} }

// Config describes a fleet. The zero value of every field but Count has a sensible default.
type Config struct {
	// Count is the number of devices (at least 1).
	Count int
	// Seed makes the fleet deterministic: two fleets with the same Seed, Count and Platforms
	// have the same devices, host keys and configurations (up to per-read noise).
	Seed uint64
	// Platforms are assigned to devices round-robin (device i gets Platforms[i%len]).
	// Default: all three.
	Platforms []string
	// ListenAddress is the IP address every device listens on. Default: 127.0.0.1.
	ListenAddress string
	// BasePort is device 0's TCP port; device i listens on BasePort+i. 0 picks an ephemeral
	// port per device (the port is kept across reloads).
	BasePort int
	// Username and Password are the one login every device accepts (password and
	// keyboard-interactive authentication). Default: admin / admin. Password authentication
	// cannot be turned off: every client of the simulator may rely on it.
	Username, Password string
	// AuthorizedKeys are public keys accepted for Username.
	AuthorizedKeys []ssh.PublicKey
	// EnableSecret, when set, makes IOS-XE and EOS sessions start in user EXEC mode (">"), so
	// that "enable" asks for this secret. Empty: sessions start privileged ("#"), as for a
	// privilege-15 user.
	EnableSecret string
	// ReloadTime is how long a reloading device refuses connections. Default: 5s.
	ReloadTime time.Duration
	// SharedHostKey makes every device present the same host key. By default each device has
	// its own ed25519 key, derived from the seed, which is what host-key verification tests
	// need; sharing one costs nothing less, it only models a cloned fleet.
	SharedHostKey bool
	// Clock returns the current time; default time.Now. Timestamps in outputs and configs
	// come from it.
	Clock func() time.Time
	// Logger receives connection and reload events. Default: discard.
	Logger *slog.Logger
	// HTTPClient downloads images for "copy http://…". Default: a client with connect and
	// response-header timeouts; a transfer itself is bounded by the session's life.
	HTTPClient *http.Client
}

// Defaults applied by Start.
const (
	DefaultUsername   = "admin"
	DefaultPassword   = "admin"
	DefaultReloadTime = 5 * time.Second
)

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Count < 1 {
		return c, errors.New("devsim: Count must be at least 1")
	}
	if len(c.Platforms) == 0 {
		c.Platforms = Platforms()
	}
	for _, p := range c.Platforms {
		if !slices.Contains(Platforms(), p) {
			return c, fmt.Errorf("devsim: unknown platform %q (want %s, %s or %s)", p, IOSXE, EOS, Junos)
		}
	}
	if c.ListenAddress == "" {
		c.ListenAddress = "127.0.0.1"
	}
	if _, err := netip.ParseAddr(c.ListenAddress); err != nil {
		return c, fmt.Errorf("devsim: listen address: %w", err)
	}
	if c.BasePort < 0 || c.BasePort > 65535 || (c.BasePort > 0 && c.BasePort+c.Count-1 > 65535) {
		return c, fmt.Errorf("devsim: ports %d..%d are not all valid TCP ports", c.BasePort, c.BasePort+c.Count-1)
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.Password == "" {
		c.Password = DefaultPassword
	}
	if c.ReloadTime <= 0 {
		c.ReloadTime = DefaultReloadTime
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient()
	}
	return c, nil
}
