package devsim

import (
	"regexp"
	"strings"
	"testing"
)

func TestCiscoPromptsAndModes(t *testing.T) {
	f := startFleet(t, Config{Count: 2, Seed: 7, Platforms: []string{IOSXE, EOS}, EnableSecret: "s3cret"})
	for _, tc := range []struct {
		platform, ifPrompt, invalid string
	}{
		{IOSXE, "(config-if)#", "% Invalid input detected at '^' marker."},
		{EOS, "(config-if-Et1)#", "% Invalid input"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			d := firstOf(t, f, tc.platform)
			host := regexp.QuoteMeta(d.Name())
			tm := shell(t, d, 24)
			tm.expect(host + ">$")
			tm.send("enable\n")
			tm.expect("Password: ")
			tm.send("wrong\n")
			tm.expect("Password: ")
			tm.send("s3cret\n")
			tm.expect(host + "#$")
			if out := tm.run("terminal length 0", host+"#$"); strings.Contains(out, "%") {
				t.Fatalf("terminal length 0: %q", out)
			}
			tm.run("terminal width 512", host+"#$")
			tm.run("configure terminal", regexp.QuoteMeta(d.Name()+"(config)#")+"$")
			tm.run("interface "+d.model.ports[0], regexp.QuoteMeta(d.Name()+tc.ifPrompt)+"$")
			tm.run("description changed by test", regexp.QuoteMeta(d.Name()+tc.ifPrompt)+"$")
			out := tm.run("bogus command here", regexp.QuoteMeta(d.Name()+tc.ifPrompt)+"$")
			if !strings.Contains(out, tc.invalid) {
				t.Fatalf("invalid config line: %q", out)
			}
			tm.run("end", host+"#$")
			out = tm.run("show foo", host+"#$")
			if !strings.Contains(out, tc.invalid) {
				t.Fatalf("invalid command: %q", out)
			}
			out = tm.run("show running-config | include description changed", host+"#$")
			if !strings.Contains(out, "description changed by test") {
				t.Fatalf("running config lacks the change: %q", out)
			}
			if !d.Unsaved() {
				t.Fatal("Unsaved() = false after a change")
			}
			tm.run("disable", host+">$")
			tm.send("exit\n")
			if !tm.waitClosed(3e9) {
				t.Fatal("exit did not end the session")
			}
		})
	}
}

func TestJunosPromptsAndModes(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 7, Platforms: []string{Junos}})
	d := f.DeviceAt(0)
	user := d.Info().Username
	op := regexp.QuoteMeta(user+"@"+d.Name()+"> ") + "$"
	cfg := regexp.QuoteMeta("[edit]\r\n"+user+"@"+d.Name()+"# ") + "$"
	tm := shell(t, d, 24)
	tm.expect(op)
	for _, c := range []struct{ cmd, want string }{
		{"set cli screen-width 511", "Screen width set to 511"},
		{"set cli screen-length 0", "Screen length set to 0"},
		{"set cli complete-on-space off", "Disabling complete-on-space"},
		{"show version", "Junos: " + d.Version()},
		{"show chassis hardware", d.Info().Serial},
		{"foo", "unknown command."},
		{"show foo", "syntax error"},
	} {
		if out := tm.run(c.cmd, op); !strings.Contains(out, c.want) {
			t.Fatalf("%s: want %q in %q", c.cmd, c.want, out)
		}
	}
	tm.run("configure", cfg)
	tm.run("set system host-name renamed-rt", cfg)
	tm.run("set interfaces xe-0/1/7 description \"set by test\"", cfg)
	if out := tm.run("set bogus statement", cfg); !strings.Contains(out, "syntax error.") {
		t.Fatalf("bad set: %q", out)
	}
	if out := tm.run("show | compare", cfg); !strings.Contains(out, "+  host-name renamed-rt;") {
		t.Fatalf("compare: %q", out)
	}
	if !d.Unsaved() {
		t.Fatal("Unsaved() = false with an uncommitted candidate")
	}
	newCfg := regexp.QuoteMeta("[edit]\r\n"+user+"@renamed-rt# ") + "$"
	if out := tm.run("commit", newCfg); !strings.Contains(out, "commit complete") {
		t.Fatalf("commit: %q", out)
	}
	tm.run("exit configuration-mode", regexp.QuoteMeta(user+"@renamed-rt> ")+"$")
	running := d.RunningConfig()
	if !strings.Contains(running, "host-name renamed-rt;") || !strings.Contains(running, `description "set by test";`) {
		t.Fatalf("committed config lacks the changes:\n%s", running)
	}
	out := tm.run("show configuration interfaces xe-0/1/7 | display set", regexp.QuoteMeta(user+"@renamed-rt> ")+"$")
	if !strings.Contains(out, `set description "set by test"`) && !strings.Contains(out, `description "set by test"`) {
		t.Fatalf("display set: %q", out)
	}
}
