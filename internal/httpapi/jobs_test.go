package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

func TestJobsVisibilityLogsAndCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		start := func(user, path, body string) int64 {
			r := w.do(t, "POST", path, body, as(w.tokens[user])...)
			if r.status != 202 {
				t.Fatalf("%s %s: %d %s", user, path, r.status, r.raw)
			}
			return idOf(r.body["job"].(map[string]any))
		}
		j1 := start("operator", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d]}`, w.r1, w.e1))
		j2 := start("syncer", fmt.Sprintf("/api/devices/%d/sync/", w.r2), "")
		j3 := start("admin", fmt.Sprintf("/api/devices/%d/readiness/", w.u1), "")
		// A device line about e1 and one about r1.
		w.tx(t, func(ctx context.Context, tx *store.Tx) error {
			for _, dev := range []int64{w.e1, w.r1} {
				d := dev
				if err := tx.AppendJobLog(ctx, j1, &webnet.JobLogLine{At: time.Now().UTC(), Level: "info", DeviceID: &d, Message: fmt.Sprint("about ", d)}); err != nil {
					return err
				}
			}
			return nil
		})
		list := func(user, query string) map[int64]bool {
			t.Helper()
			r := w.do(t, "GET", "/api/jobs/"+query, "", as(w.tokens[user])...)
			if r.status != 200 {
				t.Fatalf("jobs as %s: %d %s", user, r.status, r.raw)
			}
			out := map[int64]bool{}
			for _, j := range r.body["results"].([]any) {
				jm := j.(map[string]any)
				if _, has := jm["targets"]; has {
					t.Fatalf("list shows targets: %v", jm)
				}
				out[idOf(jm)] = true
			}
			return out
		}
		w.tokens["root"] = w.root
		for user, want := range map[string][]int64{
			"root": {j1, j2, j3}, "staff": {j1, j2, j3}, "admin": {j1, j2, j3},
			"viewer": {j1, j2}, "operator": {j1, j2}, "syncer": {j1, j2}, "grouped": {j1, j2},
			"member": {}, "globexadm": {}, "outsider": {},
		} {
			got := list(user, "")
			if len(got) != len(want) {
				t.Errorf("%s sees jobs %v, want %v", user, got, want)
			}
			for _, id := range want {
				if !got[id] {
					t.Errorf("%s does not see job %d", user, id)
				}
			}
		}
		// Detail: only visible targets; logs: only lines about visible devices.
		r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/", j1), "", as(w.tokens["grouped"])...)
		if r.status != 200 || len(r.body["targets"].([]any)) != 1 {
			t.Fatalf("grouped sees j1 as %d %s", r.status, r.raw)
		}
		logs := func(user string, after int) []any {
			t.Helper()
			r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/logs/?after=%d", j1, after), "", as(w.tokens[user])...)
			if r.status != 200 {
				t.Fatalf("logs as %s: %d %s", user, r.status, r.raw)
			}
			return r.body["results"].([]any)
		}
		if n := len(logs("viewer", 0)); n != 3 {
			t.Errorf("viewer reads %d lines of j1, want 3", n)
		}
		if got := logs("grouped", 0); len(got) != 2 || fmt.Sprint(got[1].(map[string]any)["message"]) != fmt.Sprint("about ", w.r1) {
			t.Errorf("grouped reads %v; the line about e1 must be left out", got)
		}
		if n := len(logs("viewer", 2)); n != 1 {
			t.Errorf("after=2: %d lines", n)
		}
		for _, user := range []string{"globexadm", "member"} {
			if r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/logs/", j1), "", as(w.tokens[user])...); r.status != 404 {
				t.Errorf("logs of j1 as %s: %d", user, r.status)
			}
		}
		// Filters.
		if got := list("admin", "?kind=readiness"); len(got) != 1 || !got[j3] {
			t.Errorf("kind filter: %v", got)
		}
		if got := list("admin", fmt.Sprintf("?device=%d", w.e1)); len(got) != 1 || !got[j1] {
			t.Errorf("device filter: %v", got)
		}
		if got := list("admin", fmt.Sprintf("?requested_by=%d", w.ids["syncer"])); len(got) != 1 || !got[j2] {
			t.Errorf("requested_by filter: %v", got)
		}
		wantError(t, w.do(t, "GET", "/api/jobs/?status=done", "", as(w.tokens["admin"])...), 400, "invalid")
		// Cancel: the requester or an admin; others 403 (audited); a finished job 409.
		r = w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", j1), "", as(w.tokens["viewer"])...)
		wantError(t, r, 403, "forbidden")
		r = w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", j1), "", as(w.tokens["operator"])...)
		if r.status != 200 || r.body["status"] != "cancelled" || r.body["finished_at"] == nil {
			t.Fatalf("requester cancels: %d %s", r.status, r.raw)
		}
		for _, tg := range r.body["targets"].([]any) {
			if tg.(map[string]any)["status"] != "cancelled" {
				t.Fatalf("target not cancelled: %v", tg)
			}
		}
		wantError(t, w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", j1), "", as(w.tokens["operator"])...), 409, "conflict")
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", j2), "", as(w.tokens["admin"])...); r.status != 200 {
			t.Fatalf("admin cancels: %d %s", r.status, r.raw)
		}
		if got := list("admin", "?status=cancelled"); len(got) != 2 {
			t.Errorf("status filter: %v", got)
		}
		// finished_after: the two just cancelled finished after an hour ago, none after an hour ahead.
		hourAgo, hourAhead := w.clock.Now().Add(-time.Hour).Format(time.RFC3339), w.clock.Now().Add(time.Hour).Format(time.RFC3339)
		if got := list("admin", "?finished_after="+hourAgo); len(got) != 2 || !got[j1] || !got[j2] {
			t.Errorf("finished_after an hour ago: %v", got)
		}
		if got := list("admin", "?finished_after="+hourAhead); len(got) != 0 {
			t.Errorf("finished_after an hour ahead: %v", got)
		}
		wantError(t, w.do(t, "GET", "/api/jobs/?finished_after=yesterday", "", as(w.tokens["admin"])...), 400, "invalid")
		acts, _, _ := db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1", Action: "job.cancel"}, 10, 0)
		results := map[string]int{}
		for _, a := range acts {
			results[a.Result]++
		}
		if results["success"] != 2 || results["denied"] != 1 {
			t.Errorf("job.cancel audit: %v", results)
		}
		last := logs("operator", 0)
		if msg := last[len(last)-1].(map[string]any)["message"]; msg != "Cancelled by operator." {
			t.Errorf("last line: %v", msg)
		}
	})
}

func TestJobStatusMachine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		r := w.do(t, "POST", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "", as(w.tokens["admin"])...)
		id := idOf(r.body["job"].(map[string]any))
		ctx := context.Background()
		step := func(from, to string) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return tx.SetJobStatus(ctx, id, from, to, time.Now().UTC()) })
		}
		for _, c := range []struct {
			from, to string
			ok       bool
		}{
			{"queued", "succeeded", false},  // must run first
			{"running", "succeeded", false}, // it is not running
			{"queued", "running", true},
			{"queued", "running", false}, // someone else moved it
			{"running", "partial", true},
			{"partial", "running", false}, // final
			{"partial", "cancelled", false},
		} {
			err := step(c.from, c.to)
			if (err == nil) != c.ok || (err != nil && webnet.ErrorCode(err) != webnet.EConflict) {
				t.Errorf("%s → %s: %v (want ok=%v)", c.from, c.to, err, c.ok)
			}
		}
		j, _ := db.Read().JobByID(ctx, id)
		if j.Status != "partial" || j.StartedAt == nil || j.FinishedAt == nil {
			t.Fatalf("job after the walk: %+v", j)
		}
	})
}
