package backup

import (
	"slices"
	"strings"
	"testing"
)

const iosRunning = `Building configuration...

Current configuration : 512 bytes
!
version 17.9
hostname core-r1
ip domain name example.net
!
interface GigabitEthernet1
 description uplink
 ip address 192.0.2.1 255.255.255.0
 shutdown
!
interface GigabitEthernet2
 no ip address
!
router ospf 1
 router-id 10.0.0.1
 network 10.0.0.0 0.0.0.255 area 0
!
ntp server 10.0.0.123
line vty 0 4
 transport input ssh
!
end
`

const junosRunning = `## Last commit: 2026-11-26 09:00:00 UTC by admin
version 23.2R1.14;
system {
    host-name edge-j1;
    root-authentication {
        encrypted-password "$6$abc$def"; ## SECRET-DATA
    }
    name-server [ 10.0.0.53 10.0.1.53 ];
}
interfaces {
    ge-0/0/0 {
        description "to core";
        unit 0 {
            family inet {
                address 192.0.2.9/31;
            }
        }
    }
}
`

// changes lists the lines the diff from a preview adds (+) and removes (-), in order.
func changes(platform string, p Preview) []string {
	var out []string
	for _, l := range strings.Split(Diff(platform, "a", "b", p.From, p.To), "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			out = append(out, l)
		}
	}
	return out
}

// sameChanges checks that p's diff adds and removes exactly want, in any order.
func sameChanges(t *testing.T, platform string, p Preview, want []string) {
	t.Helper()
	got := changes(platform, p)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q\n%s", got, want, Diff(platform, "a", "b", p.From, p.To))
	}
}

func TestPreviewIOS(t *testing.T) {
	for _, c := range []struct {
		name  string
		push  string
		want  []string
		check func(t *testing.T, to string)
	}{
		{name: "a single-valued setting replaces its value", push: "hostname core-r9",
			want: []string{"-hostname core-r1", "+hostname core-r9"}},
		{name: "a present line changes nothing", push: "interface GigabitEthernet1\n description uplink", want: nil},
		{name: "a new sub-mode line goes into the sub-mode", push: "interface GigabitEthernet2\n description spare",
			want: []string{"+ description spare"}},
		{name: "no removes, no shutdown removes shutdown", push: "interface GigabitEthernet1\n no shutdown",
			want: []string{"- shutdown"}},
		{name: "replacing an address in place", push: "interface GigabitEthernet1\n ip address 192.0.2.5 255.255.255.0",
			want: []string{"- ip address 192.0.2.1 255.255.255.0", "+ ip address 192.0.2.5 255.255.255.0"}},
		{name: "ip address replaces no ip address", push: "interface GigabitEthernet2\n ip address 10.9.9.9 255.255.255.252",
			want: []string{"- no ip address", "+ ip address 10.9.9.9 255.255.255.252"}},
		{name: "a new interface goes after the others, with its separator", push: "interface Loopback5\n description mgmt",
			want: []string{"+!", "+interface Loopback5", "+ description mgmt"},
			check: func(t *testing.T, to string) {
				if !strings.Contains(to, "no ip address\n!\ninterface Loopback5\n description mgmt\n!\nrouter ospf 1") {
					t.Errorf("placement:\n%s", to)
				}
			}},
		{name: "a global line leaves the sub-mode", push: "interface GigabitEthernet1\n description x\nhostname r2",
			want: []string{"-hostname core-r1", "+hostname r2", "- description uplink", "+ description x"}},
		{name: "an unindented line after indented ones is at the top level", push: "router ospf 1\n network 10.1.0.0 0.0.0.255 area 0\nntp server 10.0.0.124",
			want: []string{"+ network 10.1.0.0 0.0.0.255 area 0", "+ntp server 10.0.0.124"},
			check: func(t *testing.T, to string) {
				if !strings.Contains(to, "ntp server 10.0.0.123\nntp server 10.0.0.124\n") {
					t.Errorf("a new top-level line goes after its kind:\n%s", to)
				}
			}},
		{name: "no of a whole block", push: "no interface GigabitEthernet2",
			want: []string{"-interface GigabitEthernet2", "- no ip address"}},
		{name: "exit and end", push: "line vty 0 4\n exec-timeout 5 0\n exit\nrouter ospf 1\n router-id 10.0.0.2\nend\nhostname x",
			want: []string{"-hostname core-r1", "+hostname x", "- router-id 10.0.0.1", "+ router-id 10.0.0.2", "+ exec-timeout 5 0"}},
		{name: "a no of something absent is kept as written", push: "no ip domain lookup",
			want: []string{"+no ip domain lookup"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := PreviewPush("cisco_iosxe", []byte(iosRunning), PushLines(c.push))
			sameChanges(t, "cisco_iosxe", p, c.want)
			if string(p.From) != iosRunning {
				t.Error("From is not the running configuration")
			}
			if c.check != nil {
				c.check(t, string(p.To))
			}
		})
	}
}

func TestPreviewEOSIndentsThreeSpaces(t *testing.T) {
	running := "hostname leaf1\n!\ninterface Ethernet1\n!\nend\n"
	p := PreviewPush("arista_eos", []byte(running), []string{"interface Ethernet1", "description to spine"})
	if want := "interface Ethernet1\n   description to spine\n!"; !strings.Contains(string(p.To), want) {
		t.Fatalf("EOS preview:\n%s", p.To)
	}
}

func TestJunosSetLines(t *testing.T) {
	got := junosSetLines(junosRunning)
	want := []string{
		"set version 23.2R1.14",
		"set system host-name edge-j1",
		`set system root-authentication encrypted-password "$6$abc$def"`,
		"set system name-server 10.0.0.53",
		"set system name-server 10.0.1.53",
		`set interfaces ge-0/0/0 description "to core"`,
		"set interfaces ge-0/0/0 unit 0 family inet address 192.0.2.9/31",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("set lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPreviewJunos(t *testing.T) {
	for _, c := range []struct {
		name       string
		push       string
		want       []string
		unmodelled []string
	}{
		{name: "a single-valued leaf replaces its value", push: "set system host-name edge-j9",
			want: []string{"-set system host-name edge-j1", "+set system host-name edge-j9"}},
		{name: "a quoted description replaces the old", push: `set interfaces ge-0/0/0 description "to core 2"`,
			want: []string{`-set interfaces ge-0/0/0 description "to core"`, `+set interfaces ge-0/0/0 description "to core 2"`}},
		{name: "a present statement changes nothing", push: "set system name-server 10.0.0.53"},
		{name: "a new statement", push: "set system ntp server 10.0.0.123", want: []string{"+set system ntp server 10.0.0.123"}},
		{name: "delete removes a subtree", push: "delete interfaces ge-0/0/0 unit 0",
			want: []string{"-set interfaces ge-0/0/0 unit 0 family inet address 192.0.2.9/31"}},
		{name: "edit, top, up", push: "edit interfaces ge-0/0/1\nset description spare\nup\nset ge-0/0/2 disable\ntop\nset snmp location lab",
			want: []string{"+set interfaces ge-0/0/1 description spare", "+set interfaces ge-0/0/2 disable", "+set snmp location lab"}},
		{name: "other commands are listed", push: "set system host-name x\nannotate system \"why\"\ndeactivate interfaces",
			want: []string{"-set system host-name edge-j1", "+set system host-name x"}, unmodelled: []string{`annotate system "why"`, "deactivate interfaces"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := PreviewPush("juniper_junos", []byte(junosRunning), PushLines(c.push))
			sameChanges(t, "juniper_junos", p, c.want)
			if !slices.Equal(p.Unmodelled, c.unmodelled) {
				t.Errorf("unmodelled %q, want %q", p.Unmodelled, c.unmodelled)
			}
		})
	}
	// A new statement goes next to its closest relative, so the diff stays local.
	p := PreviewPush("juniper_junos", []byte(junosRunning), []string{"set system name-server 10.0.2.53"})
	if !strings.Contains(string(p.To), "name-server 10.0.1.53\nset system name-server 10.0.2.53\nset interfaces") {
		t.Errorf("placement:\n%s", p.To)
	}
}
