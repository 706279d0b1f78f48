package device

import (
	"strings"
	"testing"

	"github.com/scrapli/scrapligo/platform"
)

// TestStripPrompt: the prompt that ends a command's output goes, with each platform's real
// prompt pattern; lines of the output that look like a prompt (a banner's "--->") stay, which
// scrapligo's own stripping, over the whole output, would remove.
func TestStripPrompt(t *testing.T) {
	long := strings.Repeat("interface GigabitEthernet1/0/1\n description uplink\n", 40)
	for _, c := range []struct {
		platform, out, want string
	}{
		{"cisco_iosxe", "line 1\nline 2\ncore-r1#", "line 1\nline 2"},
		{"cisco_iosxe", "banner motd ^C\n--->\nrouter#\n^C\nend\n\ncore-r1#", "banner motd ^C\n--->\nrouter#\n^C\nend"},
		{"cisco_iosxe", long + "end\ncore-r1#", long + "end"},
		{"cisco_iosxe", "core-r1#", ""},
		{"cisco_iosxe", "no prompt at the end", "no prompt at the end"},
		{"cisco_iosxe", "core-r1#\nand then more", "core-r1#\nand then more"},
		{"arista_eos", "Arista DCS-7050\nleaf-1#", "Arista DCS-7050"},
		{"juniper_junos", "set system host-name edge1\n\n{master:0}\nadmin@edge1>", "set system host-name edge1"},
		{"juniper_junos", "Hostname: edge1\nadmin@edge1> ", "Hostname: edge1"},
	} {
		p, err := platform.NewPlatform(c.platform, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.GetNetworkDriver()
		if err != nil {
			t.Fatal(err)
		}
		if got := stripPrompt(c.out, d.Channel.PromptPattern); got != c.want {
			t.Errorf("%s: stripPrompt(%.60q) = %.60q, want %.60q", c.platform, c.out, got, c.want)
		}
	}
}
