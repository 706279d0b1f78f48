package backup

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Two reads of the same configuration per platform: only noise differs.
var reads = map[string][2]string{
	"cisco_iosxe": {`Building configuration...

Current configuration : 5121 bytes
!
! Last configuration change at 09:14:02 UTC Thu Nov 26 2026 by admin
! NVRAM config last updated at 09:14:05 UTC Thu Nov 26 2026 by admin
!
version 17.9
hostname core-r1
enable secret 9 $9$0GyPZuE0jmbAvk$gvmVXo3J.2AU9i0tOxH6rNx7iENEAGTUUjS8u7WgoGY
username admin privilege 15 secret 9 $9$k2f9a8Rq$Ue3uV1bq8n2XkCwh0M4hS3ejJ1H2bFq0S6tW7sYV1
ntp clock-period 36028797
interface GigabitEthernet1
 description uplink
 ip address 192.0.2.1 255.255.255.0
router ospf 1
 area 0 authentication message-digest
 ip ospf message-digest-key 1 md5 7 0822455D0A16
end
`, `Building configuration...

Current configuration : 5123 bytes
!
! Last configuration change at 10:02:44 UTC Thu Nov 26 2026 by admin
! NVRAM config last updated at 10:02:51 UTC Thu Nov 26 2026 by admin
!
version 17.9
hostname core-r1
enable secret 9 $9$Xk2q8vZp1mLw0r$bT4c3h6hM3Kq9xZ8fJm2VbN7cD1eR5tY0uI3oP6aS9d
username admin privilege 15 secret 9 $9$Pq7w2LmZ$Zz9xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA
ntp clock-period 36028801
interface GigabitEthernet1
 description uplink
 ip address 192.0.2.1 255.255.255.0
router ospf 1
 area 0 authentication message-digest
 ip ospf message-digest-key 1 md5 7 13061E010803
end
`},
	"arista_eos": {`! Command: show running-config
! device: leaf1 (DCS-7050SX3-48YC8, EOS-4.30.1F)
! Time: Thu Nov 26 09:14:02 2026
! Startup-config last modified at Thu Nov 26 09:00:00 2026 by admin
!
hostname leaf1
username admin privilege 15 role network-admin secret sha512 $6$Vx8ZPm1q$AbCdEf
!
interface Ethernet1
   description spine1
end
`, `! Command: show running-config
! device: leaf1 (DCS-7050SX3-48YC8, EOS-4.30.1F)
! Time: Thu Nov 26 10:44:13 2026
! Startup-config last modified at Thu Nov 26 10:40:00 2026 by admin
!
hostname leaf1
username admin privilege 15 role network-admin secret sha512 $6$Qw9Lk2Zx$GhIjKl
!
interface Ethernet1
   description spine1
end
`},
	"juniper_junos": {`## Last commit: 2026-11-26 09:14:02 UTC by admin
version 22.4R3.25;
system {
    host-name edge1;
    root-authentication {
        encrypted-password "$6$aB3dE$Xy1Z2w3V4u5T6s7R8q9P0o"; ## SECRET-DATA
    }
    login {
        user ops {
            authentication {
                encrypted-password "$6$fG7hI$Jk1L2m3N4o5P6q7R8s9T0u"; ## SECRET-DATA
            }
        }
    }
}
interfaces {
    ge-0/0/0 {
        description "to core";
    }
}
protocols {
    ospf {
        area 0.0.0.0 {
            interface ge-0/0/0.0 {
                authentication {
                    md5 1 key "$9$dSbgJjHqfT3nCtOIEhvMaZUk"; ## SECRET-DATA
                }
            }
        }
    }
}
`, `## Last commit: 2026-11-26 10:51:40 UTC by admin
version 22.4R3.25;
system {
    host-name edge1;
    root-authentication {
        encrypted-password "$6$zZ9yY$Ww8Vv7Uu6Tt5Ss4Rr3Qq2P"; ## SECRET-DATA
    }
    login {
        user ops {
            authentication {
                encrypted-password "$6$mM1nN$Oo2Pp3Qq4Rr5Ss6Tt7Uu8V"; ## SECRET-DATA
            }
        }
    }
}
interfaces {
    ge-0/0/0 {
        description "to core";
    }
}
protocols {
    ospf {
        area 0.0.0.0 {
            interface ge-0/0/0.0 {
                authentication {
                    md5 1 key "$9$Hk5FnCuO1hyKvWxdbs4ZGiHm"; ## SECRET-DATA
                }
            }
        }
    }
}
`},
}

func TestNoiseIsMasked(t *testing.T) {
	for platform, r := range reads {
		t.Run(platform, func(t *testing.T) {
			a, b := Mask(platform, []byte(r[0])), Mask(platform, []byte(r[1]))
			if !bytes.Equal(a, b) {
				t.Fatalf("two reads differ after masking:\n%s", Diff(platform, "a", "b", []byte(r[0]), []byte(r[1])))
			}
			if d := Diff(platform, "a", "b", []byte(r[0]), []byte(r[1])); d != "" {
				t.Fatalf("diff of noise only: %s", d)
			}
			golden(t, platform+".masked", a)
			// Everything that is not noise survives masking.
			if !bytes.Contains(a, []byte("description")) || !bytes.Contains(a, []byte(Masked)) {
				t.Fatalf("masked text lost content or masked nothing:\n%s", a)
			}
		})
	}
}

func TestRealChangesShowInTheDiff(t *testing.T) {
	for platform, r := range reads {
		t.Run(platform, func(t *testing.T) {
			changed := strings.Replace(r[1], "description", "description changed", 1)
			d := Diff(platform, "backup 1", "backup 2", []byte(r[0]), []byte(changed))
			if d == "" || changedLines(d, "-") != 1 || changedLines(d, "+") != 1 {
				t.Fatalf("one changed line should make one hunk line each way:\n%s", d)
			}
			golden(t, platform+".diff", []byte(d))
		})
	}
}

func TestMaskKeepsLineEndingsAndUnknownPlatforms(t *testing.T) {
	in := "! Time: Thu Nov 26 09:14:02 2026\r\nhostname x\r\nno newline at end"
	out := string(Mask("arista_eos", []byte(in)))
	if out != "! Time: <masked>\r\nhostname x\r\nno newline at end" {
		t.Fatalf("masked: %q", out)
	}
	// An unknown platform gets every platform's rules.
	if got := string(Mask("other", []byte("## Last commit: 2026-11-26 by a\n"))); got != "## Last commit: <masked>\n" {
		t.Fatalf("unknown platform: %q", got)
	}
}

func TestCompressRoundTripAndLimit(t *testing.T) {
	cfg := []byte(reads["cisco_iosxe"][0])
	z, err := Compress(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decompress(z)
	if err != nil || !bytes.Equal(back, cfg) {
		t.Fatalf("round trip: %v", err)
	}
	huge, _ := Compress(bytes.Repeat([]byte("x"), MaxSize+1))
	if _, err := Decompress(huge); err != ErrTooLarge {
		t.Fatalf("decompressing more than MaxSize: %v", err)
	}
	if _, err := Decompress([]byte("not gzip")); err == nil {
		t.Fatal("garbage decompressed")
	}
}

// changedLines counts a unified diff's lines starting with sign, headers left out.
func changedLines(diff, sign string) int {
	n := 0
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, sign) && !strings.HasPrefix(l, sign+sign+sign) {
			n++
		}
	}
	return n
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/backup -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n%s", name, got)
	}
}

// config50k is a realistic 50 KB configuration: interfaces with descriptions and addresses.
func config50k(seed int) []byte {
	var b strings.Builder
	b.WriteString("Building configuration...\n\nCurrent configuration : 51200 bytes\n!\nhostname r1\n")
	for i := 0; b.Len() < 50_000; i++ {
		fmt.Fprintf(&b, "interface GigabitEthernet1/0/%d\n description access port %d to rack %d\n switchport access vlan %d\n"+
			" switchport mode access\n spanning-tree portfast\n!\n", i, i, i/48, 100+(i+seed*7)%200)
	}
	b.WriteString("end\n")
	return []byte(b.String())
}

// BenchmarkDiff50KB diffs two 50 KB configurations with about twenty changed lines.
func BenchmarkDiff50KB(b *testing.B) {
	a, c := config50k(0), config50k(0)
	lines := bytes.Split(c, []byte("\n"))
	for i := 10; i < len(lines); i += len(lines) / 20 {
		lines[i] = append([]byte(nil), append(lines[i], " changed"...)...)
	}
	c = bytes.Join(lines, []byte("\n"))
	b.SetBytes(int64(len(a)))
	for b.Loop() {
		if Diff("cisco_iosxe", "a", "b", a, c) == "" {
			b.Fatal("no diff")
		}
	}
}
