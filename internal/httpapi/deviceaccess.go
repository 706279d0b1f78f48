package httpapi

import "net/http"

func (a *API) registerDeviceAccess(mux *http.ServeMux) {
	a.handle(mux, "DELETE /api/devices/{id}/host-key/", signedIn, a.clearHostKey)
	a.handle(mux, "GET /api/devices/{id}/readiness/", signedIn, a.deviceReadiness)
}

// clearHostKey forgets the SSH host key a device is trusted with (after it was replaced).
func (a *API) clearHostKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.ClearHostKey(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deviceReadiness is GET /api/devices/{id}/readiness/: the device's latest readiness check.
func (a *API) deviceReadiness(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rd, err := a.core.DeviceReadiness(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rd)
	return nil
}
