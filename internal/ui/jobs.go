package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// The job pages: the list (filters, pagination, live refresh through jobs.js), the detail
// (header, targets, cancel and retry, the log). The log is paginated by seq — the page
// shows logPage lines, the newest by default, with ?before= and ?after= links — so a job of
// 100k lines never loads at once; jobs.js then follows the job over /api/ws from the last
// seq shown.

const (
	jobsPerPage    = 25
	jobTargetsPage = 100
	logPage        = 200
)

// jobStatuses and jobKinds are the filters' choices.
var (
	jobStatuses = []string{webnet.JobQueued, webnet.JobRunning, webnet.JobSucceeded, webnet.JobPartial, webnet.JobFailed, webnet.JobCancelled}
	jobKinds    = []string{webnet.JobSync, webnet.JobReadiness, webnet.JobUpgrade, webnet.JobConfigPush, webnet.JobCompliance}
)

func init() {
	// jobsFinished reports whether a job status is final.
	funcs["jobsFinished"] = webnet.JobFinished
	// jobsPercent is a job's progress in percent.
	funcs["jobsPercent"] = func(j webnet.Job) int {
		if j.ProgressTotal == 0 {
			return 0
		}
		return j.ProgressDone * 100 / j.ProgressTotal
	}
}

// registerJobs adds the job list and job detail.
func (u *UI) registerJobs(mux *http.ServeMux) {
	mux.HandleFunc("GET /jobs", authed(u.jobList))
	mux.HandleFunc("GET /jobs/{id}", authed(u.jobDetail))
	mux.HandleFunc("POST /jobs/{id}/cancel", authed(u.jobCancel))
	mux.HandleFunc("POST /jobs/{id}/retry", authed(u.jobRetry))
}

// jobRow is a job as the lists show it.
type jobRow struct {
	webnet.Job
	By string
}

type jobListData struct {
	Status, Kind     string
	Statuses, Kinds  []string
	Errors           map[string]string
	Jobs             []jobRow
	Total            int
	Page, Pages      int
	Prev, Next, Self string
}

// positiveParam reads an optional whole number ≥ min from the query; ok is false when the
// value is not one (the caller shows msg next to the field).
func positiveParam(q url.Values, name string, min int64) (n int64, set, ok bool) {
	v := q.Get(name)
	if v == "" {
		return 0, false, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		return 0, true, false
	}
	return n, true, true
}

func (u *UI) jobList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := jobListData{Status: q.Get("status"), Kind: q.Get("kind"), Statuses: jobStatuses, Kinds: jobKinds,
		Errors: map[string]string{}, Page: 1}
	if d.Status != "" && !slices.Contains(jobStatuses, d.Status) {
		d.Errors["status"] = "Choose a status from the list."
	}
	if d.Kind != "" && !slices.Contains(jobKinds, d.Kind) {
		d.Errors["kind"] = "Choose a kind from the list."
	}
	if n, set, ok := positiveParam(q, "page", 1); !ok || n > 1<<20 {
		d.Errors["page"] = "The page must be a whole number from 1."
	} else if set {
		d.Page = int(n)
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		jobs, total, err := u.core.ListJobs(r.Context(), webnet.JobQuery{Status: d.Status, Kind: d.Kind},
			webnet.Page{Limit: jobsPerPage, Offset: (d.Page - 1) * jobsPerPage})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		d.Jobs, d.Total = u.jobRows(r.Context(), jobs), total
		d.Pages = max(1, (total+jobsPerPage-1)/jobsPerPage)
		link := func(p int) string {
			v := url.Values{}
			for _, kv := range [][2]string{{"status", d.Status}, {"kind", d.Kind}} {
				if kv[1] != "" {
					v.Set(kv[0], kv[1])
				}
			}
			if p > 1 {
				v.Set("page", strconv.Itoa(p))
			}
			if len(v) == 0 {
				return "/jobs"
			}
			return "/jobs?" + v.Encode()
		}
		d.Self = link(d.Page)
		if d.Page > 1 {
			d.Prev = link(d.Page - 1)
		}
		if d.Page < d.Pages {
			d.Next = link(d.Page + 1)
		}
	}
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "jobs-table" {
		u.renderFragment(w, r, status, "jobs", "jobs-table", d)
		return
	}
	u.renderNav(w, r, status, "jobs", "Jobs · webnet", "jobs", d)
}

// jobRows adds the requesters' names: the signed-in user's own, others' when the caller may
// see them (admins, staff), else their id.
func (u *UI) jobRows(ctx context.Context, jobs []webnet.Job) []jobRow {
	names := map[int64]string{}
	if sub := service.SubjectFrom(ctx); sub != nil && sub.User != nil {
		names[sub.User.ID] = sub.User.Username
	}
	rows := make([]jobRow, len(jobs))
	for i, j := range jobs {
		rows[i] = jobRow{Job: j, By: u.jobRequester(ctx, j.RequestedBy, names)}
	}
	return rows
}

func (u *UI) jobRequester(ctx context.Context, id *int64, names map[int64]string) string {
	if id == nil {
		return "the system"
	}
	if n, ok := names[*id]; ok {
		return n
	}
	n := "user #" + strconv.FormatInt(*id, 10)
	if user, err := u.core.GetUser(ctx, *id); err == nil {
		n = user.Username
	}
	names[*id] = n
	return n
}

// logLine is a log line with the name of its device ("" for a line about the job).
type logLine struct {
	webnet.JobLogLine
	Device string
}

// jobTarget is a target with its device's name.
type jobTarget struct {
	webnet.JobTarget
	Name string
}

type jobDetailData struct {
	Job          *webnet.Job
	By           string
	Targets      []jobTarget
	TargetsTotal int
	Failed       int
	TargetPrev   string
	TargetNext   string
	Lines        []logLine
	// Older and Newer link to the log's neighbouring pages; Latest is set when this is not
	// the newest page. Live marks the newest page, which jobs.js follows from LastSeq.
	Older, Newer string
	Latest       bool
	Live         bool
	LastSeq      int64
	CanCancel    bool
	CanRetry     bool
	NeedConfirm  bool
	Error        string
	Errors       map[string]string
}

func (u *UI) jobDetail(w http.ResponseWriter, r *http.Request) {
	u.showJob(w, r, http.StatusOK, "", nil)
}

// showJob renders the job page, with an error from a cancel or retry when msg is set.
func (u *UI) showJob(w http.ResponseWriter, r *http.Request, status int, msg string, fieldErrs map[string]string) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Job not found."))
		return
	}
	j, err := u.core.GetJob(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := jobDetailData{Job: j, Error: msg, Errors: fieldErrs, TargetsTotal: len(j.Targets)}
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	q := r.URL.Query()
	tpage, _, ok := positiveParam(q, "tpage", 1)
	if !ok {
		d.Errors["tpage"] = "The targets page must be a whole number from 1."
	}
	before, hasBefore, okB := positiveParam(q, "before", 1)
	after, hasAfter, okA := positiveParam(q, "after", 0)
	switch {
	case !okB:
		d.Errors["before"] = "“before” must be a log line number from 1."
	case !okA:
		d.Errors["after"] = "“after” must be a log line number from 0."
	case hasBefore && hasAfter:
		d.Errors["before"] = "Give “before” or “after”, not both."
	}
	if len(d.Errors) > 0 && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	sub := service.SubjectFrom(ctx)
	d.By = u.jobRequester(ctx, j.RequestedBy, map[int64]string{sub.User.ID: sub.User.Username})
	for _, t := range j.Targets {
		if t.Status == webnet.TargetFailed {
			d.Failed++
		}
	}
	d.targetsPage(ctx, u, max(tpage, 1))
	// Logs: one window of lines around what the query asks for.
	switch {
	case len(d.Errors) > 0:
	case hasAfter:
		err = d.logWindow(ctx, u, after+1, after+logPage)
	default:
		err = d.logBefore(ctx, u, before) // before is 0 without ?before=: the newest lines
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.jobActions(ctx, &d)
	u.renderNav(w, r, status, "job", "Job "+strconv.FormatInt(j.ID, 10)+" · webnet", "jobs", d)
}

// targetsPage keeps one page of targets and names their devices.
func (d *jobDetailData) targetsPage(ctx context.Context, u *UI, page int64) {
	from := min(int(page-1)*jobTargetsPage, len(d.Job.Targets))
	to := min(from+jobTargetsPage, len(d.Job.Targets))
	link := func(p int) string {
		return "/jobs/" + strconv.FormatInt(d.Job.ID, 10) + "?tpage=" + strconv.Itoa(p) + "#targets"
	}
	if from > 0 {
		d.TargetPrev = link(int(page) - 1)
	}
	if to < len(d.Job.Targets) {
		d.TargetNext = link(int(page) + 1)
	}
	for _, t := range d.Job.Targets[from:to] {
		name := "device #" + strconv.FormatInt(t.DeviceID, 10)
		if dev, err := u.core.GetDevice(ctx, t.DeviceID); err == nil {
			name = dev.Name
		}
		d.Targets = append(d.Targets, jobTarget{JobTarget: t, Name: name})
	}
}

// logWindow shows the lines with seq from..to (seq numbers have no gaps in a job's log; the
// service leaves out lines about devices the caller may not see).
func (d *jobDetailData) logWindow(ctx context.Context, u *UI, from, to int64) error {
	if to >= from {
		lines, err := u.core.JobLogs(ctx, d.Job.ID, from-1, int(to-from+1))
		if err != nil {
			return err
		}
		d.addLines(lines)
	}
	base := "/jobs/" + strconv.FormatInt(d.Job.ID, 10) + "?"
	if from > 1 {
		d.Older = base + "before=" + strconv.FormatInt(from, 10) + "#log"
	}
	d.Newer = base + "after=" + strconv.FormatInt(to, 10) + "#log"
	d.Latest = true
	return nil
}

// logBefore shows the logPage lines before seq before, or with before 0 the newest ones,
// which jobs.js then follows live from the last line shown (lines hidden from the caller
// may end the page early; the subscription makes that good).
func (d *jobDetailData) logBefore(ctx context.Context, u *UI, before int64) error {
	lines, from, err := u.core.JobLogTail(ctx, d.Job.ID, before, logPage)
	if err != nil {
		return err
	}
	d.addLines(lines)
	base := "/jobs/" + strconv.FormatInt(d.Job.ID, 10) + "?"
	if from > 1 {
		d.Older = base + "before=" + strconv.FormatInt(from, 10) + "#log"
	}
	if before > 0 {
		d.Newer = base + "after=" + strconv.FormatInt(before-1, 10) + "#log"
		d.Latest = true
		return nil
	}
	d.Live = true
	if n := len(d.Lines); n > 0 {
		d.LastSeq = d.Lines[n-1].Seq
	}
	return nil
}

// addLines adds log lines with the names of their devices.
func (d *jobDetailData) addLines(lines []webnet.JobLogLine) {
	names := map[int64]string{}
	for _, t := range d.Targets {
		names[t.DeviceID] = t.Name
	}
	for _, l := range lines {
		ll := logLine{JobLogLine: l}
		if l.DeviceID != nil {
			if ll.Device = names[*l.DeviceID]; ll.Device == "" {
				ll.Device = "device #" + strconv.FormatInt(*l.DeviceID, 10)
			}
		}
		d.Lines = append(d.Lines, ll)
	}
}

// jobActions decides which of Cancel and Retry to offer: Cancel as the service decides
// (MayCancelJob, CancelJob's own rule); Retry by the conditions RetryJob checks first (a
// finished job of a custom action with failed targets) — whether the caller holds the kind's
// permission on those devices RetryJob decides when used, and the page then says why not.
func (u *UI) jobActions(ctx context.Context, d *jobDetailData) {
	j := d.Job
	d.CanCancel = u.core.MayCancelJob(ctx, j)
	d.CanRetry = webnet.JobFinished(j.Status) && d.Failed > 0 && slices.Contains(jobKinds, j.Kind)
	d.NeedConfirm = j.Kind == webnet.JobUpgrade
}

func (u *UI) jobCancel(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Job not found."))
		return
	}
	if _, err := u.core.CancelJob(r.Context(), n); err != nil {
		u.jobActionFailed(w, r, err, nil)
		return
	}
	redirect(w, r, "/jobs/"+strconv.FormatInt(n, 10), "cancelled")
}

func (u *UI) jobRetry(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Job not found."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		u.jobActionFailed(w, r, webnet.Errorf(webnet.EInvalid, "The form could not be read."), nil)
		return
	}
	confirm := r.PostForm.Get("confirm")
	if confirm != "" && confirm != "yes" {
		u.jobActionFailed(w, r, webnet.Errorf(webnet.EInvalid, "Check the confirmation box or leave it empty."),
			map[string]string{"confirm": "Check the box to confirm."})
		return
	}
	job, err := u.core.RetryJob(r.Context(), n, confirm == "yes", nil)
	if err != nil {
		var fields map[string]string
		if webnet.ErrorCode(err) == webnet.EInvalid {
			fields = map[string]string{"confirm": "Check the box to confirm the upgrade."}
		}
		u.jobActionFailed(w, r, err, fields)
		return
	}
	redirect(w, r, "/jobs/"+strconv.FormatInt(job.ID, 10), "retried")
}

// jobActionFailed shows the job again with why a cancel or retry was refused; a job the
// caller may not see, or a session that ended, is answered as any page would be.
func (u *UI) jobActionFailed(w http.ResponseWriter, r *http.Request, err error, fields map[string]string) {
	status := 0
	switch webnet.ErrorCode(err) {
	case webnet.EInvalid:
		status = http.StatusBadRequest
	case webnet.EForbidden:
		status = http.StatusForbidden
	case webnet.EConflict:
		status = http.StatusConflict
	}
	if status == 0 {
		u.fail(w, r, err)
		return
	}
	r.URL.RawQuery = ""
	u.showJob(w, r, status, webnet.ErrorMessage(err), fields)
}
