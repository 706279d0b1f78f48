package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestAdminSchedulesWithParameters: schedules of readiness (with an image), upgrade (dry run
// only, image required) and configuration push (its lines) are made from the form, with each
// kind's parameters and only those; the service's refusals come back next to the form.
func TestAdminSchedulesWithParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sys := service.WithSubject(context.Background(), service.System())
		img, err := w.env.core.UploadFirmwareImage(sys, service.FirmwareUpload{Global: true, Platform: "cisco_iosxe", Version: "17.15.01",
			Filename: "cat9k_iosxe.17.15.01.SPA.bin", ContentLength: 3}, bytes.NewReader([]byte("abc")))
		if err != nil {
			t.Fatal(err)
		}
		c := w.client(t, "admin")
		base := func(name, kind string) url.Values {
			return url.Values{"customer": {fmt.Sprint(w.acme)}, "name": {name}, "kind": {kind}, "cron": {"0 3 * * *"},
				"device_group": {fmt.Sprint(w.core)}, "enabled": {"true"}, "image": {fmt.Sprint(img.ID)}, "config": {"ntp server 192.0.2.9\r\nntp server 192.0.2.10"}}
		}
		if body := page(t, w.env, c, "/admin/schedules", 200); !strings.Contains(body, "cat9k_iosxe.17.15.01.SPA.bin") {
			t.Fatalf("the image is not offered")
		}
		for _, step := range []struct {
			form   url.Values
			status int
			want   string
		}{
			{base("weekly readiness", "readiness"), 303, ""},
			{base("nightly sync", "sync"), 303, ""},
			{base("push ntp", "config_push"), 303, ""},
			{base("upgrade now", "upgrade"), 400, "dry"},
		} {
			status, body, _ := adminPost(t, w.env, c, "/admin/schedules", step.form)
			if status != step.status || !strings.Contains(body, step.want) {
				t.Fatalf("%v: %d %s", step.form, status, body)
			}
			if status != 303 {
				wellFormed(t, "schedule refused", body)
			}
		}
		dry := base("upgrade plan", "upgrade")
		dry.Set("dry_run", "true")
		if status, body, _ := adminPost(t, w.env, c, "/admin/schedules", dry); status != 303 {
			t.Fatalf("dry-run upgrade schedule: %d %s", status, body)
		}
		var list struct {
			Results []struct {
				Name   string          `json:"name"`
				Params json.RawMessage `json:"params"`
			} `json:"results"`
		}
		w.api(t, w.root, "GET", "/api/schedules/?limit=100", "", 200, &list)
		got := map[string]string{}
		for _, s := range list.Results {
			var p map[string]any
			_ = json.Unmarshal(s.Params, &p)
			got[s.Name] = fmt.Sprint(p)
		}
		want := map[string]string{
			"weekly readiness": fmt.Sprintf("map[image:%d]", img.ID),
			"nightly sync":     "map[]",
			"push ntp":         "map[config:ntp server 192.0.2.9\nntp server 192.0.2.10]",
			"upgrade plan":     fmt.Sprintf("map[image:%d]", img.ID),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("schedules' params:\n got %v\nwant %v", got, want)
		}
	})
}
