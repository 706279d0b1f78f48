package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

func TestDeviceImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		path := fmt.Sprintf("/api/devices/import/?customer=%d", w.acme)
		post := func(user, path, ctype, body string) result {
			t.Helper()
			return w.doAny(t, "POST", path, body, append(as(w.tokens[user]), "Content-Type", ctype)...)
		}
		count := func() float64 {
			t.Helper()
			return w.do(t, "GET", "/api/devices/?limit=1", "", as(w.root)...).body["count"].(float64)
		}
		before := count()
		csv := "name,address,port,platform,device_group,enabled\n" +
			"imp-1,192.0.2.101,22,cisco_iosxe,core,true\n" +
			"imp-2,imp-2.example.net,2222,arista_eos,edge,\n" +
			"imp-3,192.0.2.103,,juniper_junos,core,false\n"

		// Dry run: checked, nothing written.
		r := post("admin", path+"&dry_run=true", "text/csv", csv)
		if r.status != 200 || r.body["dry_run"] != true || count() != before {
			t.Fatalf("dry run: %d %s", r.status, r.raw)
		}
		// Bad rows: every one reported, nothing written.
		bad := "name,address,platform,device_group\n" +
			"ok-1,192.0.2.1,cisco_iosxe,core\n" +
			"acme-r1,192.0.2.2,cisco_iosxe,core\n" + // taken
			"dup,not an address!,cisco_iosxe,core\n" +
			"dup,192.0.2.4,nokia_sros,nowhere\n"
		r = post("admin", path, "text/csv", bad)
		if r.status != 400 || count() != before {
			t.Fatalf("bad rows: %d %s", r.status, r.raw)
		}
		rows := r.body["rows"].([]any)
		if len(rows) != 3 {
			t.Fatalf("want rows 2, 3 and 4 reported: %s", r.raw)
		}
		last := rows[2].(map[string]any)["errors"].(map[string]any)
		if last["name"] == nil || last["platform"] == nil || last["device_group"] == nil || r.body["error"] != "3 of 4 rows are invalid; nothing was imported." {
			t.Fatalf("row 4's errors: %s", r.raw)
		}
		// A syncer may add nothing: 403 naming the rows, nothing written, denial audited.
		r = post("syncer", path, "text/csv", csv)
		if r.status != 403 || count() != before {
			t.Fatalf("import without add_device: %d %s", r.status, r.raw)
		}
		// Not a member: 404 before the body is even read.
		if r := post("outsider", path, "text/csv", "garbage"); r.status != 404 {
			t.Fatalf("outsider: %d %s", r.status, r.raw)
		}
		for _, c := range []struct{ ctype, body string }{
			{"text/csv", "name,color\nx,red\n"},
			{"text/csv", "name,address,platform\nx,192.0.2.1,cisco_iosxe,extra\n"},
			{"application/json", `[{"name":"x","address":"192.0.2.1","platform":"cisco_iosxe","colour":"red"}]`},
			{"application/json", `[]`},
		} {
			if r := post("admin", path, c.ctype, c.body); r.status != 400 || count() != before {
				t.Fatalf("%s %q: %d %s", c.ctype, c.body, r.status, r.raw)
			}
		}
		if r := post("admin", path, "application/xml", "<x/>"); r.status != 415 {
			t.Fatalf("xml: %d %s", r.status, r.raw)
		}
		// The real thing, from CSV and from JSON.
		r = post("admin", path, "text/csv", csv)
		if r.status != 201 || r.body["created"] != 3.0 || count() != before+3 {
			t.Fatalf("import: %d %s", r.status, r.raw)
		}
		r = post("admin", path, "application/json", `{"devices":[{"name":"imp-4","address":"192.0.2.104","platform":"cisco_iosxe","device_group":"core"}]}`)
		if r.status != 201 || count() != before+4 {
			t.Fatalf("json import: %d %s", r.status, r.raw)
		}
		d := w.do(t, "GET", fmt.Sprintf("/api/devices/%d/", int64(r.body["devices"].([]any)[0].(float64))), "", as(w.root)...)
		if d.body["name"] != "imp-4" || d.body["device_group"] != float64(w.core) {
			t.Fatalf("imported device: %s", d.raw)
		}
		// The audit trail has the import and each device.
		a := w.do(t, "GET", "/api/audit-log/?action=device.import&limit=50", "", as(w.root)...)
		if !strings.Contains(a.raw, `"result":"success"`) || !strings.Contains(a.raw, `"result":"denied"`) {
			t.Fatalf("audit of imports: %s", a.raw)
		}
	})
}
