package devsim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imageServer serves one image of size bytes under /images/name and returns its URL and MD5.
func imageServer(t *testing.T, name string, size int) (string, string) {
	t.Helper()
	content := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	sum := md5.Sum(content)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/images/"+name {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/images/" + name, hex.EncodeToString(sum[:])
}

// upgradeImage names an image of the platform with another version than the device runs.
func upgradeImage(d *Device) (string, string) {
	for _, v := range d.plat.versions {
		if v != d.Version() {
			return fmt.Sprintf(d.model.imageFmt, v), v
		}
	}
	panic("one version only")
}

// cliFor is how each platform copies, verifies, sets the boot image and reloads.
type cliFor struct {
	prompt  string
	copy    func(url, name string) string
	verify  func(name string) string
	md5Line func(name, sum string) string
}

func platformCLI(d *Device) cliFor {
	if d.Platform() == Junos {
		user := d.Info().Username
		return cliFor{
			prompt:  regexp.QuoteMeta(user+"@"+d.Name()+"> ") + "$",
			copy:    func(url, name string) string { return "file copy " + url + " /var/tmp/" + name },
			verify:  func(name string) string { return "file checksum md5 /var/tmp/" + name },
			md5Line: func(name, sum string) string { return "MD5 (/var/tmp/" + name + ") = " + sum },
		}
	}
	return cliFor{
		prompt:  regexp.QuoteMeta(d.Name()+"#") + "$",
		copy:    func(url, name string) string { return "copy " + url + " flash:" + name },
		verify:  func(name string) string { return "verify /md5 flash:" + name },
		md5Line: func(name, sum string) string { return "verify /md5 (flash:" + name + ") = " + sum },
	}
}

// copyImage runs the copy command, answering IOS-XE's destination prompt.
func copyImage(tm *terminal, d *Device, c cliFor, url, name string) string {
	tm.send(c.copy(url, name) + "\n")
	out := ""
	if d.Platform() == IOSXE {
		out = tm.expect(`Destination filename \[` + regexp.QuoteMeta(name) + `\]\? $`)
		tm.send("\n")
	}
	return out + tm.expect(c.prompt)
}

func TestImageCopyAndVerify(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 21})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		name, _ := upgradeImage(d)
		url, sum := imageServer(t, name, 3<<20+12345)
		c := platformCLI(d)
		tm := shell(t, d, 0)
		tm.expect(c.prompt)
		freeBefore := d.FlashFree()
		out := copyImage(tm, d, c, url, name)
		if strings.Contains(out, "rror") {
			t.Fatalf("copy failed: %q", out)
		}
		if d.Platform() == IOSXE && !strings.Contains(out, "!!!") {
			t.Errorf("no progress marks in %q", out)
		}
		if got := tm.run(c.verify(name), c.prompt); !strings.Contains(got, c.md5Line(name, sum)) {
			t.Fatalf("verify: %q, want %s", got, sum)
		}
		if freeBefore-d.FlashFree() != 3<<20+12345 {
			t.Errorf("free space went from %d to %d", freeBefore, d.FlashFree())
		}
		listing := "dir flash:"
		if d.Platform() == Junos {
			listing = "file list /var/tmp/ detail"
		}
		if out := tm.run(listing, c.prompt); !strings.Contains(out, name) || !strings.Contains(out, strconv.Itoa(3<<20+12345)) {
			t.Fatalf("%s: %q", listing, out)
		}
		if d.Platform() == IOSXE {
			if out := tm.run("verify /md5 flash:"+name+" "+sum, c.prompt); !strings.Contains(out, "Verified (flash:"+name+") = "+sum) {
				t.Fatalf("verify with hash: %q", out)
			}
			if out := tm.run("verify /md5 flash:"+name+" 0123", c.prompt); !strings.Contains(out, "%Error verifying") {
				t.Fatalf("verify with a wrong hash: %q", out)
			}
		}
		if out := copyImage(tm, d, c, url+"-missing", "x.bin"); !strings.Contains(out, "rror") {
			t.Fatalf("copy of a missing URL: %q", out)
		}
	})
}

func TestTransferFaults(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 22})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		name, _ := upgradeImage(d)
		url, sum := imageServer(t, name, 2<<20)
		c := platformCLI(d)
		tm := shell(t, d, 0)
		tm.expect(c.prompt)

		d.SetFaults(Faults{FullFlash: true})
		if out := copyImage(tm, d, c, url, name); !strings.Contains(out, "No space left on device") {
			t.Fatalf("full flash: %q", out)
		}
		d.SetFaults(Faults{AbortTransfer: true})
		if out := copyImage(tm, d, c, url, name); !strings.Contains(out, "I/O error") {
			t.Fatalf("aborted transfer: %q", out)
		}
		for _, f := range d.Flash() {
			if f.Name == name {
				t.Fatal("a failed transfer left a file behind")
			}
		}
		d.SetFaults(Faults{CorruptTransfer: true})
		if out := copyImage(tm, d, c, url, name); strings.Contains(out, "rror") {
			t.Fatalf("corrupt transfer should look successful: %q", out)
		}
		out := tm.run(c.verify(name), c.prompt)
		if strings.Contains(out, sum) || !strings.Contains(out, c.md5Line(name, "")) {
			t.Fatalf("a corrupt image verified: %q", out)
		}
	})
}

// upgrade stages an image, points the boot variable at it and reloads, answering every
// prompt, and checks that the session drops.
func upgrade(t *testing.T, d *Device, name, url string) {
	t.Helper()
	c := platformCLI(d)
	tm := shell(t, d, 0)
	tm.expect(c.prompt)
	if out := copyImage(tm, d, c, url, name); strings.Contains(out, "rror") {
		t.Fatalf("copy: %q", out)
	}
	switch d.Platform() {
	case IOSXE:
		cfg := regexp.QuoteMeta(d.Name()+"(config)#") + "$"
		tm.run("configure terminal", cfg)
		tm.run("no boot system", cfg)
		tm.run("boot system flash:"+name, cfg)
		tm.run("end", c.prompt)
		if out := tm.run("show boot", c.prompt); !strings.Contains(out, "BOOT variable = flash:"+name+";") {
			t.Fatalf("show boot: %q", out)
		}
		tm.send("reload\n")
		tm.expect(`Save\? \[yes/no\]: $`)
		tm.send("yes\n")
		tm.expect(`Proceed with reload\? \[confirm\]$`)
		tm.send("\n")
	case EOS:
		tm.run("boot system flash:"+name, c.prompt)
		if out := tm.run("show boot-config", c.prompt); !strings.Contains(out, "Software image: flash:/"+name) {
			t.Fatalf("show boot-config: %q", out)
		}
		tm.send("reload\n")
		tm.expect(`Proceed with reload\? \[confirm\]$`)
		tm.send("\n")
	case Junos:
		out := tm.run("request system software add /var/tmp/"+name, c.prompt)
		if strings.Contains(out, "ERROR") {
			t.Logf("software add: %q", out)
		}
		tm.send("request system reboot\n")
		tm.expect(`Reboot the system \? \[yes,no\] \(no\) $`)
		tm.send("yes\n")
	}
	if !tm.waitClosed(5 * time.Second) {
		t.Fatal("the session survived the reload")
	}
}

func TestReloadComesBackOnNewVersion(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 23, ReloadTime: 500 * time.Millisecond})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		name, version := upgradeImage(d)
		url, _ := imageServer(t, name, 1<<20)
		upgrade(t, d, name, url)
		if d.Up() {
			t.Fatal("device up right after reload")
		}
		if _, err := net.DialTimeout("tcp", d.Addr(), time.Second); err == nil {
			t.Fatal("a reloading device accepted a connection")
		}
		waitFor(t, 5*time.Second, "the device to come back", d.Up)
		if d.Version() != version || d.Reloads() != 1 {
			t.Fatalf("after reload: version %s (want %s), %d reloads", d.Version(), version, d.Reloads())
		}
		out, err := execCommand(t, d, "show version")
		if err != nil || !strings.Contains(out, version) {
			t.Fatalf("show version after reload: %v %q", err, out)
		}
	})
}

func TestReloadWithCorruptImageKeepsOldVersion(t *testing.T) {
	f := startFleet(t, Config{Count: 3, Seed: 24, ReloadTime: 200 * time.Millisecond})
	eachDevice(t, f, func(t *testing.T, d *Device) {
		old := d.Version()
		name, _ := upgradeImage(d)
		url, _ := imageServer(t, name, 1<<20)
		d.SetFaults(Faults{CorruptTransfer: true})
		upgrade(t, d, name, url)
		waitFor(t, 5*time.Second, "the device to come back", d.Up)
		if d.Version() != old {
			t.Fatalf("booted %s from a corrupt image", d.Version())
		}
	})
}

func TestUnsavedChangesLostOnReload(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 25, Platforms: []string{IOSXE}, ReloadTime: 100 * time.Millisecond})
	d := f.DeviceAt(0)
	if err := d.ChangeConfig("ntp server 192.0.2.55"); err != nil {
		t.Fatal(err)
	}
	d.Reload()
	waitFor(t, 5*time.Second, "the device to come back", d.Up)
	if strings.Contains(d.RunningConfig(), "192.0.2.55") || d.Unsaved() {
		t.Fatal("an unsaved change survived a reload")
	}
}

func TestStayDownAfterReload(t *testing.T) {
	f := startFleet(t, Config{Count: 1, Seed: 26, ReloadTime: 100 * time.Millisecond})
	d := f.DeviceAt(0)
	d.SetFaults(Faults{StayDownAfterReload: true})
	d.Reload()
	time.Sleep(400 * time.Millisecond)
	if d.Up() {
		t.Fatal("came back despite the fault")
	}
	d.ClearFaults()
	waitFor(t, 5*time.Second, "the device to come back once the fault is cleared", d.Up)
}
