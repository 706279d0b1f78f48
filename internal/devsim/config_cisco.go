package devsim

import (
	"fmt"
	"slices"
	"strings"
)

// ciscoConfig is an IOS-XE or EOS configuration: a tree of lines, nested by indentation.
// It is not a parser of the real grammar: it knows the keywords that open sub-modes, which
// settings are single-valued (so that "description x" replaces "description y") and which
// keywords exist, which is enough for "add, replace and remove top-level and nested lines".
type ciscoConfig struct {
	eos   bool
	lines []*cfgLine
}

type cfgLine struct {
	text     string
	children []*cfgLine
}

func (c *ciscoConfig) clone() config {
	return &ciscoConfig{eos: c.eos, lines: cloneLines(c.lines)}
}

func cloneLines(ls []*cfgLine) []*cfgLine {
	out := make([]*cfgLine, len(ls))
	for i, l := range ls {
		out[i] = &cfgLine{text: l.text, children: cloneLines(l.children)}
	}
	return out
}

func (c *ciscoConfig) indent() string {
	if c.eos {
		return "   "
	}
	return " "
}

func (c *ciscoConfig) body() string {
	var b strings.Builder
	b.Grow(64 << 10)
	var walk func(ls []*cfgLine, depth int)
	walk = func(ls []*cfgLine, depth int) {
		for _, l := range ls {
			for range depth {
				b.WriteString(c.indent())
			}
			b.WriteString(l.text)
			b.WriteByte('\n')
			walk(l.children, depth+1)
		}
	}
	walk(c.lines, 0)
	return b.String()
}

func (c *ciscoConfig) hostname() string {
	for _, l := range c.lines {
		if name, ok := strings.CutPrefix(l.text, "hostname "); ok {
			return name
		}
	}
	if c.eos {
		return "localhost"
	}
	return "Switch"
}

// parseCisco builds the tree from indented text (the generators' output).
func parseCisco(text string, eos bool) *ciscoConfig {
	c := &ciscoConfig{eos: eos}
	unit := len(c.indent())
	var stack []*cfgLine // stack[i] is the open line at depth i
	for raw := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		trimmed := strings.TrimLeft(raw, " ")
		depth := min((len(raw)-len(trimmed))/unit, len(stack))
		l := &cfgLine{text: trimmed}
		if depth == 0 {
			c.lines = append(c.lines, l)
		} else {
			parent := stack[depth-1]
			parent.children = append(parent.children, l)
		}
		stack = append(stack[:depth], l)
	}
	return c
}

// lines returns the list the path points into, or nil if the path no longer exists.
func (c *ciscoConfig) list(path []string) *[]*cfgLine {
	ls := &c.lines
	for _, p := range path {
		i := slices.IndexFunc(*ls, func(l *cfgLine) bool { return l.text == p })
		if i < 0 {
			return nil
		}
		ls = &(*ls)[i].children
	}
	return ls
}

// find returns the line with that text in a list.
func find(ls []*cfgLine, text string) *cfgLine {
	for _, l := range ls {
		if l.text == text {
			return l
		}
	}
	return nil
}

// invalidAt is a configuration line the device rejects at token index.
type invalidAt struct{ token int }

func (e invalidAt) Error() string { return fmt.Sprintf("invalid input at token %d", e.token) }

// apply applies one configuration-mode line in the sub-mode path and returns the new path. It
// does not handle exit and end, which change modes, not the configuration.
func (c *ciscoConfig) apply(d *Device, path []string, line string) ([]string, error) {
	tokens := strings.Fields(line)
	if len(tokens) == 0 || strings.HasPrefix(tokens[0], "!") {
		return path, nil
	}
	negate := false
	first := 0
	if strings.EqualFold(tokens[0], "no") || strings.EqualFold(tokens[0], "default") {
		negate, first = true, 1
		if len(tokens) == 1 {
			return path, invalidAt{1}
		}
	}
	kind := ""
	if len(path) > 0 {
		kind = containerKind(path[len(path)-1])
	}
	kw, ok := expandKeyword(c.eos, kind, tokens[first])
	if !ok {
		return path, invalidAt{first}
	}
	if kind != "" && isTopKeyword(c.eos, kw) && !isChildKeyword(c.eos, kind, kw) {
		path = nil // a global command typed in a sub-mode leaves it, as on the real CLIs
		kind = ""
	}
	tokens[first] = kw
	if kw == "interface" {
		name, ok := normalizeInterface(c.eos, strings.Join(tokens[first+1:], ""))
		if !ok {
			return path, invalidAt{first + 1}
		}
		tokens = append(tokens[:first+1], name)
	}
	text := strings.Join(tokens[first:], " ")
	list := c.list(path)
	if list == nil {
		return nil, invalidAt{first}
	}
	if opensMode(kind, text) {
		if negate {
			*list = slices.DeleteFunc(*list, func(l *cfgLine) bool { return hasTokenPrefix(l.text, text) })
			return path, nil
		}
		if find(*list, text) == nil {
			if kw == "interface" && !d.interfaceCreatable(tokens[first+1]) {
				return path, invalidAt{first + 1}
			}
			at := insertLine(list, &cfgLine{text: text})
			if len(path) == 0 {
				*list = slices.Insert(*list, at+1, &cfgLine{text: "!"}) // a new block gets its separator
			}
		}
		return append(slices.Clone(path), text), nil
	}
	if negate {
		*list = slices.DeleteFunc(*list, func(l *cfgLine) bool {
			return hasTokenPrefix(l.text, text) || l.text == "no "+text
		})
		return path, nil
	}
	key := settingKey(text)
	replaces := func(l *cfgLine) bool {
		// "ip address x y" replaces another address and a stored "no ip address" alike.
		negated, isNo := strings.CutPrefix(l.text, "no ")
		return (isNo && hasTokenPrefix(text, negated)) || (key != "" && settingKey(l.text) == key)
	}
	if i := slices.IndexFunc(*list, replaces); i >= 0 {
		repl := &cfgLine{text: text, children: (*list)[i].children}
		(*list)[i] = repl
		*list = slices.DeleteFunc(*list, func(l *cfgLine) bool { return l != repl && replaces(l) })
		return path, nil
	}
	if find(*list, text) == nil {
		insertLine(list, &cfgLine{text: text})
	}
	return path, nil
}

// insertLine adds a line after the last sibling with the same first keyword and its "!"
// separator (new interfaces after the interfaces, new NTP servers after the NTP servers), or
// at the end, and returns its index.
func insertLine(list *[]*cfgLine, l *cfgLine) int {
	kw, _, _ := strings.Cut(l.text, " ")
	at := len(*list)
	for i := len(*list) - 1; i >= 0; i-- {
		if k, _, _ := strings.Cut((*list)[i].text, " "); k == kw {
			at = i + 1
			if at < len(*list) && (*list)[at].text == "!" {
				at++
			}
			break
		}
	}
	*list = slices.Insert(*list, at, l)
	return at
}

// hasTokenPrefix reports whether line starts with the whole tokens of prefix.
func hasTokenPrefix(line, prefix string) bool {
	return line == prefix || strings.HasPrefix(line, prefix+" ")
}

// singleValued are settings of which a context holds one value: a new value replaces the old.
// "*" matches any one token (so each username is its own setting).
var singleValued = [][]string{
	{"hostname"}, {"description"}, {"ip", "address"}, {"ip", "domain", "name"}, {"ip", "domain-name"},
	{"dns", "domain"}, {"switchport", "mode"}, {"switchport", "access", "vlan"},
	{"switchport", "trunk", "native", "vlan"}, {"switchport", "trunk", "allowed", "vlan"}, {"mtu"},
	{"speed"}, {"duplex"}, {"name"}, {"vrf", "forwarding"}, {"vrf"}, {"clock", "timezone"},
	{"snmp-server", "location"}, {"snmp-server", "contact"}, {"enable", "secret"}, {"username", "*"},
	{"banner", "motd"}, {"logging", "buffered"}, {"spanning-tree", "mode"}, {"exec-timeout"},
	{"transport", "input"}, {"ip", "ssh", "version"}, {"ntp", "source"}, {"logging", "source-interface"},
	{"ip", "default-gateway"}, {"channel-group"}, {"router-id"}, {"load-interval"}, {"bandwidth"},
}

// settingKey identifies the setting a line sets, "" if the line is a value of its own.
func settingKey(text string) string {
	tokens := strings.Fields(text)
	if len(tokens) > 0 && tokens[len(tokens)-1] == "secondary" {
		return ""
	}
	for _, key := range singleValued {
		if len(tokens) <= len(key) {
			continue // a setting needs a value
		}
		match := true
		for i, k := range key {
			if k != "*" && k != tokens[i] {
				match = false
				break
			}
		}
		if match {
			return strings.Join(tokens[:len(key)], " ")
		}
	}
	return ""
}

// opensMode reports whether a configuration line (in sub-mode kind) enters a sub-mode.
func opensMode(kind, text string) bool {
	t := strings.Fields(text)
	switch t[0] {
	case "interface", "line", "router", "redundancy", "control-plane", "class-map", "policy-map", "management":
		return len(t) > 1 || t[0] == "redundancy" || t[0] == "control-plane"
	case "vlan":
		return kind == "" && len(t) == 2
	case "vrf":
		return kind == "" && len(t) == 3 && (t[1] == "definition" || t[1] == "instance")
	case "ip", "ipv6":
		return len(t) >= 3 && t[1] == "access-list"
	case "aaa":
		return len(t) >= 4 && t[1] == "group" && t[2] == "server"
	case "tacacs", "radius":
		return len(t) == 3 && t[1] == "server"
	case "address-family":
		return kind == "router" || kind == "vrf"
	}
	return false
}

// containerKind classifies a sub-mode line for keyword lookup and prompts.
func containerKind(text string) string {
	first, rest, _ := strings.Cut(text, " ")
	switch first {
	case "interface", "line", "router", "vlan", "vrf", "address-family", "management":
		return first
	case "ip", "ipv6":
		if strings.HasPrefix(rest, "access-list") {
			return "acl"
		}
	}
	return first
}

// interfaceCreatable reports whether "interface name" may enter a sub-mode: physical
// interfaces must exist on the model; logical ones are created.
func (d *Device) interfaceCreatable(name string) bool {
	if name == d.model.mgmt || slices.Contains(d.model.ports, name) {
		return true
	}
	for _, logical := range []string{"Loopback", "Vlan", "Port-channel", "Port-Channel", "Tunnel"} {
		if strings.HasPrefix(name, logical) {
			return true
		}
	}
	return false
}

var interfaceTypes = map[bool][]string{
	false: {"GigabitEthernet", "TenGigabitEthernet", "TwentyFiveGigE", "HundredGigE", "FortyGigabitEthernet",
		"Loopback", "Vlan", "Port-channel", "Tunnel"},
	true: {"Ethernet", "Management", "Loopback", "Vlan", "Port-Channel", "Tunnel"},
}

// normalizeInterface expands an interface name as the CLIs do: "gi1/0/1" and
// "GigabitEthernet 1/0/1" are both GigabitEthernet1/0/1.
func normalizeInterface(eos bool, name string) (string, bool) {
	i := strings.IndexAny(name, "0123456789")
	if i < 1 {
		return "", false
	}
	prefix, number := strings.ToLower(name[:i]), name[i:]
	for _, t := range interfaceTypes[eos] {
		if strings.HasPrefix(strings.ToLower(t), prefix) {
			return t + number, true
		}
	}
	return "", false
}

// shortInterface is EOS's abbreviation of an interface in prompts: Ethernet1 → Et1.
func shortInterface(name string) string {
	i := strings.IndexAny(name, "0123456789")
	if i < 2 {
		return name
	}
	return name[:2] + name[i:]
}
