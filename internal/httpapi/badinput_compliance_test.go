package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// addComplianceCases adds the bad-input cases of the compliance endpoints. It creates two
// acme rules and an empty acme device group first, and moves w.lastAudit past their records.
func addComplianceCases(t *testing.T, add func(string, ...badCase), w *isoWorld) {
	const rules, run, missing = "/api/compliance-rules/", "/api/compliance/run/", 999999
	A, G := w.acme, w.globex
	admin := w.tokens["admin"]
	rule := idOf(w.post(t, admin, rules, fmt.Sprintf(`{"customer":%d,"name":"ntp","kind":"must_contain","pattern":"ntp server","severity":"medium"}`, A)))
	w.post(t, admin, rules, fmt.Sprintf(`{"customer":%d,"name":"no-telnet","kind":"regex_absent","pattern":"transport input .*telnet","severity":"high"}`, A))
	empty := idOf(w.post(t, w.root, "/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":"empty"}`, A)))
	w.lastAudit = w.maxAuditID(t)

	body := func(fields string) string {
		return fmt.Sprintf(`{"customer":%d,"name":"new","kind":"regex_match","pattern":"^hostname","severity":"low"%s}`, A, fields)
	}
	bad := func(name, b, field string) badCase {
		return badCase{name: name, path: rules, body: b, status: 400, code: "invalid", field: field}
	}
	add("POST "+rules,
		bad("unknown field", body(`,"colour":"red"`), "colour"),
		bad("missing customer", `{"name":"new","kind":"regex_match","pattern":"x","severity":"low"}`, "customer"),
		bad("missing name", fmt.Sprintf(`{"customer":%d,"kind":"regex_match","pattern":"x","severity":"low"}`, A), "name"),
		bad("missing kind", fmt.Sprintf(`{"customer":%d,"name":"new","pattern":"x","severity":"low"}`, A), "kind"),
		bad("missing pattern", fmt.Sprintf(`{"customer":%d,"name":"new","kind":"regex_match","severity":"low"}`, A), "pattern"),
		bad("missing severity", fmt.Sprintf(`{"customer":%d,"name":"new","kind":"regex_match","pattern":"x"}`, A), "severity"),
		bad("unknown kind", strings.Replace(body(""), "regex_match", "regex_contains", 1), "kind"),
		bad("unknown severity", strings.Replace(body(""), `"low"`, `"urgent"`, 1), "severity"),
		bad("unknown platform", body(`,"platform":"cisco_ios"`), "platform"),
		bad("regex that does not compile", strings.Replace(body(""), "^hostname", "(hostname", 1), "pattern"),
		bad("Perl lookahead", strings.Replace(body(""), "^hostname", `(?=x)`, 1), "pattern"),
		bad("pattern too long", strings.Replace(body(""), "^hostname", strings.Repeat("p", 1001), 1), "pattern"),
		bad("pattern with a control character", strings.Replace(body(""), "^hostname", `a\u0007b`, 1), "pattern"),
		bad("blank pattern", strings.Replace(body(""), "^hostname", "   ", 1), "pattern"),
		bad("empty name", strings.Replace(body(""), `"new"`, `""`, 1), "name"),
		bad("kind a number", strings.Replace(body(""), `"regex_match"`, "3", 1), "kind"),
		bad("customer a string", strings.Replace(body(""), fmt.Sprint(A), `"acme"`, 1), "customer"),
		badCase{name: "name taken", path: rules, body: strings.Replace(body(""), `"new"`, `"ntp"`, 1), status: 409, code: "conflict", field: "name"},
		badCase{name: "customer globex", path: rules, body: strings.Replace(body(""), fmt.Sprint(A), fmt.Sprint(G), 1), status: 404, code: "not_found", field: "customer"},
		badCase{name: "no such customer", path: rules, body: strings.Replace(body(""), fmt.Sprint(A), fmt.Sprint(missing), 1), status: 404, code: "not_found", field: "customer"},
		badCase{name: "malformed JSON", path: rules, body: `{"customer":`, status: 400, code: "invalid"},
		badCase{name: "not JSON", path: rules, body: `name=x`, ctype: "text/plain", status: 415, code: "unsupported_type"},
		// 404 → 403 → 400: a member who may not manage rules learns nothing about the body.
		badCase{name: "viewer", who: "viewer", path: rules, body: body(""), status: 403, code: "forbidden", denied: 1},
		badCase{name: "operator, bad regex", who: "operator", path: rules, body: strings.Replace(body(""), "^hostname", "(", 1), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, unknown field", who: "viewer", path: rules, body: body(`,"colour":"red"`), status: 403, code: "forbidden", denied: 1},
		badCase{name: "outsider, unknown field", who: "outsider", path: rules, body: body(`,"colour":"red"`), status: 404, code: "not_found", field: "customer"},
	)
	one := fmt.Sprintf("%s%d/", rules, rule)
	patch := func(name, b string, status int, code, field string) badCase {
		return badCase{name: name, method: "PATCH", path: one, body: b, status: status, code: code, field: field}
	}
	add("PATCH "+rules+"{id}/",
		patch("unknown field", `{"colour":"red"}`, 400, "invalid", "colour"),
		patch("regex that does not compile", `{"kind":"regex_match","pattern":"(ntp"}`, 400, "invalid", "pattern"),
		patch("empty name", `{"name":""}`, 400, "invalid", "name"),
		patch("valid name, bad severity: nothing half-written", `{"name":"renamed","severity":"none"}`, 400, "invalid", "severity"),
		patch("to another customer", fmt.Sprintf(`{"customer":%d}`, G), 400, "invalid", "customer"),
		patch("name taken", `{"name":"no-telnet"}`, 409, "conflict", "name"),
		badCase{name: "globex's rule", method: "PATCH", path: fmt.Sprintf("%s%d/", rules, w.objs[kComplianceRule][0]), body: `{"name":"x"}`, status: 404, code: "not_found"},
		badCase{name: "no such rule", method: "PATCH", path: fmt.Sprintf("%s%d/", rules, missing), body: `{"name":"x"}`, status: 404, code: "not_found"},
		badCase{name: "viewer", who: "viewer", method: "PATCH", path: one, body: `{"name":"x"}`, status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, unknown field", who: "viewer", method: "PATCH", path: one, body: `{"colour":"red"}`, status: 403, code: "forbidden", denied: 1},
		badCase{name: "outsider, unknown field", who: "outsider", method: "PATCH", path: one, body: `{"colour":"red"}`, status: 404, code: "not_found"},
	)
	grp := func(id int64, fields string) string { return fmt.Sprintf(`{"device_group":%d%s}`, id, fields) }
	add("POST "+run,
		badCase{name: "nothing to check", path: run, body: `{}`, status: 400, code: "invalid", field: "device_group"},
		badCase{name: "group and devices", path: run, body: grp(w.core, fmt.Sprintf(`,"devices":[%d]`, w.r1)), status: 400, code: "invalid", field: "devices"},
		badCase{name: "device_group a name", path: run, body: `{"device_group":"core"}`, status: 400, code: "invalid", field: "device_group"},
		badCase{name: "unknown field", path: run, body: grp(w.core, `,"colour":"red"`), status: 400, code: "invalid", field: "colour"},
		badCase{name: "dry_run a string", path: run, body: grp(w.core, `,"dry_run":"yes"`), status: 400, code: "invalid", field: "dry_run"},
		badCase{name: "empty device group", path: run, body: grp(empty, ""), status: 400, code: "invalid", field: "device_group"},
		badCase{name: "duplicate devices", path: run, body: fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.r1), status: 400, code: "invalid", field: "devices"},
		badCase{name: "globex's device group", path: run, body: grp(w.gx, ""), status: 404, code: "not_found", field: "device_group", denied: 1},
		badCase{name: "no such device group", path: run, body: grp(missing, ""), status: 404, code: "not_found", field: "device_group", denied: 1},
		badCase{name: "globex's device among acme's", path: run, body: fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.g1), status: 404, code: "not_found", devices: []int64{w.g1}},
		badCase{name: "viewer", who: "viewer", path: run, body: grp(w.core, ""), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, unknown field", who: "viewer", path: run, body: grp(w.core, `,"colour":"red"`), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, devices", who: "viewer", path: run, body: fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.r2), status: 403, code: "forbidden", denied: 2, devices: []int64{w.r1, w.r2}},
		badCase{name: "outsider, unknown field", who: "outsider", path: run, body: grp(w.core, `,"colour":"red"`), status: 404, code: "not_found", field: "device_group", denied: 1},
	)
}
