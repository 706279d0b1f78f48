package devsim

import (
	"strings"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/channel"
	"github.com/scrapli/scrapligo/driver/options"
	scrapliplatform "github.com/scrapli/scrapligo/platform"
	"github.com/scrapli/scrapligo/transport"
)

// TestScrapligo drives every platform with the production driver, scrapligo v1 over its
// standard (x/crypto/ssh) transport: open (privilege and paging on-open commands), a show
// command, configuration lines, and an invalid command reported as failed.
func TestScrapligo(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 11})
	for _, plat := range Platforms() {
		t.Run(plat, func(t *testing.T) {
			d := firstOf(t, f, plat)
			info := d.Info()
			p, err := scrapliplatform.NewPlatform(plat, info.Address,
				options.WithTransportType(transport.StandardTransport),
				options.WithPort(info.Port),
				options.WithAuthUsername(info.Username),
				options.WithAuthPassword(info.Password),
				options.WithAuthNoStrictKey(),
				options.WithTimeoutOps(10*time.Second),
			)
			if err != nil {
				t.Fatalf("platform: %v", err)
			}
			drv, err := p.GetNetworkDriver()
			if err != nil {
				t.Fatalf("driver: %v", err)
			}
			if err := drv.Open(); err != nil {
				t.Fatalf("open: %v", err)
			}
			defer drv.Close()

			r, err := drv.SendCommand("show version")
			if err != nil || r.Failed != nil {
				t.Fatalf("show version: %v / %v", err, r.Failed)
			}
			if !strings.Contains(r.Result, d.Version()) {
				t.Fatalf("show version lacks %s:\n%s", d.Version(), r.Result)
			}

			var configs []string
			var want string
			switch plat {
			case Junos:
				configs = []string{"set system ntp server 192.0.2.99", "commit"}
				want = "server 192.0.2.99;"
			default:
				configs = []string{"interface " + d.model.ports[1], "description scrapligo was here", "exit", "ntp server 192.0.2.99"}
				want = "description scrapligo was here"
			}
			mr, err := drv.SendConfigs(configs)
			if err != nil || mr.Failed != nil {
				t.Fatalf("send configs: %v / %v", err, mr.Failed)
			}
			if !strings.Contains(d.RunningConfig(), want) {
				t.Fatalf("running config lacks %q", want)
			}
			cmd := "show running-config"
			if plat == Junos {
				cmd = "show configuration"
			}
			r, err = drv.SendCommand(cmd)
			if err != nil || r.Failed != nil || !strings.Contains(r.Result, want) {
				t.Fatalf("%s: %v / %v, %d bytes", cmd, err, r.Failed, len(r.Result))
			}

			r, err = drv.SendCommand("show bogus thing")
			if err != nil {
				t.Fatalf("invalid command: %v", err)
			}
			if r.Failed == nil {
				t.Fatalf("scrapligo did not see the invalid command fail:\n%s", r.Result)
			}
			mr, err = drv.SendConfigs([]string{"bogus configuration line"})
			if err != nil {
				t.Fatalf("invalid config: %v", err)
			}
			if mr.Failed == nil {
				t.Fatal("scrapligo did not see the invalid configuration line fail")
			}

			// Stage an image as the upgrade job will: IOS-XE asks for the destination
			// file name, so the copy is interactive there.
			name, _ := upgradeImage(d)
			url, sum := imageServer(t, name, 1<<20)
			c := platformCLI(d)
			switch plat {
			case IOSXE:
				r, err = drv.SendInteractive([]*channel.SendInteractiveEvent{
					{ChannelInput: "copy " + url + " flash:", ChannelResponse: `Destination filename \[`},
					{ChannelInput: "", ChannelResponse: ""},
				})
			default:
				r, err = drv.SendCommand(c.copy(url, name))
			}
			if err != nil || r.Failed != nil || strings.Contains(r.Result, "rror") {
				t.Fatalf("copy: %v / %v\n%s", err, r.Failed, r.Result)
			}
			r, err = drv.SendCommand(c.verify(name))
			if err != nil || !strings.Contains(r.Result, c.md5Line(name, sum)) {
				t.Fatalf("verify: %v\n%s", err, r.Result)
			}
		})
	}
}
