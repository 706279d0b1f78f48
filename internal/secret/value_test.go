package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const plain = "s3cr3t-enable-pw"

func TestValueReveal(t *testing.T) {
	if v := NewValue(plain); v.Reveal() != plain || v.IsZero() {
		t.Errorf("NewValue(%q): Reveal = %q, IsZero = %v", plain, v.Reveal(), v.IsZero())
	}
	for _, v := range []Value{{}, NewValue("")} {
		if !v.IsZero() || v.Reveal() != "" {
			t.Errorf("zero Value: IsZero = %v, Reveal = %q", v.IsZero(), v.Reveal())
		}
	}
}

func TestValueRedactedInFmt(t *testing.T) {
	v := NewValue(plain)
	type exported struct{ Password Value }
	type unexported struct{ password Value }
	args := map[string]any{
		"value":             v,
		"pointer":           &v,
		"slice":             []Value{v},
		"map":               map[string]Value{"pw": v},
		"exported field":    exported{v},
		"unexported field":  unexported{v},
		"pointer to struct": &unexported{v},
	}
	for name, arg := range args {
		for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%X", "%d", "%p", "%10.3s"} {
			got := fmt.Sprintf(verb, arg)
			if strings.Contains(got, plain) || strings.Contains(got, fmt.Sprintf("%x", plain)) ||
				strings.Contains(got, fmt.Sprintf("%X", plain)) {
				t.Errorf("%s with %s = %q: shows the secret", name, verb, got)
			}
		}
	}
	for _, got := range []string{fmt.Sprint(v), fmt.Sprintln(v), v.String(), v.GoString()} {
		if got = strings.TrimSpace(got); got != "[redacted]" {
			t.Errorf("printed %q, want [redacted]", got)
		}
	}
}

func TestValueRedactedInLogs(t *testing.T) {
	v := NewValue(plain)
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("connect", "password", v, slog.Any("ptr", &v),
			slog.Group("device", "enable", v), "creds", struct{ Secret Value }{v})
		out := buf.String()
		if strings.Contains(out, plain) {
			t.Errorf("%s handler logged the secret: %s", name, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s handler output lacks [redacted]: %s", name, out)
		}
	}
}

func TestValueRedactedInJSON(t *testing.T) {
	v := NewValue(plain)
	for name, arg := range map[string]any{
		"value":  v,
		"struct": struct{ Password Value }{v},
		"map":    map[string]Value{"pw": v},
	} {
		b, err := json.Marshal(arg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(string(b), plain) || !strings.Contains(string(b), `"[redacted]"`) {
			t.Errorf("%s marshals to %s", name, b)
		}
	}
}
