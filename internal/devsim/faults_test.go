package devsim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestAuth(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	signer, _ := ssh.NewSignerFromKey(priv)
	f := startFleet(t, Config{Count: 1, Seed: 31, AuthorizedKeys: []ssh.PublicKey{sshPub}})
	d := f.DeviceAt(0)
	info := d.Info()

	try := func(user string, auth ssh.AuthMethod) error {
		c, err := ssh.Dial("tcp", d.Addr(), &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := try(info.Username, ssh.Password(info.Password)); err != nil {
		t.Fatalf("password: %v", err)
	}
	if err := try(info.Username, ssh.PublicKeys(signer)); err != nil {
		t.Fatalf("public key: %v", err)
	}
	if err := try(info.Username, ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
		return []string{info.Password}, nil
	})); err != nil {
		t.Fatalf("keyboard-interactive: %v", err)
	}
	if try(info.Username, ssh.Password("wrong")) == nil || try("other", ssh.Password(info.Password)) == nil {
		t.Fatal("bad credentials accepted")
	}
	d.SetFaults(Faults{RejectAuth: true})
	if try(info.Username, ssh.Password(info.Password)) == nil || try(info.Username, ssh.PublicKeys(signer)) == nil {
		t.Fatal("the auth fault let a login through")
	}
}

func TestHostKeyChange(t *testing.T) {
	f := startFleet(t, Config{Count: 2, Seed: 32})
	d := f.DeviceAt(0)
	if d.HostKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("host key type %s", d.HostKey().Type())
	}
	if bytes.Equal(d.HostKey().Marshal(), f.DeviceAt(1).HostKey().Marshal()) {
		t.Fatal("two devices share a host key")
	}
	trusted := d.HostKey()
	cfg := clientConfig(d.Info().Username, d.Info().Password)
	cfg.HostKeyCallback = ssh.FixedHostKey(trusted)
	c, err := ssh.Dial("tcp", d.Addr(), cfg)
	if err != nil {
		t.Fatalf("trusted key refused: %v", err)
	}
	c.Close()
	if bytes.Equal(d.ChangeHostKey().Marshal(), trusted.Marshal()) {
		t.Fatal("ChangeHostKey kept the key")
	}
	if _, err := ssh.Dial("tcp", d.Addr(), cfg); err == nil {
		t.Fatal("the changed host key passed verification against the old one")
	}

	shared := startFleet(t, Config{Count: 2, Seed: 32, SharedHostKey: true})
	if !bytes.Equal(shared.DeviceAt(0).HostKey().Marshal(), shared.DeviceAt(1).HostKey().Marshal()) {
		t.Fatal("SharedHostKey: devices have different keys")
	}
}

func TestLatency(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 33, Platforms: []string{EOS}})
	d := f.DeviceAt(0)
	d.SetFaults(Faults{Latency: 300 * time.Millisecond})
	start := time.Now()
	if _, err := execCommand(t, d, "show clock"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("command answered in %v despite 300ms latency", took)
	}
}

func TestDisconnectMidCommand(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 34, Platforms: []string{IOSXE}})
	d := f.DeviceAt(0)
	d.SetFaults(Faults{DisconnectOn: "show running-config", DisconnectAfter: 1000})
	prompt := regexp.QuoteMeta(d.Name()+"#") + "$"
	tm := shell(t, d, 0)
	tm.expect(prompt)
	tm.run("terminal length 0", prompt)
	tm.run("show version", prompt) // other commands are unaffected
	tm.send("show run\n")          // abbreviations match too
	if !tm.waitClosed(5 * time.Second) {
		t.Fatal("the connection survived the disconnect fault")
	}
	tm.mu.Lock()
	got := tm.buf.Len()
	tm.mu.Unlock()
	if got < 900 || got > 1200 {
		t.Fatalf("got %d bytes before the disconnect, want about 1000 (+echo)", got)
	}
}

func TestHang(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 35, Platforms: []string{Junos}})
	d := f.DeviceAt(0)
	d.SetFaults(Faults{HangOn: "show configuration"})
	prompt := regexp.QuoteMeta(d.Info().Username+"@"+d.Name()+"> ") + "$"
	tm := shell(t, d, 0)
	tm.expect(prompt)
	tm.run("show version", prompt)
	tm.send("show configuration\n")
	if out, err := tm.tryExpect(prompt, 500*time.Millisecond); err == nil {
		t.Fatalf("a hung command answered: %q", out)
	}
	tm.client.Close()
	waitFor(t, 5*time.Second, "the hung session to end with its client", func() bool { return d.Sessions() == 0 })
}

func TestUnresponsive(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 36})
	d := f.DeviceAt(0)
	d.SetFaults(Faults{Unresponsive: true})
	conn, err := net.Dial("tcp", d.Addr())
	if err != nil {
		t.Fatalf("TCP refused: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var ne net.Error
	if _, err := conn.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("an unresponsive device said something: %v", err)
	}
	conn.Close()
	waitFor(t, 5*time.Second, "the connection to end with its client", func() bool { return d.Sessions() == 0 })
}

func TestPaging(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 37, Platforms: []string{IOSXE}})
	d := f.DeviceAt(0)
	prompt := regexp.QuoteMeta(d.Name()+"#") + "$"
	tm := shell(t, d, 0)
	tm.expect(prompt)
	tm.send("show running-config\n")
	first := tm.expect(" --More-- $")
	if n := strings.Count(first, "\n"); n != 24 {
		t.Fatalf("first page has %d lines, want 23 and the echo", n)
	}
	tm.send(" ")
	tm.expect(" --More-- $")
	tm.send("q")
	tm.expect(prompt)
	tm.run("terminal length 0", prompt)
	if out := tm.run("show running-config", prompt); strings.Contains(out, "--More--") || !strings.HasSuffix(strings.TrimSpace(out), "end") {
		t.Fatal("paging despite terminal length 0")
	}
}

func TestExecRequest(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 38})
	for i := range f.Len() {
		d := f.DeviceAt(i)
		out, err := execCommand(t, d, "show version")
		if err != nil || !strings.Contains(out, d.Version()) {
			t.Fatalf("%s: %v %q", d.Platform(), err, out)
		}
		if _, err := execCommand(t, d, "show nonsense"); err == nil {
			t.Fatalf("%s: an invalid command exited 0", d.Platform())
		}
	}
}

func TestFaultPlan(t *testing.T) {
	if _, err := ParseFaultPlan("auth:2,frobnicate:1"); err == nil {
		t.Fatal("unknown fault accepted")
	}
	plan, err := ParseFaultPlan("auth:2, hang:1,corrupt")
	if err != nil {
		t.Fatal(err)
	}
	a := startFleet(t, Config{Count: 6, Seed: 39})
	b := startFleet(t, Config{Count: 6, Seed: 39})
	ga, err := plan.Apply(a)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := plan.Apply(b)
	if len(ga) != 4 {
		t.Fatalf("%d devices got faults, want 4: %v", len(ga), ga)
	}
	for name, fault := range ga {
		if gb[name] != fault {
			t.Fatalf("fault assignment is not deterministic: %v vs %v", ga, gb)
		}
		if fault == "auth" && !a.Device(name).Faults().RejectAuth {
			t.Fatalf("%s: preset not applied", name)
		}
	}
	if _, err := (FaultPlan{"auth": 7}).Apply(a); err == nil {
		t.Fatal("more faulty devices than devices accepted")
	}
}
