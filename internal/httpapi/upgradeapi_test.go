package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestUpgradePlanAndJobShape: an unconfirmed upgrade answers 400 with the plan (devices with
// their versions, the image, the steps) and queues nothing; the job-shaping fields are
// validated and recorded in the job's parameters.
func TestUpgradePlanAndJobShape(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		img := w.image(t)
		r := w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d,%d],"image":%d}`, w.r1, w.r2, img), as(w.root)...)
		plan, _ := r.body["plan"].(map[string]any)
		if r.status != 400 || plan == nil || len(plan["devices"].([]any)) != 2 || len(plan["steps"].([]any)) != len(webnet.UpgradeSteps) ||
			plan["image"].(map[string]any)["filename"] != "global-ios.bin" {
			t.Fatalf("unconfirmed: %d %s", r.status, r.raw)
		}
		for _, c := range []struct{ path, body, field string }{
			{"/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true,"concurrency":0}`, w.r1, img), "concurrency"},
			{"/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true,"concurrency":257}`, w.r1, img), "concurrency"},
			{"/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true,"max_failures":0}`, w.r1, img), "max_failures"},
			{"/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"confirm":true,"reload_timeout":5}`, w.r1, img), "reload_timeout"},
			{"/api/devices/sync/", fmt.Sprintf(`{"devices":[%d],"reload_timeout":60}`, w.r1), "reload_timeout"},
		} {
			r := w.do(t, "POST", c.path, c.body, as(w.root)...)
			if f, _ := r.body["fields"].(map[string]any); r.status != 400 || f[c.field] == nil {
				t.Errorf("%s %s: %d %s", c.path, c.body, r.status, r.raw)
			}
		}
		if n, _ := db.Read().CountJobs(t.Context()); n != 0 {
			t.Fatalf("refused requests queued %d jobs", n)
		}
		r = w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d,%d],"image":%d,"confirm":true,"concurrency":20,"max_failures":2,"reload_timeout":600}`,
			w.r1, w.r2, img), as(w.root)...)
		if r.status != 202 {
			t.Fatalf("confirmed: %d %s", r.status, r.raw)
		}
		params := r.body["job"].(map[string]any)["params"].(map[string]any)
		if params["concurrency"] != float64(20) || params["max_failures"] != float64(2) || params["reload_timeout"] != float64(600) ||
			params["image"] != float64(img) {
			t.Fatalf("job params: %v", params)
		}
	})
}

// TestDeviceReadinessEndpoint: the latest readiness of a device is readable by whoever sees
// the device, 404 before any check and for devices one cannot see.
func TestDeviceReadinessEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		path := fmt.Sprintf("/api/devices/%d/readiness/", w.r1)
		if r := w.do(t, "GET", path, "", as(w.tokens["viewer"])...); r.status != 404 {
			t.Fatalf("never checked: %d %s", r.status, r.raw)
		}
		sys := service.WithSubject(context.Background(), service.System())
		checks := []webnet.ReadinessCheck{{Name: "reachable", Status: "pass", Reason: "ok"}, {Name: "flash", Status: "fail", Reason: "0 B free"}}
		if _, err := w.env.core.RecordReadiness(sys, w.r1, nil, nil, checks); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.core.RecordReadiness(service.WithSubject(context.Background(), &service.Subject{}), w.r1, nil, nil, checks); webnet.ErrorCode(err) != webnet.EUnauthenticated {
			t.Fatalf("a non-system subject recorded readiness: %v", err)
		}
		r := w.do(t, "GET", path, "", as(w.tokens["viewer"])...)
		if r.status != 200 || r.body["status"] != "fail" || len(r.body["checks"].([]any)) != 2 {
			t.Fatalf("viewer: %d %s", r.status, r.raw)
		}
		if at, err := time.Parse(time.RFC3339, r.body["checked_at"].(string)); err != nil || at.IsZero() {
			t.Fatalf("checked_at: %v", r.body["checked_at"])
		}
		if r := w.do(t, "GET", path, "", as(w.tokens["globexadm"])...); r.status != 404 {
			t.Fatalf("another customer's admin: %d %s", r.status, r.raw)
		}
	})
}
