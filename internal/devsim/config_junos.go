package devsim

import (
	"slices"
	"strings"
)

// junosConfig is a Junos configuration: a tree of statements. Junos knows from its schema
// where a "set" path's containers end and its leaf begins; the simulator uses small keyword
// tables instead (see set), which is right for the statements of generated configurations and
// the usual edits.
type junosConfig struct {
	root jnode
}

type jnode struct {
	name     string // "system", "ge-0/0/0", "unit 0", or a leaf "host-name r1"
	leaf     bool
	children []*jnode
}

func (c *junosConfig) clone() config {
	return &junosConfig{root: *cloneNode(&c.root)}
}

func cloneNode(n *jnode) *jnode {
	out := &jnode{name: n.name, leaf: n.leaf, children: make([]*jnode, len(n.children))}
	for i, ch := range n.children {
		out.children[i] = cloneNode(ch)
	}
	return out
}

func (c *junosConfig) hostname() string {
	if sys := c.root.child("system"); sys != nil {
		for _, l := range sys.children {
			if name, ok := strings.CutPrefix(l.name, "host-name "); ok && l.leaf {
				return name
			}
		}
	}
	return "amnesiac"
}

func (n *jnode) child(name string) *jnode {
	for _, c := range n.children {
		if c.name == name && !c.leaf {
			return c
		}
	}
	return nil
}

// body renders the configuration in Junos's hierarchical form.
func (c *junosConfig) body() string {
	var b strings.Builder
	b.Grow(64 << 10)
	renderNode(&b, &c.root, 0)
	return b.String()
}

func renderNode(b *strings.Builder, n *jnode, depth int) {
	for _, ch := range n.children {
		for range depth {
			b.WriteString("    ")
		}
		b.WriteString(ch.name)
		if ch.leaf {
			b.WriteString(";")
			if cryptRE.MatchString(ch.name) {
				b.WriteString(" ## SECRET-DATA")
			}
			b.WriteByte('\n')
			continue
		}
		b.WriteString(" {\n")
		renderNode(b, ch, depth+1)
		for range depth {
			b.WriteString("    ")
		}
		b.WriteString("}\n")
	}
}

// setLines renders the configuration as "set" statements ("| display set").
func (c *junosConfig) setLines(n *jnode, prefix string, out []string) []string {
	if n == nil {
		n = &c.root
	}
	for _, ch := range n.children {
		p := prefix + " " + ch.name
		if ch.leaf || len(ch.children) == 0 {
			out = append(out, "set"+p)
			continue
		}
		out = c.setLines(ch, p, out)
	}
	return out
}

// add is the generators' way in: each element of path is one statement, the last a leaf.
func (c *junosConfig) add(path ...string) {
	n := &c.root
	for _, p := range path[:len(path)-1] {
		next := n.child(p)
		if next == nil {
			next = &jnode{name: p}
			n.children = append(n.children, next)
		}
		n = next
	}
	n.children = append(n.children, &jnode{name: path[len(path)-1], leaf: true})
}

// Keyword tables of the set heuristic. A named container keyword takes its name with it
// ("unit 0"); a value keyword is the first word of a two-word leaf ("description x"); a
// single-valued keyword's leaf replaces its previous value.
var (
	junosNamedContainers = []string{"unit", "family", "group", "neighbor", "user", "term", "policy-statement",
		"filter", "community", "area", "interface", "prefix-list", "route", "instance", "vlan", "zone", "policy"}
	junosValueKeywords = []string{"description", "host-name", "domain-name", "time-zone", "address", "vlan-id",
		"mtu", "encapsulation", "class", "uid", "encrypted-password", "authentication-key", "location", "contact",
		"authorization", "peer-as", "local-as", "type", "local-address", "export", "import", "router-id",
		"autonomous-system", "next-hop", "metric", "interface-mode", "members", "speed", "server", "interface",
		"name-server", "source-address", "host", "file", "level", "protocol", "boot-server"}
	junosSingleValued = []string{"host-name", "description", "domain-name", "time-zone", "vlan-id", "mtu",
		"encapsulation", "class", "uid", "encrypted-password", "location", "contact", "router-id",
		"autonomous-system", "local-as", "peer-as", "type", "speed", "authorization", "interface-mode"}
	junosTopStatements = []string{"system", "chassis", "interfaces", "snmp", "forwarding-options", "routing-options",
		"protocols", "policy-options", "class-of-service", "firewall", "routing-instances", "vlans", "security",
		"services", "groups", "apply-groups", "event-options", "poe", "virtual-chassis", "switch-options", "access"}
)

// set adds a statement ("set" without the word set); false when the first word is not a
// top-level statement.
func (c *junosConfig) set(tokens []string) bool {
	if len(tokens) == 0 || !slices.Contains(junosTopStatements, tokens[0]) {
		return false
	}
	n, i := c.walk(tokens)
	rest := tokens[i:]
	if len(rest) == 0 {
		return true
	}
	leafLen := 1
	if len(rest) >= 2 && slices.Contains(junosValueKeywords, rest[len(rest)-2]) {
		leafLen = 2
	}
	containers := rest[:len(rest)-leafLen]
	for len(containers) > 0 {
		take := 1
		if len(containers) >= 2 && slices.Contains(junosNamedContainers, containers[0]) {
			take = 2
		}
		name := strings.Join(containers[:take], " ")
		next := n.child(name)
		if next == nil {
			next = &jnode{name: name}
			n.children = append(n.children, next)
		}
		n, containers = next, containers[take:]
	}
	leaf := rest[len(rest)-leafLen:]
	name := strings.Join(leaf, " ")
	if len(leaf) == 2 && slices.Contains(junosSingleValued, leaf[0]) {
		n.children = slices.DeleteFunc(n.children, func(ch *jnode) bool {
			return ch.leaf && strings.HasPrefix(ch.name, leaf[0]+" ")
		})
	}
	if !slices.ContainsFunc(n.children, func(ch *jnode) bool { return ch.name == name }) {
		n.children = append(n.children, &jnode{name: name, leaf: true})
	}
	return true
}

// walk descends through the existing containers a path names and returns the deepest one
// and how many tokens it consumed.
func (c *junosConfig) walk(tokens []string) (*jnode, int) {
	n, i := &c.root, 0
	for i < len(tokens) {
		if i+1 < len(tokens) {
			if next := n.child(tokens[i] + " " + tokens[i+1]); next != nil {
				n, i = next, i+2
				continue
			}
		}
		if next := n.child(tokens[i]); next != nil {
			n, i = next, i+1
			continue
		}
		break
	}
	return n, i
}

// delete removes the statement a path names (a container with everything in it, or a leaf
// given whole or by its first words) and prunes containers left empty. It reports whether
// anything was removed.
func (c *junosConfig) delete(tokens []string) bool {
	if len(tokens) == 0 {
		return false
	}
	var parents []*jnode
	n, i := &c.root, 0
	for i < len(tokens) {
		next, used := (*jnode)(nil), 0
		if i+1 < len(tokens) {
			next, used = n.child(tokens[i]+" "+tokens[i+1]), 2
		}
		if next == nil {
			next, used = n.child(tokens[i]), 1
		}
		if next == nil {
			break
		}
		parents = append(parents, n)
		n, i = next, i+used
	}
	removed := false
	if i == len(tokens) {
		parent := parents[len(parents)-1]
		parent.children = slices.DeleteFunc(parent.children, func(ch *jnode) bool { return ch == n })
		n = parent
		parents = parents[:len(parents)-1]
		removed = true
	} else {
		rest := strings.Join(tokens[i:], " ")
		before := len(n.children)
		n.children = slices.DeleteFunc(n.children, func(ch *jnode) bool { return ch.leaf && hasTokenPrefix(ch.name, rest) })
		removed = len(n.children) < before
	}
	for len(parents) > 0 && len(n.children) == 0 {
		parent := parents[len(parents)-1]
		parent.children = slices.DeleteFunc(parent.children, func(ch *jnode) bool { return ch == n })
		n, parents = parent, parents[:len(parents)-1]
	}
	return removed
}

// subtree returns the container a "show configuration" path names, or nil.
func (c *junosConfig) subtree(tokens []string) *jnode {
	n, i := c.walk(tokens)
	if i != len(tokens) {
		return nil
	}
	return n
}

// junosTokens splits a line into words, keeping quoted strings (with their quotes) whole.
func junosTokens(line string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
