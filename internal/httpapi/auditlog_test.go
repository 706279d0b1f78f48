package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// auditFixture is a small audit log over two customers, appended straight to the store (no
// audited routes are needed to test reading it). rec[i] is the id of record i (1-based).
type auditFixture struct {
	e                                      *env
	t0                                     time.Time
	custA, custB                           int64
	adminA, memberA, adminB, staff, nobody int64
	tokAdminA, tokMemberA, tokAdminB       string
	tokStaff, tokNobody                    string
	rec                                    []int64
}

func auditPtr(v int64) *int64 { return &v }

// auditRecord appends one record and returns its id.
func (e *env) auditRecord(t *testing.T, a store.Activity) int64 {
	t.Helper()
	e.tx(t, func(ctx context.Context, tx *store.Tx) error { return tx.AppendActivity(ctx, &a) })
	return a.ID
}

func newAuditFixture(t *testing.T, db *store.DB) *auditFixture {
	e := newEnv(t, db)
	f := &auditFixture{e: e, t0: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.custA, f.custB = e.customer(t, "cust-a"), e.customer(t, "cust-b")
	f.adminA, f.tokAdminA = e.user(t, "admin-a", false, false, map[int64]webnet.Role{f.custA: webnet.RoleAdmin})
	f.memberA, f.tokMemberA = e.user(t, "member-a", false, false, map[int64]webnet.Role{f.custA: webnet.RoleOperator})
	f.adminB, f.tokAdminB = e.user(t, "admin-b", false, false, map[int64]webnet.Role{f.custB: webnet.RoleAdmin, f.custA: webnet.RoleViewer})
	f.staff, f.tokStaff = e.user(t, "staff", true, false, nil)
	f.nobody, f.tokNobody = e.user(t, "nobody", false, false, nil)
	type row struct {
		actor    int64 // 0: the system
		username string
		customer int64 // 0: none
		action   string
		result   string
		objectID string
		repr     string
		ip       string
		details  string
	}
	rows := []row{
		1: {f.adminA, "admin-a", f.custA, "widget.create", "success", "1", "alpha", "192.0.2.1", `{"after": {"name": "alpha"}}`},
		2: {f.memberA, "member-a", f.custA, "widget.update", "denied", "1", "alpha", "192.0.2.2", `{"error": "no"}`},
		3: {f.adminB, "admin-b", f.custB, "widget.delete", "success", "2", "beta", "192.0.2.3", ``},
		4: {f.memberA, "member-a", 0, "widget.touch", "success", "3", "own thing", "192.0.2.2", ``},
		5: {f.adminA, "admin-a", f.custB, "widget.update", "denied", "2", "beta", "192.0.2.1", ``},
		6: {0, "system", f.custA, "widget.sync", "failure", "1", `=HYPERLINK("http://evil.example/")`, "", `{"note": "-2"}`},
		7: {f.staff, "staff", 0, "widget.create", "success", "-4", "@SUM(1)", "+cmd", ``},
	}
	f.rec = make([]int64, len(rows))
	for i := 1; i < len(rows); i++ {
		r := rows[i]
		a := store.Activity{At: f.t0.Add(time.Duration(i) * time.Minute), ActorUsername: r.username, Action: r.action,
			ObjectType: "widget", ObjectID: r.objectID, ObjectRepr: r.repr, Result: r.result, IP: r.ip,
			RequestID: fmt.Sprintf("req-%d", i), Details: json.RawMessage(r.details)}
		if r.actor != 0 {
			a.ActorID = auditPtr(r.actor)
		}
		if r.customer != 0 {
			a.CustomerID = auditPtr(r.customer)
		}
		f.rec[i] = e.auditRecord(t, a)
	}
	return f
}

// ids returns the record ids of the fixture, by number.
func (f *auditFixture) ids(nums ...int) []int64 {
	out := make([]int64, len(nums))
	for i, n := range nums {
		out[i] = f.rec[n]
	}
	return out
}

// list GETs the audit log with query (only the fixture's widget records) and returns the
// response and the ids of its results, in order.
func (f *auditFixture) list(t *testing.T, tok, query string) (result, []int64) {
	t.Helper()
	r := f.e.do(t, "GET", "/api/audit-log/?object_type=widget&"+query, "", as(tok)...)
	if r.status != 200 {
		t.Fatalf("GET audit-log ?%s: %d %s", query, r.status, r.raw)
	}
	return r, auditResultIDs(t, r)
}

func auditResultIDs(t *testing.T, r result) []int64 {
	t.Helper()
	results, ok := r.body["results"].([]any)
	if !ok {
		t.Fatalf("no results: %s", r.raw)
	}
	out := []int64{}
	for _, x := range results {
		out = append(out, int64(x.(map[string]any)["id"].(float64)))
	}
	return out
}

// auditNewestFirst reverses ids given oldest first, as the list orders them.
func auditNewestFirst(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func TestAuditLogVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		root := f.e.token(t)
		cases := []struct {
			name string
			tok  string
			want []int
		}{
			// Admin of A: A's entries (1, 2, 6) and their own, even in B (5); not B's others (3).
			{"admin of A", f.tokAdminA, []int{1, 2, 5, 6}},
			// An operator sees only their own entries, in A or none.
			{"member of A", f.tokMemberA, []int{2, 4}},
			// Admin of B and viewer of A: B's entries (3, 5) only; the viewer role gives nothing of A's.
			{"admin of B", f.tokAdminB, []int{3, 5}},
			{"staff", f.tokStaff, []int{1, 2, 3, 4, 5, 6, 7}},
			{"superuser", root, []int{1, 2, 3, 4, 5, 6, 7}},
			{"no memberships", f.tokNobody, nil},
		}
		for _, c := range cases {
			r, got := f.list(t, c.tok, "")
			want := auditNewestFirst(f.ids(c.want...))
			if !slices.Equal(got, want) || int(r.body["count"].(float64)) != len(want) {
				t.Errorf("%s sees %v (count %v), want %v", c.name, got, r.body["count"], want)
			}
		}
		// Filters narrow what is visible, never widen it: admin of A asking for B's entries
		// gets only their own.
		if _, got := f.list(t, f.tokAdminA, "customer="+itoa(int(f.custB))); !slices.Equal(got, f.ids(5)) {
			t.Errorf("admin of A, customer=B: %v", got)
		}
		if _, got := f.list(t, f.tokMemberA, "actor="+itoa(int(f.adminA))); len(got) != 0 {
			t.Errorf("member of A, actor=admin of A: %v", got)
		}
		wantError(t, f.e.do(t, "GET", "/api/audit-log/", ""), 401, webnet.EUnauthenticated)

		// Reading the log is not itself audited.
		count := func() float64 {
			r := f.e.do(t, "GET", "/api/audit-log/", "", as(f.tokStaff)...)
			return r.body["count"].(float64)
		}
		before := count()
		f.e.do(t, "GET", "/api/audit-log/?format=csv", "", as(f.tokStaff)...)
		if after := count(); after != before {
			t.Errorf("reading the audit log wrote records: %v → %v", before, after)
		}
	})
}

func TestAuditLogFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		at := func(min int, zone *time.Location) string {
			return url.QueryEscape(f.t0.Add(time.Duration(min) * time.Minute).In(zone).Format(time.RFC3339))
		}
		plus2 := time.FixedZone("", 2*3600)
		cases := []struct {
			query string
			want  []int
		}{
			{"", []int{1, 2, 3, 4, 5, 6, 7}},
			{"actor=" + itoa(int(f.adminA)), []int{1, 5}},
			{"action=widget.update", []int{2, 5}},
			{"action=widget", nil},
			{"object_type=gadget", nil},
			{"object_id=2", []int{3, 5}},
			{"object_id=-4", []int{7}},
			{"customer=" + itoa(int(f.custA)), []int{1, 2, 6}},
			{"result=success", []int{1, 3, 4, 7}},
			{"result=denied", []int{2, 5}},
			{"result=failure", []int{6}},
			{"since=" + at(5, time.UTC), []int{5, 6, 7}},
			{"since=" + at(5, plus2), []int{5, 6, 7}},
			{"until=" + at(3, time.UTC), []int{1, 2}},
			{"since=" + at(2, time.UTC) + "&until=" + at(4, plus2), []int{2, 3}},
			{"since=" + url.QueryEscape(f.t0.Add(5*time.Minute+time.Millisecond).Format(time.RFC3339Nano)), []int{6, 7}},
			{"actor=" + itoa(int(f.adminA)) + "&result=denied&customer=" + itoa(int(f.custB)), []int{5}},
		}
		for _, c := range cases {
			// Only the fixture's records: object_type=widget unless the case filters on it.
			path := "/api/audit-log/?" + c.query
			if !strings.Contains(c.query, "object_type") {
				path += "&object_type=widget"
			}
			r := f.e.do(t, "GET", path, "", as(f.tokStaff)...)
			if r.status != 200 {
				t.Fatalf("?%s: %d %s", c.query, r.status, r.raw)
			}
			if got, want := auditResultIDs(t, r), auditNewestFirst(f.ids(c.want...)); !slices.Equal(got, want) {
				t.Errorf("?%s: %v, want %v", c.query, got, want)
			}
		}
		// The records come back whole.
		r, got := f.list(t, f.tokStaff, "object_id=-4")
		if len(got) != 1 {
			t.Fatalf("object_id=-4: %v", got)
		}
		rec := r.body["results"].([]any)[0].(map[string]any)
		if rec["actor"] != float64(f.staff) || rec["actor_username"] != "staff" || rec["customer"] != nil ||
			rec["ip"] != "+cmd" || rec["request_id"] != "req-7" || rec["object_repr"] != "@SUM(1)" ||
			rec["at"] != f.t0.Add(7*time.Minute).Format(time.RFC3339) || len(rec["hash"].(string)) != 64 || rec["prev_hash"] == "" {
			t.Errorf("record 7: %v", rec)
		}
	})
}

func TestAuditLogBadFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		cases := []struct{ query, field string }{
			{"actor=abc", "actor"},
			{"actor=0", "actor"},
			{"customer=-1", "customer"},
			{"customer=1.5", "customer"},
			{"result=maybe", "result"},
			{"since=yesterday", "since"},
			{"until=2026-13-01T00:00:00Z", "until"},
			{"since=2026-03-01", "since"},
			{"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until"},
			{"action=" + strings.Repeat("x", 201), "action"},
			{"object_id=%00", "object_id"},
			{"object_type=%ff", "object_type"},
			{"limit=0", "limit"},
			{"offset=-1", "offset"},
			{"format=xml", "format"},
			{"format=csv&since=soon", "since"},
			{"format=jsonl&result=ok", "result"},
		}
		for _, c := range cases {
			r := f.e.do(t, "GET", "/api/audit-log/?"+c.query, "", as(f.tokAdminA)...)
			wantError(t, r, 400, webnet.EInvalid)
			if fields, _ := r.body["fields"].(map[string]any); fields[c.field] == nil {
				t.Errorf("?%s: no field error for %s: %s", c.query, c.field, r.raw)
			}
		}
	})
}

func TestAuditLogPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		r, got := f.list(t, f.tokStaff, "limit=3")
		if !slices.Equal(got, f.ids(7, 6, 5)) || r.body["count"] != float64(7) || r.body["previous"] != nil {
			t.Fatalf("first page: %v %s", got, r.raw)
		}
		next, _ := r.body["next"].(string)
		u, err := url.Parse(next)
		if err != nil || u.Query().Get("offset") != "3" || u.Query().Get("limit") != "3" || u.Query().Get("object_type") != "widget" {
			t.Fatalf("next link %q", next)
		}
		r = f.e.do(t, "GET", u.RequestURI(), "", as(f.tokStaff)...)
		if got := auditResultIDs(t, r); !slices.Equal(got, f.ids(4, 3, 2)) || r.body["previous"] == nil || r.body["next"] == nil {
			t.Fatalf("second page: %v %s", got, r.raw)
		}
		r, got = f.list(t, f.tokStaff, "limit=3&offset=6")
		if !slices.Equal(got, f.ids(1)) || r.body["next"] != nil || r.body["previous"] == nil {
			t.Fatalf("last page: %v %s", got, r.raw)
		}
		if r, got = f.list(t, f.tokStaff, "offset=100"); len(got) != 0 || r.body["count"] != float64(7) {
			t.Fatalf("past the end: %v %s", got, r.raw)
		}
	})
}

func TestAuditLogExportCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		// The JSON list is the reference for every field.
		byID := map[int64]map[string]any{}
		r := f.e.do(t, "GET", "/api/audit-log/?object_type=widget", "", as(f.tokStaff)...)
		for _, x := range r.body["results"].([]any) {
			m := x.(map[string]any)
			byID[int64(m["id"].(float64))] = m
		}

		r = f.e.do(t, "GET", "/api/audit-log/?format=csv&object_type=widget&limit=1", "", as(f.tokAdminA)...)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
			r.header.Get("Content-Disposition") != `attachment; filename="audit-log.csv"` {
			t.Fatalf("csv: %d %v %q", r.status, r.header, r.raw)
		}
		rows, err := csv.NewReader(strings.NewReader(r.raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := []string{"id", "at", "actor", "actor_username", "customer", "action", "object_type", "object_id",
			"object_repr", "result", "details", "ip", "request_id", "prev_hash", "hash"}
		if !slices.Equal(rows[0], header) {
			t.Fatalf("header %v", rows[0])
		}
		// No pagination, oldest first, only what admin of A may see.
		var got []int64
		for _, row := range rows[1:] {
			id, _ := strconv.ParseInt(row[0], 10, 64)
			got = append(got, id)
			ref := byID[id]
			if row[1] != ref["at"] || row[3] != ref["actor_username"] || row[5] != ref["action"] || row[9] != ref["result"] ||
				row[12] != ref["request_id"] || row[13] != ref["prev_hash"] || row[14] != ref["hash"] {
				t.Errorf("row %v differs from %v", row, ref)
			}
			var details map[string]any
			if err := json.Unmarshal([]byte(row[10]), &details); err != nil {
				t.Errorf("row %d: details %q are not JSON: %v", id, row[10], err)
			}
		}
		if want := f.ids(1, 2, 5, 6); !slices.Equal(got, want) {
			t.Fatalf("csv ids %v, want %v", got, want)
		}
		first, system := rows[1], rows[4]
		var details struct{ After struct{ Name string } }
		json.Unmarshal([]byte(first[10]), &details)
		if first[2] != itoa(int(f.adminA)) || first[4] != itoa(int(f.custA)) || first[7] != "1" || first[8] != "alpha" ||
			first[11] != "192.0.2.1" || details.After.Name != "alpha" {
			t.Errorf("first row %v", first)
		}
		// The system's record has no actor id; its formula-like repr is defused.
		if system[2] != "" || system[3] != "system" || system[8] != `'=HYPERLINK("http://evil.example/")` {
			t.Errorf("system row %v", system)
		}

		// Staff sees record 7, whose user-supplied cells start with @, - and +.
		r = f.e.do(t, "GET", "/api/audit-log/?format=csv&object_id=-4", "", as(f.tokStaff)...)
		rows, err = csv.NewReader(strings.NewReader(r.raw)).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("staff csv: %v %q", err, r.raw)
		}
		if row := rows[1]; row[7] != "'-4" || row[8] != "'@SUM(1)" || row[11] != "'+cmd" {
			t.Errorf("injection guard: %v", row)
		}
		// Nothing matches: the header alone.
		r = f.e.do(t, "GET", "/api/audit-log/?format=csv&action=none", "", as(f.tokStaff)...)
		if r.status != 200 || strings.TrimSpace(r.raw) != strings.Join(header, ",") {
			t.Errorf("empty csv: %d %q", r.status, r.raw)
		}
	})
}

func TestAuditLogExportJSONL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		r := f.e.do(t, "GET", "/api/audit-log/?format=jsonl&object_type=widget", "", as(f.tokMemberA)...)
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" ||
			r.header.Get("Content-Disposition") != `attachment; filename="audit-log.jsonl"` {
			t.Fatalf("jsonl: %d %v %q", r.status, r.header, r.raw)
		}
		lines := strings.Split(strings.TrimSuffix(r.raw, "\n"), "\n")
		var got []int64
		for _, line := range lines {
			var a service.Activity
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			got = append(got, a.ID)
			if a.ActorID == nil || *a.ActorID != f.memberA || a.ActorUsername != "member-a" || len(a.Hash) != 64 {
				t.Errorf("record %+v", a)
			}
		}
		if want := f.ids(2, 4); !slices.Equal(got, want) {
			t.Fatalf("jsonl ids %v, want %v", got, want)
		}
		// Filters apply to exports too.
		r = f.e.do(t, "GET", "/api/audit-log/?format=jsonl&object_type=widget&result=denied", "", as(f.tokMemberA)...)
		if n := strings.Count(r.raw, "\n"); n != 1 || !strings.Contains(r.raw, `"result":"denied"`) {
			t.Errorf("filtered jsonl: %q", r.raw)
		}
		r = f.e.do(t, "GET", "/api/audit-log/?format=jsonl&action=none", "", as(f.tokMemberA)...)
		if r.status != 200 || r.raw != "" {
			t.Errorf("empty jsonl: %d %q", r.status, r.raw)
		}
	})
}

// TestAuditLogExportStreamsEverything exports more rows than a page and than one flush.
func TestAuditLogExportStreamsEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		const n = 1234
		f.e.tx(t, func(ctx context.Context, tx *store.Tx) error {
			for i := range n {
				a := &store.Activity{At: f.t0.Add(time.Hour + time.Duration(i)*time.Second), ActorUsername: "system",
					CustomerID: auditPtr(f.custB), Action: "bulk.row", ObjectType: "bulk", ObjectID: itoa(i), Result: "success"}
				if err := tx.AppendActivity(ctx, a); err != nil {
					return err
				}
			}
			return nil
		})
		for _, format := range []string{"csv", "jsonl"} {
			r := f.e.do(t, "GET", "/api/audit-log/?object_type=bulk&format="+format, "", as(f.tokAdminB)...)
			if r.status != 200 {
				t.Fatalf("%s: %d", format, r.status)
			}
			sc := bufio.NewScanner(strings.NewReader(r.raw))
			lines, last := 0, ""
			for sc.Scan() {
				lines++
				last = sc.Text()
			}
			want := n
			if format == "csv" {
				want++ // the header
			}
			if lines != want || !strings.Contains(last, itoa(n-1)) {
				t.Errorf("%s: %d lines, last %q; want %d", format, lines, last, want)
			}
		}
		// Admin of A sees none of them.
		r := f.e.do(t, "GET", "/api/audit-log/?object_type=bulk&format=jsonl", "", as(f.tokAdminA)...)
		if r.status != 200 || r.raw != "" {
			t.Errorf("admin of A: %d %d bytes", r.status, len(r.raw))
		}
	})
}

// TestVerifyAudit checks who may verify the chain.
func TestVerifyAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		ctx := context.Background()
		user := func(id int64, staff bool) context.Context {
			return service.WithSubject(ctx, &service.Subject{User: &webnet.User{ID: id, Username: "u", IsActive: true, IsStaff: staff}})
		}
		if _, _, err := f.e.core.VerifyAudit(ctx); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Errorf("no subject: %v", err)
		}
		if _, _, err := f.e.core.VerifyAudit(user(f.adminA, false)); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Errorf("admin of A: %v", err)
		}
		for name, c := range map[string]context.Context{"system": service.WithSubject(ctx, service.System()), "staff": user(f.staff, true)} {
			bad, checked, err := f.e.core.VerifyAudit(c)
			if err != nil || bad != 0 || checked < 7 {
				t.Errorf("%s: bad %d checked %d err %v", name, bad, checked, err)
			}
		}
	})
}

// TestAuditLogOfRealActions reads the records the device routes write: a success by the
// admin and a denial of an operator, with the request's id and address.
func TestAuditLogOfRealActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		custA, custB := e.customer(t, "real-a"), e.customer(t, "real-b")
		_, admin := e.user(t, "real-admin", false, false, map[int64]webnet.Role{custA: webnet.RoleAdmin})
		opID, op := e.user(t, "real-operator", false, false, map[int64]webnet.Role{custA: webnet.RoleOperator})
		_, adminB := e.user(t, "real-admin-b", false, false, map[int64]webnet.Role{custB: webnet.RoleAdmin})
		body := func(name string) string {
			return `{"customer": ` + itoa(int(custA)) + `, "name": "` + name + `", "address": "192.0.2.10", "platform": "cisco_iosxe"}`
		}
		if r := e.do(t, "POST", "/api/devices/", body("core-1"), as(admin)...); r.status != 201 && r.status != 200 {
			t.Fatalf("admin creates a device: %d %s", r.status, r.raw)
		}
		wantError(t, e.do(t, "POST", "/api/devices/", body("core-2"), as(op)...), 403, webnet.EForbidden)

		list := func(tok string) []map[string]any {
			t.Helper()
			r := e.do(t, "GET", "/api/audit-log/?action=device.create", "", as(tok)...)
			if r.status != 200 {
				t.Fatalf("audit log: %d %s", r.status, r.raw)
			}
			var out []map[string]any
			for _, x := range r.body["results"].([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}
		recs := list(admin)
		if len(recs) != 2 {
			t.Fatalf("admin of A sees %d device.create records, want 2: %v", len(recs), recs)
		}
		denied, created := recs[0], recs[1] // newest first
		if denied["result"] != "denied" || denied["actor"] != float64(opID) || denied["object_repr"] != "core-2" ||
			denied["customer"] != float64(custA) {
			t.Errorf("denial record %v", denied)
		}
		if created["result"] != "success" || created["actor_username"] != "real-admin" || created["object_repr"] != "core-1" ||
			created["request_id"] == "" || created["ip"] == "" || created["object_id"] == "" {
			t.Errorf("creation record %v", created)
		}
		if recs := list(op); len(recs) != 1 || recs[0]["result"] != "denied" {
			t.Errorf("operator sees %v, want only their denial", recs)
		}
		if recs := list(adminB); len(recs) != 0 {
			t.Errorf("admin of B sees %v", recs)
		}
	})
}
