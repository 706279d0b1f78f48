package ui

import (
	"context"
	"net/http"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// The dashboard: counts of what the user may see (each from the same service list as the
// API, so a member's counts are theirs), the running and recent jobs, and device health as
// small server-rendered SVG bar charts. A handful of queries in all. The counts and the jobs
// panel refresh themselves (htmx, from /dashboard/counts and /dashboard/jobs) when jobs.js
// hears from the "jobs" or "devices" live topics that something changed, and every 30 s
// without it.

// dashRecent is how many recent jobs the dashboard lists.
const dashRecent = 10

func init() {
	funcs["dashChart"] = dashChart
}

// registerDashboard adds the dashboard (/) and its live jobs fragment.
func (u *UI) registerDashboard(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", authed(u.dashboard))
	mux.HandleFunc("GET /dashboard/jobs", authed(u.dashboardJobs))
	mux.HandleFunc("GET /dashboard/counts", authed(u.dashboardCounts))
}

type dashData struct {
	Me              *service.Me
	Devices, Groups int
	Running, Queued int
	Failed24        int
	Jobs            []jobRow
	Charts          []dashChartData
	Compliance      *webnet.ComplianceSummary
}

// dashChartData is one chart: an element id, a caption and its bars.
type dashChartData struct {
	ID, Title string
	Buckets   []dashBucket
}

// dashBucket is one bar of a chart.
type dashBucket struct {
	Label string
	Count int
	Class string
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me, err := u.id.Me(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := dashData{Me: me}
	if err := u.dashCounts(ctx, &d); err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.dashCompliance(ctx, &d); err != nil {
		u.fail(w, r, err)
		return
	}
	if d.Jobs, err = u.dashJobs(ctx); err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, http.StatusOK, "dashboard", "Dashboard · webnet", "dashboard", d)
}

// dashboardJobs is the jobs panel alone, for htmx's refresh.
func (u *UI) dashboardJobs(w http.ResponseWriter, r *http.Request) {
	jobs, err := u.dashJobs(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderFragment(w, r, http.StatusOK, "dashboard", "dash-jobs", dashData{Jobs: jobs})
}

// dashboardCounts is the counts alone, for htmx's refresh.
func (u *UI) dashboardCounts(w http.ResponseWriter, r *http.Request) {
	var d dashData
	if err := u.dashCounts(r.Context(), &d); err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderFragment(w, r, http.StatusOK, "dashboard", "dash-counts", d)
}

// dashJobs are the running jobs, then the newest others, dashRecent in all.
func (u *UI) dashJobs(ctx context.Context) ([]jobRow, error) {
	running, _, err := u.core.ListJobs(ctx, webnet.JobQuery{Status: webnet.JobRunning}, webnet.Page{Limit: dashRecent})
	if err != nil {
		return nil, err
	}
	recent, _, err := u.core.ListJobs(ctx, webnet.JobQuery{}, webnet.Page{Limit: dashRecent})
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, j := range running {
		seen[j.ID] = true
	}
	for _, j := range recent {
		if len(running) < dashRecent && !seen[j.ID] {
			running = append(running, j)
		}
	}
	return u.jobRows(ctx, running), nil
}

// dashCounts fills the counts, and the health charts of the same query.
func (u *UI) dashCounts(ctx context.Context, d *dashData) error {
	h, err := u.core.DeviceHealth(ctx)
	if err != nil {
		return err
	}
	d.Devices = h.Devices
	d.Charts = []dashChartData{
		{"dash-sync", "Last sync", dashAges(h.Sync)},
		{"dash-backup", "Last backup", dashAges(h.Backup)},
		{"dash-readiness", "Readiness", []dashBucket{{"Ready", h.Readiness[0], "ok"}, {"Warnings", h.Readiness[1], "warn"},
			{"Not ready", h.Readiness[2], "bad"}, {"On target", h.Readiness[3], "ok"}, {"Unchecked", h.Readiness[4], "none"}}},
	}
	if _, d.Groups, err = u.core.ListDeviceGroups(ctx, nil, webnet.Page{Limit: 1}); err != nil {
		return err
	}
	if _, d.Running, err = u.core.ListJobs(ctx, webnet.JobQuery{Status: webnet.JobRunning}, webnet.Page{Limit: 1}); err != nil {
		return err
	}
	if _, d.Queued, err = u.core.ListJobs(ctx, webnet.JobQuery{Status: webnet.JobQueued}, webnet.Page{Limit: 1}); err != nil {
		return err
	}
	since := time.Now().Add(-24 * time.Hour)
	_, d.Failed24, err = u.core.ListJobs(ctx, webnet.JobQuery{Status: webnet.JobFailed, FinishedAfter: &since}, webnet.Page{Limit: 1})
	return err
}

// dashCompliance adds up the per-customer compliance summaries of what the user may view.
func (u *UI) dashCompliance(ctx context.Context, d *dashData) error {
	sums, _, err := u.core.ComplianceSummaries(ctx, nil, webnet.Page{Limit: webnet.MaxLimit})
	if err != nil {
		return err
	}
	if len(sums) == 0 {
		return nil
	}
	all := &webnet.ComplianceSummary{}
	for _, s := range sums {
		all.Devices += s.Devices
		all.Compliant += s.Compliant
		all.NonCompliant += s.NonCompliant
		all.Unchecked += s.Unchecked
		if s.LastCheckedAt != nil && (all.LastCheckedAt == nil || s.LastCheckedAt.After(*all.LastCheckedAt)) {
			all.LastCheckedAt = s.LastCheckedAt
		}
	}
	d.Compliance = all
	d.Charts = append(d.Charts, dashChartData{"dash-compliance", "Compliance", []dashBucket{
		{"Compliant", all.Compliant, "ok"}, {"Not compliant", all.NonCompliant, "bad"}, {"Unchecked", all.Unchecked, "none"}}})
	return nil
}

// dashAges labels counts of never / < 1 h / < 24 h / older.
func dashAges(n [4]int) []dashBucket {
	return []dashBucket{{"Never", n[0], "none"}, {"< 1 h", n[1], "ok"}, {"< 24 h", n[2], "warn"}, {"Older", n[3], "bad"}}
}

// dashBar is one bar as the SVG draws it.
type dashBar struct {
	dashBucket
	X, Y, W, H int
	LabelX     int
}

// dashChart lays bars out in a 240×120 view box: 100 units of height for the tallest bar,
// the counts above and the labels below are in the HTML legend, not the picture.
func dashChart(buckets []dashBucket) []dashBar {
	top := 0
	for _, b := range buckets {
		top = max(top, b.Count)
	}
	bars := make([]dashBar, len(buckets))
	slot := 240 / max(1, len(buckets))
	for i, b := range buckets {
		h := 0
		if top > 0 {
			h = b.Count * 100 / top
		}
		if b.Count > 0 {
			h = max(h, 2)
		}
		bars[i] = dashBar{dashBucket: b, X: i*slot + slot/6, W: slot * 2 / 3, H: h, Y: 110 - h, LabelX: i*slot + slot/2}
	}
	return bars
}
