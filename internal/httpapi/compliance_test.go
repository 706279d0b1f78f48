package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestComplianceRulesAreTenantAdministration: acme's admins and staff manage acme's rules,
// audited; members see none of them (403 by id, nothing listed), outsiders 404.
func TestComplianceRulesAreTenantAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.tokens["admin"]
		rule := w.post(t, admin, "/api/compliance-rules/", fmt.Sprintf(
			`{"customer":%d,"name":"no-telnet","description":"SSH only","platform":"cisco_iosxe","kind":"regex_absent","pattern":"^ transport input .*telnet","severity":"high"}`, w.acme))
		id := idOf(rule)
		if rule["platform"] != "cisco_iosxe" || rule["severity"] != "high" || rule["customer"] != float64(w.acme) {
			t.Fatalf("created: %v", rule)
		}
		path := fmt.Sprintf("/api/compliance-rules/%d/", id)
		for user, want := range map[string]int{"admin": 200, "staff": 200, "viewer": 403, "operator": 403, "globexadm": 404, "outsider": 404} {
			if r := w.do(t, "GET", path, "", as(w.tokens[user])...); r.status != want {
				t.Errorf("GET as %s: %d %s", user, r.status, r.raw)
			}
			r := w.do(t, "GET", "/api/compliance-rules/", "", as(w.tokens[user])...)
			if n := r.body["count"]; (want == 200) != (n == 1.0) {
				t.Errorf("list as %s: %s", user, r.raw)
			}
		}
		if r := w.do(t, "PATCH", path, `{"pattern":"^ transport input telnet","platform":""}`, as(admin)...); r.status != 200 ||
			r.body["pattern"] != "^ transport input telnet" || r.body["platform"] != "" || r.body["name"] != "no-telnet" {
			t.Fatalf("patch: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "DELETE", path, "", as(w.tokens["viewer"])...); r.status != 403 {
			t.Fatalf("delete as viewer: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "DELETE", path, "", as(admin)...); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		r := w.do(t, "GET", fmt.Sprintf("/api/audit-log/?object_type=compliance_rule&object_id=%d", id), "", as(admin)...)
		var actions []string
		for _, a := range r.body["results"].([]any) {
			actions = append(actions, a.(map[string]any)["action"].(string)+"/"+a.(map[string]any)["result"].(string))
		}
		if fmt.Sprint(actions) != "[compliance_rule.delete/success compliance_rule.delete/denied compliance_rule.update/success compliance_rule.create/success]" {
			t.Fatalf("audit: %v", actions)
		}
	})
}

// TestComplianceRunResultsAndSummary: running needs check_device_readiness (the readiness
// sentence otherwise); results and summaries cover exactly the devices the caller may view.
func TestComplianceRunResultsAndSummary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		r := w.do(t, "POST", "/api/compliance/run/", fmt.Sprintf(`{"device_group":%d}`, w.core), as(w.tokens["viewer"])...)
		if r.status != 403 || r.body["error"] != "You do not have permission to check device readiness" {
			t.Fatalf("run as viewer: %d %s", r.status, r.raw)
		}
		r = w.do(t, "POST", "/api/compliance/run/", fmt.Sprintf(`{"device_group":%d,"dry_run":true}`, w.core), as(w.tokens["operator"])...)
		job, _ := r.body["job"].(map[string]any)
		if r.status != 202 || job["kind"] != "compliance" || job["dry_run"] != true || len(job["targets"].([]any)) != 2 {
			t.Fatalf("run as operator: %d %s", r.status, r.raw)
		}

		rule := func(name string) int64 {
			return idOf(w.post(t, w.tokens["admin"], "/api/compliance-rules/", fmt.Sprintf(
				`{"customer":%d,"name":%q,"kind":"must_contain","pattern":"x","severity":"low"}`, w.acme, name)))
		}
		ntp, aaa := rule("ntp"), rule("aaa")
		sys := service.WithSubject(context.Background(), service.System())
		for dev, outcomes := range map[int64][]service.ComplianceOutcome{
			w.r1: {{RuleID: ntp, Passed: false, Detail: "Not found in the configuration."}, {RuleID: aaa, Passed: true, Detail: "Found at line 3."}},
			w.r2: {{RuleID: ntp, Passed: true, Detail: "Found at line 9."}, {RuleID: aaa, Passed: true, Detail: "Found at line 4."}},
			w.e1: {{RuleID: ntp, Passed: true, Detail: "Found at line 2."}},
		} {
			if err := w.env.core.RecordComplianceCheck(sys, dev, nil, outcomes); err != nil {
				t.Fatal(err)
			}
		}
		type counts struct{ devices, compliant, nonCompliant, unchecked, ntpFailed, ntpPassed float64 }
		for user, want := range map[string]counts{
			"admin":   {4, 2, 1, 1, 1, 2}, // u1, ungrouped, is admin-only and unchecked
			"viewer":  {3, 2, 1, 0, 1, 2},
			"grouped": {2, 1, 1, 0, 1, 1}, // a role on core: r1 and r2
		} {
			r := w.do(t, "GET", fmt.Sprintf("/api/compliance/summary/?customer=%d", w.acme), "", as(w.tokens[user])...)
			if r.status != 200 || r.body["count"] != 1.0 {
				t.Fatalf("summary as %s: %d %s", user, r.status, r.raw)
			}
			s := r.body["results"].([]any)[0].(map[string]any)
			got := counts{s["devices"].(float64), s["compliant"].(float64), s["non_compliant"].(float64), s["unchecked"].(float64), 0, 0}
			for _, x := range s["rules"].([]any) {
				if rs := x.(map[string]any); rs["name"] == "ntp" {
					got.ntpFailed, got.ntpPassed = rs["failed"].(float64), rs["passed"].(float64)
				}
			}
			if got != want || s["last_checked_at"] == nil {
				t.Errorf("summary as %s: %+v, want %+v (%s)", user, got, want, r.raw)
			}
		}
		for _, c := range []struct {
			user, query string
			want        int
		}{
			{"admin", "", 5}, {"grouped", "", 4}, {"member", "", 0}, {"outsider", "", 0},
			{"admin", "?passed=false", 1}, {"admin", fmt.Sprintf("?device=%d", w.r2), 2}, {"admin", fmt.Sprintf("?rule=%d", aaa), 2},
			{"grouped", fmt.Sprintf("?device=%d", w.e1), 0},
		} {
			r := w.do(t, "GET", "/api/compliance/results/"+c.query, "", as(w.tokens[c.user])...)
			if r.status != 200 || r.body["count"] != float64(c.want) {
				t.Errorf("results%s as %s: %d %s", c.query, c.user, r.status, r.raw)
			}
		}
		if r := w.do(t, "GET", "/api/compliance/results/?passed=maybe", "", as(w.tokens["admin"])...); r.status != 400 {
			t.Errorf("passed=maybe: %d %s", r.status, r.raw)
		}
		// A member who sees nothing has no summary.
		if r := w.do(t, "GET", "/api/compliance/summary/", "", as(w.tokens["member"])...); r.status != 200 || r.body["count"] != 0.0 {
			t.Errorf("summary as member: %d %s", r.status, r.raw)
		}
	})
}
