package devsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// generator builds a device's initial configuration from the seed. Its output depends only
// on the seed and the device's identity, so that an idle device need not store it.
type generator struct {
	d    *Device
	r    *rand.Rand
	site string
	net  int // second octet of the device's site addresses
	mgmt string
	// target is the configuration's size: between 5 and 50 KB, padded with access-list or
	// prefix-list entries where the base configuration is smaller.
	target int
}

func newGenerator(d *Device) *generator {
	g := &generator{d: d, r: d.f.stream(d.index, streamConfig), site: sites[d.site], net: 10 + d.site}
	g.mgmt = fmt.Sprintf("10.%d.%d.%d", g.net, 100+d.index/250, d.index%250+2)
	g.target = 5_000 + g.r.IntN(45_000)
	return g
}

func (g *generator) gateway() string {
	return g.mgmt[:strings.LastIndexByte(g.mgmt, '.')] + ".1"
}

var (
	vlanNames  = []string{"USERS", "VOICE", "PRINTERS", "CAMERAS", "WIFI-CORP", "WIFI-GUEST", "SERVERS", "STORAGE", "BMC", "BUILDING"}
	portRoles  = []string{"desk", "printer", "ap", "camera", "phone", "badge-reader", "kiosk", "lab"}
	communites = []string{"n0cR3ad", "mon1tor-ro", "SNMPr3ad0nly", "obs3rv"}
)

// secret makes one hashed password.
func (g *generator) iosSecret() string    { return fakeCrypt(g.r, "9", 14, 43) }
func (g *generator) sha512Secret() string { return fakeCrypt(g.r, "6", 16, 86) }

func (g *generator) iosxe() config {
	var b strings.Builder
	d := g.d
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("service timestamps debug datetime msec\nservice timestamps log datetime msec\nservice password-encryption\nservice call-home\nno platform punt-keepalive disable-kernel-core\n!")
	w("hostname %s\n!", d.name)
	w("vrf definition Mgmt-vrf\n !\n address-family ipv4\n exit-address-family\n !\n address-family ipv6\n exit-address-family\n!")
	w("logging buffered 64000 informational\nno logging console\nenable secret 9 %s\n!", g.iosSecret())
	w("aaa new-model\n!\naaa group server tacacs+ TACACS\n server name TAC1\n server name TAC2\n ip vrf forwarding Mgmt-vrf\n!")
	w("aaa authentication login default group TACACS local\naaa authorization exec default group TACACS local\naaa accounting exec default start-stop group TACACS\n!\naaa session-id common")
	w("clock timezone UTC 0 0\nswitch 1 provision %s\n!\nip routing\n!\nno ip domain lookup\nip domain name %s.corp.example.net\n!", strings.ToLower(d.model.name), g.site)
	w("login on-success log\n!\nlicense boot level network-advantage addon dna-advantage\n!\ndiagnostic bootup level minimal\n!\nspanning-tree mode rapid-pvst\nspanning-tree extend system-id\n!")
	w("username admin privilege 15 secret 9 %s\nusername netops privilege 15 secret 9 %s\n!", g.iosSecret(), g.iosSecret())
	w("redundancy\n mode sso\n!")
	vlans := 3 + g.r.IntN(len(vlanNames)-3)
	for i := range vlans {
		w("vlan %d\n name %s", 10*(i+1), vlanNames[i])
	}
	w("!\ninterface %s\n vrf forwarding Mgmt-vrf\n ip address %s 255.255.255.0\n negotiation auto\n!", d.model.mgmt, g.mgmt)
	uplinks := 2
	for i, port := range d.model.ports {
		w("interface %s", port)
		switch {
		case i >= len(d.model.ports)-uplinks:
			w(" description uplink to %s-core-0%d", g.site, i-len(d.model.ports)+uplinks+1)
			w(" switchport mode trunk\n switchport trunk allowed vlan 1-%d", 10*vlans)
		case g.r.IntN(8) == 0:
			w(" shutdown")
		default:
			w(" description %s-%s-%03d", portRoles[g.r.IntN(len(portRoles))], g.site, g.r.IntN(1000))
			w(" switchport access vlan %d\n switchport mode access", 10*(1+g.r.IntN(vlans)))
			if g.r.IntN(2) == 0 {
				w(" switchport voice vlan 20")
			}
			w(" spanning-tree portfast")
		}
		w("!")
	}
	w("interface Vlan1\n no ip address\n shutdown\n!")
	for i := range vlans {
		w("interface Vlan%d\n ip address 10.%d.%d.1 255.255.255.0\n!", 10*(i+1), g.net, 10*(i+1))
	}
	w("ip forward-protocol nd\nno ip http server\nip http secure-server\nip ssh version 2")
	w("ip route vrf Mgmt-vrf 0.0.0.0 0.0.0.0 %s\n!", g.gateway())
	w("ip access-list standard SNMP-RO\n 10 permit 10.0.0.0 0.255.255.255\n 20 deny   any log")
	w("ip access-list extended INFRA-PROTECT")
	for seq := 10; b.Len() < g.target-1500; seq += 10 {
		w(" %d permit tcp 10.%d.%d.0 0.0.0.255 any eq %d", seq, g.r.IntN(256), g.r.IntN(256), []int{22, 161, 443, 830}[g.r.IntN(4)])
	}
	w(" 65000 deny ip any any log\n!")
	w("logging host 10.%d.0.50 vrf Mgmt-vrf\nsnmp-server community %s RO SNMP-RO", g.net, communites[g.r.IntN(len(communites))])
	w("snmp-server location %s, building %d, rack R%02d\nsnmp-server contact noc@corp.example.net\n!", strings.ToUpper(g.site), 1+g.r.IntN(4), 1+g.r.IntN(40))
	for i := 1; i <= 2; i++ {
		w("tacacs server TAC%d\n address ipv4 10.%d.0.2%d\n key 7 %s", i, g.net, i, fakeType7(g.r, 12))
	}
	w("!\ncontrol-plane\n service-policy input system-cpp-policy\n!")
	w("line con 0\n exec-timeout 15 0\n stopbits 1\nline vty 0 4\n exec-timeout 15 0\n transport input ssh\nline vty 5 15\n exec-timeout 15 0\n transport input ssh\n!")
	w("ntp server 10.%d.0.123\nntp server 10.%d.0.124\n!", g.net, g.net)
	return parseCisco(b.String(), false)
}

func (g *generator) eos() config {
	var b strings.Builder
	d := g.d
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("no aaa root\n!")
	w("username admin privilege 15 role network-admin secret sha512 %s", g.sha512Secret())
	w("username netops privilege 15 role network-admin secret sha512 %s\n!", g.sha512Secret())
	w("transceiver qsfp default-mode 4x10G\n!\nservice routing protocols model multi-agent\n!")
	w("hostname %s\nip name-server vrf MGMT 10.%d.0.53\ndns domain %s.corp.example.net\n!", d.name, g.net, g.site)
	w("ntp server vrf MGMT 10.%d.0.123\nntp server vrf MGMT 10.%d.0.124\n!", g.net, g.net)
	w("snmp-server location %s rack R%02d\nsnmp-server community %s ro SNMP-RO\n!", strings.ToUpper(g.site), 1+g.r.IntN(40), communites[g.r.IntN(len(communites))])
	w("spanning-tree mode mstp\n!\naaa authentication login default group tacacs+ local\naaa authorization exec default group tacacs+ local")
	w("tacacs-server host 10.%d.0.21 vrf MGMT key 7 %s\n!", g.net, fakeType7(g.r, 12))
	vlans := 3 + g.r.IntN(len(vlanNames)-3)
	for i := range vlans {
		w("vlan %d\n   name %s\n!", 100+10*i, vlanNames[i])
	}
	w("vrf instance MGMT\n!")
	asn := 65000 + g.r.IntN(500)
	for i, port := range d.model.ports {
		w("interface %s", port)
		switch {
		case strings.Contains(port, "/"):
			w("   description uplink spine-%d %s", i%4+1, g.site)
			w("   mtu 9214\n   no switchport\n   ip address 10.255.%d.%d/31", d.index%250, 2*(i%120))
		case g.r.IntN(8) == 0:
			w("   shutdown")
		default:
			w("   description server-%s-%03d eth%d", g.site, g.r.IntN(1000), g.r.IntN(4))
			w("   switchport access vlan %d\n   spanning-tree portfast", 100+10*g.r.IntN(vlans))
		}
		w("!")
	}
	w("interface Loopback0\n   ip address 10.254.%d.%d/32\n!", d.index/250, d.index%250+1)
	w("interface %s\n   vrf MGMT\n   ip address %s/24\n!", d.model.mgmt, g.mgmt)
	w("ip access-list SNMP-RO\n   10 permit ip 10.0.0.0/8 any\n   20 deny ip any any log\n!")
	w("ip routing\nno ip routing vrf MGMT\n!")
	w("ip prefix-list LOOPBACKS")
	for seq := 10; b.Len() < g.target-1200; seq += 10 {
		w("   seq %d permit 10.%d.%d.0/24 le 32", seq, g.r.IntN(256), g.r.IntN(256))
	}
	w("!\nip route vrf MGMT 0.0.0.0/0 %s\n!", g.gateway())
	w("router bgp %d\n   router-id 10.254.%d.%d\n   maximum-paths 4 ecmp 4", asn, d.index/250, d.index%250+1)
	w("   neighbor SPINES peer group\n   neighbor SPINES remote-as 65000\n   neighbor SPINES send-community\n   neighbor SPINES maximum-routes 12000")
	for i := 1; i <= 4; i++ {
		w("   neighbor 10.255.%d.%d peer group SPINES", d.index%250, 2*i+1)
	}
	w("   redistribute connected route-map LOOPBACKS\n!")
	w("management api http-commands\n   no shutdown\n   !\n   vrf MGMT\n      no shutdown\n!")
	w("management ssh\n   vrf MGMT\n      no shutdown\n!")
	return parseCisco(b.String(), true)
}

func (g *generator) junos() config {
	d := g.d
	c := &junosConfig{}
	q := func(s string) string { return `"` + s + `"` }
	c.add("system", "host-name "+d.name)
	c.add("system", "domain-name "+g.site+".corp.example.net")
	c.add("system", "time-zone UTC")
	c.add("system", "root-authentication", "encrypted-password "+q(g.sha512Secret()))
	for i, user := range []string{"admin", "netops"} {
		c.add("system", "login", "user "+user, fmt.Sprintf("uid %d", 2000+i))
		c.add("system", "login", "user "+user, "class super-user")
		c.add("system", "login", "user "+user, "authentication", "encrypted-password "+q(g.sha512Secret()))
	}
	c.add("system", "services", "ssh", "root-login deny")
	c.add("system", "services", "ssh", "protocol-version v2")
	c.add("system", "services", "netconf", "ssh")
	c.add("system", "syslog", "user *", "any emergency")
	c.add("system", "syslog", fmt.Sprintf("host 10.%d.0.50", g.net), "any notice")
	c.add("system", "syslog", "file messages", "any notice")
	c.add("system", "syslog", "file interactive-commands", "interactive-commands any")
	c.add("system", "ntp", fmt.Sprintf("server 10.%d.0.123", g.net))
	c.add("system", "ntp", fmt.Sprintf("server 10.%d.0.124", g.net))
	c.add("system", "ntp", "authentication-key 1 type md5 value "+q(strings.TrimSuffix(fakeCrypt(g.r, "9", 28, 0), "$")))
	c.add("chassis", "aggregated-devices", "ethernet", "device-count 4")
	for i, port := range d.model.ports {
		switch {
		case i < 4:
			c.add("interfaces", port, fmt.Sprintf("description %q", fmt.Sprintf("core-%d %s", i+1, g.site)))
			c.add("interfaces", port, "mtu 9192")
			c.add("interfaces", port, "unit 0", "family inet", fmt.Sprintf("address 10.253.%d.%d/31", d.index%250, 2*i))
			c.add("interfaces", port, "unit 0", "family iso")
		case g.r.IntN(5) == 0:
			c.add("interfaces", port, "disable")
		default:
			c.add("interfaces", port, fmt.Sprintf("description %q", fmt.Sprintf("customer-%04d", g.r.IntN(10000))))
			c.add("interfaces", port, "unit 0", "family inet", fmt.Sprintf("address 100.%d.%d.%d/30", 64+g.r.IntN(64), g.r.IntN(256), 4*g.r.IntN(64)+1))
		}
	}
	c.add("interfaces", d.model.mgmt, "unit 0", "family inet", "address "+g.mgmt+"/24")
	c.add("interfaces", "lo0", "unit 0", "family inet", fmt.Sprintf("address 10.254.%d.%d/32", d.index/250, d.index%250+1))
	c.add("snmp", "location "+q(strings.ToUpper(g.site)))
	c.add("snmp", "community "+communites[g.r.IntN(len(communites))], "authorization read-only")
	c.add("routing-options", "static", "route 0.0.0.0/0", "next-hop "+g.gateway())
	c.add("routing-options", fmt.Sprintf("router-id 10.254.%d.%d", d.index/250, d.index%250+1))
	c.add("routing-options", fmt.Sprintf("autonomous-system %d", 64512+g.r.IntN(1000)))
	c.add("protocols", "ospf", "area 0.0.0.0", "interface lo0.0", "passive")
	for _, port := range d.model.ports[:min(4, len(d.model.ports))] {
		c.add("protocols", "ospf", "area 0.0.0.0", "interface "+port+".0", "interface-type p2p")
	}
	c.add("protocols", "lldp", "interface all")
	// Pad with prefix-list entries of about 30 bytes each to reach the target size.
	for i := range max(0, (g.target-1500-len(c.body()))/30) {
		c.add("policy-options", "prefix-list CUSTOMERS", fmt.Sprintf("100.%d.%d.0/24", 64+g.r.IntN(64), i%256))
	}
	c.add("firewall", "family inet", "filter PROTECT-RE", "term SSH", "from", "protocol tcp")
	c.add("firewall", "family inet", "filter PROTECT-RE", "term SSH", "from", "destination-port ssh")
	c.add("firewall", "family inet", "filter PROTECT-RE", "term SSH", "then", "accept")
	c.add("firewall", "family inet", "filter PROTECT-RE", "term DEFAULT", "then", "discard")
	return c
}
