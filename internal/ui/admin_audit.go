package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// auditPageSize is how many records the audit log page shows.
const auditPageSize = 50

// auditData is the audit log page's data.
type auditData struct {
	S       *adminStanding
	Users   []webnet.User
	Filter  url.Values // the form's values, as typed
	Records []service.Activity
	Pager   adminPager
	Form    *adminForm
	// CSV and JSONL are the export links of the filtered log (the API's export).
	CSV, JSONL string
}

// auditTimeLayouts are the times the date filters take: the browser's datetime-local, or
// RFC 3339 as the API does.
var auditTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339Nano, "2006-01-02"}

// auditTime reads a date filter as UTC and writes it as the API takes it.
func auditTime(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	for _, l := range auditTimeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC().Format(time.RFC3339), true
		}
	}
	return "", false
}

// audit is GET /audit: the audit records the caller may see (ListActivity, as GET
// /api/audit-log/), filtered, newest first, a page at a time, with export links.
func (u *UI) audit(w http.ResponseWriter, r *http.Request) {
	s, users, err := u.adminStandingAndUsers(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	in := r.URL.Query()
	d := auditData{S: s, Users: users, Filter: in}
	api := url.Values{}
	for _, k := range []string{"actor", "action", "object_type", "object_id", "customer", "result"} {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			api.Set(k, v)
		}
	}
	bad := map[string]string{}
	for _, k := range []string{"since", "until"} {
		v, ok := auditTime(strings.TrimSpace(in.Get(k)))
		if !ok {
			bad[k] = "Must be a date and time, e.g. 2026-01-31T23:59 (UTC)."
		} else if v != "" {
			api.Set(k, v)
		}
	}
	q := service.ActivityQuery{Actor: api.Get("actor"), Action: api.Get("action"), ObjectType: api.Get("object_type"),
		ObjectID: api.Get("object_id"), Customer: api.Get("customer"), Result: api.Get("result"),
		Since: api.Get("since"), Until: api.Get("until")}
	p := adminPage(r, auditPageSize)
	status := http.StatusOK
	var total int
	if len(bad) > 0 {
		err = webnet.Invalid("Invalid audit log filter.", bad)
	} else {
		d.Records, total, err = u.core.ListActivity(r.Context(), q, p)
	}
	if err != nil {
		f, st := adminFormError("audit", r, err)
		if f == nil {
			u.fail(w, r, err)
			return
		}
		f.Values, d.Form, status = in, f, st
	}
	d.Pager = newAdminPager(r, p, total)
	csv, jsonl := url.Values{}, url.Values{}
	for k, v := range api {
		csv[k], jsonl[k] = v, v
	}
	csv.Set("format", "csv")
	jsonl.Set("format", "jsonl")
	d.CSV, d.JSONL = "/api/audit-log/?"+csv.Encode(), "/api/audit-log/?"+jsonl.Encode()
	u.renderNav(w, r, status, "audit", "Audit log · webnet", "audit", d)
}
