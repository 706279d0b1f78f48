// Package backup holds what webnet does to configuration text, free of storage and HTTP:
// content hashes, compression for storage, noise masking per platform (lines that change on
// every read without the configuration changing), unified diffs with that noise masked, the
// checks on configuration text to push, and the model that previews a push (Preview).
package backup

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// MaxSize bounds one configuration: the largest real ones are a few MB.
const MaxSize = 16 << 20

// Hash is the hex SHA-256 of b.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Compress gzips a configuration for storage (configurations shrink five- to tenfold).
func Compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("compress configuration: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrTooLarge is returned for content above MaxSize.
var ErrTooLarge = errors.New("configuration larger than 16 MiB")

// Decompress reverses Compress, refusing more than MaxSize bytes of output.
func Decompress(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decompress configuration: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("decompress configuration: %w", err)
	}
	if len(out) > MaxSize {
		return nil, ErrTooLarge
	}
	return out, nil
}

// Rule is one noise-masking rule: in lines matching Pattern, each submatch named "noise" is
// replaced by Masked.
type Rule struct {
	// Why says what the rule masks, for the documentation and the tests.
	Why     string
	Pattern *regexp.Regexp
	// words lists words one of which a line must contain for Pattern to be tried: a cheap
	// filter that spares the regular expression on nearly every line.
	words [][]byte
}

// Masked replaces noise in masked text.
const Masked = "<masked>"

func rule(why, pattern string, words ...string) Rule {
	r := Rule{Why: why, Pattern: regexp.MustCompile(pattern)}
	for _, a := range words {
		r.words = append(r.words, []byte(a))
	}
	return r
}

// mayMatch reports whether line contains one of the rule's words (true when it has none).
func (r Rule) mayMatch(line []byte) bool {
	if len(r.words) == 0 {
		return true
	}
	for _, a := range r.words {
		if bytes.Contains(line, a) {
			return true
		}
	}
	return false
}

// Secrets that devices re-hash (with a new salt) or re-encrypt on every read. Masking them
// means a changed password alone does not count as a configuration change: the stored text
// cannot tell a new password from a new salt.
var ciscoSecrets = []Rule{
	rule("salted secret hashes (types 5, 8, 9) and type 7 keys, re-encoded with a new salt",
		`\b(?:secret|password|key-string|key|md5)\s+[5789]\s+(?P<noise>\S+)$`, "secret", "password", "key", "md5"),
	rule("SHA-512 crypt secrets", `\bsecret\s+sha512\s+(?P<noise>\S+)`, "sha512"),
}

// rules are the masking rules per platform.
var rules = map[string][]Rule{
	"cisco_iosxe": append([]Rule{
		rule("the time of the last change", `^! Last configuration change at (?P<noise>.+)$`, "! Last configuration change at"),
		rule("the time the startup config was saved", `^! NVRAM config last updated at (?P<noise>.+)$`, "! NVRAM config last updated at"),
		rule("the size header, which follows every change", `^Current configuration : (?P<noise>\d+) bytes$`, "Current configuration : "),
		rule("the NTP clock drift the device learns", `^ntp clock-period (?P<noise>\d+)$`, "ntp clock-period "),
	}, ciscoSecrets...),
	"arista_eos": append([]Rule{
		rule("the time of the read", `^! Time: (?P<noise>.+)$`, "! Time: "),
		rule("the time the startup config was saved", `^! Startup-config last modified at (?P<noise>.+)$`, "! Startup-config last modified at "),
	}, ciscoSecrets...),
	"juniper_junos": {
		rule("the time and author of the last commit", `^## Last commit: (?P<noise>.+)$`, "## Last commit: "),
		rule("the time of the last change", `^## Last changed: (?P<noise>.+)$`, "## Last changed: "),
		rule("$9$ (reversible) and $1$/$5$/$6$ (crypt) secrets in quotes, re-encrypted with a new salt on every read",
			`"(?P<noise>\$[0-9]\$[^"]*)"`, `"$`),
	},
}

// Rules returns the masking rules of platform (those of every platform when it is unknown).
func Rules(platform string) []Rule {
	if r, ok := rules[platform]; ok {
		return r
	}
	var all []Rule
	for _, p := range []string{"cisco_iosxe", "arista_eos", "juniper_junos"} {
		all = append(all, rules[p]...)
	}
	return all
}

// Mask returns config with the platform's noise replaced by Masked, line by line; the rest of
// the text, line endings included, is unchanged.
func Mask(platform string, config []byte) []byte {
	rs := Rules(platform)
	lines := bytes.SplitAfter(config, []byte("\n"))
	var out bytes.Buffer
	out.Grow(len(config))
	for _, line := range lines {
		body, nl := line, []byte(nil)
		if bytes.HasSuffix(body, []byte("\n")) {
			body, nl = body[:len(body)-1], []byte("\n")
			if bytes.HasSuffix(body, []byte("\r")) {
				body, nl = body[:len(body)-1], []byte("\r\n")
			}
		}
		for _, r := range rs {
			if r.mayMatch(body) {
				body = maskLine(r.Pattern, body)
			}
		}
		out.Write(body)
		out.Write(nl)
	}
	return out.Bytes()
}

// maskLine replaces every "noise" submatch of re in line.
func maskLine(re *regexp.Regexp, line []byte) []byte {
	idx := re.SubexpIndex("noise")
	matches := re.FindAllSubmatchIndex(line, -1)
	if len(matches) == 0 || idx < 0 {
		return line
	}
	var out []byte
	last := 0
	for _, m := range matches {
		s, e := m[2*idx], m[2*idx+1]
		if s < 0 {
			continue
		}
		out = append(out, line[last:s]...)
		out = append(out, Masked...)
		last = e
	}
	return append(out, line[last:]...)
}

// Diff is the unified diff from a to b (named fromName and toName), both masked for
// platform, so noise shows as Masked and makes no hunks. Empty when they are equal.
func Diff(platform, fromName, toName string, a, b []byte) string {
	ma, mb := string(Mask(platform, a)), string(Mask(platform, b))
	if ma == mb {
		return ""
	}
	return udiff.Unified(fromName, toName, ensureNewline(ma), ensureNewline(mb))
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
