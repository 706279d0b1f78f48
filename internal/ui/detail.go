package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// The device detail page (facts, backups with a diff viewer, the current configuration,
// jobs, the latest readiness, the actions the user may take) and the upgrade wizard. What a
// page offers comes from the service's answers: a device's user_permissions decide which
// buttons appear; each action's own service call decides whether it happens.

// registerDetail adds the device detail page and the upgrade wizard.
func (u *UI) registerDetail(mux *http.ServeMux) {
	mux.HandleFunc("GET /devices/{id}", authed(u.deviceDetail))
	mux.HandleFunc("GET /devices/{id}/config", authed(u.deviceConfig))
	mux.HandleFunc("GET /devices/{id}/diff", authed(u.deviceDiff))
	mux.HandleFunc("POST /devices/{id}/sync", authed(u.deviceAction(service.ActionSync)))
	mux.HandleFunc("POST /devices/{id}/readiness", authed(u.deviceAction(service.ActionReadiness)))
	mux.HandleFunc("GET /devices/{id}/edit", authed(u.deviceEditForm))
	mux.HandleFunc("POST /devices/{id}/edit", authed(u.deviceEdit))
	mux.HandleFunc("GET /devices/{id}/delete", authed(u.deviceDeleteForm))
	mux.HandleFunc("POST /devices/{id}/delete", authed(u.deviceDelete))
	mux.HandleFunc("GET /devices/{id}/push", authed(u.devicePushForm))
	mux.HandleFunc("POST /devices/{id}/push", authed(u.devicePush))
	u.registerWizard(mux)
}

func init() {
	// detailTime is a time (or *time.Time) in UTC for a title attribute, "never" for none.
	funcs["detailTime"] = func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			}
		}
		return "never"
	}
	// detailSize is a byte count for people.
	funcs["detailSize"] = func(n int) string {
		switch {
		case n < 1024:
			return fmt.Sprintf("%d B", n)
		case n < 1<<20:
			return fmt.Sprintf("%.1f KiB", float64(n)/1024)
		default:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		}
	}
}

// maxPushForm caps the configuration push form: the text plus a little.
const maxPushForm = 1 << 20

// maxWizardForm caps the wizard's forms, which carry every device id (up to 10000, as
// many as one action takes).
const maxWizardForm = 512 << 10

// deviceID reads the {id} of a device path; anything but a positive id is a device that
// does not exist.
func deviceID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, webnet.Errorf(webnet.ENotFound, "Device not found.")
	}
	return id, nil
}

// optionalID reads an optional positive id from form or query values; name is the field the
// error names.
func optionalID(v url.Values, name, label string) (*int64, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, webnet.Invalid(fmt.Sprintf("%s must be a positive id, not %q.", label, s), map[string]string{name: "Must be a positive id."})
	}
	return &id, nil
}

// formError tells the errors a form shows next to its inputs (validation, conflict) from
// those that make an error page; it returns the status and the message for the former.
func formError(err error) (int, *webnet.Error, bool) {
	var e *webnet.Error
	if !errors.As(err, &e) {
		return 0, nil, false
	}
	switch e.Code {
	case webnet.EInvalid:
		return http.StatusBadRequest, e, true
	case webnet.EConflict:
		return http.StatusConflict, e, true
	}
	return 0, nil, false
}

// perms is a set of permission codenames (user_permissions) for templates: .Can.sync_device_inventory.
func perms(codes []string) map[string]bool {
	out := make(map[string]bool, len(codes))
	for _, c := range codes {
		out[c] = true
	}
	return out
}

// readinessView is the latest readiness of one device: the stored check (its checks with
// their reasons) and the device's target in its newest readiness job (which may still run).
type readinessView struct {
	Stored *webnet.Readiness
	Job    *webnet.Job
	Target *webnet.JobTarget
}

type detailData struct {
	Device       *service.DeviceDetail
	Can          map[string]bool
	Customer     string
	Group        string
	Backups      []webnet.Backup
	BackupsTotal int
	Jobs         []webnet.Job
	JobsTotal    int
	Readiness    *readinessView
}

func (u *UI) deviceDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, ok := u.device(w, r)
	if !ok {
		return
	}
	id := d.ID
	var err error
	data := detailData{Device: d, Can: perms(d.UserPermissions), Customer: u.customerName(ctx, d.CustomerID)}
	if d.DeviceGroupID != nil {
		data.Group = fmt.Sprintf("#%d", *d.DeviceGroupID)
		if g, err := u.core.GetDeviceGroup(ctx, *d.DeviceGroupID); err == nil {
			data.Group = g.Name
		}
	}
	if data.Can["view_backups"] {
		if data.Backups, data.BackupsTotal, err = u.core.ListBackups(ctx, id, webnet.Page{Limit: 50}); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if data.Jobs, data.JobsTotal, err = u.core.ListJobs(ctx, webnet.JobQuery{DeviceID: &id}, webnet.Page{Limit: 10}); err != nil {
		u.fail(w, r, err)
		return
	}
	if data.Readiness, err = u.latestReadiness(ctx, id); err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, http.StatusOK, "device", d.Name+" · webnet", "devices", data)
}

// device loads the device of the path ({id}) for a page, or answers not_found.
func (u *UI) device(w http.ResponseWriter, r *http.Request) (*service.DeviceDetail, bool) {
	id, err := deviceID(r)
	var d *service.DeviceDetail
	if err == nil {
		d, err = u.core.GetDevice(r.Context(), id)
	}
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return d, true
}

// customerName names a customer for a page, or says its id when the caller cannot read it.
func (u *UI) customerName(ctx context.Context, id int64) string {
	if c, err := u.core.GetCustomer(ctx, id); err == nil {
		return c.Name
	}
	return fmt.Sprintf("#%d", id)
}

// latestReadiness is the device's stored readiness and its target in its newest readiness
// job, if any.
func (u *UI) latestReadiness(ctx context.Context, id int64) (*readinessView, error) {
	v := &readinessView{}
	stored, err := u.core.DeviceReadiness(ctx, id)
	switch {
	case err == nil:
		v.Stored = stored
	case webnet.ErrorCode(err) != webnet.ENotFound:
		return nil, err
	}
	jobs, _, err := u.core.ListJobs(ctx, webnet.JobQuery{DeviceID: &id, Kind: webnet.JobReadiness}, webnet.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(jobs) > 0 {
		if v.Job, err = u.core.GetJob(ctx, jobs[0].ID); err != nil {
			return nil, err
		}
		for i := range v.Job.Targets {
			if v.Job.Targets[i].DeviceID == id {
				v.Target = &v.Job.Targets[i]
			}
		}
	}
	if v.Stored == nil && v.Job == nil {
		return nil, nil
	}
	return v, nil
}

type configData struct {
	Device *service.DeviceDetail
	Config *service.BackupFile
	// Missing says why there is nothing to show (no backup yet).
	Missing string
}

func (u *UI) deviceConfig(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, ok := u.device(w, r)
	if !ok {
		return
	}
	id := d.ID
	var err error
	data := configData{Device: d}
	data.Config, err = u.core.DeviceConfig(ctx, id)
	switch {
	case webnet.ErrorCode(err) == webnet.ENotFound:
		data.Missing = webnet.ErrorMessage(err)
	case err != nil:
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, http.StatusOK, "backup-config", "Configuration of "+d.Name+" · webnet", "devices", data)
}

// deviceAction runs a custom action (sync, readiness) on one device and shows its job.
func (u *UI) deviceAction(act service.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := deviceID(r)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		jobs, err := u.core.RunAction(r.Context(), act, service.ActionRequest{Devices: []int64{id}})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		redirect(w, r, fmt.Sprintf("/jobs/%d", jobs[0].ID), "queued")
	}
}

// The device page shows one of several views (detail, edit, delete, push): each view's
// data names it.
func (detailData) View() string { return "detail" }
func (editData) View() string   { return "edit" }
func (deleteData) View() string { return "delete" }
func (pushData) View() string   { return "push" }

type editData struct {
	Device    *service.DeviceDetail
	Name      string
	Address   string
	Port      string
	Platform  string
	Platforms []string
	Error     string
	Fields    map[string]string
}

func (u *UI) deviceEditForm(w http.ResponseWriter, r *http.Request) {
	d, ok := u.changeableDevice(w, r)
	if !ok {
		return
	}
	u.renderNav(w, r, http.StatusOK, "device", "Edit "+d.Name+" · webnet", "devices", editData{Device: d,
		Name: d.Name, Address: d.Address, Port: strconv.Itoa(d.Port), Platform: d.Platform, Platforms: webnet.Platforms})
}

// changeableDevice loads the device of the path for its edit form: the caller must see it
// and hold change_device (the service's check, audited when denied).
func (u *UI) changeableDevice(w http.ResponseWriter, r *http.Request) (*service.DeviceDetail, bool) {
	d, ok := u.device(w, r)
	if !ok {
		return nil, false
	}
	if err := u.core.AuthorizeDeviceChange(r.Context(), d.ID); err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return d, true
}

func (u *UI) deviceEdit(w http.ResponseWriter, r *http.Request) {
	d, ok := u.changeableDevice(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, webnet.Invalid("The form could not be read.", nil))
		return
	}
	f := r.PostForm
	data := editData{Device: d, Name: strings.TrimSpace(f.Get("name")), Address: strings.TrimSpace(f.Get("address")),
		Port: strings.TrimSpace(f.Get("port")), Platform: f.Get("platform"), Platforms: webnet.Platforms, Fields: map[string]string{}}
	port, err := strconv.Atoi(data.Port)
	if err != nil {
		data.Error, data.Fields["port"] = "Invalid device.", "Must be a whole number from 1 to 65535."
		u.renderNav(w, r, http.StatusBadRequest, "device", "Edit "+d.Name+" · webnet", "devices", data)
		return
	}
	_, err = u.core.UpdateDevice(r.Context(), d.ID, service.DevicePatch{Name: &data.Name, Address: &data.Address, Port: &port, Platform: &data.Platform})
	if err != nil {
		status, e, ok := formError(err)
		if !ok {
			u.fail(w, r, err)
			return
		}
		data.Error, data.Fields = e.Message, e.Fields
		u.renderNav(w, r, status, "device", "Edit "+d.Name+" · webnet", "devices", data)
		return
	}
	redirect(w, r, fmt.Sprintf("/devices/%d", d.ID), "saved")
}

type deleteData struct {
	Device  *service.DeviceDetail
	Preview *service.DeletePreview
	Error   string
}

// deleteData loads the device of the path and the dry-run preview of deleting it (which
// checks delete_device).
func (u *UI) deletePreview(w http.ResponseWriter, r *http.Request) (*deleteData, bool) {
	d, ok := u.device(w, r)
	if !ok {
		return nil, false
	}
	p, err := u.core.DeleteDevice(r.Context(), d.ID, true)
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return &deleteData{Device: d, Preview: p}, true
}

func (u *UI) deviceDeleteForm(w http.ResponseWriter, r *http.Request) {
	data, ok := u.deletePreview(w, r)
	if !ok {
		return
	}
	u.renderNav(w, r, http.StatusOK, "device", "Delete "+data.Device.Name+" · webnet", "devices", data)
}

func (u *UI) deviceDelete(w http.ResponseWriter, r *http.Request) {
	data, ok := u.deletePreview(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("confirm") != "yes" {
		data.Error = "Tick the box to confirm that the device and its history are to be deleted."
		u.renderNav(w, r, http.StatusBadRequest, "device", "Delete "+data.Device.Name+" · webnet", "devices", data)
		return
	}
	if _, err := u.core.DeleteDevice(r.Context(), data.Device.ID, false); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/devices", "deleted")
}

type pushData struct {
	Device *service.DeviceDetail
	Config string
	DryRun bool
	Error  string
	Fields map[string]string
}

// pushDevice loads the device of the path for the push form; without edit_configuration
// the form is refused with the action's own sentence.
func (u *UI) pushDevice(w http.ResponseWriter, r *http.Request) (*service.DeviceDetail, bool) {
	d, ok := u.device(w, r)
	if ok && !slices.Contains(d.UserPermissions, "edit_configuration") {
		u.fail(w, r, webnet.Errorf(webnet.EForbidden, "%s.", service.ActionConfigPush.Sentence))
		return nil, false
	}
	return d, ok
}

func (u *UI) devicePushForm(w http.ResponseWriter, r *http.Request) {
	d, ok := u.pushDevice(w, r)
	if !ok {
		return
	}
	u.renderNav(w, r, http.StatusOK, "device", "Push configuration to "+d.Name+" · webnet", "devices", pushData{Device: d, DryRun: true})
}

func (u *UI) devicePush(w http.ResponseWriter, r *http.Request) {
	d, ok := u.pushDevice(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPushForm)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, webnet.Invalid("The form could not be read (at most 1 MiB of configuration).", nil))
		return
	}
	data := pushData{Device: d, Config: r.PostForm.Get("config"), DryRun: r.PostForm.Get("dry_run") == "on"}
	if strings.TrimSpace(data.Config) == "" {
		data.Error, data.Fields = "Invalid configuration push.", map[string]string{"config": "Give the configuration lines to push."}
		u.renderNav(w, r, http.StatusBadRequest, "device", "Push configuration to "+d.Name+" · webnet", "devices", data)
		return
	}
	jobs, err := u.core.RunAction(r.Context(), service.ActionConfigPush, service.ActionRequest{Devices: []int64{d.ID},
		Params: map[string]any{"config": data.Config}, DryRun: data.DryRun})
	if err != nil {
		status, e, ok := formError(err)
		if !ok {
			u.fail(w, r, err)
			return
		}
		data.Error, data.Fields = e.Message, e.Fields
		u.renderNav(w, r, status, "device", "Push configuration to "+d.Name+" · webnet", "devices", data)
		return
	}
	redirect(w, r, fmt.Sprintf("/jobs/%d", jobs[0].ID), "queued")
}

// The diff viewer: the service's masked unified diff, shown as is (unified) or as two
// columns built from it (side by side). Noise the masking replaced shows as a marked
// placeholder, so a reader sees that something was there and was left out on purpose.
