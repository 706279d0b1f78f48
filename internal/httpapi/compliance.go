package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerCompliance adds /api/compliance-rules/ (tenant administration) and /api/compliance/:
// running checks, their latest results and the per-customer summary.
func (a *API) registerCompliance(mux *http.ServeMux) {
	a.handle(mux, "GET /api/compliance-rules/", signedIn, a.listComplianceRules)
	a.handle(mux, "POST /api/compliance-rules/", signedIn, a.createComplianceRule)
	a.handle(mux, "GET /api/compliance-rules/{id}/", signedIn, a.getComplianceRule)
	a.handle(mux, "PATCH /api/compliance-rules/{id}/", signedIn, a.updateComplianceRule)
	a.handle(mux, "DELETE /api/compliance-rules/{id}/", signedIn, a.deleteComplianceRule)
	a.handle(mux, "POST /api/compliance/run/", signedIn, a.runCompliance)
	a.handle(mux, "GET /api/compliance/results/", signedIn, a.listComplianceResults)
	a.handle(mux, "GET /api/compliance/summary/", signedIn, a.complianceSummary)
}

func (a *API) listComplianceRules(w http.ResponseWriter, r *http.Request) error {
	return listOfCustomer(w, r, a.core.ListComplianceRules)
}

// listOfCustomer serves a list whose one filter is ?customer=.
func listOfCustomer[T any](w http.ResponseWriter, r *http.Request, list func(context.Context, *int64, webnet.Page) ([]T, int, error)) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	customer, err := queryID(r, "customer")
	if err != nil {
		return err
	}
	items, total, err := list(r.Context(), customer, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, items))
	return nil
}

// createComplianceRule is POST /api/compliance-rules/; what is wrong with the body is reported
// by the service after it has checked the customer the body names.
func (a *API) createComplianceRule(w http.ResponseWriter, r *http.Request) error {
	var in service.ComplianceRuleInput
	var err error
	if in.BodyErr, err = decodeDeferred(w, r, a.maxBody, &in); err != nil {
		return err
	}
	rule, err := a.core.CreateComplianceRule(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rule)
	return nil
}

func (a *API) getComplianceRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rule, err := a.core.GetComplianceRule(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (a *API) updateComplianceRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in service.ComplianceRuleInput
	if in.BodyErr, err = decodeDeferred(w, r, a.maxBody, &in); err != nil {
		return err
	}
	rule, err := a.core.UpdateComplianceRule(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (a *API) deleteComplianceRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteComplianceRule(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// runCompliance is POST /api/compliance/run/ {device_group} or {devices}: 202 with the job(s),
// like the bulk custom actions.
func (a *API) runCompliance(w http.ResponseWriter, r *http.Request) error {
	var req service.ComplianceRunRequest
	var err error
	if req.BodyErr, err = decodeDeferred(w, r, a.maxBody, &req); err != nil {
		return err
	}
	jobs, err := a.core.RunCompliance(r.Context(), req)
	if err != nil {
		return err
	}
	body := map[string]any{"job": jobs[0]}
	if len(jobs) > 1 {
		body["jobs"] = jobs
	}
	writeJSON(w, http.StatusAccepted, body)
	return nil
}

// listComplianceResults is GET /api/compliance/results/?customer=&device=&rule=&passed=.
func (a *API) listComplianceResults(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	var q webnet.ComplianceResultQuery
	for name, dst := range map[string]**int64{"customer": &q.CustomerID, "device": &q.DeviceID, "rule": &q.RuleID} {
		if *dst, err = queryID(r, name); err != nil {
			return err
		}
	}
	if v := r.URL.Query().Get("passed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return webnet.Invalid("Invalid filter.", map[string]string{"passed": "Must be true or false."})
		}
		q.Passed = &b
	}
	results, total, err := a.core.ListComplianceResults(r.Context(), q, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, results))
	return nil
}

// complianceSummary is GET /api/compliance/summary/?customer=: a page of per-customer
// summaries over the devices the caller may view.
func (a *API) complianceSummary(w http.ResponseWriter, r *http.Request) error {
	return listOfCustomer(w, r, a.core.ComplianceSummaries)
}
