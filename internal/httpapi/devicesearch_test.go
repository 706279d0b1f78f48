package httpapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestDeviceListSearch: ?q= finds a case-insensitive substring of a device's name or address
// among the devices the caller may see (the trigram index for three characters or more, a
// scan for fewer), and a filter that is not text is refused with its field named.
func TestDeviceListSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		names := func(user, query string) string {
			t.Helper()
			r := w.do(t, "GET", "/api/devices/?"+query, "", as(w.tokens[user])...)
			if r.status != 200 {
				t.Fatalf("?%s as %s: %d %s", query, user, r.status, r.raw)
			}
			var out []string
			for _, d := range r.body["results"].([]any) {
				out = append(out, d.(map[string]any)["name"].(string))
			}
			slices.Sort(out)
			if int(r.body["count"].(float64)) != len(out) {
				t.Fatalf("?%s: count %v for %d results", query, r.body["count"], len(out))
			}
			return strings.Join(out, " ")
		}
		w.tokens["root"] = w.root
		for _, c := range []struct{ user, q, want string }{
			{"root", "ACME-R", "acme-r1 acme-r2"},
			{"root", "-g1", "globex-g1"},
			{"root", "x-", "globex-g1"},
			{"root", "cme", "acme-e1 acme-r1 acme-r2 acme-u1"},
			{"root", "192.0.2.9", "globex-g1"}, // the address (192.0.2.<length of the name>)
			{"root", "  acme-u1 ", "acme-u1"},  // trimmed
			{"operator", "cme", "acme-e1 acme-r1 acme-r2"},
			{"syncer", "acme", "acme-r1 acme-r2"},
			{"globexadm", "acme", ""},
			{"root", "acme%", ""}, // % is a plain character
			{"root", "acme_r", ""},
		} {
			if got := names(c.user, "q="+url.QueryEscape(c.q)); got != c.want {
				t.Errorf("%s ?q=%q: %q, want %q", c.user, c.q, got, c.want)
			}
		}
		for _, c := range []struct{ query, field string }{
			{"q=" + strings.Repeat("x", 201), "q"},
			{"q=%ff%fe%fd", "q"},
			{"q=ab%00cd", "q"},
			{"platform=%c3%28", "platform"},
			{"os_version=%00", "os_version"},
		} {
			r := w.do(t, "GET", "/api/devices/?"+c.query, "", as(w.root)...)
			wantError(t, r, 400, webnet.EInvalid)
			if fields, _ := r.body["fields"].(map[string]any); fields[c.field] == nil {
				t.Errorf("?%s: no field error for %s: %s", c.query, c.field, r.raw)
			}
		}
	})
}
