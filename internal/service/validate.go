package service

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode"

	"webnet/internal/webnet"
)

// fieldErrors collects validation failures field by field.
type fieldErrors map[string]string

func (f fieldErrors) add(field, why string) {
	if _, ok := f[field]; !ok {
		f[field] = why
	}
}

// err returns the validation error, or nil when no field failed.
func (f fieldErrors) err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return webnet.Invalid(message, f)
}

// checkName validates a display name: 1-150 characters, no control characters, trimmed.
func (f fieldErrors) checkName(field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		f.add(field, "This field is required.")
	case len([]rune(v)) > 150:
		f.add(field, "Use at most 150 characters.")
	case v != strings.TrimSpace(v):
		f.add(field, "Remove leading and trailing spaces.")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		f.add(field, "Control characters are not allowed.")
	}
}

func (f fieldErrors) checkDescription(field, v string) {
	if len(v) > 2000 {
		f.add(field, "Use at most 2000 characters.")
	}
	if strings.ContainsRune(v, 0) {
		f.add(field, "NUL characters are not allowed.")
	}
}

var hostnameRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)

// checkAddress validates a device address: an IP address or a DNS name.
func (f fieldErrors) checkAddress(field, v string) {
	if v == "" {
		f.add(field, "This field is required.")
		return
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return
	}
	labels := strings.Split(strings.TrimSuffix(v, "."), ".")
	if len(v) > 253 || !hostnameRE.MatchString(v) || strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		// An all-numeric last label is a mistyped address (192.0.2.256), never a host name
		// (RFC 1123 §2.1).
		f.add(field, "Enter an IP address or a host name.")
	}
}
