package ui_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// testSync stands in for the sync kind: it writes lines[device] log lines (default one),
// fails the devices in fail, and blocks on the devices in hang until release is closed,
// writing a line every 100 ms meanwhile.
type testSync struct {
	mu      sync.Mutex
	lines   map[int64]int
	fail    map[int64]bool
	hang    map[int64]bool
	release chan struct{}
}

func newTestSync() *testSync {
	return &testSync{lines: map[int64]int{}, fail: map[int64]bool{}, hang: map[int64]bool{}, release: make(chan struct{})}
}

func (f *testSync) kind() jobs.Kind {
	return jobs.Kind{Name: "sync", Run: func(ctx context.Context, t *jobs.Target) error {
		f.mu.Lock()
		n, fail, hang := max(1, f.lines[t.Device.ID]), f.fail[t.Device.ID], f.hang[t.Device.ID]
		f.mu.Unlock()
		for i := 1; i <= n; i++ {
			t.Infof("Line %d of %s.", i, t.Device.Name)
		}
		for tick := 1; hang; tick++ {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-f.release:
				hang = false
			case <-time.After(100 * time.Millisecond):
				// Each tick is a step of a long kind, as an upgrade's are.
				t.Step(min(tick, 99), 99, "Tick %d on %s.", tick, t.Device.Name)
			}
		}
		if fail {
			return errors.New("connection refused")
		}
		t.Result("Facts collected.")
		return nil
	}}
}

// startWorker runs a job worker on db with kinds until the test ends.
func startWorker(t testing.TB, db *store.DB, kinds ...jobs.Kind) {
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

// syncJob asks for a sync of devices as user over the API and returns the job's id.
func (w *world) syncJob(t testing.TB, user string, devices ...int64) int64 {
	t.Helper()
	ids := make([]string, len(devices))
	for i, d := range devices {
		ids[i] = strconv.FormatInt(d, 10)
	}
	var out struct {
		Job struct {
			ID int64 `json:"id"`
		} `json:"job"`
	}
	w.api(t, w.token(t, user), "POST", "/api/devices/sync/", `{"devices":[`+strings.Join(ids, ",")+`]}`, 202, &out)
	return out.Job.ID
}

// waitJob waits until job id has status want (as root) and returns its log's last seq.
func (w *world) waitJob(t testing.TB, id int64, want string) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var j struct {
			Status string `json:"status"`
		}
		w.api(t, w.root, "GET", fmt.Sprintf("/api/jobs/%d/", id), "", 200, &j)
		if j.Status == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s, never %s", id, j.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seqs := w.logSeqs(t, id)
	return seqs[len(seqs)-1]
}

// logSeqs are the seqs of job id's whole log, as root reads them over the API.
func (w *world) logSeqs(t testing.TB, id int64) []int64 {
	t.Helper()
	var out struct {
		Results []struct {
			Seq int64 `json:"seq"`
		} `json:"results"`
	}
	w.api(t, w.root, "GET", fmt.Sprintf("/api/jobs/%d/logs/?limit=10000", id), "", 200, &out)
	seqs := make([]int64, len(out.Results))
	for i, l := range out.Results {
		seqs[i] = l.Seq
	}
	return seqs
}

var seqAttr = regexp.MustCompile(`<li [^>]*data-seq="(\d+)"`)

// pageSeqs are the log seqs a job page shows.
func pageSeqs(body string) []int64 {
	var seqs []int64
	for _, m := range seqAttr.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		seqs = append(seqs, n)
	}
	return seqs
}

// TestJobsListShowsOnlyVisibleJobs: each user's job list holds the jobs they requested or
// whose devices they see, and no other; filters are checked and paginate.
func TestJobsListShowsOnlyVisibleJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		core := w.syncJob(t, "operator", w.r1)   // operator's, on core
		ungrouped := w.syncJob(t, "admin", w.u1) // only acme's admins see u1
		globex := w.syncJob(t, "globexadm", w.g1)
		row := func(id int64) string { return fmt.Sprintf(`<tr data-job="%d">`, id) }
		for _, c := range []struct {
			user      string
			see, miss []int64
		}{
			{"operator", []int64{core}, []int64{ungrouped, globex}},
			{"syncer", []int64{core}, []int64{ungrouped, globex}},
			{"admin", []int64{core, ungrouped}, []int64{globex}},
			{"globexadm", []int64{globex}, []int64{core, ungrouped}},
			{"member", nil, []int64{core, ungrouped, globex}},
			{"outsider", nil, []int64{core, ungrouped, globex}},
			{"root", []int64{core, ungrouped, globex}, nil},
		} {
			status, body := w.get(t, w.client(t, c.user), "/jobs")
			if status != 200 {
				t.Fatalf("%s: /jobs: %d", c.user, status)
			}
			wellFormed(t, "jobs as "+c.user, body)
			for _, id := range c.see {
				if !strings.Contains(body, row(id)) {
					t.Errorf("%s does not see job %d", c.user, id)
				}
			}
			for _, id := range c.miss {
				if strings.Contains(body, row(id)) {
					t.Errorf("%s sees job %d", c.user, id)
				}
			}
			for _, id := range c.miss {
				if status, _ := w.get(t, w.client(t, c.user), fmt.Sprintf("/jobs/%d", id)); status != 404 {
					t.Errorf("%s opens job %d: %d, want 404", c.user, id, status)
				}
			}
		}
		root := w.client(t, "root")
		for path, msg := range map[string]string{
			"/jobs?status=done": "Choose a status from the list.",
			"/jobs?kind=nope":   "Choose a kind from the list.",
			"/jobs?page=0":      "The page must be a whole number from 1.",
			"/jobs?page=x":      "The page must be a whole number from 1.",
		} {
			status, body := w.get(t, root, path)
			if status != 400 || !strings.Contains(body, msg) {
				t.Errorf("%s: %d, want 400 with %q", path, status, msg)
			}
			wellFormed(t, path, body)
		}
		if _, body := w.get(t, root, "/jobs?status=queued&kind=sync"); !strings.Contains(body, row(core)) || !strings.Contains(body, "3 jobs") {
			t.Errorf("queued sync jobs: %s", body)
		}
		if _, body := w.get(t, root, "/jobs?status=running"); strings.Contains(body, "<tr data-job") {
			t.Errorf("running jobs listed without any running")
		}
		// Pagination: 25 a page; cancelled jobs free their device for the next.
		for range 24 {
			w.api(t, w.root, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", w.syncJob(t, "root", w.e1)), "", 200, nil)
		}
		_, body := w.get(t, root, "/jobs")
		if n := strings.Count(body, "<tr data-job"); n != 25 || !strings.Contains(body, `href="/jobs?page=2"`) || strings.Contains(body, row(core)) {
			t.Fatalf("first page: %d rows", n)
		}
		_, body = w.get(t, root, "/jobs?page=2")
		if n := strings.Count(body, "<tr data-job"); n != 2 || !strings.Contains(body, row(core)) || !strings.Contains(body, `href="/jobs" rel="prev"`) {
			t.Fatalf("second page: %d rows: %s", n, body)
		}
		// The table alone, for htmx.
		req, _ := http.NewRequest("GET", w.srv.URL+"/jobs?page=2", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "jobs-table")
		resp, err := root.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		frag := string(raw)
		if !strings.HasPrefix(strings.TrimSpace(frag), `<div id="jobs-table"`) || strings.Contains(frag, "<nav aria-label=\"Main\"") {
			t.Fatalf("fragment: %s", frag)
		}
		wellFormed(t, "jobs fragment", frag)
	})
}

// TestJobsCancelButton: Cancel shows for the requester and the customer's admins while the
// job is unfinished, not for a viewer of its devices; it cancels; a refused cancel says why.
func TestJobsCancelButton(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		id := w.syncJob(t, "operator", w.r1)
		path := fmt.Sprintf("/jobs/%d", id)
		for user, want := range map[string]bool{"operator": true, "admin": true, "root": true, "staff": true, "syncer": false} {
			status, body := w.get(t, w.client(t, user), path)
			if status != 200 {
				t.Fatalf("%s: %s: %d", user, path, status)
			}
			wellFormed(t, "job as "+user, body)
			if got := strings.Contains(body, `class="job-cancel"`); got != want {
				t.Errorf("%s: cancel button %v, want %v", user, got, want)
			}
			if strings.Contains(body, `class="job-retry"`) {
				t.Errorf("%s: retry offered on a queued job", user)
			}
		}
		status, _, body := w.post(t, w.client(t, "syncer"), path+"/cancel", nil)
		if status != 403 || !strings.Contains(body, "Only the requester, the customer&#39;s admins and staff may cancel a job.") {
			t.Fatalf("syncer's cancel: %d %s", status, body)
		}
		wellFormed(t, "refused cancel", body)
		if status, _, _ := w.post(t, w.client(t, "member"), path+"/cancel", nil); status != 404 {
			t.Fatalf("member's cancel of a job they cannot see: %d", status)
		}
		op := w.client(t, "operator")
		status, loc, _ := w.post(t, op, path+"/cancel", nil)
		if status != 303 || loc != path+"?notice=cancelled" {
			t.Fatalf("cancel: %d %q", status, loc)
		}
		_, body = w.get(t, op, loc)
		if !strings.Contains(body, "The job was cancelled.") || !strings.Contains(body, `id="job-status" class="jobs-status jobs-cancelled"`) ||
			strings.Contains(body, `class="job-cancel"`) || strings.Contains(body, `class="job-retry"`) {
			t.Fatalf("cancelled job: %s", body)
		}
		if status, _, body := w.post(t, op, path+"/cancel", nil); status != 409 || !strings.Contains(body, "The job is already cancelled.") {
			t.Fatalf("second cancel: %d", status)
		}
	})
}

// TestJobsRetryFailed: a job with a failed target offers Retry to those who see it; retrying
// makes a job of the failed devices only, which the page links back.
func TestJobsRetryFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		fs := newTestSync()
		fs.fail[w.e1] = true
		startWorker(t, db, fs.kind())
		id := w.syncJob(t, "operator", w.r1, w.e1)
		w.waitJob(t, id, "partial")
		path := fmt.Sprintf("/jobs/%d", id)
		op := w.client(t, "operator")
		_, body := w.get(t, op, path)
		wellFormed(t, "partial job", body)
		if !strings.Contains(body, `class="job-retry">Retry 1 failed`) || strings.Contains(body, `class="job-cancel"`) {
			t.Fatalf("partial job's buttons: %s", body)
		}
		for _, want := range []string{"connection refused", "Facts collected.", `>acme-e1</a>`, `data-field="status">failed`} {
			if !strings.Contains(body, want) {
				t.Errorf("job page lacks %q", want)
			}
		}
		// A viewer of the devices without the sync permission sees the button; the service
		// refuses, and the page says why.
		status, _, body := w.post(t, w.client(t, "viewer"), path+"/retry", nil)
		if status != 403 || !strings.Contains(body, `role="alert"`) {
			t.Fatalf("viewer's retry: %d %s", status, body)
		}
		status, loc, _ := w.post(t, op, path+"/retry", nil)
		if status != 303 || !strings.HasSuffix(loc, "?notice=retried") {
			t.Fatalf("retry: %d %q", status, loc)
		}
		_, body = w.get(t, op, loc)
		wellFormed(t, "retry job", body)
		if !strings.Contains(body, fmt.Sprintf(`<a href="/jobs/%d">job #%d</a>`, id, id)) || !strings.Contains(body, "The failed targets were queued again.") ||
			strings.Count(body, `<tr data-device=`) != 1 || !strings.Contains(body, fmt.Sprintf(`<tr data-device="%d"`, w.e1)) {
			t.Fatalf("retry job page: %s", body)
		}
		if status, _, _ := w.post(t, op, path+"/retry", url.Values{"confirm": {"maybe"}}); status != 400 {
			t.Fatalf("retry with a bad confirm: %d", status)
		}
	})
}

// TestJobsLogPagination: the job page shows the newest logPage lines of logs of every
// length, links to older pages by ?before=, and refuses bad parameters with a message.
func TestJobsLogPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		fs := newTestSync()
		startWorker(t, db, fs.kind())
		op := w.client(t, "operator")
		for _, n := range []int{1, 190, 195, 196, 197, 395, 396, 397, 1200, 3000} {
			fs.mu.Lock()
			fs.lines[w.r1] = n
			fs.mu.Unlock()
			id := w.syncJob(t, "operator", w.r1)
			last := w.waitJob(t, id, "succeeded")
			path := fmt.Sprintf("/jobs/%d", id)
			_, body := w.get(t, op, path)
			seqs := pageSeqs(body)
			first := max(1, last-199)
			if len(seqs) != int(last-first+1) || seqs[0] != first || seqs[len(seqs)-1] != last {
				t.Fatalf("%d lines (last seq %d): page shows %d lines %v…", n, last, len(seqs), seqs[:min(3, len(seqs))])
			}
			wellFormed(t, "job log", body)
			if !strings.Contains(body, fmt.Sprintf(`data-live="true" data-job="%d" data-after="%d"`, id, last)) {
				t.Fatalf("live marker of %d lines", n)
			}
			older := fmt.Sprintf(`href="/jobs/%d?before=%d#log"`, id, first)
			if got := strings.Contains(body, older); got != (first > 1) {
				t.Fatalf("%d lines: older link %v", n, got)
			}
			// Walk back to the first line.
			for next := first; next > 1; {
				_, body = w.get(t, op, fmt.Sprintf("%s?before=%d", path, next))
				s := pageSeqs(body)
				if len(s) == 0 || s[len(s)-1] != next-1 || s[0] != max(1, next-200) || strings.Contains(body, "data-live") {
					t.Fatalf("page before %d: %d lines", next, len(s))
				}
				next = s[0]
			}
			_, body = w.get(t, op, path+"?after=1")
			if s := pageSeqs(body); len(s) == 0 || s[0] != 2 || len(s) > 200 {
				t.Fatalf("after 1: %v", s[:min(3, len(s))])
			}
		}
		id := w.syncJob(t, "admin", w.r2)
		w.waitJob(t, id, "succeeded")
		for q, msg := range map[string]string{
			"before=x":         "“before” must be a log line number from 1.",
			"before=0":         "“before” must be a log line number from 1.",
			"after=-1":         "“after” must be a log line number from 0.",
			"before=3&after=1": "Give “before” or “after”, not both.",
			"tpage=0":          "The targets page must be a whole number from 1.",
		} {
			status, body := w.get(t, op, fmt.Sprintf("/jobs/%d?%s", id, q))
			if status != 400 || !strings.Contains(body, msg) {
				t.Errorf("?%s: %d, want 400 with %q", q, status, msg)
			}
			wellFormed(t, q, body)
		}
		if status, _ := w.get(t, op, "/jobs/x"); status != 404 {
			t.Errorf("/jobs/x: %d", status)
		}
	})
}

// TestBrowserJobsLiveLog (the Done-when): a running job's log lines appear in the
// open job page without a reload; after the page's WebSocket is dropped and reconnects, no
// line is missing or repeated; the status and the device's target follow the job to its end.
func TestBrowserJobsLiveLog(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newEnv(t, db)
	w := newWorld(t, e)
	fs := newTestSync()
	fs.hang[w.r1] = true
	startWorker(t, db, fs.kind())
	id := w.syncJob(t, "operator", w.r1)
	for len(w.logSeqs(t, id)) < 4 { // queued, claimed/started, the first lines
		time.Sleep(50 * time.Millisecond)
	}
	ctx := newBrowser(t)
	e.signIn(t, ctx, "operator")
	if err := chromedp.Run(ctx, chromedp.Navigate(fmt.Sprintf("%s/jobs/%d", e.srv.URL, id)),
		chromedp.WaitVisible(`#job-log[data-live]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.notReloaded = true`, nil)); err != nil {
		t.Fatal(err)
	}
	lines := func() int { return count(t, ctx, "#job-log li") }
	waitLines := func(n int, why string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for lines() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d lines in the page, want %d", why, lines(), n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first := lines()
	waitLines(first+5, "live lines")
	// The device's progress through the kind's steps follows live too.
	stepSel := fmt.Sprintf(`#targets tr[data-device="%d"] [data-field="step"]`, w.r1)
	if s1 := text(t, ctx, stepSel); !strings.HasPrefix(s1, "step ") || !strings.HasSuffix(s1, "/99") {
		t.Fatalf("step progress in the page: %q", s1)
	} else {
		waitLines(lines()+3, "more live lines")
		if s2 := text(t, ctx, stepSel); s2 == s1 {
			t.Fatalf("step progress did not move: still %q", s2)
		}
	}
	// Drop the socket; lines written while it is down must arrive once it is back.
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.webnetJobs.drop(1000)`, nil)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	down := lines()
	waitLines(down+15, "after reconnecting")
	close(fs.release)
	w.waitJob(t, id, "succeeded")
	var status, target string
	err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#job-status.jobs-succeeded`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#targets tr[data-device="%d"] .jobs-succeeded`, w.r1), chromedp.ByQuery),
		chromedp.Text(`#job-status`, &status, chromedp.ByQuery),
		chromedp.Text(fmt.Sprintf(`#targets tr[data-device="%d"] [data-field="message"]`, w.r1), &target, chromedp.ByQuery))
	if err != nil || status != "succeeded" || target != "Facts collected." {
		t.Fatalf("status %q, target %q: %v", status, target, err)
	}
	if count(t, ctx, "#job-cancel-form:not([hidden])") != 0 {
		t.Error("Cancel still offered on the finished job")
	}
	var named int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll("#job-log .log-device")).filter(e => e.textContent === "acme-r1").length`, &named)); err != nil || named < 10 {
		t.Errorf("lines naming acme-r1 in the log: %d (%v)", named, err)
	}
	want := w.logSeqs(t, id)
	deadline := time.Now().Add(10 * time.Second)
	var got []int64
	for {
		var html string
		if err := chromedp.Run(ctx, chromedp.OuterHTML("#job-log", &html, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		got = pageSeqs(html)
		if len(got) > 0 && got[len(got)-1] == want[len(want)-1] || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) == 0 || len(got) > len(want) || fmt.Sprint(got) != fmt.Sprint(want[len(want)-len(got):]) {
		t.Fatalf("page's log %v\nis not the end of the job's log %v", got, want)
	}
	var mark bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.notReloaded === true`, &mark)); err != nil || !mark {
		t.Fatalf("the page was reloaded (%v)", err)
	}
	t.Logf("%d lines in the page, %d at first, %d in the job", len(got), first, len(want))
	screenshot(t, ctx, "job")
	var page string
	if err := chromedp.Run(ctx, chromedp.OuterHTML("html", &page, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "job in the browser", page)
}

var olderLink = regexp.MustCompile(`href="/jobs/\d+\?before=(\d+)#log" id="log-older"`)

// TestJobsLogHidesInvisibleDevices: the log pages, newest and older, show a user exactly the
// lines the API gives them — none about a device they may not see — each once, and walking
// the "Older lines" links from the newest page reaches the first line; for staff, all lines.
func TestJobsLogHidesInvisibleDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		fs := newTestSync()
		fs.lines[w.r1], fs.lines[w.e1] = 180, 230
		startWorker(t, db, fs.kind())
		id := w.syncJob(t, "operator", w.r1, w.e1) // syncer sees r1 (core), not e1 (edge)
		last := w.waitJob(t, id, "succeeded")
		for _, user := range []string{"syncer", "staff", "operator"} {
			var out struct {
				Results []struct {
					Seq int64 `json:"seq"`
				} `json:"results"`
			}
			w.api(t, w.token(t, user), "GET", fmt.Sprintf("/api/jobs/%d/logs/?limit=10000", id), "", 200, &out)
			var want []int64
			for _, l := range out.Results {
				want = append(want, l.Seq)
			}
			if hidden := user == "syncer"; hidden != (len(want) < int(last)) {
				t.Fatalf("%s reads %d of %d lines over the API", user, len(want), last)
			}
			c := w.client(t, user)
			_, body := w.get(t, c, fmt.Sprintf("/jobs/%d", id))
			wellFormed(t, "job log as "+user, body)
			var tail []int64 // what the API gives among the newest 200 seqs
			for _, s := range want {
				if s > last-200 {
					tail = append(tail, s)
				}
			}
			if got := pageSeqs(body); fmt.Sprint(got) != fmt.Sprint(tail) {
				t.Fatalf("%s: newest page %d lines %v…, want %d lines %v…", user, len(got), got[:min(5, len(got))], len(tail), tail[:min(5, len(tail))])
			}
			if !strings.Contains(body, fmt.Sprintf(`data-live="true" data-job="%d" data-after="%d"`, id, tail[len(tail)-1])) {
				t.Errorf("%s: live marker", user)
			}
			var seen []int64
			for pages := 0; ; pages++ {
				if user == "syncer" && strings.Contains(body, "of acme-e1.") {
					t.Fatalf("syncer reads a line about acme-e1")
				}
				seen = append(pageSeqs(body), seen...)
				m := olderLink.FindStringSubmatch(body)
				if m == nil {
					break
				}
				if pages > 10 {
					t.Fatal("the older links never end")
				}
				var status int
				status, body = w.get(t, c, fmt.Sprintf("/jobs/%d?before=%s", id, m[1]))
				if status != 200 || strings.Contains(body, "data-live") {
					t.Fatalf("%s: page before %s: %d", user, m[1], status)
				}
				wellFormed(t, "older log page", body)
			}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("%s: the pages show %d lines, the API %d", user, len(seen), len(want))
			}
		}
	})
}

// TestJobsCancelButtonMatchesService: the Cancel button shows exactly to those whose cancel
// the service carries out (MayCancelJob is CancelJob's rule), and to nobody once the job has
// finished.
func TestJobsCancelButtonMatchesService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		root := w.client(t, "root")
		for user, want := range map[string]int{"operator": 303, "admin": 303, "staff": 303, "root": 303,
			"viewer": 403, "syncer": 403, "member": 404, "globexadm": 404} {
			id := w.syncJob(t, "operator", w.r1)
			path := fmt.Sprintf("/jobs/%d", id)
			c := w.client(t, user)
			status, body := w.get(t, c, path)
			button := strings.Contains(body, `class="job-cancel"`)
			if (status == 404) != (want == 404) || button != (want == 303) {
				t.Errorf("%s: page %d, cancel button %v; want the cancel to answer %d", user, status, button, want)
			}
			status, _, _ = w.post(t, c, path+"/cancel", nil)
			if status != want {
				t.Errorf("%s: cancel %d, want %d", user, status, want)
			}
			if status != 303 {
				if status, _, _ := w.post(t, root, path+"/cancel", nil); status != 303 {
					t.Fatalf("root's cancel: %d", status)
				}
			}
			if _, body := w.get(t, root, path); strings.Contains(body, `class="job-cancel"`) {
				t.Errorf("cancel offered on a cancelled job")
			}
		}
	})
}
