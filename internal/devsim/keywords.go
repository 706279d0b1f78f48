package devsim

import (
	"slices"
	"strings"
)

// Configuration keywords of IOS-XE and EOS: the first word of a line the parser accepts at the
// top level, and in the sub-modes whose keywords overlap with the top level's.
var (
	iosTopKeywords = strings.Fields(`aaa access-list alias archive banner boot call-home cdp class-map
		clock control-plane crypto device-tracking diagnostic dot1x enable errdisable event file
		hostname interface ip ipv6 license line lldp logging login mac monitor ntp policy-map
		port-channel power redundancy router service snmp-server spanning-tree switch system
		tacacs radius track udld username vlan vrf vtp`)
	eosTopKeywords = strings.Fields(`aaa alias banner boot class-map clock daemon dns enable
		errdisable event-handler hardware hostname interface ip ipv6 lldp logging management mac
		monitor ntp platform policy-map queue-monitor radius-server router service sflow
		snmp-server spanning-tree tacacs-server transceiver username vlan vrf`)
	childKeywords = map[string][]string{
		"interface": strings.Fields(`access-session authentication auto bandwidth carrier-delay cdp
			channel-group description device-tracking dot1x duplex encapsulation errdisable
			flowcontrol hold-queue ip ipv6 lldp load-interval logging mab mac media-type mtu
			negotiation no-autoneg power service-policy sflow shutdown source speed spanning-tree
			standby storm-control switchport udld vrf vrrp`),
		"line": strings.Fields(`access-class exec-timeout length logging login password
			privilege session-timeout stopbits transport`),
		"vlan":   strings.Fields(`name shutdown state`),
		"router": strings.Fields(`address-family bgp distance maximum-paths neighbor network passive-interface redistribute router-id timers vrf`),
		"vrf":    strings.Fields(`address-family description rd route-target`),
		"aaa":    strings.Fields(`ip server`),
	}
)

func isTopKeyword(eos bool, kw string) bool {
	if eos {
		return slices.Contains(eosTopKeywords, kw)
	}
	return slices.Contains(iosTopKeywords, kw)
}

func isChildKeyword(eos bool, kind, kw string) bool {
	return slices.Contains(childKeywords[kind], kw)
}

// expandKeyword expands an abbreviated first keyword in a sub-mode of kind ("" top level).
// Sub-modes without a keyword table accept any word that is not a global keyword as theirs
// (ACL entries, route targets…).
func expandKeyword(eos bool, kind, word string) (string, bool) {
	candidates := slices.Clone(iosTopKeywords)
	if eos {
		candidates = slices.Clone(eosTopKeywords)
	}
	candidates = append(candidates, childKeywords[kind]...)
	if kind == "address-family" {
		candidates = append(candidates, childKeywords["router"]...)
	}
	if kw, ok := uniquePrefix(candidates, word); ok {
		return kw, true
	}
	if kind != "" && childKeywords[kind] == nil {
		return word, true
	}
	return "", false
}

// uniquePrefix finds the one word that word abbreviates (an exact match wins).
func uniquePrefix(words []string, word string) (string, bool) {
	word = strings.ToLower(word)
	found := ""
	for _, w := range words {
		if w == word {
			return w, true
		}
		if strings.HasPrefix(w, word) {
			if found != "" && found != w {
				return "", false
			}
			found = w
		}
	}
	return found, found != ""
}

// cmdSpec is one EXEC command: its words and what runs it. A word is a keyword (which the
// user may abbreviate), "<>" (one argument), "[]" (an optional argument) or "*" (the rest of
// the line, possibly nothing).
type cmdSpec struct {
	words []string
	priv  int // lowest privilege level that may run it
	run   func(s *session, args []string) (string, error)
}

func cmd(words string, priv int, run func(s *session, args []string) (string, error)) cmdSpec {
	return cmdSpec{words: strings.Fields(words), priv: priv, run: run}
}

// matchOutcome says why a line did or did not select one command.
type matchOutcome int

const (
	matchOK matchOutcome = iota
	matchAmbiguous
	matchIncomplete
	matchInvalid
)

// matched is the result of matching a line against a command table.
type matched struct {
	outcome  matchOutcome
	spec     *cmdSpec
	args     []string
	expanded string // the line with keywords expanded
	failAt   int    // for matchInvalid: the first token no command accepts
}

// matchCommand selects the command a line means. Among commands that accept the whole line,
// the one that spells out the most keywords wins (so "copy running-config startup-config"
// beats "copy <> <>"); a tie is ambiguous, like "di" for dir and disable.
func matchCommand(specs []cmdSpec, tokens []string, priv int) matched {
	best := matched{outcome: matchInvalid}
	bestScore, tie, incomplete := -1, false, false
	for i := range specs {
		spec := &specs[i]
		if spec.priv > priv {
			continue
		}
		args, expanded, score, state, at := matchSpec(spec, tokens)
		switch state {
		case matchIncomplete:
			incomplete = true
		case matchInvalid:
			best.failAt = max(best.failAt, at)
		case matchOK:
			switch {
			case score > bestScore:
				bestScore, tie = score, false
				best = matched{outcome: matchOK, spec: spec, args: args, expanded: expanded}
			case score == bestScore:
				tie = true
			}
		}
	}
	switch {
	case bestScore >= 0 && tie:
		return matched{outcome: matchAmbiguous}
	case bestScore >= 0:
		return best
	case incomplete:
		return matched{outcome: matchIncomplete}
	}
	return best
}

// matchSpec matches tokens against one command. score counts keywords, with exact spellings
// counting more than abbreviations.
func matchSpec(spec *cmdSpec, tokens []string) (args []string, expanded string, score int, state matchOutcome, failAt int) {
	var out []string
	j := 0
	for _, w := range spec.words {
		switch w {
		case "*":
			args = append(args, tokens[j:]...)
			out = append(out, tokens[j:]...)
			j = len(tokens)
			continue
		case "[]":
			if j < len(tokens) {
				args = append(args, tokens[j])
				out = append(out, tokens[j])
				j++
			}
			continue
		}
		if j == len(tokens) {
			return nil, "", 0, matchIncomplete, j
		}
		t := tokens[j]
		switch {
		case w == "<>":
			args = append(args, t)
			out = append(out, t)
		case strings.HasPrefix(w, strings.ToLower(t)):
			out = append(out, w)
			score += 2
			if strings.EqualFold(w, t) {
				score++
			}
		default:
			return nil, "", 0, matchInvalid, j
		}
		j++
	}
	if j < len(tokens) {
		return nil, "", 0, matchInvalid, j
	}
	return args, strings.Join(out, " "), score, matchOK, 0
}

// tokenColumn is the column at which token i of a line starts, for error carets.
func tokenColumn(line string, i int) int {
	col := 0
	for n := 0; ; n++ {
		for col < len(line) && line[col] == ' ' {
			col++
		}
		if n == i || col >= len(line) {
			return col
		}
		for col < len(line) && line[col] != ' ' {
			col++
		}
	}
}

// splitPipe splits "show running-config | include ntp" into the command and its filters.
func splitPipe(line string) (string, []string) {
	parts := strings.Split(line, "|")
	cmd := strings.TrimSpace(parts[0])
	var filters []string
	for _, p := range parts[1:] {
		filters = append(filters, strings.TrimSpace(p))
	}
	return cmd, filters
}
