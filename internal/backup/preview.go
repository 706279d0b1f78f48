package backup

import (
	"slices"
	"strings"
)

// Preview is what a configuration push would do to a configuration, worked out without the
// device: the dry run of a push shows the diff from From to To.
//
// It is a model, and an approximate one: no device's parser or schema is consulted. For
// IOS-XE and EOS the configuration is a tree by indentation; a pushed line that opens a known
// sub-mode (interface, router, line, vlan, access lists, route maps …) enters it, a line
// already present changes nothing, a line with a known single-valued key (hostname,
// description, ip address, mtu, switchport access vlan …) replaces its old value, "no X" and
// "default X" remove X, and any other line is added — after the last sibling of its kind,
// which is not always where the device would put it. Defaults the device hides, values it
// normalises (abbreviations, interface names), and side effects on other lines are not
// modelled. For Junos the model works on "set" statements (the configuration in "display
// set" form, which is also what the diff shows): set adds a statement (replacing the value
// of a known single-valued leaf such as host-name or description), delete removes a statement
// and everything under it, edit/top/up move in the hierarchy; any other command is listed in
// Unmodelled.
type Preview struct {
	// From and To are the configuration before and after the push, in the form the model
	// works in: as read for IOS-XE and EOS, "set" statements for Junos.
	From, To []byte
	// Unmodelled are pushed lines the model could not apply; the device may still accept
	// them.
	Unmodelled []string
}

// PreviewPush applies lines (PushLines of a push) to a device's running configuration by the
// model described on Preview.
func PreviewPush(platform string, running []byte, lines []string) Preview {
	if platform == "juniper_junos" {
		from := junosSetLines(string(running))
		to, unmodelled := applyJunos(slices.Clone(from), lines)
		return Preview{From: []byte(joinLines(from)), To: []byte(joinLines(to)), Unmodelled: unmodelled}
	}
	root := parseCisco(string(running))
	m := &ciscoModel{root: root, unit: " "}
	if platform == "arista_eos" {
		m.unit = "   "
	}
	for _, l := range lines {
		m.apply(l)
	}
	return Preview{From: running, To: []byte(root.render())}
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// hasTokenPrefix reports whether s is p or begins with p and a space.
func hasTokenPrefix(s, p string) bool {
	return s == p || strings.HasPrefix(s, p+" ")
}

// cnode is a line of an IOS-XE or EOS configuration with the lines indented under it.
type cnode struct {
	text     string // without indentation
	indent   string // leading white space as read
	children []*cnode
}

// parseCisco reads a configuration into a tree by indentation.
func parseCisco(config string) *cnode {
	root := &cnode{}
	type open struct {
		n     *cnode
		depth int
	}
	stack := []open{{root, -1}}
	for raw := range strings.SplitSeq(strings.TrimSuffix(config, "\n"), "\n") {
		raw = strings.TrimRight(raw, "\r")
		text := strings.TrimLeft(raw, " \t")
		depth := len(raw) - len(text)
		if text == "" {
			depth = 0
		}
		for stack[len(stack)-1].depth >= depth {
			stack = stack[:len(stack)-1]
		}
		n := &cnode{text: text, indent: raw[:depth]}
		parent := stack[len(stack)-1].n
		parent.children = append(parent.children, n)
		stack = append(stack, open{n, depth})
	}
	return root
}

func (n *cnode) render() string {
	var b strings.Builder
	var walk func(*cnode)
	walk = func(n *cnode) {
		for _, c := range n.children {
			b.WriteString(c.indent + c.text + "\n")
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// ciscoModes are the commands that open a configuration sub-mode, by leading words;
// ciscoSubModes open one only inside another (router, policy-map, key chain) and never take
// a line back to the top level.
var (
	ciscoModes = []string{"interface", "router", "line", "vlan", "vrf", "ip vrf", "ip access-list", "ipv6 access-list",
		"mac access-list", "route-map", "class-map", "policy-map", "key chain", "management", "monitor session",
		"aaa group server", "controller", "ip dhcp pool", "crypto isakmp policy", "crypto map", "track", "ip sla",
		"redundancy", "control-plane", "spanning-tree mst configuration", "daemon", "event-handler"}
	ciscoSubModes = []string{"address-family", "class", "key", "neighbor-group", "vni"}
	// ciscoGlobals are top-level commands that, typed in a sub-mode, leave it (as on the
	// devices); only those that never also exist inside a sub-mode.
	ciscoGlobals = []string{"hostname", "ip route", "ipv6 route", "ip domain", "ip domain-name", "ip name-server",
		"snmp-server", "username", "aaa", "service", "clock", "enable", "access-list", "spanning-tree mode", "banner",
		"ip ssh", "ip http", "ip routing", "ipv6 unicast-routing", "boot", "vtp", "errdisable", "ip default-gateway",
		"ip prefix-list", "ip community-list", "ip as-path", "tacacs-server", "radius-server", "alias", "lldp run", "cdp run"}
	// ciscoSingle are settings of which a mode holds one value: a new value replaces the old.
	ciscoSingle = []string{"hostname", "description", "ip address", "mtu", "ip mtu", "speed", "duplex", "bandwidth",
		"switchport mode", "switchport access vlan", "switchport trunk native vlan", "switchport trunk allowed vlan",
		"ip domain name", "ip domain-name", "snmp-server location", "snmp-server contact", "clock timezone",
		"enable secret", "router-id", "bgp router-id", "ip default-gateway", "exec-timeout", "transport input",
		"logging buffered", "vrf forwarding", "channel-group", "spanning-tree mode", "ip ospf cost", "name", "ntp source",
		"encapsulation dot1q", "vrf member"}
)

// startsWith returns the longest entry of list that s begins with, token-wise ("" if none).
func startsWith(s string, list []string) string {
	best := ""
	for _, p := range list {
		if hasTokenPrefix(s, p) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

// ciscoModel applies pushed lines to a parsed configuration, keeping the sub-mode they are in.
type ciscoModel struct {
	root *cnode
	unit string // one level of indentation for new lines: IOS-XE one space, EOS three
	path []*cnode
	// indented is whether a pushed line since entering the current sub-mode was indented:
	// then an unindented line is back at the top level, as pasted configuration reads.
	indented bool
}

func (m *ciscoModel) current() *cnode {
	if len(m.path) == 0 {
		return m.root
	}
	return m.path[len(m.path)-1]
}

func (m *ciscoModel) apply(raw string) {
	text := strings.Join(strings.Fields(raw), " ")
	switch {
	case text == "" || strings.HasPrefix(text, "!"):
		return
	case text == "end":
		m.path, m.indented = nil, false
		return
	case text == "exit":
		if len(m.path) > 0 {
			m.path = m.path[:len(m.path)-1]
		}
		return
	}
	if raw[0] == ' ' || raw[0] == '\t' {
		m.indented = true
	} else if m.indented {
		m.path, m.indented = nil, false
	}
	bare, negated := strings.CutPrefix(text, "no ")
	if !negated {
		bare, negated = strings.CutPrefix(text, "default ")
	}
	if len(m.path) > 0 && startsWith(bare, ciscoSubModes) == "" && (startsWith(bare, ciscoModes) != "" || startsWith(bare, ciscoGlobals) != "") {
		m.path = nil // a global command typed in a sub-mode leaves it
	}
	parent := m.current()
	if negated {
		m.remove(parent, text, bare)
		return
	}
	if startsWith(text, ciscoModes) != "" || startsWith(text, ciscoSubModes) != "" {
		n := findChild(parent, text)
		if n == nil {
			n = m.insert(parent, text)
		}
		m.path = append(m.path, n)
		m.indented = false
		return
	}
	m.set(parent, text)
}

// remove applies "no X" (or "default X"): X and everything under it go; when nothing is
// there to remove, a "no X" is kept as written (IOS shows some negated defaults that way).
func (m *ciscoModel) remove(parent *cnode, text, bare string) {
	before := len(parent.children)
	parent.children = slices.DeleteFunc(parent.children, func(c *cnode) bool { return hasTokenPrefix(c.text, bare) })
	if len(parent.children) == before && strings.HasPrefix(text, "no ") && findChild(parent, text) == nil {
		m.insert(parent, text)
	}
}

// set applies a setting: present already, it changes nothing; with a single-valued key, it
// replaces the old value (and a "no" of it) in place; otherwise it is added.
func (m *ciscoModel) set(parent *cnode, text string) {
	if findChild(parent, text) != nil {
		return
	}
	key := startsWith(text, ciscoSingle)
	if key == "ip address" && strings.HasSuffix(text, " secondary") {
		key = ""
	}
	replaces := func(c *cnode) bool {
		return c.text == "no "+text || key != "" && (hasTokenPrefix(c.text, key) || hasTokenPrefix(c.text, "no "+key))
	}
	if i := slices.IndexFunc(parent.children, replaces); i >= 0 {
		parent.children[i] = &cnode{text: text, indent: parent.children[i].indent}
		rest := parent.children[i+1:]
		rest = slices.DeleteFunc(rest, replaces)
		parent.children = parent.children[:i+1+len(rest)]
		return
	}
	m.insert(parent, text)
}

// insert adds a line to parent: after its last sibling with the same first word, else at the
// end (at the top level, before the final "end", with a "!" separator before a new block).
func (m *ciscoModel) insert(parent *cnode, text string) *cnode {
	n := &cnode{text: text, indent: m.childIndent(parent)}
	kids := parent.children
	at := len(kids)
	if parent == m.root {
		for at > 0 && (kids[at-1].text == "end" || kids[at-1].text == "") {
			at--
		}
	}
	word := firstWord(text)
	for i := len(kids) - 1; i >= 0; i-- {
		if firstWord(kids[i].text) == word {
			at = i + 1
			break
		}
	}
	add := []*cnode{n}
	if parent == m.root && startsWith(text, ciscoModes) != "" && (at == 0 || kids[at-1].text != "!") {
		add = []*cnode{{text: "!"}, n}
	}
	parent.children = slices.Insert(kids, at, add...)
	return n
}

// childIndent is the indentation of parent's children as read, or one level more than
// parent's.
func (m *ciscoModel) childIndent(parent *cnode) string {
	if parent == m.root {
		return ""
	}
	for _, c := range parent.children {
		if c.indent != "" {
			return c.indent
		}
	}
	return parent.indent + m.unit
}

func findChild(parent *cnode, text string) *cnode {
	for _, c := range parent.children {
		if c.text == text {
			return c
		}
	}
	return nil
}
