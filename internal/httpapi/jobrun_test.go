package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// fakeSync stands in for the sync kind until the device drivers land: it fails the devices
// in fail and blocks on the devices in hang until its context ends.
type fakeSync struct {
	mu      sync.Mutex
	fail    map[int64]bool
	hang    map[int64]bool
	stopped chan int64
}

func (f *fakeSync) kind() jobs.Kind {
	return jobs.Kind{Name: "sync", Run: func(ctx context.Context, t *jobs.Target) error {
		f.mu.Lock()
		fail, hang := f.fail[t.Device.ID], f.hang[t.Device.ID]
		f.mu.Unlock()
		t.Infof("Collecting facts from %s.", t.Device.Name)
		if hang {
			<-ctx.Done()
			f.stopped <- t.Device.ID
			return context.Cause(ctx)
		}
		if fail {
			return errors.New("connection refused")
		}
		t.Result("Facts collected.")
		return nil
	}}
}

func startWorker(t *testing.T, db *store.DB, kinds ...jobs.Kind) {
	t.Helper()
	q, err := service.NewJobQueue(service.JobQueueConfig{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(jobs.Config{Queue: q, Kinds: kinds, Poll: 50 * time.Millisecond, FlushEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestJobsRunThroughTheAPI: a sync requested over the API runs on a worker; one failing
// device makes it partial; retrying creates a job for that device only; cancelling a
// running job stops its hung target at once.
func TestJobsRunThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		fs := &fakeSync{fail: map[int64]bool{w.e1: true}, hang: map[int64]bool{}, stopped: make(chan int64, 4)}
		startWorker(t, db, fs.kind())
		get := func(user string, id int64) map[string]any {
			t.Helper()
			r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/", id), "", as(w.tokens[user])...)
			if r.status != 200 {
				t.Fatalf("job %d as %s: %d %s", id, user, r.status, r.raw)
			}
			return r.body
		}
		waitStatus := func(id int64, want string) map[string]any {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for {
				j := get("operator", id)
				if j["status"] == want {
					return j
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %d never %s: %v", id, want, j)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		r := w.do(t, "POST", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d,%d,%d]}`, w.r1, w.r2, w.e1), as(w.tokens["operator"])...)
		if r.status != 202 {
			t.Fatalf("sync: %d %s", r.status, r.raw)
		}
		id := idOf(r.body["job"].(map[string]any))
		j := waitStatus(id, "partial")
		if j["progress_done"] != 3.0 || j["progress_total"] != 3.0 || j["attempts"] != 1.0 || j["worker"] == "" {
			t.Fatalf("finished job: %v", j)
		}
		for _, tg := range j["targets"].([]any) {
			tm := tg.(map[string]any)
			want := "succeeded"
			if int64(tm["device"].(float64)) == w.e1 {
				want = "failed"
				if tm["message"] != "connection refused" {
					t.Fatalf("failed target's message: %v", tm)
				}
			}
			if tm["status"] != want {
				t.Fatalf("targets: %v", j["targets"])
			}
		}
		logs := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/logs/", id), "", as(w.tokens["operator"])...)
		lines := logs.body["results"].([]any)
		for i, l := range lines {
			if l.(map[string]any)["seq"] != float64(i+1) {
				t.Fatalf("log out of order or with gaps: %s", logs.raw)
			}
		}
		if last := lines[len(lines)-1].(map[string]any)["message"]; last != "Finished partial: 2 succeeded, 1 failed, 0 skipped." {
			t.Fatalf("last log line: %v", last)
		}

		// Retry: the viewer sees the job but may not sync; a running or clean job has nothing
		// to retry; the operator's retry runs the failed device only.
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", id), "", as(w.tokens["viewer"])...); r.status != 403 ||
			r.body["error"] != "You do not have permission to sync device inventory" {
			t.Fatalf("viewer retry: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", id), `{"confirm":"yes"}`, as(w.tokens["operator"])...); r.status != 400 {
			t.Fatalf("retry with a bad body: %d %s", r.status, r.raw)
		}
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", id), "", as(w.tokens["outsider"])...); r.status != 404 {
			t.Fatalf("outsider retry: %d %s", r.status, r.raw)
		}
		fs.mu.Lock()
		fs.fail = map[int64]bool{}
		fs.mu.Unlock()
		r = w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", id), "", as(w.tokens["operator"])...)
		if r.status != 202 {
			t.Fatalf("retry: %d %s", r.status, r.raw)
		}
		retry := r.body["job"].(map[string]any)
		if retry["retry_of"] != float64(id) || len(retry["targets"].([]any)) != 1 ||
			retry["targets"].([]any)[0].(map[string]any)["device"] != float64(w.e1) {
			t.Fatalf("retry job: %v", retry)
		}
		rid := idOf(retry)
		waitStatus(rid, "succeeded")
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", rid), "", as(w.tokens["operator"])...); r.status != 409 {
			t.Fatalf("retry of a job without failures: %d %s", r.status, r.raw)
		}

		// Cancel while running: the hung target's context ends at once.
		fs.mu.Lock()
		fs.hang[w.r2] = true
		fs.mu.Unlock()
		r = w.do(t, "POST", "/api/devices/sync/", fmt.Sprintf(`{"devices":[%d]}`, w.r2), as(w.tokens["operator"])...)
		hung := idOf(r.body["job"].(map[string]any))
		waitStatus(hung, "running")
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/retry/", hung), "", as(w.tokens["operator"])...); r.status != 409 {
			t.Fatalf("retry of a running job: %d %s", r.status, r.raw)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			j := get("operator", hung)
			if j["targets"].([]any)[0].(map[string]any)["status"] == "running" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("target never running: %v", j)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", hung), "", as(w.tokens["operator"])...); r.status != 200 || r.body["status"] != "cancelled" {
			t.Fatalf("cancel: %d %s", r.status, r.raw)
		}
		select {
		case d := <-fs.stopped:
			if d != w.r2 {
				t.Fatalf("stopped device %d", d)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the hung target was still running 2 s after the cancel")
		}
	})
}
