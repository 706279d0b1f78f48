package ui

import "net/http"

// registerJobs adds the job list and job detail.
func (u *UI) registerJobs(mux *http.ServeMux) {}
