package backup

import (
	"slices"
	"strings"
)

// junosSingle are Junos leaves that hold one value: "set … host-name b" replaces "host-name a"
// at the same place.
var junosSingle = []string{"host-name", "description", "domain-name", "time-zone", "vlan-id", "mtu",
	"encapsulation", "class", "uid", "encrypted-password", "location", "contact", "router-id", "autonomous-system",
	"local-as", "peer-as", "type", "speed", "authorization", "interface-mode", "native-vlan-id", "preference",
	"metric", "local-address"}

// junosSetLines turns a configuration in Junos's hierarchical form ("show configuration")
// into "set" statements, in order, as "| display set" does: comments go, a list "[ a b ]"
// becomes one statement per member.
func junosSetLines(config string) []string {
	var out, stack []string
	for raw := range strings.SplitSeq(config, "\n") {
		l := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		if i := strings.Index(l, "; ##"); i >= 0 {
			l = l[:i+1]
		}
		l = strings.TrimPrefix(l, "inactive: ")
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "/*"):
		case strings.HasSuffix(l, "{"):
			stack = append(stack, strings.TrimSpace(strings.TrimSuffix(l, "{")))
		case l == "}":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case strings.HasSuffix(l, ";"):
			l = strings.TrimSuffix(l, ";")
			prefix := strings.Join(append([]string{"set"}, stack...), " ")
			head, list, isList := strings.Cut(l, "[")
			if !isList || !strings.HasSuffix(list, "]") {
				out = append(out, prefix+" "+l)
				continue
			}
			for _, member := range junosTokens(strings.TrimSuffix(list, "]")) {
				out = append(out, prefix+" "+strings.TrimSpace(head)+" "+member)
			}
		}
	}
	return out
}

// junosTokens splits a statement into words, keeping a quoted string ("a b") one word.
func junosTokens(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
			in = true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// applyJunos applies pushed lines to "set" statements and returns them with the lines it
// could not model.
func applyJunos(set []string, lines []string) ([]string, []string) {
	var edit, unmodelled []string
	for _, line := range lines {
		words := junosTokens(strings.TrimSpace(line))
		if len(words) == 0 {
			continue
		}
		switch verb, rest := words[0], words[1:]; {
		case verb == "edit" && len(rest) > 0:
			edit = append(edit, rest...)
		case verb == "top" && len(rest) == 0:
			edit = nil
		case verb == "up" && len(rest) == 0:
			edit = edit[:max(0, len(edit)-1)]
		case verb == "set" && len(rest) > 0:
			set = junosSet(set, append(slices.Clone(edit), rest...))
		case verb == "delete" && len(rest) > 0:
			path := "set " + strings.Join(append(slices.Clone(edit), rest...), " ")
			set = slices.DeleteFunc(set, func(s string) bool { return hasTokenPrefix(s, path) })
		default:
			unmodelled = append(unmodelled, line)
		}
	}
	return set, unmodelled
}

// junosSet adds the statement "set <path>": a value of a single-valued leaf replaces the
// old one; a new statement goes after the last one sharing the most leading words with it.
func junosSet(set []string, path []string) []string {
	stmt := "set " + strings.Join(path, " ")
	if slices.Contains(set, stmt) {
		return set
	}
	if n := len(path); n >= 2 && slices.Contains(junosSingle, path[n-2]) {
		leaf := "set " + strings.Join(path[:n-1], " ")
		if i := slices.IndexFunc(set, func(s string) bool { return hasTokenPrefix(s, leaf) }); i >= 0 {
			set[i] = stmt
			return append(set[:i+1], slices.DeleteFunc(set[i+1:], func(s string) bool { return hasTokenPrefix(s, leaf) })...)
		}
	}
	words := append([]string{"set"}, path...)
	at, best := len(set), 1
	for i, s := range set {
		if n := commonWords(junosTokens(s), words); n >= best {
			at, best = i+1, n
		}
	}
	return slices.Insert(set, at, stmt)
}

func commonWords(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
