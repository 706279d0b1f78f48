package compliance

import (
	"errors"
	"strings"
	"testing"
)

const config = "hostname r1\r\n!\r\ninterface Gi1\r\n description uplink\r\n shutdown\r\n!\r\nline vty 0 4\r\n transport input telnet ssh\r\nntp server 10.0.0.1\r\nntp server 10.0.0.2\r\nend\r\n"

func TestEvaluate(t *testing.T) {
	for _, c := range []struct {
		kind, pattern string
		passed        bool
		detail        string
	}{
		{MustContain, "ntp server 10.0.0.1", true, "Found at line 9."},
		{MustContain, "ntp server", true, "Found at line 9 (2 occurrences)."},
		{MustContain, "interface Gi1\n description uplink", true, "Found at line 3."},
		{MustContain, "interface Gi1\n description core", false, "Not found in the configuration."},
		{MustContain, "Hostname", false, "Not found in the configuration."},
		{MustNotContain, "transport input telnet", false, "Found at line 8; it must not be there."},
		{MustNotContain, "snmp-server community public", true, "Not found."},
		{RegexMatch, `^ntp server 10\.0\.0\.\d+$`, true, "Matches at line 9 (2 occurrences)."},
		{RegexMatch, `^logging host `, false, "No line matches."},
		{RegexMatch, `^ description`, true, "Matches at line 4."},
		{RegexAbsent, `transport input .*telnet`, false, "Matches at line 8; nothing may match."},
		{RegexAbsent, `^ip http server$`, true, "No match."},
		{RegexAbsent, `(?-m)^ntp`, true, "No match."},
		{RegexMatch, `(?i)^HOSTNAME r1$`, true, "Matches at line 1."},
	} {
		m, err := Compile(c.kind, c.pattern)
		if err != nil {
			t.Fatalf("%s %q: %v", c.kind, c.pattern, err)
		}
		got := m.Evaluate(config)
		if got.Passed != c.passed || got.Detail != c.detail {
			t.Errorf("%s %q: %+v, want %v %q", c.kind, c.pattern, got, c.passed, c.detail)
		}
		if strings.Contains(got.Detail, "telnet") || strings.Contains(got.Detail, "10.0.0") {
			t.Errorf("%s %q: the detail quotes the configuration: %q", c.kind, c.pattern, got.Detail)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, c := range []struct {
		kind, pattern, field, why string
	}{
		{"must_match", "x", "kind", "Must be one of must_contain, must_not_contain, regex_match, regex_absent."},
		{MustContain, "", "pattern", "This field is required."},
		{MustContain, " \n ", "pattern", "This field is required."},
		{RegexMatch, "(unclosed", "pattern", "Not a valid regular expression (RE2 syntax): missing closing ): `(unclosed`."},
		{RegexAbsent, `(?<=lookbehind)x`, "pattern", "Not a valid regular expression"},
		{MustContain, strings.Repeat("é", MaxPattern+1), "pattern", "Use at most 1000 characters."},
		{MustNotContain, "a\x00b", "pattern", "Control characters"},
	} {
		_, err := Compile(c.kind, c.pattern)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != c.field || !strings.HasPrefix(ie.Why, c.why) {
			t.Errorf("%s %q: %v, want %s: %s", c.kind, c.pattern, err, c.field, c.why)
		}
	}
	if _, err := Compile(MustContain, strings.Repeat("é", MaxPattern)); err != nil {
		t.Errorf("a pattern of exactly %d characters: %v", MaxPattern, err)
	}
}
