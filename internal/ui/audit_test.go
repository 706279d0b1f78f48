package ui_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

func TestAuditFiltersAndVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.client(t, "admin")
		// A denied attempt by operator, so that the outcome filter has something to find.
		adminPost(t, w.env, w.client(t, "operator"), fmt.Sprintf("/groups/%d/roles", w.core), url.Values{"name": {"x"}})

		body := page(t, w.env, admin, "/audit", 200)
		for _, s := range []string{"device_group.create", "device.create", "user_device_group_role.create",
			`href="/api/audit-log/?format=csv"`, `href="/api/audit-log/?format=jsonl"`} {
			if !strings.Contains(body, s) {
				t.Errorf("admin's audit log lacks %q", s)
			}
		}
		if strings.Contains(body, "globex-g1") || strings.Contains(body, ">gx<") {
			t.Errorf("admin of acme sees globex's records")
		}
		body = page(t, w.env, admin, "/audit?action=device_group.create", 200)
		if strings.Contains(body, "<code>device.create</code>") || !strings.Contains(body, "<code>device_group.create</code>") {
			t.Errorf("action filter")
		}
		if !strings.Contains(body, `href="/api/audit-log/?action=device_group.create&amp;format=csv"`) {
			t.Errorf("export link does not carry the filter")
		}
		body = page(t, w.env, admin, "/audit?result=denied", 200)
		if !strings.Contains(body, "device_group_role.create") || strings.Contains(body, "<code>device.create</code>") {
			t.Errorf("outcome filter: %s", body)
		}
		body = page(t, w.env, admin, fmt.Sprintf("/audit?actor=%d", w.ids["member"]), 200)
		if !strings.Contains(body, "member") || strings.Contains(body, "<code>device.create</code>") {
			t.Errorf("actor filter")
		}
		body = page(t, w.env, admin, "/audit?since=2000-01-01T00:00&until=2999-01-01T00:00", 200)
		if !strings.Contains(body, "device_group.create") {
			t.Errorf("date range drops everything")
		}
		body = page(t, w.env, admin, "/audit?since=2999-01-01T00:00", 200)
		if !strings.Contains(body, "No records match.") {
			t.Errorf("future since still matches")
		}
		// Bad filters are said next to their fields.
		body = page(t, w.env, admin, "/audit?result=maybe&since=yesterday", 400)
		if !strings.Contains(body, "Must be a date and time") {
			t.Errorf("bad date not said: %s", body)
		}
		body = page(t, w.env, admin, "/audit?result=maybe", 400)
		if !strings.Contains(body, "Must be success, denied or failure.") {
			t.Errorf("bad outcome not said")
		}
		body = page(t, w.env, admin, "/audit?since=2026-01-02T00:00&until=2026-01-01T00:00", 400)
		if !strings.Contains(body, "Must be later than since.") {
			t.Errorf("reversed range not said")
		}
		// operator sees only their own records: none of root's set-up.
		body = page(t, w.env, w.client(t, "operator"), "/audit", 200)
		if strings.Contains(body, "device_group.create") || !strings.Contains(body, "device_group_role.create") {
			t.Errorf("operator's audit log: %s", body)
		}
		// The export links work with the session.
		status, csv := w.get(t, admin, "/api/audit-log/?action=device_group.create&format=csv")
		if status != 200 || !strings.Contains(csv, "device_group.create") {
			t.Errorf("export: %d %s", status, csv)
		}
	})
}

func TestAuditPaginates(t *testing.T) {
	w := newWorld(t, newEnv(t, storetest.Open(t, store.SQLite)))
	for i := range 60 {
		w.create(t, "/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":"g%d"}`, w.acme, i))
	}
	c := w.client(t, "root")
	body := page(t, w.env, c, "/audit?action=device_group.create", 200)
	if strings.Count(body, "<code>device_group.create</code>") != 50 || !strings.Contains(body, `href="/audit?action=device_group.create&amp;offset=50"`) {
		t.Fatalf("first page: %d rows: %s", strings.Count(body, "<code>device_group.create</code>"), body[strings.Index(body, "admin-pager"):])
	}
	body = page(t, w.env, c, "/audit?action=device_group.create&offset=50", 200)
	if n := strings.Count(body, "<code>device_group.create</code>"); n != 13 || !strings.Contains(body, "offset=0") {
		t.Fatalf("second page: %d rows", n)
	}
}
