package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"webnet/internal/webnet"
)

func (a *API) registerJobs(mux *http.ServeMux) {
	a.handle(mux, "GET /api/jobs/", signedIn, a.listJobs)
	a.handle(mux, "GET /api/jobs/{id}/", signedIn, a.getJob)
	a.handle(mux, "GET /api/jobs/{id}/logs/", signedIn, a.jobLogs)
	a.handle(mux, "POST /api/jobs/{id}/cancel/", signedIn, a.cancelJob)
	a.handle(mux, "POST /api/jobs/{id}/retry/", signedIn, a.retryJob)
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	jq := webnet.JobQuery{Status: q.Get("status"), Kind: q.Get("kind")}
	if jq.DeviceID, err = queryID(r, "device"); err != nil {
		return err
	}
	if jq.RequestedBy, err = queryID(r, "requested_by"); err != nil {
		return err
	}
	if jq.CustomerID, err = queryID(r, "customer"); err != nil {
		return err
	}
	if jq.ScheduleID, err = queryID(r, "schedule"); err != nil {
		return err
	}
	if v := q.Get("finished_after"); v != "" {
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return webnet.Invalid("Invalid query.", map[string]string{"finished_after": "Use an RFC 3339 time, e.g. 2026-11-26T08:00:00Z."})
		}
		jq.FinishedAfter = &at
	}
	jobs, total, err := a.core.ListJobs(r.Context(), jq, p)
	if err != nil {
		return err
	}
	summaries := make([]jobSummary, len(jobs))
	for i, j := range jobs {
		summaries[i] = jobSummary{Job: j}
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, summaries))
	return nil
}

// jobSummary is a job as lists show it: without its targets (they are on the detail). The
// outer, always-nil Targets field shadows the job's and is omitted.
type jobSummary struct {
	webnet.Job
	Targets *struct{} `json:"targets,omitempty"`
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := a.core.GetJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// jobLogs is GET /api/jobs/{id}/logs/?after=seq&limit=n: the lines after seq, in order;
// "next_after" is the seq to ask from next time.
func (a *API) jobLogs(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, limit := int64(0), 1000
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return webnet.Invalid("Invalid parameter.", map[string]string{"after": "Must be a log seq, 0 or more."})
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			return webnet.Invalid("Invalid parameter.", map[string]string{"limit": "Must be from 1 to 10000."})
		}
	}
	lines, err := a.core.JobLogs(r.Context(), id, after, limit)
	if err != nil {
		return err
	}
	next := after
	if len(lines) > 0 {
		next = lines[len(lines)-1].Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": lines, "next_after": next})
	return nil
}

func (a *API) cancelJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := a.core.CancelJob(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// retryJob is POST /api/jobs/{id}/retry/ with an optional body {"confirm": bool}.
func (a *API) retryJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Confirm bool `json:"confirm"`
	}
	var bodyErr error
	if r.ContentLength != 0 {
		if bodyErr, err = decodeDeferred(w, r, a.maxBody, &body); err != nil {
			return err
		}
	}
	j, err := a.core.RetryJob(r.Context(), id, body.Confirm, bodyErr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job": j})
	return nil
}
