// Package compliance evaluates compliance rules against configuration text: pure functions,
// no storage, no devices. A rule is one of four kinds over the device's configuration as it
// reads it ("show running-config", Junos "show configuration"), unmasked — secrets as the
// device prints them, so that a rule can find, say, a type-0 password:
//
//   - must_contain: the pattern occurs in the configuration as literal text
//     (case-sensitive; it may span lines, joined by "\n");
//   - must_not_contain: it does not;
//   - regex_match: the regular expression (RE2 syntax) matches somewhere;
//   - regex_absent: it matches nowhere.
//
// Regular expressions are in multi-line mode: ^ and $ match at the start and end of each
// line ("(?-m)" in the pattern turns that off). Line endings are LF before matching (a CR LF
// from a device becomes LF). An outcome's detail names line numbers and counts, never the
// configuration's text: results are shown to whoever may view the device, and configuration
// content needs view_configuration.
package compliance

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// The rule kinds.
const (
	MustContain    = "must_contain"
	MustNotContain = "must_not_contain"
	RegexMatch     = "regex_match"
	RegexAbsent    = "regex_absent"
)

// Kinds lists the rule kinds.
var Kinds = []string{MustContain, MustNotContain, RegexMatch, RegexAbsent}

// Severities lists the rule severities, lowest first.
var Severities = []string{"low", "medium", "high", "critical"}

// MaxPattern bounds a pattern, in characters.
const MaxPattern = 1000

// Matcher is a rule's pattern made ready to evaluate.
type Matcher struct {
	kind    string
	literal string
	re      *regexp.Regexp
}

// InvalidError is what is wrong with a rule, for one of its fields.
type InvalidError struct {
	Field string // "kind" or "pattern"
	Why   string // a sentence for that field
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Why }

// Compile checks a rule's kind and pattern and returns its matcher; an invalid rule is an
// *InvalidError.
func Compile(kind, pattern string) (*Matcher, error) {
	bad := func(field, format string, args ...any) error {
		return &InvalidError{Field: field, Why: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.TrimSpace(pattern) == "":
		return nil, bad("pattern", "This field is required.")
	case len([]rune(pattern)) > MaxPattern:
		return nil, bad("pattern", "Use at most %d characters.", MaxPattern)
	case strings.IndexFunc(pattern, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		return nil, bad("pattern", "Control characters other than newline and tab are not allowed.")
	}
	m := &Matcher{kind: kind}
	switch kind {
	case MustContain, MustNotContain:
		m.literal = pattern
	case RegexMatch, RegexAbsent:
		// Compiled alone first, so that an error quotes the pattern as it was written.
		if _, err := regexp.Compile(pattern); err != nil {
			return nil, bad("pattern", "Not a valid regular expression (RE2 syntax): %s.", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		m.re = regexp.MustCompile("(?m)" + pattern)
	default:
		return nil, bad("kind", "Must be one of %s.", strings.Join(Kinds, ", "))
	}
	return m, nil
}

// Outcome is a rule's result on one configuration.
type Outcome struct {
	Passed bool
	// Detail says where or why, by line numbers and counts only.
	Detail string
}

// Evaluate applies the rule to a configuration.
func (m *Matcher) Evaluate(config string) Outcome {
	config = strings.ReplaceAll(config, "\r\n", "\n")
	var at [][]int
	if m.re != nil {
		at = m.re.FindAllStringIndex(config, -1)
	} else {
		for off := 0; off <= len(config); {
			i := strings.Index(config[off:], m.literal)
			if i < 0 {
				break
			}
			at = append(at, []int{off + i, off + i + len(m.literal)})
			off += i + max(1, len(m.literal))
		}
	}
	found := len(at) > 0
	where := ""
	if found {
		line := 1 + strings.Count(config[:at[0][0]], "\n")
		where = fmt.Sprintf("line %d", line)
		if len(at) > 1 {
			where += fmt.Sprintf(" (%d occurrences)", len(at))
		}
	}
	switch m.kind {
	case MustContain:
		if found {
			return Outcome{true, "Found at " + where + "."}
		}
		return Outcome{false, "Not found in the configuration."}
	case MustNotContain:
		if found {
			return Outcome{false, "Found at " + where + "; it must not be there."}
		}
		return Outcome{true, "Not found."}
	case RegexMatch:
		if found {
			return Outcome{true, "Matches at " + where + "."}
		}
		return Outcome{false, "No line matches."}
	default: // RegexAbsent
		if found {
			return Outcome{false, "Matches at " + where + "; nothing may match."}
		}
		return Outcome{true, "No match."}
	}
}
