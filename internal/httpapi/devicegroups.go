package httpapi

import (
	"net/http"

	"webnet/internal/service"
)

func (a *API) registerDeviceGroups(mux *http.ServeMux) {
	a.handle(mux, "GET /api/device-groups/", signedIn, a.listDeviceGroups)
	a.handle(mux, "POST /api/device-groups/", signedIn, a.createDeviceGroup)
	a.handle(mux, "GET /api/device-groups/{id}/", signedIn, a.getDeviceGroup)
	a.handle(mux, "PATCH /api/device-groups/{id}/", signedIn, a.updateDeviceGroup)
	a.handle(mux, "DELETE /api/device-groups/{id}/", signedIn, a.deleteDeviceGroup)

	a.handle(mux, "GET /api/device-group-roles/", signedIn, a.listRoles)
	a.handle(mux, "POST /api/device-group-roles/", signedIn, a.createRole)
	a.handle(mux, "GET /api/device-group-roles/{id}/", signedIn, a.getRole)
	a.handle(mux, "PATCH /api/device-group-roles/{id}/", signedIn, a.updateRole)
	a.handle(mux, "DELETE /api/device-group-roles/{id}/", signedIn, a.deleteRole)

	for kind, path := range map[string]string{"user": "/api/user-device-group-roles/", "group": "/api/group-device-group-roles/"} {
		a.handle(mux, "GET "+path, signedIn, a.listAssignments(kind))
		a.handle(mux, "POST "+path, signedIn, a.createAssignment(kind))
		a.handle(mux, "DELETE "+path+"{id}/", signedIn, a.deleteAssignment(kind))
	}
}

func (a *API) listDeviceGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	cid, err := queryID(r, "customer")
	if err != nil {
		return err
	}
	groups, total, err := a.core.ListDeviceGroups(r.Context(), cid, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, groups))
	return nil
}

func (a *API) createDeviceGroup(w http.ResponseWriter, r *http.Request) error {
	var in service.DeviceGroupInput
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &in)
	if err != nil {
		return err
	}
	in.BodyErr = bodyErr
	dg, err := a.core.CreateDeviceGroup(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, dg)
	return nil
}

func (a *API) getDeviceGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	dg, err := a.core.GetDeviceGroup(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dg)
	return nil
}

func (a *API) updateDeviceGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in service.DeviceGroupInput
	if in.BodyErr, err = decodeDeferred(w, r, a.maxBody, &in); err != nil {
		return err
	}
	dg, err := a.core.UpdateDeviceGroup(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dg)
	return nil
}

func (a *API) deleteDeviceGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteDeviceGroup(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	gid, err := queryID(r, "device_group")
	if err != nil {
		return err
	}
	roles, total, err := a.core.ListRoles(r.Context(), gid, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, roles))
	return nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	var in service.RoleInput
	bodyErr, err := decodeDeferred(w, r, a.maxBody, &in)
	if err != nil {
		return err
	}
	in.BodyErr = bodyErr
	role, err := a.core.CreateRole(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, role)
	return nil
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	role, err := a.core.GetRole(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, role)
	return nil
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in service.RoleInput
	if in.BodyErr, err = decodeDeferred(w, r, a.maxBody, &in); err != nil {
		return err
	}
	role, err := a.core.UpdateRole(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, role)
	return nil
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteRole(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listAssignments(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := pageOf(r)
		if err != nil {
			return err
		}
		as, total, err := a.core.ListAssignments(r.Context(), kind, p)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newList(r, p, total, as))
		return nil
	}
}

func (a *API) createAssignment(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in service.AssignmentInput
		bodyErr, err := decodeDeferred(w, r, a.maxBody, &in)
		if err != nil {
			return err
		}
		in.BodyErr = bodyErr
		if in.BodyErr == nil && ((kind == "user" && in.Group != nil) || (kind == "group" && in.User != nil)) {
			other := "group"
			if kind == "group" {
				other = "user"
			}
			in.BodyErr = errUnknownField(other)
		}
		v, err := a.core.CreateAssignment(r.Context(), kind, in)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, v)
		return nil
	}
}

func (a *API) deleteAssignment(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := a.core.DeleteAssignment(r.Context(), kind, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
