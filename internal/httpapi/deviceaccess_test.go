package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

func TestHostKeyTrustAndClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sys := service.WithSubject(context.Background(), service.System())
		core := w.env.core
		if k, err := core.TrustHostKey(sys, w.r1, "ssh-ed25519 AAAAfirst"); err != nil || k != "ssh-ed25519 AAAAfirst" {
			t.Fatalf("first use: %q %v", k, err)
		}
		// A second key does not replace the first: the caller sees the trusted one.
		if k, err := core.TrustHostKey(sys, w.r1, "ssh-ed25519 AAAAother"); err != nil || k != "ssh-ed25519 AAAAfirst" {
			t.Fatalf("second key: %q %v", k, err)
		}
		user := service.WithSubject(context.Background(), &service.Subject{User: &webnet.User{ID: w.ids["admin"], IsActive: true, IsSuperuser: true}})
		if _, err := core.TrustHostKey(user, w.r1, "x"); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("a user trusted a host key: %v", err)
		}
		path := fmt.Sprintf("/api/devices/%d/host-key/", w.r1)
		for user, want := range map[string]int{"viewer": 403, "operator": 403, "outsider": 404, "globexadm": 404} {
			if r := w.do(t, "DELETE", path, "", as(w.tokens[user])...); r.status != want {
				t.Errorf("%s clears: %d %s", user, r.status, r.raw)
			}
		}
		if k, _ := core.DeviceHostKey(sys, w.r1); k != "ssh-ed25519 AAAAfirst" {
			t.Fatalf("refused clears changed the key: %q", k)
		}
		if r := w.do(t, "DELETE", path, "", as(w.tokens["admin"])...); r.status != 204 {
			t.Fatalf("admin clears: %d %s", r.status, r.raw)
		}
		if k, err := core.TrustHostKey(sys, w.r1, "ssh-ed25519 AAAAnew"); err != nil || k != "ssh-ed25519 AAAAnew" {
			t.Fatalf("after the clear the next key is trusted: %q %v", k, err)
		}
		a := w.do(t, "GET", "/api/audit-log/?action=device.clear_host_key", "", as(w.root)...)
		if a.body["count"] != 3.0 { // admin's success, viewer's and operator's denials
			t.Fatalf("audit: %s", a.raw)
		}
	})
}
