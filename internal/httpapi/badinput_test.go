package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// badCase is a request to a device-side write endpoint that must be refused, writing
// nothing but the denied audit records a refused mutation leaves.
type badCase struct {
	name         string
	who          string // the caller; "" is acme's admin
	method, path string
	body         string
	ctype        string // Content-Type when not JSON
	status       int
	code         string
	field        string  // the fields entry the answer must have ("" when none is expected)
	denied       int     // denied audit records the refusal writes
	devices      []int64 // the "devices" member of a bulk refusal, when set
	knownBug     string  // skips the case, saying why: a bug outside this suite's files
}

// TestDeviceSideBadInput sends bad bodies, wrong references and refused callers to every
// device-side write endpoint: each answer has its documented status, code and field, and
// nothing is written (every table compared) except the denied records of refused
// mutations, exactly as many as the case says.
func TestDeviceSideBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newIsoWorld(t, newEnv(t, db))
		acmeCred := idOf(w.post(t, w.root, "/api/credentials/", fmt.Sprintf(`{"customer":%d,"name":"acme-cred","username":"netops"}`, w.acme)))
		w.post(t, w.root, "/api/group-device-group-roles/", fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.noRole))
		acmeSchedule := idOf(w.post(t, w.tokens["admin"], "/api/schedules/", fmt.Sprintf(
			`{"customer":%d,"name":"core sync","kind":"sync","cron":"0 2 * * *","device_group":%d}`, w.acme, w.core)))
		w.post(t, w.tokens["admin"], "/api/schedules/", fmt.Sprintf(
			`{"customer":%d,"name":"edge sync","kind":"sync","cron":"0 3 * * *","device_group":%d}`, w.acme, w.edge))
		w.lastAudit = w.maxAuditID(t)

		A, G := w.acme, w.globex
		r1, r2, g1, u1 := w.r1, w.r2, w.g1, w.u1
		dev := func(fields string) string {
			return fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"new-dev","address":"192.0.2.50","platform":"cisco_iosxe"%s}`, A, w.core, fields)
		}
		devOf := func(id int64) string { return fmt.Sprintf("/api/devices/%d/", id) }
		long := strings.Repeat("n", 151)
		const missing = 999999
		var cases []badCase
		add := func(group string, cs ...badCase) {
			for _, c := range cs {
				c.name = group + ": " + c.name
				cases = append(cases, c)
			}
		}

		add("POST /api/devices/",
			badCase{name: "unknown field", body: dev(`,"colour":"red"`), status: 400, code: "invalid", field: "colour"},
			badCase{name: "name not a string", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":5,"address":"192.0.2.50","platform":"cisco_iosxe"}`, A, w.core), status: 400, code: "invalid", field: "name"},
			badCase{name: "port a string", body: dev(`,"port":"22"`), status: 400, code: "invalid", field: "port"},
			badCase{name: "port a fraction", body: dev(`,"port":22.5`), status: 400, code: "invalid", field: "port"},
			badCase{name: "enabled a string", body: dev(`,"enabled":"yes"`), status: 400, code: "invalid", field: "enabled"},
			badCase{name: "customer a string", body: `{"customer":"acme","name":"new-dev","address":"192.0.2.50","platform":"cisco_iosxe"}`, status: 400, code: "invalid", field: "customer"},
			badCase{name: "device_group a name", body: fmt.Sprintf(`{"customer":%d,"device_group":"core","name":"new-dev","address":"192.0.2.50","platform":"cisco_iosxe"}`, A), status: 400, code: "invalid", field: "device_group"},
			badCase{name: "missing customer", body: fmt.Sprintf(`{"device_group":%d,"name":"new-dev","address":"192.0.2.50","platform":"cisco_iosxe"}`, w.core), status: 400, code: "invalid", field: "customer"},
			badCase{name: "missing name", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,"address":"192.0.2.50","platform":"cisco_iosxe"}`, A, w.core), status: 400, code: "invalid", field: "name"},
			badCase{name: "missing address", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"new-dev","platform":"cisco_iosxe"}`, A, w.core), status: 400, code: "invalid", field: "address"},
			badCase{name: "missing platform", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"new-dev","address":"192.0.2.50"}`, A, w.core), status: 400, code: "invalid", field: "platform"},
			badCase{name: "address with a space", body: devWith(A, w.core, `"address":"not an address"`), status: 400, code: "invalid", field: "address"},
			badCase{name: "address a prefix", body: devWith(A, w.core, `"address":"192.0.2.0/24"`), status: 400, code: "invalid", field: "address"},
			badCase{name: "address an IPv4 out of range", body: devWith(A, w.core, `"address":"192.0.2.256"`), status: 400, code: "invalid", field: "address"},
			badCase{name: "address a URL", body: devWith(A, w.core, `"address":"ssh://192.0.2.1"`), status: 400, code: "invalid", field: "address"},
			badCase{name: "address with a leading hyphen", body: devWith(A, w.core, `"address":"-r1.example.net"`), status: 400, code: "invalid", field: "address"},
			badCase{name: "port 0", body: dev(`,"port":0`), status: 400, code: "invalid", field: "port"},
			badCase{name: "port 70000", body: dev(`,"port":70000`), status: 400, code: "invalid", field: "port"},
			badCase{name: "port negative", body: dev(`,"port":-22`), status: 400, code: "invalid", field: "port"},
			badCase{name: "unknown platform", body: devWith(A, w.core, `"platform":"cisco_ios"`), status: 400, code: "invalid", field: "platform"},
			badCase{name: "empty platform", body: devWith(A, w.core, `"platform":""`), status: 400, code: "invalid", field: "platform"},
			badCase{name: "empty name", body: devWith(A, w.core, `"name":""`), status: 400, code: "invalid", field: "name"},
			badCase{name: "name padded", body: devWith(A, w.core, `"name":" new-dev"`), status: 400, code: "invalid", field: "name"},
			badCase{name: "name too long", body: devWith(A, w.core, `"name":"`+long+`"`), status: 400, code: "invalid", field: "name"},
			badCase{name: "name with a control character", body: devWith(A, w.core, `"name":"new\u0007dev"`), status: 400, code: "invalid", field: "name"},
			badCase{name: "name with NUL", body: devWith(A, w.core, `"name":"new\u0000dev"`), status: 400, code: "invalid", field: "name"},
			badCase{name: "globex's device group", body: devWith(A, w.gx, ""), status: 404, code: "not_found", field: "device_group", denied: 1},
			badCase{name: "globex's credential", body: dev(fmt.Sprintf(`,"credential":%d`, w.gxCred)), status: 404, code: "not_found", field: "credential", denied: 1},
			badCase{name: "customer globex", body: devWith(G, w.gx, ""), status: 404, code: "not_found", field: "customer"},
			badCase{name: "no such customer", body: devWith(missing, w.core, ""), status: 404, code: "not_found", field: "customer"},
			badCase{name: "no such device group", body: devWith(A, missing, ""), status: 404, code: "not_found", field: "device_group", denied: 1},
			badCase{name: "no such credential", body: dev(fmt.Sprintf(`,"credential":%d`, missing)), status: 404, code: "not_found", field: "credential", denied: 1},
			badCase{name: "name taken", body: devWith(A, w.edge, `"name":"acme-r1"`), status: 409, code: "conflict", field: "name"},
			badCase{name: "malformed JSON", body: `{"customer":`, status: 400, code: "invalid"},
			badCase{name: "an array", body: `[]`, status: 400, code: "invalid"},
			badCase{name: "two values", body: dev("") + `{}`, status: 400, code: "invalid"},
			badCase{name: "empty body", body: ``, status: 400, code: "invalid"},
			badCase{name: "not JSON", body: `name=x`, ctype: "application/x-www-form-urlencoded", status: 415, code: "unsupported_type"},
			badCase{name: "too large", body: dev(`,"colour":"` + strings.Repeat("x", 5000) + `"`), status: 413, code: "body_too_large"},
			// 404 → 403 → 400: a caller without add_device learns nothing about the body.
			badCase{name: "viewer, invalid body", who: "viewer", body: devWith(A, w.core, `"name":""`), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", body: dev(`,"colour":"red"`), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, wrong type", who: "viewer", body: dev(`,"port":"22"`), status: 403, code: "forbidden", denied: 1},
			badCase{name: "outsider, invalid body", who: "outsider", body: devWith(A, w.core, `"port":0`), status: 404, code: "not_found", field: "customer"},
			badCase{name: "outsider, unknown field", who: "outsider", body: dev(`,"colour":"red"`), status: 404, code: "not_found", field: "customer"},
			badCase{name: "globex's admin, acme's credential", who: "globexadm", body: devWith(G, w.gx, fmt.Sprintf(`"credential":%d`, acmeCred)), status: 404, code: "not_found", field: "credential", denied: 1},
			badCase{name: "globex's admin, acme's device group", who: "globexadm", body: devWith(G, w.core, ""), status: 404, code: "not_found", field: "device_group", denied: 1},
			badCase{name: "member without a group", who: "member", body: devWith(A, 0, ""), status: 403, code: "forbidden", denied: 1},
		)

		add("PATCH /api/devices/{id}/",
			badCase{name: "unknown field", method: "PATCH", path: devOf(r1), body: `{"colour":"red"}`, status: 400, code: "invalid", field: "colour"},
			badCase{name: "port a string", method: "PATCH", path: devOf(r1), body: `{"port":"x"}`, status: 400, code: "invalid", field: "port"},
			badCase{name: "device_group a name", method: "PATCH", path: devOf(r1), body: `{"device_group":"core"}`, status: 400, code: "invalid", field: "device_group"},
			badCase{name: "device_group a fraction", method: "PATCH", path: devOf(r1), body: `{"device_group":1.5}`, status: 400, code: "invalid", field: "device_group"},
			badCase{name: "credential a boolean", method: "PATCH", path: devOf(r1), body: `{"credential":true}`, status: 400, code: "invalid", field: "credential"},
			badCase{name: "empty name", method: "PATCH", path: devOf(r1), body: `{"name":""}`, status: 400, code: "invalid", field: "name"},
			badCase{name: "name null", method: "PATCH", path: devOf(r1), body: `{"name":null,"port":0}`, status: 400, code: "invalid", field: "port"},
			badCase{name: "port 0", method: "PATCH", path: devOf(r1), body: `{"port":0}`, status: 400, code: "invalid", field: "port"},
			badCase{name: "port 70000", method: "PATCH", path: devOf(r1), body: `{"port":70000}`, status: 400, code: "invalid", field: "port"},
			badCase{name: "unknown platform", method: "PATCH", path: devOf(r1), body: `{"platform":"ios"}`, status: 400, code: "invalid", field: "platform"},
			badCase{name: "bad address", method: "PATCH", path: devOf(r1), body: `{"address":"bad address"}`, status: 400, code: "invalid", field: "address"},
			badCase{name: "valid name, invalid port: nothing half-written", method: "PATCH", path: devOf(r1), body: `{"name":"renamed","port":70000}`, status: 400, code: "invalid", field: "port"},
			badCase{name: "to another customer", method: "PATCH", path: devOf(r1), body: fmt.Sprintf(`{"customer":%d}`, G), status: 400, code: "invalid", field: "customer"},
			badCase{name: "globex's device group", method: "PATCH", path: devOf(r1), body: fmt.Sprintf(`{"device_group":%d}`, w.gx), status: 404, code: "not_found", field: "device_group", denied: 1},
			badCase{name: "globex's credential", method: "PATCH", path: devOf(r1), body: fmt.Sprintf(`{"credential":%d}`, w.gxCred), status: 404, code: "not_found", field: "credential", denied: 1},
			badCase{name: "no such device group", method: "PATCH", path: devOf(r1), body: fmt.Sprintf(`{"device_group":%d}`, missing), status: 404, code: "not_found", field: "device_group", denied: 1},
			badCase{name: "name taken", method: "PATCH", path: devOf(r1), body: `{"name":"acme-r2"}`, status: 409, code: "conflict", field: "name"},
			badCase{name: "empty body", method: "PATCH", path: devOf(r1), body: ``, status: 400, code: "invalid"},
			badCase{name: "globex's device", method: "PATCH", path: devOf(g1), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
			badCase{name: "no such device", method: "PATCH", path: devOf(missing), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
			badCase{name: "viewer, invalid body", who: "viewer", method: "PATCH", path: devOf(r1), body: `{"port":0}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", method: "PATCH", path: devOf(r1), body: `{"colour":"red"}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, ungrouped device", who: "viewer", method: "PATCH", path: devOf(u1), body: `{"colour":"red"}`, status: 404, code: "not_found"},
			badCase{name: "outsider, unknown field", who: "outsider", method: "PATCH", path: devOf(r1), body: `{"colour":"red"}`, status: 404, code: "not_found"},
		)

		add("POST /api/devices/bulk-delete/",
			badCase{name: "empty list", path: "/api/devices/bulk-delete/", body: `{"devices":[],"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "no list", path: "/api/devices/bulk-delete/", body: `{"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "null list", path: "/api/devices/bulk-delete/", body: `{"devices":null,"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "duplicate ids", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d,%d],"confirm":true}`, r1, r1), status: 400, code: "invalid", field: "devices"},
			badCase{name: "id 0", path: "/api/devices/bulk-delete/", body: `{"devices":[0],"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "negative id", path: "/api/devices/bulk-delete/", body: `{"devices":[-1],"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "names, not ids", path: "/api/devices/bulk-delete/", body: `{"devices":["acme-r1"],"confirm":true}`, status: 400, code: "invalid", field: "devices"},
			badCase{name: "not a list", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":%d,"confirm":true}`, r1), status: 400, code: "invalid", field: "devices"},
			badCase{name: "confirm a string", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d],"confirm":"yes"}`, r1), status: 400, code: "invalid", field: "confirm"},
			badCase{name: "unknown field", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d],"confirm":true,"force":true}`, r1), status: 400, code: "invalid", field: "force"},
			badCase{name: "not confirmed", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d,%d]}`, r1, r2), status: 400, code: "invalid", field: "confirm"},
			badCase{name: "globex's device among acme's", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d,%d],"confirm":true}`, r1, g1), status: 404, code: "not_found", devices: []int64{g1}},
			badCase{name: "no such device", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d,%d],"confirm":true}`, missing, r1), status: 404, code: "not_found", devices: []int64{missing}},
			badCase{name: "viewer", who: "viewer", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d],"confirm":true}`, r1), status: 403, code: "forbidden", denied: 1, devices: []int64{r1}},
			badCase{name: "viewer, two devices", who: "viewer", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d,%d],"dry_run":true}`, r1, r2), status: 403, code: "forbidden", denied: 2, devices: []int64{r1, r2}},
			badCase{name: "viewer, unknown field", who: "viewer", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d],"force":true}`, r1), status: 403, code: "forbidden", denied: 1, devices: []int64{r1}},
			badCase{name: "outsider, unknown field", who: "outsider", path: "/api/devices/bulk-delete/", body: fmt.Sprintf(`{"devices":[%d],"force":true}`, r1), status: 404, code: "not_found", devices: []int64{r1}},
		)

		config := fmt.Sprintf("/api/devices/%d/config/", r1)
		add("POST /api/devices/{id}/config/",
			badCase{name: "no config", path: config, body: `{"dry_run":true}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "empty config", path: config, body: `{"config":""}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "blank config", path: config, body: `{"config":"  \n "}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "config a number", path: config, body: `{"config":5}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "config a list", path: config, body: `{"config":["hostname r1"]}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "dry_run a string", path: config, body: `{"config":"hostname r1","dry_run":"no"}`, status: 400, code: "invalid", field: "dry_run"},
			badCase{name: "a control character", path: config, body: `{"config":"hostname r\u0000one"}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "a lone carriage return", path: config, body: `{"config":"hostname r1\rhostname r2"}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "an exec command", path: config, body: `{"config":"interface Gi1\n do reload"}`, status: 400, code: "invalid", field: "config"},
			badCase{name: "viewer, an exec command", who: "viewer", path: config, body: `{"config":"do reload"}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "unknown field", path: config, body: `{"config":"hostname r1","save":true}`, status: 400, code: "invalid", field: "save"},
			badCase{name: "empty body", path: config, body: ``, status: 400, code: "invalid"},
			badCase{name: "globex's device", path: fmt.Sprintf("/api/devices/%d/config/", g1), body: `{"config":"hostname x"}`, status: 404, code: "not_found"},
			badCase{name: "viewer", who: "viewer", path: config, body: `{"config":"hostname r1"}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, no config", who: "viewer", path: config, body: `{}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", path: config, body: `{"config":"hostname r1","save":true}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, config a number", who: "viewer", path: config, body: `{"config":5}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "outsider, unknown field", who: "outsider", path: config, body: `{"save":true}`, status: 404, code: "not_found"},
		)

		group := fmt.Sprintf("/api/device-groups/%d/", w.core)
		add("POST /api/device-groups/",
			badCase{name: "unknown field", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new","colour":"red"}`, A), status: 400, code: "invalid", field: "colour"},
			badCase{name: "name not a string", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":5}`, A), status: 400, code: "invalid", field: "name"},
			badCase{name: "customer a string", path: "/api/device-groups/", body: `{"customer":"acme","name":"new"}`, status: 400, code: "invalid", field: "customer"},
			badCase{name: "missing customer", path: "/api/device-groups/", body: `{"name":"new"}`, status: 400, code: "invalid", field: "customer"},
			badCase{name: "missing name", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d}`, A), status: 400, code: "invalid", field: "name"},
			badCase{name: "empty name", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":""}`, A), status: 400, code: "invalid", field: "name"},
			badCase{name: "name too long", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":%q}`, A, long), status: 400, code: "invalid", field: "name"},
			badCase{name: "description too long", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new","description":%q}`, A, strings.Repeat("d", 2001)), status: 400, code: "invalid", field: "description"},
			badCase{name: "description with NUL", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new","description":"a\u0000b"}`, A), status: 400, code: "invalid", field: "description"},
			badCase{name: "customer globex", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new"}`, G), status: 404, code: "not_found", field: "customer"},
			badCase{name: "no such customer", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new"}`, missing), status: 404, code: "not_found", field: "customer"},
			badCase{name: "name taken", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"core"}`, A), status: 409, code: "conflict", field: "name"},
			badCase{name: "viewer", who: "viewer", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new"}`, A), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, invalid body", who: "viewer", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":""}`, A), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new","colour":"red"}`, A), status: 403, code: "forbidden", denied: 1},
			badCase{name: "outsider, unknown field", who: "outsider", path: "/api/device-groups/", body: fmt.Sprintf(`{"customer":%d,"name":"new","colour":"red"}`, A), status: 404, code: "not_found", field: "customer"},
		)
		add("PATCH /api/device-groups/{id}/",
			badCase{name: "unknown field", method: "PATCH", path: group, body: `{"colour":"red"}`, status: 400, code: "invalid", field: "colour"},
			badCase{name: "name not a string", method: "PATCH", path: group, body: `{"name":5}`, status: 400, code: "invalid", field: "name"},
			badCase{name: "empty name", method: "PATCH", path: group, body: `{"name":""}`, status: 400, code: "invalid", field: "name"},
			badCase{name: "description too long", method: "PATCH", path: group, body: fmt.Sprintf(`{"description":%q}`, strings.Repeat("d", 2001)), status: 400, code: "invalid", field: "description"},
			badCase{name: "to another customer", method: "PATCH", path: group, body: fmt.Sprintf(`{"customer":%d}`, G), status: 400, code: "invalid", field: "customer"},
			badCase{name: "name taken", method: "PATCH", path: group, body: `{"name":"edge"}`, status: 409, code: "conflict", field: "name"},
			badCase{name: "globex's group", method: "PATCH", path: fmt.Sprintf("/api/device-groups/%d/", w.gx), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
			badCase{name: "viewer", who: "viewer", method: "PATCH", path: group, body: `{"name":"renamed"}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", method: "PATCH", path: group, body: `{"colour":"red"}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "role holder, invalid body", who: "grouped", method: "PATCH", path: group, body: `{"name":""}`, status: 403, code: "forbidden", denied: 1},
			badCase{name: "outsider, unknown field", who: "outsider", method: "PATCH", path: group, body: `{"colour":"red"}`, status: 404, code: "not_found"},
			badCase{name: "member who cannot see it, wrong type", who: "member", method: "PATCH", path: group, body: `{"name":5}`, status: 404, code: "not_found"},
		)

		role := fmt.Sprintf("/api/device-group-roles/%d/", w.syncRole)
		roleBody := func(group int64, fields string) string {
			return fmt.Sprintf(`{"device_group":%d,"name":"new-role"%s}`, group, fields)
		}
		add("POST /api/device-group-roles/",
			badCase{name: "unknown field", path: "/api/device-group-roles/", body: roleBody(w.core, `,"colour":"red"`), status: 400, code: "invalid", field: "colour"},
			badCase{name: "missing device_group", path: "/api/device-group-roles/", body: `{"name":"new-role"}`, status: 400, code: "invalid", field: "device_group"},
			badCase{name: "device_group a name", path: "/api/device-group-roles/", body: `{"device_group":"core","name":"new-role"}`, status: 400, code: "invalid", field: "device_group"},
			badCase{name: "missing name", path: "/api/device-group-roles/", body: fmt.Sprintf(`{"device_group":%d}`, w.core), status: 400, code: "invalid", field: "name"},
			badCase{name: "empty name", path: "/api/device-group-roles/", body: fmt.Sprintf(`{"device_group":%d,"name":""}`, w.core), status: 400, code: "invalid", field: "name"},
			badCase{name: "permissions a string", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":"sync_device_inventory"`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "permissions numbers", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":[1]`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "view_device is not a group code", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":["view_device"]`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "change_device is not a group code", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":["sync_device_inventory","change_device"]`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "app-qualified code", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":["devices.view_device"]`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "unknown code", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":["reboot_device"]`), status: 400, code: "invalid", field: "permissions"},
			badCase{name: "globex's device group", path: "/api/device-group-roles/", body: roleBody(w.gx, ""), status: 404, code: "not_found", field: "device_group"},
			badCase{name: "no such device group", path: "/api/device-group-roles/", body: roleBody(missing, ""), status: 404, code: "not_found", field: "device_group"},
			badCase{name: "name taken on the group", path: "/api/device-group-roles/", body: fmt.Sprintf(`{"device_group":%d,"name":"sync"}`, w.core), status: 409, code: "conflict", field: "name"},
			badCase{name: "viewer", who: "viewer", path: "/api/device-group-roles/", body: roleBody(w.core, ""), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, not a group code", who: "viewer", path: "/api/device-group-roles/", body: roleBody(w.core, `,"permissions":["view_device"]`), status: 403, code: "forbidden", denied: 1},
			badCase{name: "viewer, unknown field", who: "viewer", path: "/api/device-group-roles/", body: roleBody(w.core, `,"colour":"red"`), status: 403, code: "forbidden", denied: 1},
			badCase{name: "outsider", who: "outsider", path: "/api/device-group-roles/", body: roleBody(w.core, ""), status: 404, code: "not_found", field: "device_group"},
			badCase{name: "outsider, unknown field", who: "outsider", path: "/api/device-group-roles/", body: roleBody(w.core, `,"colour":"red"`), status: 404, code: "not_found", field: "device_group"},
		)
		add("PATCH /api/device-group-roles/{id}/",
			badCase{name: "unknown field", method: "PATCH", path: role, body: `{"colour":"red"}`, status: 400, code: "invalid", field: "colour"},
			badCase{name: "not a group code", method: "PATCH", path: role, body: `{"permissions":["view_device"]}`, status: 400, code: "invalid", field: "permissions"},
			badCase{name: "permissions an object", method: "PATCH", path: role, body: `{"permissions":{"sync_device_inventory":true}}`, status: 400, code: "invalid", field: "permissions"},
			badCase{name: "empty name", method: "PATCH", path: role, body: `{"name":""}`, status: 400, code: "invalid", field: "name"},
			badCase{name: "to another device group", method: "PATCH", path: role, body: fmt.Sprintf(`{"device_group":%d}`, w.edge), status: 400, code: "invalid", field: "device_group"},
			badCase{name: "valid name, bad permission: nothing half-written", method: "PATCH", path: role, body: `{"name":"renamed","permissions":["sync_device_inventory","bogus"]}`, status: 400, code: "invalid", field: "permissions"},
			badCase{name: "name taken", method: "PATCH", path: role, body: `{"name":"look"}`, status: 409, code: "conflict", field: "name"},
			badCase{name: "globex's role", method: "PATCH", path: fmt.Sprintf("/api/device-group-roles/%d/", w.gxRole), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
			// Roles are tenant administration: invisible to non-admins.
			badCase{name: "viewer", who: "viewer", method: "PATCH", path: role, body: `{"name":"renamed"}`, status: 404, code: "not_found"},
			badCase{name: "role holder, unknown field", who: "syncer", method: "PATCH", path: role, body: `{"colour":"red"}`, status: 404, code: "not_found"},
		)

		add("POST /api/user-device-group-roles/",
			badCase{name: "missing user", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"role":%d}`, w.noRole), status: 400, code: "invalid", field: "user"},
			badCase{name: "missing role", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d}`, w.ids["viewer"]), status: 400, code: "invalid", field: "role"},
			badCase{name: "user a name", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":"viewer","role":%d}`, w.noRole), status: 400, code: "invalid", field: "user"},
			badCase{name: "unknown field", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d,"until":"2030-01-01"}`, w.ids["viewer"], w.noRole), status: 400, code: "invalid", field: "until"},
			badCase{name: "group on the user route", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.noRole), status: 400, code: "invalid", field: "group"},
			badCase{name: "globex's role", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], w.gxRole), status: 404, code: "not_found", field: "role"},
			badCase{name: "globex's user", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.gxUser, w.noRole), status: 404, code: "not_found", field: "user"},
			badCase{name: "a user of no customer", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["outsider"], w.noRole), status: 404, code: "not_found", field: "user"},
			badCase{name: "no such role", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], missing), status: 404, code: "not_found", field: "role"},
			badCase{name: "already assigned", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["syncer"], w.syncRole), status: 409, code: "conflict"},
			badCase{name: "viewer", who: "viewer", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], w.noRole), status: 404, code: "not_found", field: "role"},
			badCase{name: "viewer, unknown field", who: "viewer", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d,"until":"2030-01-01"}`, w.ids["viewer"], w.noRole), status: 404, code: "not_found", field: "role"},
			badCase{name: "viewer, no user", who: "viewer", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"role":%d}`, w.noRole), status: 404, code: "not_found", field: "role"},
			badCase{name: "globex's role, group field", path: "/api/user-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.gxRole), status: 404, code: "not_found", field: "role"},
		)
		add("POST /api/group-device-group-roles/",
			badCase{name: "missing group", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"role":%d}`, w.noRole), status: 400, code: "invalid", field: "group"},
			badCase{name: "user on the group route", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], w.noRole), status: 400, code: "invalid", field: "user"},
			badCase{name: "globex's group", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.gxGroup, w.syncRole), status: 404, code: "not_found", field: "group"},
			badCase{name: "globex's role", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.gxRole), status: 404, code: "not_found", field: "role"},
			badCase{name: "already assigned", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.noRole), status: 409, code: "conflict"},
			badCase{name: "outsider", who: "outsider", path: "/api/group-device-group-roles/", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.syncRole), status: 404, code: "not_found", field: "role"},
		)

		sentence := map[string]string{"sync": "You do not have permission to sync device inventory",
			"readiness": "You do not have permission to check device readiness", "upgrade": "You do not have permission to upgrade device firmware"}
		for _, act := range []string{"sync", "readiness", "upgrade"} {
			bulk := "/api/devices/" + act + "/"
			one := fmt.Sprintf("/api/devices/%d/%s/", r1, act)
			extra := ""
			if act == "upgrade" {
				extra = fmt.Sprintf(`,"image":%d,"dry_run":true`, w.img)
			}
			add("POST "+bulk,
				badCase{name: "empty list", path: bulk, body: `{"devices":[]` + extra + `}`, status: 400, code: "invalid", field: "devices"},
				badCase{name: "no list", path: bulk, body: `{"dry_run":true}`, status: 400, code: "invalid", field: "devices"},
				badCase{name: "duplicate ids", path: bulk, body: fmt.Sprintf(`{"devices":[%d,%d,%d]%s}`, r1, r2, r1, extra), status: 400, code: "invalid", field: "devices"},
				badCase{name: "id 0", path: bulk, body: `{"devices":[0]` + extra + `}`, status: 400, code: "invalid", field: "devices"},
				badCase{name: "names, not ids", path: bulk, body: `{"devices":["acme-r1"]` + extra + `}`, status: 400, code: "invalid", field: "devices"},
				badCase{name: "unknown field", path: bulk, body: fmt.Sprintf(`{"devices":[%d],"force":true%s}`, r1, extra), status: 400, code: "invalid", field: "force"},
				badCase{name: "dry_run a string", path: bulk, body: fmt.Sprintf(`{"devices":[%d],"dry_run":"yes"}`, r1), status: 400, code: "invalid", field: "dry_run"},
				badCase{name: "globex's device among acme's", path: bulk, body: fmt.Sprintf(`{"devices":[%d,%d]%s}`, r1, g1, extra), status: 404, code: "not_found", devices: []int64{g1}},
				badCase{name: "viewer", who: "viewer", path: bulk, body: fmt.Sprintf(`{"devices":[%d]%s}`, r1, extra), status: 403, code: "forbidden", denied: 1, devices: []int64{r1}},
				badCase{name: "viewer, unknown field", who: "viewer", path: bulk, body: fmt.Sprintf(`{"devices":[%d],"force":true%s}`, r1, extra), status: 403, code: "forbidden", denied: 1, devices: []int64{r1}},
				badCase{name: "outsider, unknown field", who: "outsider", path: bulk, body: fmt.Sprintf(`{"devices":[%d],"force":true%s}`, r1, extra), status: 404, code: "not_found", devices: []int64{r1}},
			)
			add("POST "+strings.Replace(one, fmt.Sprint(r1), "{id}", 1),
				badCase{name: "devices in the body", path: one, body: fmt.Sprintf(`{"devices":[%d]%s}`, r2, extra), status: 400, code: "invalid", field: "devices"},
				badCase{name: "unknown field", path: one, body: `{"force":true` + extra + `}`, status: 400, code: "invalid", field: "force"},
				badCase{name: "not an object", path: one, body: `[1]`, status: 400, code: "invalid"},
				badCase{name: "globex's device", path: fmt.Sprintf("/api/devices/%d/%s/", g1, act), body: `{"dry_run":true` + extra + `}`, status: 404, code: "not_found"},
				badCase{name: "viewer", who: "viewer", path: one, body: `{"dry_run":true` + extra + `}`, status: 403, code: "forbidden", denied: 1},
				badCase{name: "viewer, unknown field", who: "viewer", path: one, body: `{"force":true}`, status: 403, code: "forbidden", denied: 1},
				badCase{name: "outsider, unknown field", who: "outsider", path: one, body: `{"force":true}`, status: 404, code: "not_found"},
			)
		}
		add("POST /api/devices/upgrade/",
			badCase{name: "no image", path: "/api/devices/upgrade/", body: fmt.Sprintf(`{"devices":[%d],"dry_run":true}`, r1), status: 400, code: "invalid", field: "image"},
			badCase{name: "image a name", path: "/api/devices/upgrade/", body: fmt.Sprintf(`{"devices":[%d],"image":"17.9.4","dry_run":true}`, r1), status: 400, code: "invalid", field: "image"},
			badCase{name: "not confirmed", path: "/api/devices/upgrade/", body: fmt.Sprintf(`{"devices":[%d,%d],"image":%d}`, r1, r2, w.img), status: 400, code: "invalid", field: "confirm"},
			badCase{name: "viewer, no image", who: "viewer", path: "/api/devices/upgrade/", body: fmt.Sprintf(`{"devices":[%d]}`, r1), status: 403, code: "forbidden", denied: 1, devices: []int64{r1}},
			badCase{name: "one device, no image", path: fmt.Sprintf("/api/devices/%d/upgrade/", r1), body: `{"dry_run":true}`, status: 400, code: "invalid", field: "image"},
		)
		add("POST /api/devices/readiness/",
			badCase{name: "image a name", path: "/api/devices/readiness/", body: fmt.Sprintf(`{"devices":[%d],"image":"17.9.4"}`, r1), status: 400, code: "invalid", field: "image"},
		)

		addScheduleCases(add, w, acmeSchedule)
		addComplianceCases(t, add, w)
		addFirmwareCases(t, add, w)

		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.knownBug != "" {
					t.Skip("known bug: " + c.knownBug)
				}
				w.checkBadCase(t, c, sentence)
			})
		}
		if len(cases) < 150 {
			t.Fatalf("only %d cases", len(cases))
		}
	})
}

// devWith is a valid device body for customer and group (0: none) with one field replaced
// (or added); fields is `"name":value` or "".
func devWith(customer, group int64, field string) string {
	m := map[string]json.RawMessage{"customer": json.RawMessage(fmt.Sprint(customer)),
		"name": json.RawMessage(`"new-dev"`), "address": json.RawMessage(`"192.0.2.50"`), "platform": json.RawMessage(`"cisco_iosxe"`)}
	if group != 0 {
		m["device_group"] = json.RawMessage(fmt.Sprint(group))
	}
	if field != "" {
		k, v, _ := strings.Cut(field, ":")
		m[strings.Trim(k, `"`)] = json.RawMessage(v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (w *isoWorld) checkBadCase(t *testing.T, c badCase, sentences map[string]string) {
	t.Helper()
	who := c.who
	if who == "" {
		who = "admin"
	}
	method, path := c.method, c.path
	if method == "" {
		method = "POST"
	}
	if path == "" {
		path = "/api/devices/"
	}
	jobs, err := w.db.Read().CountJobs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	hdr := as(w.tokens[who])
	if c.ctype != "" {
		hdr = append(hdr, "Content-Type", c.ctype)
	}
	r := w.doAny(t, method, path, c.body, hdr...)
	what := fmt.Sprintf("%s %s %.200s as %s", method, path, c.body, who)
	if r.status != c.status || r.body["code"] != c.code || r.body["error"] == nil || r.body["error"] == "" {
		t.Errorf("%s: %d %s; want %d %s", what, r.status, r.raw, c.status, c.code)
	}
	fields, _ := r.body["fields"].(map[string]any)
	if c.field != "" && fields[c.field] == nil {
		t.Errorf("%s: %s; want fields naming %q", what, r.raw, c.field)
	}
	if c.field == "" && c.status == 400 && len(fields) > 0 && c.body != "" && !strings.HasPrefix(c.body, "[") {
		t.Logf("%s: fields %v", what, fields)
	}
	if c.devices != nil {
		got, _ := json.Marshal(r.body["devices"])
		want, _ := json.Marshal(c.devices)
		if string(got) != string(want) {
			t.Errorf("%s: devices %s; want %s", what, got, want)
		}
	}
	if c.status == 403 {
		for act, s := range sentences {
			if strings.HasSuffix(path, "/"+act+"/") && r.body["error"] != s {
				t.Errorf("%s: error %q; want %q", what, r.body["error"], s)
			}
		}
	}
	if changed := changedTables(before, w.snapshot(t)); len(changed) > 0 {
		t.Errorf("%s wrote: %v", what, changed)
	}
	if after, _ := w.db.Read().CountJobs(t.Context()); after != jobs {
		t.Errorf("%s queued %d jobs", what, after-jobs)
	}
	fresh := w.newAudit(t, w.lastAudit)
	if len(fresh) > 0 {
		w.lastAudit = fresh[len(fresh)-1].ID
	}
	ok := len(fresh) == c.denied
	for _, a := range fresh {
		ok = ok && a.Result == "denied" && a.ActorID != nil && *a.ActorID == w.ids[who]
	}
	if !ok {
		b, _ := json.Marshal(fresh)
		t.Errorf("%s: audit records %s; want %d denied record(s) of %s", what, b, c.denied, who)
	}
	if slices.Contains([]int{200, 201, 202, 204}, r.status) {
		t.Errorf("%s succeeded: %s", what, r.raw)
	}
}

// addScheduleCases adds the bad-input cases of the schedule endpoints: acmeSchedule is acme's
// admin's sync of the group core; acme also has a schedule named "edge sync".
func addScheduleCases(add func(string, ...badCase), w *isoWorld, acmeSchedule int64) {
	const path, missing = "/api/schedules/", 999999
	A, G := w.acme, w.globex
	sch := func(fields string) string {
		return fmt.Sprintf(`{"customer":%d,"name":"new","kind":"sync","cron":"@daily","device_group":%d%s}`, A, w.core, fields)
	}
	// with is the valid body sch("") with members replaced or added (`"k":v`) or removed (`"k"`).
	with := func(fields ...string) string {
		m := map[string]json.RawMessage{}
		if err := json.Unmarshal([]byte(sch("")), &m); err != nil {
			panic(err)
		}
		for _, field := range fields {
			k, v, _ := strings.Cut(field, ":")
			if v == "" {
				delete(m, strings.Trim(k, `"`))
			} else {
				m[strings.Trim(k, `"`)] = json.RawMessage(v)
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	bad := func(name, body, field string) badCase {
		return badCase{name: name, path: path, body: body, status: 400, code: "invalid", field: field}
	}
	add("POST /api/schedules/",
		bad("unknown field", sch(`,"colour":"red"`), "colour"),
		bad("missing customer", with(`"customer"`), "customer"),
		bad("missing name", with(`"name"`), "name"),
		bad("missing kind", with(`"kind"`), "kind"),
		bad("missing cron", with(`"cron"`), "cron"),
		bad("no target", with(`"device_group"`), "device_group"),
		bad("empty device list", with(`"device_group"`, `"devices":[]`), "device_group"),
		bad("both targets", sch(fmt.Sprintf(`,"devices":[%d]`, w.r1)), "devices"),
		bad("duplicate devices", with(`"device_group"`, fmt.Sprintf(`"devices":[%d,%d]`, w.r1, w.r1)), "devices"),
		bad("unknown kind", with(`"kind":"reboot"`), "kind"),
		bad("kind a number", with(`"kind":1`), "kind"),
		bad("empty name", with(`"name":""`), "name"),
		bad("name too long", with(`"name":"`+strings.Repeat("n", 151)+`"`), "name"),
		bad("cron minute 61", with(`"cron":"61 * * * *"`), "cron"),
		bad("cron with seconds", with(`"cron":"0 0 * * * *"`), "cron"),
		bad("cron words", with(`"cron":"every day"`), "cron"),
		bad("cron empty", with(`"cron":""`), "cron"),
		bad("cron never fires", with(`"cron":"0 0 30 2 *"`), "cron"),
		bad("cron every 30 seconds", with(`"cron":"@every 30s"`), "cron"),
		bad("cron with its own zone", with(`"cron":"TZ=UTC"`), "cron"),
		bad("unknown time zone", with(`"timezone":"Mars/Olympus"`), "timezone"),
		bad("the machine's time zone", with(`"timezone":"Local"`), "timezone"),
		bad("params for sync", with(`"params":{"image":1}`), "params"),
		bad("params a list", with(`"params":[1]`), "params"),
		bad("upgrade, not a dry run", with(`"kind":"upgrade"`, `"params":{"image":1}`), "dry_run"),
		bad("upgrade without an image", with(`"kind":"upgrade"`, `"dry_run":true`), "params"),
		bad("readiness, image a name", with(`"kind":"readiness"`, `"params":{"image":"17.9"}`), "params"),
		bad("readiness, image a fraction", with(`"kind":"readiness"`, `"params":{"image":1.5}`), "params"),
		bad("config push without config", with(`"kind":"config_push"`), "params"),
		bad("config push, blank config", with(`"kind":"config_push"`, `"params":{"config":" "}`), "params"),
		bad("config push, an exec command", with(`"kind":"config_push"`, `"params":{"config":"run request system reboot"}`), "params"),
		badCase{name: "name taken", path: path, body: with(`"name":"edge sync"`), status: 409, code: "conflict", field: "name"},
		badCase{name: "customer globex", path: path, body: with(fmt.Sprintf(`"customer":%d`, G)), status: 404, code: "not_found", field: "customer"},
		badCase{name: "no such customer", path: path, body: with(fmt.Sprintf(`"customer":%d`, missing)), status: 404, code: "not_found", field: "customer"},
		badCase{name: "globex's device group", path: path, body: with(fmt.Sprintf(`"device_group":%d`, w.gx)), status: 404, code: "not_found", field: "device_group", denied: 1},
		badCase{name: "globex's device", path: path, body: with(`"device_group"`, fmt.Sprintf(`"devices":[%d,%d]`, w.r1, w.g1)),
			status: 404, code: "not_found", field: "devices", denied: 1, devices: []int64{w.g1}},
		badCase{name: "globex's device group, unknown kind", path: path, body: with(`"kind":"reboot"`, fmt.Sprintf(`"device_group":%d`, w.gx)),
			status: 404, code: "not_found", field: "device_group", denied: 1},
		badCase{name: "malformed JSON", path: path, body: `{"customer":`, status: 400, code: "invalid"},
		badCase{name: "not JSON", path: path, body: `name=x`, ctype: "text/plain", status: 415, code: "unsupported_type"},
		badCase{name: "too large", path: path, body: sch(`,"params":{"config":"` + strings.Repeat("x", 5000) + `"}`), status: 413, code: "body_too_large"},
		// 404 → 403 → 400: a caller who may not schedule the job learns nothing about the body.
		badCase{name: "viewer", who: "viewer", path: path, body: sch(""), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, device list", who: "viewer", path: path, body: with(`"device_group"`, fmt.Sprintf(`"devices":[%d,%d]`, w.r1, w.r2)),
			status: 403, code: "forbidden", denied: 1, devices: []int64{w.r1, w.r2}},
		badCase{name: "viewer, bad cron", who: "viewer", path: path, body: with(`"cron":"61 * * * *"`), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, unknown field", who: "viewer", path: path, body: sch(`,"colour":"red"`), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, unknown kind", who: "viewer", path: path, body: with(`"kind":"reboot"`), status: 403, code: "forbidden", denied: 1},
		badCase{name: "viewer, ungrouped device", who: "viewer", path: path, body: with(`"device_group"`, fmt.Sprintf(`"devices":[%d]`, w.u1)),
			status: 404, code: "not_found", field: "devices", denied: 1},
		badCase{name: "outsider, unknown field", who: "outsider", path: path, body: sch(`,"colour":"red"`), status: 404, code: "not_found", field: "customer"},
	)
	one := fmt.Sprintf("/api/schedules/%d/", acmeSchedule)
	patch := func(name, body string, status int, code, field string) badCase {
		return badCase{name: name, method: "PATCH", path: one, body: body, status: status, code: code, field: field}
	}
	add("PATCH /api/schedules/{id}/",
		patch("unknown field", `{"colour":"red"}`, 400, "invalid", "colour"),
		patch("unknown field, switching off", `{"enabled":false,"colour":"red"}`, 400, "invalid", "colour"),
		patch("bad cron", `{"cron":"61 * * * *"}`, 400, "invalid", "cron"),
		patch("valid name, bad cron: nothing half-written", `{"name":"renamed","cron":"@every 1s"}`, 400, "invalid", "cron"),
		patch("empty name", `{"name":""}`, 400, "invalid", "name"),
		patch("to another customer", fmt.Sprintf(`{"customer":%d}`, G), 400, "invalid", "customer"),
		patch("unknown kind", `{"kind":"reboot"}`, 400, "invalid", "kind"),
		patch("no target left", `{"device_group":null}`, 400, "invalid", "device_group"),
		patch("both targets", fmt.Sprintf(`{"device_group":%d,"devices":[%d]}`, w.edge, w.e1), 400, "invalid", "devices"),
		patch("device_group a name", `{"device_group":"core"}`, 400, "invalid", "device_group"),
		patch("name taken", `{"name":"edge sync"}`, 409, "conflict", "name"),
		badCase{name: "globex's device group", method: "PATCH", path: one, body: fmt.Sprintf(`{"device_group":%d}`, w.gx), status: 404, code: "not_found", field: "device_group", denied: 1},
		badCase{name: "globex's device", method: "PATCH", path: one, body: fmt.Sprintf(`{"devices":[%d]}`, w.g1), status: 404, code: "not_found", field: "devices", denied: 1},
		badCase{name: "globex's schedule", method: "PATCH", path: fmt.Sprintf("/api/schedules/%d/", w.objs[kSchedule][0]), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
		badCase{name: "no such schedule", method: "PATCH", path: fmt.Sprintf("/api/schedules/%d/", missing), body: `{"name":"renamed"}`, status: 404, code: "not_found"},
		// Not its owner nor an admin: the schedule does not exist for the viewer.
		badCase{name: "viewer", who: "viewer", method: "PATCH", path: one, body: `{"enabled":false}`, status: 404, code: "not_found"},
		badCase{name: "viewer, unknown field", who: "viewer", method: "PATCH", path: one, body: `{"colour":"red"}`, status: 404, code: "not_found"},
		badCase{name: "outsider", who: "outsider", method: "PATCH", path: one, body: `{"name":"x"}`, status: 404, code: "not_found"},
	)
}
