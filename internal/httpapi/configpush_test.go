package httpapi_test

import (
	"fmt"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

const deniedPush = "You do not have permission to edit device configuration"

// TestConfigPushNeedsEditConfiguration: full CRUD, model-level (the "Device Manager" bundle
// and every other model permission) or on the device group (a role with every group code
// but edit_configuration), never allows a configuration push; the grant does, in either
// place. Every denial is audited.
func TestConfigPushNeedsEditConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		body := `{"config":"interface Loopback1\n description x","dry_run":true}`
		// No worker runs: an accepted push keeps its device busy, so each success uses its own.
		try := func(device int64, want int, what string) {
			t.Helper()
			before := w.maxAuditID(t)
			r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/config/", device), body, as(w.tokens["member"])...)
			if r.status != want {
				t.Fatalf("%s: %d %s", what, r.status, r.raw)
			}
			if want == 403 {
				if r.body["error"] != deniedPush {
					t.Fatalf("%s: error %q", what, r.body["error"])
				}
				if recs := w.newAudit(t, before); len(recs) != 1 || recs[0].Result != "denied" || recs[0].Action != "device.config_push" {
					t.Fatalf("%s: audit %+v", what, recs)
				}
			}
			if want == 202 && r.body["job"].(map[string]any)["dry_run"] != true {
				t.Fatalf("%s: the job is not a dry run: %s", what, r.raw)
			}
		}
		m := w.membershipOf(t, "member", w.acme)
		patch := func(path, body string) {
			t.Helper()
			if r := w.do(t, "PATCH", path, body, as(w.root)...); r.status != 200 {
				t.Fatalf("PATCH %s: %d %s", path, r.status, r.raw)
			}
		}
		// Model level: the CRUD bundle and every other model permission but the grant.
		patch(fmt.Sprintf("/api/memberships/%d/", m), fmt.Sprintf(
			`{"bundles":[%d],"permissions":["change_device","enable_device","view_configuration","view_backups","sync_device_inventory","check_device_readiness","upgrade_device_firmware"]}`,
			w.bundleID(t, "Device Manager")))
		try(w.r1, 403, "model-level CRUD")
		patch(fmt.Sprintf("/api/memberships/%d/", m), `{"permissions":["edit_configuration"]}`)
		try(w.r1, 202, "model-level edit_configuration")

		// Group level: a role on core with every group code but the grant.
		patch(fmt.Sprintf("/api/memberships/%d/", m), `{"bundles":[],"permissions":[]}`)
		role := idOf(w.post(t, w.root, "/api/device-group-roles/", fmt.Sprintf(
			`{"device_group":%d,"name":"crud","permissions":["view_configuration","view_backups","add_device","delete_device","enable_device","sync_device_inventory","check_device_readiness","upgrade_device_firmware"]}`, w.core)))
		w.post(t, w.root, "/api/user-device-group-roles/", fmt.Sprintf(`{"user":%d,"role":%d}`, w.ids["member"], role))
		try(w.r2, 403, "group-level CRUD")
		patch(fmt.Sprintf("/api/device-group-roles/%d/", role), `{"permissions":["view_configuration","edit_configuration"]}`)
		try(w.r2, 202, "group-level edit_configuration")
		// The grant on core reaches no device of edge.
		if r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/config/", w.e1), body, as(w.tokens["member"])...); r.status != 404 {
			t.Fatalf("a device of another group: %d %s", r.status, r.raw)
		}
	})
}
