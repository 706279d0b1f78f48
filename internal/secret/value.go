package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every printing, logging and encoding path shows instead of a secret.
const redacted = "[redacted]"

// Value is a plaintext secret in memory (a password, an enable secret, an SSH private key).
// String, GoString, Format, LogValue and MarshalJSON all give "[redacted]"; Reveal is the only
// way to get the plaintext. The zero Value means "no secret". Compare values through Reveal:
// == compares identities, not contents.
type Value struct {
	// p points at the plaintext instead of holding it: fmt walks a struct's unexported fields
	// by reflection, bypassing Format, and would print a string field as is, but it prints a
	// pointer reached that way as an address.
	p *string
}

// NewValue wraps plain. An empty plain gives the zero Value.
func NewValue(plain string) Value {
	if plain == "" {
		return Value{}
	}
	return Value{p: &plain}
}

// Reveal returns the plaintext ("" for the zero Value). Call it only where the secret is
// used, such as when authenticating an SSH connection, and do not keep the result.
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// IsZero reports whether v holds no secret.
func (v Value) IsZero() bool { return v.p == nil }

// String returns "[redacted]".
func (v Value) String() string { return redacted }

// GoString returns "[redacted]", so %#v hides the secret too.
func (v Value) GoString() string { return redacted }

// Format writes "[redacted]" whatever the verb and flags, so %x, %q or %d cannot leak it.
func (v Value) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer: logs show "[redacted]".
func (v Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON gives the JSON string "[redacted]": a secret never leaves in an API answer.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
