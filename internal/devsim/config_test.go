package devsim

import (
	"regexp"
	"strings"
	"testing"
)

// mask removes what changes on every read: hashed secrets and EOS's "! Time:" line.
func mask(config string) string {
	config = cryptRE.ReplaceAllString(config, "<secret>")
	config = type7RE.ReplaceAllString(config, "${1}<secret>")
	return regexp.MustCompile(`(?m)^! Time: .*$`).ReplaceAllString(config, "! Time: <now>")
}

func TestConfigSizesAndNoise(t *testing.T) {
	f := startFleet(t, Config{Count: 30, Seed: 3})
	for i := range f.Len() {
		d := f.DeviceAt(i)
		a, b := d.RunningConfig(), d.RunningConfig()
		if n := len(a); n < 5_000 || n > 50_000 {
			t.Errorf("%s (%s): config of %d bytes, want 5-50 KB", d.Name(), d.Platform(), n)
		}
		if a == b {
			t.Errorf("%s: two reads are identical: no noise to mask", d.Name())
		}
		if mask(a) != mask(b) {
			t.Errorf("%s: reads differ beyond the noise", d.Name())
		}
		if !strings.Contains(a, d.Name()) {
			t.Errorf("%s: config lacks the host name", d.Name())
		}
	}
}

func TestDeterministicFromSeed(t *testing.T) {
	a := startFleet(t, Config{Count: 6, Seed: 42})
	b := startFleet(t, Config{Count: 6, Seed: 42})
	c := startFleet(t, Config{Count: 6, Seed: 43})
	for i := range a.Len() {
		ia, ib := a.DeviceAt(i).Info(), b.DeviceAt(i).Info()
		ia.Port, ib.Port = 0, 0
		if ia != ib {
			t.Errorf("device %d differs between fleets of one seed:\n%+v\n%+v", i, ia, ib)
		}
		if mask(a.DeviceAt(i).RunningConfig()) != mask(b.DeviceAt(i).RunningConfig()) {
			t.Errorf("device %d: configs differ between fleets of one seed", i)
		}
		if a.DeviceAt(i).Info().HostKey == c.DeviceAt(i).Info().HostKey {
			t.Errorf("device %d: same host key under another seed", i)
		}
	}
}

func TestSaveToStartup(t *testing.T) {
	f := startFleet(t, Config{Count: 2, Seed: 5, Platforms: []string{IOSXE, EOS}})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		host := regexp.QuoteMeta(d.Name())
		tm := shell(t, d, 0)
		tm.expect(host + "#$")
		tm.run("terminal length 0", host+"#$")
		tm.run("configure terminal", host+`\(config\)#$`)
		tm.run("hostname renamed", `renamed\(config\)#$`)
		tm.run("ntp server 192.0.2.1", `renamed\(config\)#$`)
		tm.run("end", "renamed#$")
		if !strings.Contains(d.RunningConfig(), "hostname renamed") || strings.Contains(d.StartupConfig(), "hostname renamed") {
			t.Fatal("the change should be in running and not yet in startup")
		}
		if !d.Unsaved() {
			t.Fatal("Unsaved() = false")
		}
		out := tm.run("write memory", "renamed#$")
		if !strings.Contains(out, "[OK]") && !strings.Contains(out, "Copy completed successfully.") {
			t.Fatalf("write memory: %q", out)
		}
		if d.Unsaved() || !strings.Contains(d.StartupConfig(), "ntp server 192.0.2.1") {
			t.Fatal("write memory did not save")
		}
		if out := tm.run("show startup-config | include ^hostname", "renamed#$"); strings.TrimSpace(out) != "hostname renamed" {
			t.Fatalf("show startup-config filter: %q", out)
		}
	})
}

func TestChangeConfigOutOfBand(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 9})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		var add, remove []string
		var added, removed string
		switch d.Platform() {
		case Junos:
			add = []string{"set interfaces " + d.model.ports[5] + " description \"out of band\""}
			added = `description "out of band";`
			remove = []string{"delete snmp"}
			removed = "snmp {"
		default:
			add = []string{"interface " + d.model.ports[5], "description out of band"}
			added = "description out of band"
			remove = []string{"no snmp-server location"}
			removed = "snmp-server location"
		}
		if !strings.Contains(d.RunningConfig(), removed) {
			t.Fatalf("generated config lacks %q", removed)
		}
		if err := d.ChangeConfig(add...); err != nil {
			t.Fatal(err)
		}
		if err := d.ChangeConfig(remove...); err != nil {
			t.Fatal(err)
		}
		cfg := d.RunningConfig()
		if !strings.Contains(cfg, added) || strings.Contains(cfg, removed) {
			t.Fatalf("out-of-band change not applied:\n%s", cfg)
		}
		if err := d.ChangeConfig("utter nonsense"); err == nil {
			t.Fatal("nonsense accepted")
		}
	})
}

func TestCiscoApply(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 1, Platforms: []string{IOSXE}})
	d := f.DeviceAt(0)
	port := d.model.ports[0]
	c := parseCisco("hostname a\n!\ninterface "+port+"\n description old\n shutdown\n!\ninterface Vlan1\n no ip address\n!\nntp server 10.0.0.1\nno ip http server\n", false)
	steps := []struct {
		path []string
		line string
	}{
		{nil, "hostname b"}, // replace a single-valued top-level line
		{nil, "int " + strings.ToLower(port[:2]) + port[strings.IndexAny(port, "0123456789"):]}, // abbreviated
		{[]string{"interface " + port}, "description new"},
		{[]string{"interface " + port}, "no shutdown"},
		{nil, "interface Vlan1"},
		{[]string{"interface Vlan1"}, "ip address 10.1.1.1 255.255.255.0"},
		{nil, "ntp server 10.0.0.2"},
		{nil, "no ntp server 10.0.0.1"},
		{nil, "ip http server"},
		{nil, "interface Loopback7"},
	}
	for _, s := range steps {
		if _, err := c.apply(d, s.path, s.line); err != nil {
			t.Fatalf("%q: %v", s.line, err)
		}
	}
	want := "hostname b\n!\ninterface " + port + "\n description new\n!\ninterface Vlan1\n ip address 10.1.1.1 255.255.255.0\n!\n" +
		"interface Loopback7\n!\nntp server 10.0.0.2\nip http server\n"
	if got := c.body(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range []string{"frobnicate x", "interface GigabitEthernet9/9/9", "no"} {
		if _, err := c.apply(d, nil, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestJunosSetDelete(t *testing.T) {
	c := &junosConfig{}
	for _, s := range []string{
		"system host-name a",
		"system host-name b",
		"system services ssh",
		"interfaces ge-0/0/1 description \"to core\"",
		"interfaces ge-0/0/1 unit 0 family inet address 10.0.0.1/31",
		"interfaces ge-0/0/1 unit 0 family inet address 10.0.0.3/31",
		"snmp community public authorization read-only",
		"protocols lldp interface all",
	} {
		if !c.set(junosTokens(s)) {
			t.Fatalf("set %s refused", s)
		}
	}
	want := `system {
    host-name b;
    services {
        ssh;
    }
}
interfaces {
    ge-0/0/1 {
        description "to core";
        unit 0 {
            family inet {
                address 10.0.0.1/31;
                address 10.0.0.3/31;
            }
        }
    }
}
snmp {
    community public {
        authorization read-only;
    }
}
protocols {
    lldp {
        interface all;
    }
}
`
	if got := c.body(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if !c.delete(junosTokens("interfaces ge-0/0/1 unit 0 family inet address 10.0.0.1/31")) ||
		!c.delete(junosTokens("interfaces ge-0/0/1 description")) || !c.delete(junosTokens("snmp")) {
		t.Fatal("delete found nothing")
	}
	if c.delete(junosTokens("routing-options")) || c.set(junosTokens("bogus x")) {
		t.Fatal("deleted or set a statement that cannot exist")
	}
	got := strings.Join(c.setLines(nil, "", nil), "\n")
	want = "set system host-name b\nset system services ssh\nset interfaces ge-0/0/1 unit 0 family inet address 10.0.0.3/31\nset protocols lldp interface all"
	if got != want {
		t.Fatalf("set lines:\n%s\nwant:\n%s", got, want)
	}
}
