package backup

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckPush(t *testing.T) {
	for _, c := range []struct {
		name, platform, text string
		want                 string // a part of the reason; "" when the text is fine
	}{
		{"one line", "", "hostname r1", ""},
		{"sub-mode, indented, CR LF", "cisco_iosxe", "interface Loopback5\r\n description mgmt\r\n", ""},
		{"tabs", "arista_eos", "interface Ethernet1\n\tdescription x", ""},
		{"junos set", "juniper_junos", "set system host-name r1\ndelete snmp", ""},
		{"empty", "", "", "required"},
		{"blank", "", " \n\t\r\n ", "required"},
		{"too large", "", strings.Repeat("x", MaxPush+1), "64 KiB"},
		{"exactly the limit", "", strings.Repeat("x", MaxPush), ""},
		{"NUL", "", "hostname a\x00b", "U+0000"},
		{"escape", "", "hostname \x1b[31m", "U+001B"},
		{"lone CR", "", "hostname a\rb", "U+000D"},
		{"DEL", "", "hostname a\x7f", "U+007F"},
		{"do", "", "hostname r1\ndo reload", `Line 2 runs a command outside configuration mode ("do")`},
		{"do, upper case and indented", "cisco_iosxe", "interface Gi1\n  DO show run", `"do"`},
		{"run", "juniper_junos", "run request system reboot", `"run"`},
		{"junos commit", "juniper_junos", "set system host-name x\ncommit", `leave out "commit"`},
		{"junos exit", "juniper_junos", "exit", `"exit"`},
		{"junos rollback", "juniper_junos", "rollback 1", `"rollback"`},
		{"exit on IOS", "cisco_iosxe", "interface Gi1\n shutdown\n exit\nhostname r1", ""},
		{"commit on IOS is not special", "cisco_iosxe", "commit", ""},
		{"junos words on any platform are fine", "", "exit\ncommit", ""},
	} {
		got := CheckPush(c.platform, c.text)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: CheckPush = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestPushLines(t *testing.T) {
	got := PushLines("interface Gi1\r\n description x  \r\n\r\n   \n shutdown\n")
	want := []string{"interface Gi1", " description x", " shutdown"}
	if !slices.Equal(got, want) {
		t.Fatalf("PushLines = %q, want %q", got, want)
	}
}
