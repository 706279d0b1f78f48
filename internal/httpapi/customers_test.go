package httpapi_test

import (
	"fmt"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestCustomerRename: staff rename a customer (audited); its own admin may not (403,
// audited as denied), another customer's admin does not see it (404); bad fields and a
// taken slug are refused and change nothing.
func TestCustomerRename(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		path := fmt.Sprintf("/api/customers/%d/", w.acme)
		if r := w.do(t, "PATCH", path, `{"name":"Acme Corp"}`, as(w.tokens["admin"])...); r.status != 403 {
			t.Fatalf("acme's admin: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "PATCH", path, `{"name":"Acme Corp"}`, as(w.tokens["globexadm"])...); r.status != 404 {
			t.Fatalf("globex's admin: %d %s", r.status, r.raw)
		}
		for _, body := range []string{`{"slug":"Bad Slug"}`, `{"name":""}`, `{"slug":"globex"}`, `{"nope":1}`} {
			r := w.do(t, "PATCH", path, body, as(w.root)...)
			if r.status != 400 && r.status != 409 {
				t.Errorf("%s: %d %s", body, r.status, r.raw)
			}
		}
		r := w.do(t, "PATCH", path, `{"name":"Acme Corp","slug":"acme-corp"}`, as(w.tokens["staff"])...)
		if r.status != 200 || r.body["name"] != "Acme Corp" || r.body["slug"] != "acme-corp" {
			t.Fatalf("staff rename: %d %s", r.status, r.raw)
		}
		a := w.do(t, "GET", "/api/audit-log/?action=customer.update", "", as(w.root)...)
		results, _ := a.body["results"].([]any)
		outcomes := map[string]int{}
		for _, x := range results {
			outcomes[x.(map[string]any)["result"].(string)]++
		}
		if outcomes["success"] != 1 || outcomes["denied"] != 1 {
			t.Fatalf("audit of customer.update: %v (%s)", outcomes, a.raw)
		}
	})
}
