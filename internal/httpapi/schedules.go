package httpapi

import (
	"net/http"
	"strconv"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

func (a *API) registerSchedules(mux *http.ServeMux) {
	a.handle(mux, "GET /api/schedules/", signedIn, a.listSchedules)
	a.handle(mux, "POST /api/schedules/", signedIn, a.createSchedule)
	a.handle(mux, "GET /api/schedules/{id}/", signedIn, a.getSchedule)
	a.handle(mux, "PATCH /api/schedules/{id}/", signedIn, a.updateSchedule)
	a.handle(mux, "DELETE /api/schedules/{id}/", signedIn, a.deleteSchedule)
}

func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	sq := webnet.ScheduleQuery{Kind: r.URL.Query().Get("kind")}
	if sq.CustomerID, err = queryID(r, "customer"); err != nil {
		return err
	}
	if sq.OwnerID, err = queryID(r, "owner"); err != nil {
		return err
	}
	if sq.DeviceGroupID, err = queryID(r, "device_group"); err != nil {
		return err
	}
	if v := r.URL.Query().Get("enabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return webnet.Invalid("Invalid filter.", map[string]string{"enabled": "Must be true or false."})
		}
		sq.Enabled = &b
	}
	schedules, total, err := a.core.ListSchedules(r.Context(), sq, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, schedules))
	return nil
}

func (a *API) createSchedule(w http.ResponseWriter, r *http.Request) error {
	var in service.ScheduleInput
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &in)
	if err != nil {
		return err
	}
	in.BodyErr = bodyErr
	s, err := a.core.CreateSchedule(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

func (a *API) getSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	s, err := a.core.GetSchedule(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) updateSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in service.ScheduleInput
	if in.BodyErr, err = decodeDeferred(w, r, a.maxBody, &in); err != nil {
		return err
	}
	s, err := a.core.UpdateSchedule(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteSchedule(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
