package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// The tenant-isolation matrix (conventions.md, "two suites guard the door"): globex owns one
// object of every kind the API addresses by id, and acme's admin, acme's viewer and a user
// with no membership try every route of the router on them. Every answer must be the 404 of
// an object that does not exist, nothing may be written, and no response may carry anything
// of globex's.

// Secrets and names of globex that no response to anyone outside globex may contain. Every
// globex object is named "globex-…", so the marker "globex" covers names, usernames, slugs
// and e-mail addresses; the others are the secrets and the device address.
const (
	gxCredPassword = "GXSECRET-cred-pw-5e1d"
	gxCredEnable   = "GXSECRET-cred-en-0b7c"
	gxUserPassword = "GXSECRET-user-pw-c4a2"
	gxAddress      = "203.0.113.77"
)

// Kinds of objects the API addresses by id, and the path segment that names each kind: the
// segment before a path parameter says what the parameter is.
const (
	kDevice          = "device"
	kDeviceGroup     = "device group"
	kRole            = "device-group role"
	kUserAssignment  = "user assignment"
	kGroupAssignment = "group assignment"
	kCredential      = "credential"
	kMembership      = "membership"
	kAuthGroup       = "auth group"
	kBundle          = "permission bundle"
	kCustomer        = "customer"
	kUser            = "user"
	kToken           = "API token"
	kJob             = "job"
	kSchedule        = "schedule"
	kAuditRecord     = "audit record"
	kBackup          = "backup"
	kComplianceRule  = "compliance rule"
	kFirmwareImage   = "firmware image"
)

var kindOfSegment = map[string]string{
	"devices":                  kDevice,
	"device-groups":            kDeviceGroup,
	"device-group-roles":       kRole,
	"user-device-group-roles":  kUserAssignment,
	"group-device-group-roles": kGroupAssignment,
	"credentials":              kCredential,
	"memberships":              kMembership,
	"groups":                   kAuthGroup,
	"permission-bundles":       kBundle,
	"customers":                kCustomer,
	"users":                    kUser,
	"tokens":                   kToken,
	"jobs":                     kJob,
	"schedules":                kSchedule,
	"audit-log":                kAuditRecord,
	"backups":                  kBackup,
	"compliance-rules":         kComplianceRule,
	"firmware-images":          kFirmwareImage,
}

// isoWorld is newWorld with one globex object of every kind (objs[kind][0] is the one the
// routes are tried on; the others are further globex objects of that kind that lists must
// not show) and a few acme objects to mix with references to globex's.
type isoWorld struct {
	*world
	objs            map[string][]int64
	gxUser, gxRole  int64
	gxGroup, gxCred int64
	gxBundle        int64
	acmeGroup       int64 // auth group "acme-noc" with the viewer
	markers         []string
	bodies          []string // every response body a non-globex caller received
	callers         []string
	callerID        map[string]int64
	lastAudit       int64
}

func newIsoWorld(t *testing.T, e *env) *isoWorld {
	t.Helper()
	w := &isoWorld{world: newWorld(t, e), callers: []string{"admin", "viewer", "outsider"},
		callerID: map[string]int64{}}
	for _, c := range w.callers {
		w.callerID[c] = w.ids[c]
	}
	gxadm := w.tokens["globexadm"]
	send := func(token, method, path, body string, want int) map[string]any {
		t.Helper()
		r := w.do(t, method, path, body, as(token)...)
		if r.status != want {
			t.Fatalf("set-up %s %s %s: %d %s", method, path, body, r.status, r.raw)
		}
		return r.body
	}
	// Distinctive names for what newWorld made: the group gx and the device g1.
	send(w.root, "PATCH", fmt.Sprintf("/api/device-groups/%d/", w.gx), `{"name":"globex-gx","description":"globex core sites"}`, 200)
	w.gxCred = idOf(w.post(t, gxadm, "/api/credentials/", fmt.Sprintf(
		`{"customer":%d,"name":"globex-cred","username":"globex-netops","password":%q,"enable_secret":%q}`, w.globex, gxCredPassword, gxCredEnable)))
	send(gxadm, "PATCH", fmt.Sprintf("/api/devices/%d/", w.g1), fmt.Sprintf(`{"address":%q,"credential":%d}`, gxAddress, w.gxCred), 200)
	w.gxRole = idOf(w.post(t, gxadm, "/api/device-group-roles/", fmt.Sprintf(
		`{"device_group":%d,"name":"globex-role","description":"globex operators","permissions":["sync_device_inventory"]}`, w.gx)))
	w.gxUser = idOf(w.post(t, gxadm, "/api/users/", fmt.Sprintf(
		`{"username":"globex-member","email":"member@globex.example","password":%q,"customer":%d,"role":"member"}`, gxUserPassword, w.globex)))
	w.gxGroup = idOf(w.post(t, gxadm, "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"globex-group","users":[%d]}`, w.globex, w.gxUser)))
	w.gxBundle = idOf(w.post(t, gxadm, "/api/permission-bundles/", fmt.Sprintf(
		`{"customer":%d,"name":"globex-bundle","description":"globex bundle","permissions":["view_device"]}`, w.globex)))
	userAssignment := idOf(w.post(t, gxadm, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.gxUser, w.gxRole)))
	groupAssignment := idOf(w.post(t, gxadm, "/api/group-device-group-roles/", fmt.Sprintf(`{"group":%d,"role":%d}`, w.gxGroup, w.gxRole)))
	memberships := w.listIDs(t, gxadm, fmt.Sprintf("/api/memberships/?customer=%d", w.globex))
	var memberMembership int64
	for _, m := range w.list(t, gxadm, fmt.Sprintf("/api/memberships/?user=%d", w.gxUser)) {
		memberMembership = int64(m["id"].(float64))
	}
	// The globex member's API tokens: the sign-in one and a named one.
	login := w.do(t, "POST", "/api/auth/token/", fmt.Sprintf(`{"username":"globex-member","password":%q}`, gxUserPassword))
	if login.status != 200 {
		t.Fatalf("sign in as globex-member: %d %s", login.status, login.raw)
	}
	memberKey := login.body["token"].(string)
	named := send(memberKey, "POST", "/api/tokens/", `{"name":"globex-token"}`, 201)
	tokens := w.listIDs(t, memberKey, "/api/tokens/")
	// A job: a sync of g1 by globex's admin.
	job := send(gxadm, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.g1), "", 202)["job"].(map[string]any)
	// A schedule: a nightly sync of the group gx, owned by globex's admin.
	schedule := w.post(t, gxadm, "/api/schedules/", fmt.Sprintf(
		`{"customer":%d,"name":"globex-schedule","kind":"sync","cron":"0 3 * * *","device_group":%d}`, w.globex, w.gx))
	// A second globex device, so that lists have more than one thing to leak.
	g2 := idOf(w.post(t, gxadm, "/api/devices/", fmt.Sprintf(
		`{"customer":%d,"device_group":%d,"name":"globex-g2","address":"globex-g2.example.net","platform":"arista_eos"}`, w.globex, w.gx)))
	// Two versions of g1's configuration, as a worker would record them.
	var backups []int64
	for _, cfg := range []string{"hostname globex-g1\n", "hostname globex-g1\nsnmp-server community " + gxCredPassword + "\n"} {
		b, _, err := w.env.core.RecordBackup(service.WithSubject(context.Background(), service.System()), w.g1, nil, []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		backups = append(backups, b.ID)
	}
	// A compliance rule, and its result on g1 as a worker would record it.
	gxRule := idOf(w.post(t, gxadm, "/api/compliance-rules/", fmt.Sprintf(
		`{"customer":%d,"name":"globex-rule","description":"globex policy","kind":"must_not_contain","pattern":%q,"severity":"high"}`, w.globex, gxCredPassword)))
	if err := w.env.core.RecordComplianceCheck(service.WithSubject(context.Background(), service.System()), w.g1, nil,
		[]service.ComplianceOutcome{{RuleID: gxRule, Passed: false, Detail: "Found at line 2; it must not be there."}}); err != nil {
		t.Fatal(err)
	}
	// Two firmware images of globex's, and a global one that everybody sees.
	var images []int64
	for i, name := range []string{"globex-ios.bin", "globex-eos.swi"} {
		r := w.upload(t, gxadm, imageForm(w.globex, name, imageBytes(uint64(100+i), 1000))...)
		if r.status != 201 {
			t.Fatalf("set-up upload %s: %d %s", name, r.status, r.raw)
		}
		images = append(images, idOf(r.body))
	}
	w.image(t) // a global image, which everybody sees
	audit := w.listIDs(t, w.root, fmt.Sprintf("/api/audit-log/?customer=%d&limit=1000", w.globex))
	if len(audit) == 0 {
		t.Fatal("globex has no audit records")
	}

	w.objs = map[string][]int64{
		kDevice:          {w.g1, g2},
		kDeviceGroup:     {w.gx},
		kRole:            {w.gxRole},
		kUserAssignment:  {userAssignment},
		kGroupAssignment: {groupAssignment},
		kCredential:      {w.gxCred},
		kMembership:      append([]int64{memberMembership}, memberships...),
		kAuthGroup:       {w.gxGroup},
		kBundle:          {w.gxBundle},
		kCustomer:        {w.globex},
		kUser:            {w.gxUser, w.ids["globexadm"]},
		kToken:           append([]int64{idOf(named)}, tokens...),
		kJob:             {idOf(job)},
		kSchedule:        {idOf(schedule)},
		kAuditRecord:     audit,
		kBackup:          {backups[1], backups[0]},
		kComplianceRule:  {gxRule},
		kFirmwareImage:   images,
	}
	w.markers = []string{"globex", "Globex", gxCredPassword, gxCredEnable, gxUserPassword, gxAddress,
		w.tokens["globexadm"], memberKey, named["key"].(string)}

	// Acme objects to mix with references to globex's.
	w.acmeGroup = idOf(w.post(t, w.root, "/api/groups/", fmt.Sprintf(`{"customer":%d,"name":"acme-noc","users":[%d]}`, w.acme, w.ids["viewer"])))
	w.lastAudit = w.maxAuditID(t)
	return w
}

// list GETs a paginated list and returns its results.
func (w *isoWorld) list(t *testing.T, token, path string) []map[string]any {
	t.Helper()
	r := w.do(t, "GET", path, "", as(token)...)
	if r.status != 200 || r.body["results"] == nil {
		t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
	}
	var out []map[string]any
	for _, x := range r.body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func (w *isoWorld) listIDs(t *testing.T, token, path string) []int64 {
	t.Helper()
	var out []int64
	for _, m := range w.list(t, token, path) {
		out = append(out, idOf(m))
	}
	return out
}

// req sends a request as one of the callers (with further headers hdr, name then value) and
// checks that the answer leaks nothing.
func (w *isoWorld) req(t *testing.T, caller, method, path, body string, hdr ...string) result {
	t.Helper()
	r := w.doAny(t, method, path, body, append(as(w.tokens[caller]), hdr...)...)
	w.bodies = append(w.bodies, r.raw)
	w.noMarkers(t, fmt.Sprintf("%s %s as %s", method, path, caller), r.raw)
	if r.status >= 500 {
		t.Errorf("%s %s as %s: %d %s", method, path, caller, r.status, r.raw)
	}
	return r
}

// noMarkers fails if s carries any of globex's names or secrets.
func (w *isoWorld) noMarkers(t *testing.T, where, s string) {
	t.Helper()
	for _, m := range w.markers {
		if strings.Contains(s, m) {
			t.Errorf("%s: the answer contains globex's %q: %.600s", where, m, s)
		}
	}
}

// maxAuditID is the id of the newest audit record.
func (e *env) maxAuditID(t testing.TB) int64 {
	t.Helper()
	recs, _, err := e.db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1"}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return 0
	}
	return recs[0].ID
}

// newAudit returns the audit records written after id, oldest first.
func (e *env) newAudit(t testing.TB, after int64) []store.Activity {
	t.Helper()
	recs, _, err := e.db.Read().ListActivity(context.Background(),
		store.ActivityFilter{Visibility: "a.id > ?", VisibilityArgs: []any{after}}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(recs)
	return recs
}

// snapshot is the content of every table, as a digest per table, except the audit trail
// (checked record by record by the callers) and the bookkeeping that reads touch (tokens'
// and sessions' last use, the sign-in throttle), of which it keeps the row count. Tables
// are read from the database's catalog, so a table added later is covered too.
func (e *env) snapshot(t testing.TB) map[string]string {
	t.Helper()
	ctx := context.Background()
	db := e.db.SQL()
	catalog := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if e.db.Dialect() == store.Postgres {
		catalog = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(ctx, catalog)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("snapshot: only %d tables found", len(tables))
	}
	out := map[string]string{"files: firmware/": e.firmwareFiles(t)}
	for _, table := range tables {
		switch {
		case table == "activity_log" || table == "audit_chain":
			continue
		case table == "api_tokens" || table == "sessions" || table == "login_throttle" || strings.HasPrefix(table, "river_"):
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = fmt.Sprintf("%d rows", n)
			continue
		}
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rows.Close()
		slices.Sort(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[table] = fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(sum[:8]))
	}
	return out
}

// changedTables lists the tables whose content differs between two snapshots.
func changedTables(before, after map[string]string) []string {
	var out []string
	for table, b := range before {
		if after[table] != b {
			out = append(out, fmt.Sprintf("%s (%s → %s)", table, b, after[table]))
		}
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			out = append(out, table+" (new)")
		}
	}
	slices.Sort(out)
	return out
}

// refused sends a request as caller that must be refused with want (and code), writing
// nothing but at most one denied audit record of the caller that names nothing of globex's.
func (w *isoWorld) refused(t *testing.T, caller, method, path, body string, want int, code string, hdr ...string) result {
	t.Helper()
	before := w.snapshot(t)
	r := w.req(t, caller, method, path, body, hdr...)
	what := fmt.Sprintf("%s %s %s as %s", method, path, body, caller)
	if r.status != want || r.body["code"] != code || r.body["error"] == nil || r.body["error"] == "" {
		t.Errorf("%s: %d %s; want %d %s", what, r.status, r.raw, want, code)
	}
	if changed := changedTables(before, w.snapshot(t)); len(changed) > 0 {
		t.Errorf("%s wrote: %v", what, changed)
	}
	w.checkNewAudit(t, what, caller, want != 400)
	return r
}

// checkNewAudit checks the audit records written since the last check: none, or (when
// deniedOK) one denied record of the caller.
func (w *isoWorld) checkNewAudit(t *testing.T, what, caller string, deniedOK bool) {
	t.Helper()
	fresh := w.newAudit(t, w.lastAudit)
	if len(fresh) > 0 {
		w.lastAudit = fresh[len(fresh)-1].ID
	}
	if len(fresh) == 0 {
		return
	}
	a := fresh[0]
	if len(fresh) > 1 || !deniedOK || a.Result != "denied" || a.ActorID == nil || *a.ActorID != w.callerID[caller] {
		b, _ := json.Marshal(fresh)
		t.Errorf("%s: audit records %s; want none or one denied record of %s", what, b, caller)
		return
	}
	b, _ := json.Marshal(a)
	w.noMarkers(t, what+": its denied record", string(b))
	if a.CustomerID != nil && *a.CustomerID == w.globex {
		// Filed under globex, the attempt would show in globex's admins' audit log.
		t.Errorf("%s: the denied record is filed under globex's customer: %s", what, b)
	}
}

// pathParams splits a route pattern into segments; a parameter segment is "{name}".
func pathParams(path string) (segments []string, params []int) {
	segments = strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segments {
		if strings.HasPrefix(s, "{") {
			params = append(params, i)
		}
	}
	return segments, params
}

// globexPath substitutes into the route's parameters the ids of globex's objects of their
// kinds; ok is false (and the test fails) when a parameter's kind has no globex object.
func (w *isoWorld) globexPath(t *testing.T, rt httpapi.Route) (string, string, bool) {
	t.Helper()
	segs, params := pathParams(rt.Path)
	kind := ""
	for _, i := range params {
		k := ""
		if i > 0 {
			k = kindOfSegment[segs[i-1]]
		}
		if k == "" || len(w.objs[k]) == 0 {
			t.Errorf("route %s %s: parameter %s has no known kind with a globex object: add its kind to kindOfSegment and an object to newIsoWorld",
				rt.Method, rt.Path, segs[i])
			return "", "", false
		}
		if kind == "" {
			kind = k
		}
		segs[i] = fmt.Sprint(w.objs[k][0])
	}
	path := "/" + strings.Join(segs, "/")
	if strings.HasSuffix(rt.Path, "/") {
		path += "/"
	}
	return path, kind, true
}

// actionOf is the segment after the last parameter: "sync" in /api/devices/{id}/sync/.
func actionOf(path string) string {
	segs, params := pathParams(path)
	if len(params) == 0 || params[len(params)-1] == len(segs)-1 {
		return ""
	}
	return segs[len(segs)-1]
}

// plausibleBody is a body that would succeed on an object of the caller's own: a refusal
// must come from the object, never from the body.
func (w *isoWorld) plausibleBody(rt httpapi.Route, kind string) string {
	if rt.Method != "POST" && rt.Method != "PATCH" && rt.Method != "PUT" {
		return ""
	}
	switch actionOf(rt.Path) {
	case "sync", "readiness":
		return `{"dry_run":true}`
	case "upgrade":
		return fmt.Sprintf(`{"image":%d,"dry_run":false,"confirm":true}`, w.img)
	case "config":
		return `{"config":"hostname pwned","dry_run":false}`
	case "enable", "disable", "cancel":
		return ""
	case "":
	default:
		return `{}`
	}
	switch kind {
	case kDevice:
		return `{"name":"pwned","address":"192.0.2.200","port":2222,"enabled":false,"device_group":null}`
	case kDeviceGroup:
		return `{"name":"pwned","description":"pwned"}`
	case kRole:
		return `{"name":"pwned","permissions":["upgrade_device_firmware"]}`
	case kCredential:
		return `{"name":"pwned","password":"pwned-password"}`
	case kMembership:
		return `{"role":"admin","permissions":["view_device"]}`
	case kAuthGroup:
		return fmt.Sprintf(`{"name":"pwned","users":[%d]}`, w.ids["admin"])
	case kBundle:
		return `{"name":"pwned","permissions":["view_device","delete_device"]}`
	case kUser:
		return `{"email":"pwned@acme.example","is_active":false,"password":"a brand new password"}`
	case kSchedule:
		return `{"name":"pwned","cron":"* * * * *","enabled":true}`
	case kComplianceRule:
		return `{"name":"pwned","kind":"regex_match","pattern":".","severity":"low"}`
	case kFirmwareImage:
		return `{"golden":true,"model":"C9300-48P"}`
	}
	return `{}`
}

// extraQuery is the query a route needs besides its path (the access explainer's user).
func (w *isoWorld) extraQuery(rt httpapi.Route) string {
	if actionOf(rt.Path) == "access" {
		return fmt.Sprintf("?user=%d", w.gxUser)
	}
	return ""
}

// isBulkAction reports whether rt is a bulk custom action: POST /api/devices/<action>/.
func isBulkAction(rt httpapi.Route) bool {
	segs, params := pathParams(rt.Path)
	return rt.Method == "POST" && len(params) == 0 && len(segs) == 3 && segs[0] == "api" && segs[1] == "devices" &&
		!isImport(rt)
}

// isImport: the device import is checked on its own (checkChangeRefs), with its query string.
func isImport(rt httpapi.Route) bool { return rt.Path == "/api/devices/import/" }

func TestTenantIsolationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newIsoWorld(t, newEnv(t, db))
		routes := w.api.Routes()
		var idRoutes, lists, creates, bulks, sockets int
		for _, rt := range routes {
			_, params := pathParams(rt.Path)
			switch {
			case isSocket(rt):
				sockets++
			case len(params) > 0:
				idRoutes++
			case rt.Method == "GET":
				lists++
			case isBulkAction(rt):
				bulks++
			case rt.Method == "POST" || rt.Method == "PUT" || rt.Method == "PATCH":
				creates++
			}
		}
		if idRoutes < 30 || lists < 15 || bulks < 4 || sockets != 1 {
			t.Fatalf("the router lists only %d id routes, %d lists, %d bulk actions, %d sockets", idRoutes, lists, bulks, sockets)
		}

		// Lists first, while the callers' own audit trail holds nothing about globex.
		t.Run("lists", func(t *testing.T) { w.checkLists(t, routes) })
		t.Run("objects by id", func(t *testing.T) { w.checkIDRoutes(t, routes) })
		t.Run("references in create bodies", func(t *testing.T) { w.checkCreates(t, routes) })
		t.Run("references in change bodies", func(t *testing.T) { w.checkChangeRefs(t) })
		t.Run("bulk actions", func(t *testing.T) { w.checkBulk(t, routes) })
		t.Run("audit log", func(t *testing.T) { w.checkAuditLog(t) })
		t.Run("live updates", func(t *testing.T) { w.checkLive(t) })

		// Last, the whole run: no answer to anyone outside globex carried globex's data.
		if len(w.bodies) < (idRoutes+lists)*len(w.callers) {
			t.Fatalf("only %d responses recorded", len(w.bodies))
		}
		for i, b := range w.bodies {
			w.noMarkers(t, fmt.Sprintf("response %d of the run", i), b)
		}
		t.Logf("%d routes (%d by id, %d lists, %d creates, %d bulk actions) × %d callers; %d requests",
			len(routes), idRoutes, lists, creates, bulks, len(w.callers), len(w.bodies))
	})
}

// checkLists: every list answers 200 without globex's objects; filtered by a globex id it
// answers 404, an empty list, or (a handler without that filter) the unfiltered list.
func (w *isoWorld) checkLists(t *testing.T, routes []httpapi.Route) {
	filters := []string{
		fmt.Sprintf("customer=%d", w.globex),
		fmt.Sprintf("device_group=%d", w.gx),
		fmt.Sprintf("user=%d", w.gxUser),
		fmt.Sprintf("actor=%d", w.ids["globexadm"]),
		fmt.Sprintf("object_type=device&object_id=%d", w.g1),
		fmt.Sprintf("role=%d", w.gxRole),
		fmt.Sprintf("group=%d", w.gxGroup),
	}
	for _, rt := range routes {
		if _, params := pathParams(rt.Path); rt.Method != "GET" || len(params) > 0 || isSocket(rt) {
			continue
		}
		segs, _ := pathParams(rt.Path)
		kind := kindOfSegment[segs[len(segs)-1]]
		for _, caller := range w.callers {
			base := w.req(t, caller, "GET", rt.Path+"?limit=1000", "")
			if base.status != 200 {
				t.Errorf("GET %s as %s: %d %s", rt.Path, caller, base.status, base.raw)
				continue
			}
			w.noGlobexObjects(t, "GET "+rt.Path+" as "+caller, kind, base.raw)
			for _, f := range filters {
				r := w.req(t, caller, "GET", rt.Path+"?limit=1000&"+f, "")
				what := fmt.Sprintf("GET %s?%s as %s", rt.Path, f, caller)
				switch {
				case r.status == 404:
					wantError(t, r, 404, "not_found")
				case r.status != 200:
					t.Errorf("%s: %d %s", what, r.status, r.raw)
				case r.body["count"] != nil && r.body["count"] != 0.0 && !sameResults(base, r):
					t.Errorf("%s: %s; want an empty list (or the filter ignored)", what, r.raw)
				}
				w.noGlobexObjects(t, what, kind, r.raw)
			}
			for _, format := range []string{"jsonl", "csv"} {
				r := w.req(t, caller, "GET", rt.Path+"?format="+format+"&customer="+fmt.Sprint(w.globex), "")
				if r.status != 200 && r.status != 400 {
					t.Errorf("GET %s?format=%s as %s: %d %s", rt.Path, format, caller, r.status, r.raw)
				}
			}
			w.checkNewAudit(t, "GET "+rt.Path+" as "+caller, caller, false)
		}
	}
}

// sameResults reports whether two list answers hold the same results.
func sameResults(a, b result) bool {
	x, _ := json.Marshal(a.body["results"])
	y, _ := json.Marshal(b.body["results"])
	return a.body["count"] == b.body["count"] && string(x) == string(y)
}

// noGlobexObjects walks a JSON answer: no object may belong to globex ("customer" is its
// id) or be one of globex's objects of the list's kind.
func (w *isoWorld) noGlobexObjects(t *testing.T, what, kind, raw string) {
	t.Helper()
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return // not JSON: the marker check covers it
	}
	forbidden := map[float64]bool{}
	for _, id := range w.objs[kind] {
		forbidden[float64(id)] = true
	}
	var walk func(v any, top bool)
	walk = func(v any, top bool) {
		switch x := v.(type) {
		case map[string]any:
			if c, ok := x["customer"].(float64); ok && c == float64(w.globex) {
				t.Errorf("%s: an object of globex's: %v", what, x)
			}
			if id, ok := x["id"].(float64); ok && top && forbidden[id] {
				t.Errorf("%s: globex's %s %v listed", what, kind, id)
			}
			for k, y := range x {
				walk(y, k == "results")
			}
		case []any:
			for _, y := range x {
				walk(y, top)
			}
		}
	}
	walk(v, false)
}

// checkIDRoutes: every route with an id, on globex's object of its kind, is a 404 that
// writes nothing, for each caller.
func (w *isoWorld) checkIDRoutes(t *testing.T, routes []httpapi.Route) {
	for _, rt := range routes {
		if _, params := pathParams(rt.Path); len(params) == 0 {
			continue
		}
		if isSignedDownload(rt) {
			w.checkSignedDownload(t, rt)
			continue
		}
		path, kind, ok := w.globexPath(t, rt)
		if !ok {
			continue
		}
		body := w.plausibleBody(rt, kind)
		for _, caller := range w.callers {
			w.refused(t, caller, rt.Method, path+w.extraQuery(rt), body, 404, "not_found")
		}
		// The same with ?dry_run=true where a handler takes it: still nothing.
		if rt.Method == "DELETE" {
			w.refused(t, "admin", rt.Method, path+"?dry_run=true", "", 404, "not_found")
		}
	}
}

// refCase is a body referencing globex's objects, and the answer each caller must get.
type refCase struct {
	name   string
	body   string
	ctype  string         // the body's Content-Type when not JSON
	want   map[string]int // caller → status
	field  string         // the fields entry naming the reference, in the admin's answer
	reason string         // why a status other than 404 is right
}

func all(status int) map[string]int {
	return map[string]int{"admin": status, "viewer": status, "outsider": status}
}

// createRefs are, per create route, bodies referencing globex's objects. A create route
// missing here fails the test: each new one must say what a reference to another customer
// does.
func (w *isoWorld) createRefs() map[string][]refCase {
	A, G := w.acme, w.globex
	dev := `"name":"pwned","address":"192.0.2.200","platform":"cisco_iosxe"`
	adminOnly := map[string]int{"admin": 404, "viewer": 403, "outsider": 404}
	gxImage, ctype := multipartBody(imageForm(G, "pwned.bin", []byte("pwned"))...)
	globalImage, _ := multipartBody(imageForm(0, "pwned.bin", []byte("pwned"))...)
	return map[string][]refCase{
		"/api/firmware-images/": {
			{name: "customer globex", body: gxImage, ctype: ctype, want: all(404), field: "customer"},
			{name: "a global image", body: globalImage, ctype: ctype, want: all(403),
				reason: "an upload without a customer is a global image, which only staff upload"},
		},
		"/api/devices/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,%s}`, G, w.gx, dev), want: all(404), field: "customer"},
			{name: "globex group in acme", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,%s}`, A, w.gx, dev), want: all(404), field: "device_group"},
			{name: "globex credential", body: fmt.Sprintf(`{"customer":%d,"device_group":%d,"credential":%d,%s}`, A, w.core, w.gxCred, dev), want: all(404), field: "credential"},
		},
		"/api/device-groups/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned"}`, G), want: all(404), field: "customer"},
		},
		"/api/device-group-roles/": {
			{name: "globex group", body: fmt.Sprintf(`{"device_group":%d,"name":"pwned","permissions":["sync_device_inventory"]}`, w.gx), want: all(404), field: "device_group"},
		},
		"/api/user-device-group-roles/": {
			{name: "globex role", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["viewer"], w.gxRole), want: all(404), field: "role"},
			// Roles are invisible to non-admins, so the viewer's 404 is about the acme role.
			{name: "globex user", body: fmt.Sprintf(`{"user":%d,"role":%d}`, w.gxUser, w.syncRole), want: all(404), field: "user"},
		},
		"/api/group-device-group-roles/": {
			{name: "globex role", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.acmeGroup, w.gxRole), want: all(404), field: "role"},
			{name: "globex group", body: fmt.Sprintf(`{"group":%d,"role":%d}`, w.gxGroup, w.syncRole), want: all(404), field: "group"},
		},
		"/api/credentials/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","username":"pwned","password":"pwned-password"}`, G), want: all(404), field: "customer"},
		},
		"/api/users/": {
			{name: "membership of globex", body: fmt.Sprintf(`{"username":"pwned","password":"a long enough password","customer":%d,"role":"admin"}`, G), want: all(404), field: "customer"},
		},
		"/api/memberships/": {
			{name: "customer globex", body: fmt.Sprintf(`{"user":%d,"customer":%d,"role":"admin"}`, w.ids["viewer"], G), want: all(404), field: "customer"},
			// The viewer sees acme but may not administer it: 403 comes before the reference.
			{name: "globex user", body: fmt.Sprintf(`{"user":%d,"customer":%d,"role":"admin"}`, w.gxUser, A), want: adminOnly, field: "user"},
			{name: "globex bundle", body: fmt.Sprintf(`{"user":%d,"customer":%d,"role":"viewer","bundles":[%d]}`, w.ids["viewer"], A, w.gxBundle), want: adminOnly, field: "bundles"},
		},
		"/api/groups/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned"}`, G), want: all(404), field: "customer"},
			{name: "globex bundle", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","bundles":[%d]}`, A, w.gxBundle), want: adminOnly, field: "bundles"},
			{name: "globex user", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","users":[%d]}`, A, w.gxUser),
				want: map[string]int{"admin": 400, "viewer": 403, "outsider": 404}, field: "users",
				reason: "GroupService validates users as members of the group's customer (400 naming the ids that are not), the same answer for a user of another customer and for no user at all: it tells nothing"},
		},
		"/api/permission-bundles/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","permissions":["view_device"]}`, G), want: all(404), field: "customer"},
		},
		"/api/customers/": {
			{name: "no reference: staff only", body: `{"name":"pwned","slug":"pwned"}`, want: all(403),
				reason: "a customer body references nothing; only staff create customers"},
		},
		"/api/schedules/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","kind":"sync","cron":"* * * * *","device_group":%d}`, G, w.gx), want: all(404), field: "customer"},
			{name: "globex group in acme", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","kind":"sync","cron":"* * * * *","device_group":%d}`, A, w.gx), want: all(404), field: "device_group"},
			{name: "globex device in acme", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","kind":"sync","cron":"* * * * *","devices":[%d]}`, A, w.g1), want: all(404), field: "devices"},
		},
		"/api/compliance-rules/": {
			{name: "customer globex", body: fmt.Sprintf(`{"customer":%d,"name":"pwned","kind":"must_contain","pattern":"x","severity":"low"}`, G), want: all(404), field: "customer"},
		},
		"/api/compliance/run/": {
			{name: "globex group", body: fmt.Sprintf(`{"device_group":%d}`, w.gx), want: all(404), field: "device_group"},
			{name: "globex device", body: fmt.Sprintf(`{"devices":[%d]}`, w.g1), want: all(404),
				reason: "like a bulk action: 404 naming the devices the caller cannot see"},
		},
		"/api/tokens/": {
			{name: "a token for globex's user", body: fmt.Sprintf(`{"name":"pwned","user":%d}`, w.gxUser), want: all(400), field: "user",
				reason: "tokens are always the caller's own: a user field is unknown"},
		},
	}
}

// checkCreates: every create route, with bodies referencing globex's objects.
func (w *isoWorld) checkCreates(t *testing.T, routes []httpapi.Route) {
	refs := w.createRefs()
	for _, rt := range routes {
		_, params := pathParams(rt.Path)
		if rt.Method != "POST" && rt.Method != "PUT" || len(params) > 0 || isBulkAction(rt) || isImport(rt) || rt.Path == "/api/auth/token/" {
			continue
		}
		cases, ok := refs[rt.Path]
		if !ok || len(cases) == 0 {
			t.Errorf("create route %s %s has no reference cases: add what a body referencing globex's objects must answer", rt.Method, rt.Path)
			continue
		}
		for _, c := range cases {
			for _, caller := range w.callers {
				want := c.want[caller]
				code := map[int]string{400: "invalid", 403: "forbidden", 404: "not_found"}[want]
				var hdr []string
				if c.ctype != "" {
					hdr = []string{"Content-Type", c.ctype}
				}
				r := w.refused(t, caller, rt.Method, rt.Path, c.body, want, code, hdr...)
				if caller == "admin" && c.field != "" {
					if f, _ := r.body["fields"].(map[string]any); f[c.field] == nil {
						t.Errorf("POST %s (%s) as admin: %s; want fields naming %q", rt.Path, c.name, r.raw, c.field)
					}
				}
			}
		}
	}
}

// checkChangeRefs: changes to acme's own objects that reference globex's.
func (w *isoWorld) checkChangeRefs(t *testing.T) {
	viewerMembership := int64(0)
	for _, m := range w.list(t, w.root, fmt.Sprintf("/api/memberships/?user=%d&customer=%d", w.ids["viewer"], w.acme)) {
		viewerMembership = idOf(m)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"PATCH", fmt.Sprintf("/api/devices/%d/", w.r1), fmt.Sprintf(`{"device_group":%d}`, w.gx), 404, "device_group"},
		{"PATCH", fmt.Sprintf("/api/devices/%d/", w.r1), fmt.Sprintf(`{"credential":%d}`, w.gxCred), 404, "credential"},
		// "Cannot move to another customer" is the answer for any customer: it tells nothing.
		{"PATCH", fmt.Sprintf("/api/devices/%d/", w.r1), fmt.Sprintf(`{"customer":%d}`, w.globex), 400, "customer"},
		{"PATCH", fmt.Sprintf("/api/device-groups/%d/", w.core), fmt.Sprintf(`{"customer":%d}`, w.globex), 400, "customer"},
		{"PATCH", fmt.Sprintf("/api/device-group-roles/%d/", w.syncRole), fmt.Sprintf(`{"device_group":%d}`, w.gx), 400, "device_group"},
		{"PATCH", fmt.Sprintf("/api/memberships/%d/", viewerMembership), fmt.Sprintf(`{"bundles":[%d]}`, w.gxBundle), 404, "bundles"},
		{"PATCH", fmt.Sprintf("/api/groups/%d/", w.acmeGroup), fmt.Sprintf(`{"bundles":[%d]}`, w.gxBundle), 404, "bundles"},
		{"PATCH", fmt.Sprintf("/api/groups/%d/", w.acmeGroup), fmt.Sprintf(`{"users":[%d]}`, w.gxUser), 400, "users"},
		{"GET", fmt.Sprintf("/api/devices/%d/access/?user=%d", w.r1, w.gxUser), "", 404, ""},
		// Imports: into globex's customer; into acme's naming globex's group or credential.
		{"POST", fmt.Sprintf("/api/devices/import/?customer=%d", w.globex), `[{"name":"pwned","address":"192.0.2.9","platform":"cisco_iosxe"}]`, 404, ""},
		{"POST", fmt.Sprintf("/api/devices/import/?customer=%d", w.acme), `[{"name":"pwned","address":"192.0.2.9","platform":"cisco_iosxe","device_group":"globex-gx"}]`, 400, ""},
		{"POST", fmt.Sprintf("/api/devices/import/?customer=%d", w.acme), `[{"name":"pwned","address":"192.0.2.9","platform":"cisco_iosxe","device_group":"core","credential":"globex-cred"}]`, 400, ""},
	} {
		code := map[int]string{400: "invalid", 404: "not_found"}[c.status]
		r := w.refused(t, "admin", c.method, c.path, c.body, c.status, code)
		if f, _ := r.body["fields"].(map[string]any); c.field != "" && f[c.field] == nil {
			t.Errorf("%s %s %s: %s; want fields naming %q", c.method, c.path, c.body, r.raw, c.field)
		}
	}
}

// checkBulk: each bulk action with globex's device among acme's is a 404 naming exactly the
// devices the caller cannot see, and queues nothing.
func (w *isoWorld) checkBulk(t *testing.T, routes []httpapi.Route) {
	ctx := context.Background()
	unseen := map[string][]int64{"admin": {w.g1}, "viewer": {w.g1}, "outsider": {w.r1, w.g1}}
	for _, rt := range routes {
		if !isBulkAction(rt) {
			continue
		}
		body := fmt.Sprintf(`{"devices":[%d,%d],"dry_run":false,"confirm":true}`, w.r1, w.g1)
		switch rt.Path {
		case "/api/devices/upgrade/":
			body = fmt.Sprintf(`{"devices":[%d,%d],"image":%d,"dry_run":false,"confirm":true}`, w.r1, w.g1, w.img)
		case "/api/devices/readiness/", "/api/devices/sync/":
			body = fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.g1)
		}
		for _, caller := range w.callers {
			jobs, err := w.db.Read().CountJobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r := w.refused(t, caller, rt.Method, rt.Path, body, 404, "not_found")
			got, _ := json.Marshal(r.body["devices"])
			want, _ := json.Marshal(unseen[caller])
			if string(got) != string(want) {
				t.Errorf("POST %s as %s: devices %s; want %s", rt.Path, caller, got, want)
			}
			if caller != "outsider" && strings.Contains(fmt.Sprint(r.body["error"]), fmt.Sprint(w.r1)) {
				t.Errorf("POST %s as %s names the visible device: %s", rt.Path, caller, r.raw)
			}
			if after, _ := w.db.Read().CountJobs(ctx); after != jobs {
				t.Errorf("POST %s as %s queued %d jobs", rt.Path, caller, after-jobs)
			}
		}
	}
}

// checkAuditLog: no caller's audit log shows a record of globex's. Their own denied attempts
// naming globex's customer (a create with "customer": globex) are theirs to see.
func (w *isoWorld) checkAuditLog(t *testing.T) {
	for _, caller := range w.callers {
		var recs []store.Activity
		r := w.req(t, caller, "GET", "/api/audit-log/?limit=1000", "")
		if r.status != 200 {
			t.Fatalf("audit log as %s: %d %s", caller, r.status, r.raw)
		}
		var page struct{ Results []store.Activity }
		if err := json.Unmarshal([]byte(r.raw), &page); err != nil {
			t.Fatal(err)
		}
		recs = page.Results
		jl := w.req(t, caller, "GET", "/api/audit-log/?format=jsonl", "")
		if jl.status != 200 {
			t.Fatalf("audit log jsonl as %s: %d %s", caller, jl.status, jl.raw)
		}
		lines := strings.Split(strings.TrimSpace(jl.raw), "\n")
		if jl.raw == "" {
			lines = nil
		}
		if len(lines) != len(recs) {
			t.Errorf("audit log as %s: %d records in JSON, %d in JSONL", caller, len(recs), len(lines))
		}
		for _, line := range lines {
			var a store.Activity
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("jsonl line %q: %v", line, err)
			}
			recs = append(recs, a)
		}
		ownDenied, actions := 0, map[string]bool{}
		for _, a := range recs {
			own := a.ActorID != nil && *a.ActorID == w.callerID[caller]
			if a.CustomerID != nil && *a.CustomerID == w.globex {
				t.Errorf("audit log as %s shows globex's record %d %s by %s", caller, a.ID, a.Action, a.ActorUsername)
				ownDenied++
				actions[a.Action] = true
			}
			if !own && caller != "admin" {
				t.Errorf("audit log as %s shows record %d of %s", caller, a.ID, a.ActorUsername)
			}
		}
		t.Logf("%s: %d audit records visible, %d naming globex's customer (%v)",
			caller, len(recs)/2, ownDenied/2, slices.Sorted(maps.Keys(actions)))
	}
}
