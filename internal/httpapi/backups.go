package httpapi

import (
	"fmt"
	"mime"
	"net/http"
)

func (a *API) registerBackups(mux *http.ServeMux) {
	a.handle(mux, "GET /api/devices/{id}/backups/", signedIn, a.listBackups)
	a.handle(mux, "GET /api/devices/{id}/config/", signedIn, a.deviceConfig)
	a.handle(mux, "GET /api/backups/{id}/", signedIn, a.getBackup)
	a.handle(mux, "GET /api/backups/{id}/content/", signedIn, a.backupContent)
	a.handle(mux, "GET /api/backups/{id}/diff/", signedIn, a.backupDiff)
}

func (a *API) listBackups(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	backups, total, err := a.core.ListBackups(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, backups))
	return nil
}

func (a *API) getBackup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := a.core.GetBackup(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// backupContent downloads a backup as a text file named after its device and version.
func (a *API) backupContent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := a.core.BackupContent(r.Context(), id)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-backup-%d.cfg", f.Device.Name, f.Backup.ID)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-SHA256", f.Backup.SHA256)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(f.Content)
	return err
}

// deviceConfig is a device's latest configuration, as JSON.
func (a *API) deviceConfig(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := a.core.DeviceConfig(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"device": f.Device.ID, "backup": f.Backup, "config": string(f.Content)})
	return nil
}

// backupDiff is GET /api/backups/{id}/diff/?against=id: the diff from against (default: the
// device's previous version) to this backup.
func (a *API) backupDiff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	against, err := queryID(r, "against")
	if err != nil {
		return err
	}
	d, err := a.core.DiffBackups(r.Context(), id, against)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
