package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

func (a *API) registerDevices(mux *http.ServeMux) {
	a.handle(mux, "GET /api/devices/", signedIn, a.listDevices)
	a.handle(mux, "POST /api/devices/", signedIn, a.createDevice)
	a.handle(mux, "GET /api/devices/{id}/", signedIn, a.getDevice)
	a.handle(mux, "PATCH /api/devices/{id}/", signedIn, a.updateDevice)
	a.handle(mux, "DELETE /api/devices/{id}/", signedIn, a.deleteDevice)
	a.handle(mux, "POST /api/devices/{id}/enable/", signedIn, a.setEnabled(true))
	a.handle(mux, "POST /api/devices/{id}/disable/", signedIn, a.setEnabled(false))
	a.handle(mux, "POST /api/devices/bulk-delete/", signedIn, a.bulkDelete)
	a.handle(mux, "GET /api/devices/{id}/access/", signedIn, a.deviceAccess)
	for _, act := range []struct {
		path   string
		action service.Action
	}{{"sync", service.ActionSync}, {"readiness", service.ActionReadiness}, {"upgrade", service.ActionUpgrade}} {
		a.handle(mux, "POST /api/devices/"+act.path+"/", signedIn, a.bulkAction(act.action))
		a.handle(mux, "POST /api/devices/{id}/"+act.path+"/", signedIn, a.deviceAction(act.action))
	}
	a.handle(mux, "POST /api/devices/{id}/config/", signedIn, a.configPush)
}

// queryID reads an optional positive id from the query string.
func queryID(r *http.Request, name string) (*int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, webnet.Invalid("Invalid filter.", map[string]string{name: "Must be a positive id."})
	}
	return &id, nil
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var dq webnet.DeviceQuery
	if dq.CustomerID, err = queryID(r, "customer"); err != nil {
		return err
	}
	if q.Get("device_group") == "null" {
		dq.Ungrouped = true
	} else if dq.DeviceGroupID, err = queryID(r, "device_group"); err != nil {
		return err
	}
	dq.Platform, dq.OSVersion, dq.Search = q.Get("platform"), q.Get("os_version"), strings.TrimSpace(q.Get("q"))
	if v := q.Get("enabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return webnet.Invalid("Invalid filter.", map[string]string{"enabled": "Must be true or false."})
		}
		dq.Enabled = &b
	}
	devices, total, err := a.core.ListDevices(r.Context(), dq, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, devices))
	return nil
}

// decodeDeferred reads the request's JSON body into dst like decode, except when the body is
// well-formed JSON that does not fit dst (an unknown field, a value of the wrong type): then
// it fills dst leniently with what does fit and returns the strict error as bodyErr, for the
// service to report after it has answered the visibility and permission questions that the
// body's references pose (design.md §3: 404, then 403, then 400). err is any other failure
// (not JSON, too large, malformed), which no reference can be read from.
func decodeDeferred(w http.ResponseWriter, r *http.Request, maxBody int64, dst any) (bodyErr, err error) {
	var raw json.RawMessage
	if err := decode(w, r, maxBody, &raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		fillLeniently(raw, dst)
		return decodeError(err, maxBody), nil
	}
	return nil, nil
}

// fillLeniently sets each field of the struct dst points to from the member of the JSON
// object raw with the field's name, when that member alone decodes into the field; every
// other field is left zero. A reference of the wrong type is thus absent, never a zero id.
func fillLeniently(raw json.RawMessage, dst any) {
	v := reflect.ValueOf(dst).Elem()
	v.SetZero() // undo what the strict decoder set before it failed
	var members map[string]json.RawMessage
	if v.Kind() != reflect.Struct || json.Unmarshal(raw, &members) != nil {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		m, ok := members[name]
		if !f.IsExported() || name == "" || name == "-" || !ok {
			continue
		}
		p := reflect.New(f.Type)
		if json.Unmarshal(m, p.Interface()) == nil {
			v.Field(i).Set(p.Elem())
		}
	}
}

func (a *API) createDevice(w http.ResponseWriter, r *http.Request) error {
	var in service.DeviceInput
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &in)
	if err != nil {
		return err
	}
	in.BodyErr = bodyErr
	d, err := a.core.CreateDevice(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := a.core.GetDevice(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) updateDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Visibility and permission come before the body: a caller without the permission never
	// learns what a valid body would be.
	if err := a.core.AuthorizeDeviceChange(r.Context(), id); err != nil {
		return err
	}
	var p service.DevicePatch
	if err := decode(w, r, a.maxBody, &p); err != nil {
		return err
	}
	d, err := a.core.UpdateDevice(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// boolQuery reads an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, webnet.Invalid("Invalid parameter.", map[string]string{name: "Must be true or false."})
	}
	return b, nil
}

func (a *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	dry, err := boolQuery(r, "dry_run")
	if err != nil {
		return err
	}
	p, err := a.core.DeleteDevice(r.Context(), id, dry)
	if err != nil {
		return err
	}
	if dry {
		writeJSON(w, http.StatusOK, p)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) setEnabled(enabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		d, err := a.core.SetDeviceEnabled(r.Context(), id, enabled)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
}

func (a *API) bulkDelete(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Devices []int64 `json:"devices"`
		DryRun  bool    `json:"dry_run"`
		Confirm bool    `json:"confirm"`
	}
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &body)
	if err != nil {
		return err
	}
	if bodyErr != nil {
		// The devices first: 404 for any the caller cannot see, 403 for any they may not
		// delete; only then what is wrong with the body.
		if err := a.core.AuthorizeBulkDelete(r.Context(), body.Devices); err != nil && webnet.ErrorCode(err) != webnet.EInvalid {
			return err
		}
		return bodyErr
	}
	p, err := a.core.BulkDelete(r.Context(), body.Devices, body.DryRun, body.Confirm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// actionBody is the body of the custom-action endpoints; image is the firmware image of
// readiness and upgrade. Concurrency (targets at once) and max_failures (stop starting
// targets after that many failed) shape any action's job; reload_timeout (seconds) is the
// upgrade's wait for a reloading device.
type actionBody struct {
	Devices       []int64 `json:"devices"`
	Image         *int64  `json:"image"`
	DryRun        bool    `json:"dry_run"`
	Confirm       bool    `json:"confirm"`
	Concurrency   *int    `json:"concurrency"`
	MaxFailures   *int    `json:"max_failures"`
	ReloadTimeout *int    `json:"reload_timeout"`
}

// Bounds of the job-shaping fields.
const (
	maxActionConcurrency = 256
	minReloadTimeout     = 30
	maxReloadTimeout     = 4 * 3600
)

// request builds the service request. bodyErr is what is wrong with the body, if anything;
// when nothing is, an invalid field or an upgrade without its image is.
func (b actionBody) request(act service.Action, ids []int64, bodyErr error) service.ActionRequest {
	req := service.ActionRequest{Devices: ids, DryRun: b.DryRun, Confirm: b.Confirm, BodyErr: bodyErr, Params: map[string]any{}}
	if b.Image != nil {
		req.Params["image"] = *b.Image
	}
	fields := map[string]string{}
	if b.Concurrency != nil {
		if *b.Concurrency < 1 || *b.Concurrency > maxActionConcurrency {
			fields["concurrency"] = fmt.Sprintf("Must be between 1 and %d.", maxActionConcurrency)
		}
		req.Params["concurrency"] = *b.Concurrency
	}
	if b.MaxFailures != nil {
		if *b.MaxFailures < 1 {
			fields["max_failures"] = "Must be at least 1 (leave it out for no limit)."
		}
		req.Params["max_failures"] = *b.MaxFailures
	}
	if b.ReloadTimeout != nil {
		switch {
		case act.Kind != webnet.JobUpgrade:
			fields["reload_timeout"] = "Only upgrades reload devices."
		case *b.ReloadTimeout < minReloadTimeout || *b.ReloadTimeout > maxReloadTimeout:
			fields["reload_timeout"] = fmt.Sprintf("Must be between %d and %d seconds.", minReloadTimeout, maxReloadTimeout)
		}
		req.Params["reload_timeout"] = *b.ReloadTimeout
	}
	if act.Kind == webnet.JobUpgrade && b.Image == nil {
		fields["image"] = "This field is required."
	}
	if len(req.Params) == 0 {
		req.Params = nil
	}
	if req.BodyErr == nil && len(fields) > 0 {
		msg := "Invalid request."
		if act.Kind == webnet.JobUpgrade {
			msg = "Invalid upgrade."
		}
		req.BodyErr = webnet.Invalid(msg, fields)
	}
	return req
}

// runAction asks the service for the action; it checks the devices before reporting
// req.BodyErr, so a caller without the permission never learns what a valid body would be.
func (a *API) runAction(w http.ResponseWriter, r *http.Request, act service.Action, req service.ActionRequest) error {
	jobs, err := a.core.RunAction(r.Context(), act, req)
	if err != nil {
		return err
	}
	if len(jobs) == 1 {
		writeJSON(w, http.StatusAccepted, map[string]any{"job": jobs[0]})
		return nil
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job": jobs[0], "jobs": jobs})
	return nil
}

func (a *API) bulkAction(act service.Action) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b actionBody
		bodyErr, err := decodeDeferred(w, r, a.maxBody, &b)
		if err != nil {
			return err
		}
		return a.runAction(w, r, act, b.request(act, b.Devices, bodyErr))
	}
}

func (a *API) deviceAction(act service.Action) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var b actionBody
		var bodyErr error
		if r.ContentLength != 0 {
			if bodyErr, err = decodeDeferred(w, r, a.maxBody, &b); err != nil {
				return err
			}
		}
		if bodyErr == nil && len(b.Devices) > 0 {
			bodyErr = webnet.Invalid("Invalid request.", map[string]string{"devices": "The device is in the URL."})
		}
		return a.runAction(w, r, act, b.request(act, []int64{id}, bodyErr))
	}
}

func (a *API) configPush(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var b struct {
		Config *string `json:"config"`
		DryRun bool    `json:"dry_run"`
	}
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &b)
	if err != nil {
		return err
	}
	req := service.ActionRequest{Devices: []int64{id}, DryRun: b.DryRun, BodyErr: bodyErr}
	if b.Config != nil {
		req.Params = map[string]any{"config": *b.Config}
	}
	// The service checks the text itself (size, characters, lines a push may not have).
	if req.BodyErr == nil && b.Config == nil {
		req.BodyErr = webnet.Invalid("Invalid configuration push.", map[string]string{"config": "This field is required."})
	}
	jobs, err := a.core.RunAction(r.Context(), service.ActionConfigPush, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job": jobs[0]})
	return nil
}

func (a *API) deviceAccess(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := queryID(r, "user")
	if err != nil {
		return err
	}
	if uid == nil {
		return webnet.Invalid("Which user?", map[string]string{"user": "This parameter is required."})
	}
	acc, err := a.core.ExplainAccess(r.Context(), id, *uid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, acc)
	return nil
}
