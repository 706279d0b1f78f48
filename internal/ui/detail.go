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

	"webnet/internal/backup"
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

// diffSeg is a piece of a diff line: text, or the placeholder of masked noise.
type diffSeg struct {
	Text   string
	Masked bool
}

// diffLine is one line of a unified diff. Kind is "file" (the ---/+++ header), "hunk" (@@),
// "ctx", "add", "del" or "note" (\ No newline at end of file); Old and New are its line
// numbers in each version (0: none).
type diffLine struct {
	Kind     string
	Old, New int
	Segs     []diffSeg
}

// diffRow is a row of the side-by-side view: a hunk header across both columns, or a line
// on the left (old), on the right (new), or both.
type diffRow struct {
	Hunk        *diffLine
	Left, Right *diffLine
}

// segments splits text around the masked-noise placeholder.
func segments(text string) []diffSeg {
	var out []diffSeg
	for {
		i := strings.Index(text, backup.Masked)
		if i < 0 {
			break
		}
		if i > 0 {
			out = append(out, diffSeg{Text: text[:i]})
		}
		out = append(out, diffSeg{Text: backup.Masked, Masked: true})
		text = text[i+len(backup.Masked):]
	}
	if text != "" || len(out) == 0 {
		out = append(out, diffSeg{Text: text})
	}
	return out
}

// parseDiff reads a unified diff of one file into lines with their numbers.
func parseDiff(diff string) []diffLine {
	var out []diffLine
	inHunk := false
	var old, new int
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "@@"):
			inHunk = true
			var a, c int
			if _, err := fmt.Sscanf(hunkNumbers(l), "-%d +%d", &a, &c); err == nil {
				old, new = a, c
			}
			out = append(out, diffLine{Kind: "hunk", Segs: segments(l)})
		case !inHunk:
			out = append(out, diffLine{Kind: "file", Segs: segments(l)})
		case strings.HasPrefix(l, "+"):
			out = append(out, diffLine{Kind: "add", New: new, Segs: segments(l[1:])})
			new++
		case strings.HasPrefix(l, "-"):
			out = append(out, diffLine{Kind: "del", Old: old, Segs: segments(l[1:])})
			old++
		case strings.HasPrefix(l, `\`):
			out = append(out, diffLine{Kind: "note", Segs: segments(l)})
		default:
			out = append(out, diffLine{Kind: "ctx", Old: old, New: new, Segs: segments(strings.TrimPrefix(l, " "))})
			old++
			new++
		}
	}
	return out
}

// hunkNumbers turns "@@ -3,7 +3,8 @@ ..." into "-3 +3" for Sscanf.
func hunkNumbers(h string) string {
	f := strings.Fields(h)
	if len(f) < 3 {
		return ""
	}
	cut := func(s string) string { s, _, _ = strings.Cut(s, ","); return s }
	return cut(f[1]) + " " + cut(f[2])
}

// sideBySide pairs a diff's lines into rows: context on both sides, a run of deletions
// next to the run of additions that follows it, the longer run's rest against blanks.
func sideBySide(lines []diffLine) []diffRow {
	var rows []diffRow
	var dels, adds []*diffLine
	flush := func() {
		for i := 0; i < len(dels) || i < len(adds); i++ {
			var row diffRow
			if i < len(dels) {
				row.Left = dels[i]
			}
			if i < len(adds) {
				row.Right = adds[i]
			}
			rows = append(rows, row)
		}
		dels, adds = nil, nil
	}
	for i := range lines {
		l := &lines[i]
		switch l.Kind {
		case "del":
			if len(adds) > 0 {
				flush()
			}
			dels = append(dels, l)
		case "add":
			adds = append(adds, l)
		case "ctx":
			flush()
			rows = append(rows, diffRow{Left: l, Right: l})
		case "hunk", "note":
			flush()
			rows = append(rows, diffRow{Hunk: l})
		}
	}
	flush()
	return rows
}

type diffData struct {
	Device *service.DeviceDetail
	Diff   *service.BackupDiff
	// Split is the side-by-side view; else unified.
	Split bool
	Lines []diffLine
	Rows  []diffRow
	// Masked counts the lines with masked noise.
	Masked int
}

// URL is the diff page in the other view.
func (d diffData) URL(split bool) string {
	v := url.Values{"from": {strconv.FormatInt(d.Diff.From.ID, 10)}, "to": {strconv.FormatInt(d.Diff.To.ID, 10)}}
	if split {
		v.Set("view", "split")
	}
	return fmt.Sprintf("/devices/%d/diff?%s", d.Device.ID, v.Encode())
}

func (u *UI) deviceDiff(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, ok := u.device(w, r)
	if !ok {
		return
	}
	id := d.ID
	var err error
	q := r.URL.Query()
	from, err := optionalID(q, "from", "The older version")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	to, err := optionalID(q, "to", "The newer version")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if to == nil {
		u.fail(w, r, webnet.Invalid("Choose the version to compare (to=).", map[string]string{"to": "This field is required."}))
		return
	}
	view := q.Get("view")
	if view != "" && view != "unified" && view != "split" {
		u.fail(w, r, webnet.Invalid("The view is either unified or split (side by side).", map[string]string{"view": "Must be unified or split."}))
		return
	}
	if from != nil && *from == *to {
		u.fail(w, r, webnet.Invalid("Choose two different versions to compare.", map[string]string{"from": "Must differ from to."}))
		return
	}
	diff, err := u.core.DiffBackups(ctx, *to, from)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if diff.From.DeviceID != id || diff.To.DeviceID != id {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Backup not found for this device."))
		return
	}
	if diff.From.TakenAt.After(diff.To.TakenAt) {
		diff, err = u.core.DiffBackups(ctx, diff.From.ID, &diff.To.ID)
		if err != nil {
			u.fail(w, r, err)
			return
		}
	}
	data := diffData{Device: d, Diff: diff, Split: view == "split", Lines: parseDiff(diff.Diff)}
	if diff.Diff == "" {
		data.Lines = nil
	}
	for _, l := range data.Lines {
		if len(l.Segs) > 1 || (len(l.Segs) == 1 && l.Segs[0].Masked) {
			data.Masked++
		}
	}
	if data.Split {
		data.Rows = sideBySide(data.Lines)
	}
	u.renderNav(w, r, http.StatusOK, "backup-diff", "Changes of "+d.Name+" · webnet", "devices", data)
}

// The upgrade wizard: choose an image (the golden one preselected) → readiness (a job,
// polled) → plan (a dry-run upgrade job, polled) → confirm by typing the device count, or
// the name of the only device → the upgrade job. The state travels in the query and in
// hidden fields (device ids, image, job ids); every step checks it again with the service:
// upgrade_device_firmware on every device, the image visible and fit for them, the jobs
// visible and of the right kind.

func (u *UI) registerWizard(mux *http.ServeMux) {
	mux.HandleFunc("GET /devices/upgrade", authed(u.wizardStep("image")))
	mux.HandleFunc("GET /devices/upgrade/readiness", authed(u.wizardStep("readiness")))
	mux.HandleFunc("GET /devices/upgrade/plan", authed(u.wizardStep("plan")))
	mux.HandleFunc("POST /devices/upgrade/readiness", authed(u.wizardQueue("readiness")))
	mux.HandleFunc("POST /devices/upgrade/plan", authed(u.wizardQueue("plan")))
	mux.HandleFunc("POST /devices/upgrade/confirm", authed(u.wizardConfirm))
}

// wizardState is where the wizard is.
type wizardState struct {
	Step    string // image, readiness, plan
	Devices []webnet.Device
	IDs     []int64
	Image   *webnet.FirmwareImage
	// Readiness and Plan are the jobs of those steps (one per customer of the devices).
	Readiness []int64
	Plan      []int64
}

// Query is the state as a query string, for links and polling.
func (s *wizardState) Query() string {
	v := url.Values{}
	for _, id := range s.IDs {
		v.Add("device", strconv.FormatInt(id, 10))
	}
	if s.Image != nil {
		v.Set("image", strconv.FormatInt(s.Image.ID, 10))
	}
	for _, id := range s.Readiness {
		v.Add("readiness", strconv.FormatInt(id, 10))
	}
	for _, id := range s.Plan {
		v.Add("plan", strconv.FormatInt(id, 10))
	}
	return v.Encode()
}

// Confirmation is what the user types to confirm: the device count, or the name of the
// only device.
func (s *wizardState) Confirmation() string {
	if len(s.Devices) == 1 {
		return s.Devices[0].Name
	}
	return strconv.Itoa(len(s.Devices))
}

// Platform is the devices' platform ("" when they differ).
func (s *wizardState) Platform() string {
	p := s.Devices[0].Platform
	for _, d := range s.Devices {
		if d.Platform != p {
			return ""
		}
	}
	return p
}

// wizardProgress is a polled view of the jobs of a step: their targets by device name, and
// for the plan their log lines.
type wizardProgress struct {
	Jobs    []*webnet.Job
	Targets []wizardTarget
	Logs    []wizardLog
	// Done: every job finished; polling stops.
	Done bool
	// Poll is the URL that refreshes this view.
	Poll string
}

type wizardTarget struct {
	Device  string
	Status  string
	Message string
}

type wizardLog struct {
	webnet.JobLogLine
	Device string
}

type wizardData struct {
	*wizardState
	Images   []webnet.FirmwareImage
	Selected int64
	Progress *wizardProgress
	Error    string
	Typed    string
}

// ids reads the positive ids of values (all of name).
func ids(v url.Values, name, label string) ([]int64, error) {
	var out []int64
	for _, s := range v[name] {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			return nil, webnet.Invalid(fmt.Sprintf("%s must be positive ids, not %q.", label, s), map[string]string{name: "Must be a positive id."})
		}
		out = append(out, id)
	}
	return out, nil
}

// wizardLoad reads and checks the wizard's state from v (query or form). A user without
// upgrade_device_firmware on any of the devices, or who cannot see one, is sent back to the
// device list; ok is false when the answer has been written.
func (u *UI) wizardLoad(w http.ResponseWriter, r *http.Request, v url.Values, step string) (*wizardState, bool) {
	ctx := r.Context()
	s := &wizardState{Step: step}
	var err error
	if s.IDs, err = ids(v, "device", "Devices"); err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	if len(s.IDs) == 0 {
		redirect(w, r, "/devices", "no-devices")
		return nil, false
	}
	s.Devices, err = u.core.AuthorizeAction(ctx, service.ActionUpgrade, s.IDs)
	switch webnet.ErrorCode(err) {
	case "":
	case webnet.ENotFound, webnet.EForbidden:
		redirect(w, r, "/devices", "no-upgrade")
		return nil, false
	default:
		u.fail(w, r, err)
		return nil, false
	}
	slices.SortFunc(s.Devices, func(a, b webnet.Device) int { return strings.Compare(a.Name, b.Name) })
	image, err := optionalID(v, "image", "The firmware image")
	if err == nil && image != nil {
		s.Image, err = u.core.GetFirmwareImage(ctx, *image)
	}
	if err == nil {
		s.Readiness, err = ids(v, "readiness", "Readiness jobs")
	}
	if err == nil {
		s.Plan, err = ids(v, "plan", "Plan jobs")
	}
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	return s, true
}

// fits reports whether img may upgrade every device of s: the same platform, the devices'
// model when the image names one, and global or of the devices' customer.
func (s *wizardState) fits(img *webnet.FirmwareImage) bool {
	for _, d := range s.Devices {
		if img.Platform != d.Platform || (img.Model != "" && img.Model != d.Model) ||
			(img.CustomerID != nil && *img.CustomerID != d.CustomerID) {
			return false
		}
	}
	return true
}

// images lists the images the user may choose for the devices, and the one to preselect:
// the chosen one, else the golden image of the devices' customer, else the global golden.
func (u *UI) images(ctx context.Context, s *wizardState) ([]webnet.FirmwareImage, int64, error) {
	platform := s.Platform()
	if platform == "" {
		return nil, 0, nil
	}
	all, _, err := u.core.ListFirmwareImages(ctx, service.FirmwareFilter{Platform: platform}, webnet.Page{Limit: webnet.MaxLimit})
	if err != nil {
		return nil, 0, err
	}
	var out []webnet.FirmwareImage
	var selected, customerGolden, globalGolden int64
	for _, img := range all {
		if !s.fits(&img) {
			continue
		}
		out = append(out, img)
		switch {
		case s.Image != nil && img.ID == s.Image.ID:
			selected = img.ID
		case img.Golden && img.CustomerID != nil && customerGolden == 0:
			customerGolden = img.ID
		case img.Golden && img.CustomerID == nil && globalGolden == 0:
			globalGolden = img.ID
		}
	}
	for _, id := range []int64{customerGolden, globalGolden} {
		if selected == 0 {
			selected = id
		}
	}
	return out, selected, nil
}

// wizardStep shows a step of the wizard; an htmx poll of the readiness or plan step gets
// only the progress fragment.
func (u *UI) wizardStep(step string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := u.wizardLoad(w, r, r.URL.Query(), step)
		if !ok {
			return
		}
		u.wizardRender(w, r, http.StatusOK, &wizardData{wizardState: s})
	}
}

// wizardRender fills in what step needs and renders it.
func (u *UI) wizardRender(w http.ResponseWriter, r *http.Request, status int, data *wizardData) {
	ctx := r.Context()
	s := data.wizardState
	var err error
	switch s.Step {
	case "image":
		data.Images, data.Selected, err = u.images(ctx, s)
	case "readiness", "plan":
		if s.Image == nil {
			err = webnet.Invalid("Choose a firmware image first.", map[string]string{"image": "This field is required."})
			break
		}
		if !s.fits(s.Image) {
			err = webnet.Invalid("The firmware image does not fit these devices (platform, model or customer).", map[string]string{"image": "Choose another image."})
			break
		}
		data.Progress, err = u.progress(ctx, s)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if data.Progress != nil && r.Header.Get("HX-Request") == "true" && r.Method == http.MethodGet {
		u.renderFragment(w, r, status, "wizard", "wizard-live", data)
		return
	}
	u.renderNav(w, r, status, "wizard", "Upgrade firmware · webnet", "devices", data)
}

// progress loads the jobs of the step (readiness jobs, or the plan's dry-run upgrade jobs):
// each must be visible, of the step's kind and about these devices.
func (u *UI) progress(ctx context.Context, s *wizardState) (*wizardProgress, error) {
	jobIDs, kind := s.Readiness, webnet.JobReadiness
	if s.Step == "plan" {
		jobIDs, kind = s.Plan, webnet.JobUpgrade
	}
	p := &wizardProgress{Done: true, Poll: "/devices/upgrade/" + s.Step + "?" + s.Query()}
	names := map[int64]string{}
	for _, d := range s.Devices {
		names[d.ID] = d.Name
	}
	for _, id := range jobIDs {
		j, err := u.core.GetJob(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.Kind != kind || (kind == webnet.JobUpgrade && !j.DryRun) {
			return nil, webnet.Invalid(fmt.Sprintf("Job %d is not a %s job of this upgrade.", id, s.Step), map[string]string{s.Step: "Not a job of this step."})
		}
		for _, t := range j.Targets {
			name, ok := names[t.DeviceID]
			if !ok {
				return nil, webnet.Invalid(fmt.Sprintf("Job %d is about other devices than this upgrade.", id), map[string]string{s.Step: "Not a job of these devices."})
			}
			p.Targets = append(p.Targets, wizardTarget{Device: name, Status: t.Status, Message: t.Message})
		}
		p.Jobs = append(p.Jobs, j)
		p.Done = p.Done && webnet.JobFinished(j.Status)
		if kind == webnet.JobUpgrade {
			lines, err := u.core.JobLogs(ctx, id, 0, 500)
			if err != nil {
				return nil, err
			}
			for _, l := range lines {
				wl := wizardLog{JobLogLine: l}
				if l.DeviceID != nil {
					wl.Device = names[*l.DeviceID]
				}
				p.Logs = append(p.Logs, wl)
			}
		}
	}
	return p, nil
}

// wizardForm reads a wizard form post and its state.
func (u *UI) wizardForm(w http.ResponseWriter, r *http.Request, step string) (*wizardState, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxWizardForm)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, webnet.Invalid("The form could not be read.", nil))
		return nil, false
	}
	return u.wizardLoad(w, r, r.PostForm, step)
}

// wizardQueue queues the job of a step (readiness, or the plan's dry-run upgrade) and shows
// the step.
func (u *UI) wizardQueue(step string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		prev := map[string]string{"readiness": "image", "plan": "readiness"}[step]
		s, ok := u.wizardForm(w, r, prev)
		if !ok {
			return
		}
		if s.Image == nil || !s.fits(s.Image) {
			u.wizardRender(w, r, http.StatusBadRequest, &wizardData{wizardState: s, Error: "Choose a firmware image for these devices."})
			return
		}
		act, req := service.ActionReadiness, service.ActionRequest{Devices: s.IDs, Params: map[string]any{"image": s.Image.ID}}
		if step == "plan" {
			act, req.DryRun = service.ActionUpgrade, true
		}
		jobs, err := u.core.RunAction(r.Context(), act, req)
		if err != nil {
			if status, e, ok := formError(err); ok {
				u.wizardRender(w, r, status, &wizardData{wizardState: s, Error: e.Message})
				return
			}
			u.fail(w, r, err)
			return
		}
		for _, j := range jobs {
			if step == "plan" {
				s.Plan = append(s.Plan, j.ID)
			} else {
				s.Readiness = append(s.Readiness, j.ID)
			}
		}
		redirect(w, r, "/devices/upgrade/"+step+"?"+s.Query(), "")
	}
}

// wizardConfirm queues the upgrade once the user has typed the confirmation; a mismatch
// queues nothing and says what to type.
func (u *UI) wizardConfirm(w http.ResponseWriter, r *http.Request) {
	s, ok := u.wizardForm(w, r, "plan")
	if !ok {
		return
	}
	if s.Image == nil || !s.fits(s.Image) {
		u.wizardRender(w, r, http.StatusBadRequest, &wizardData{wizardState: s, Error: "Choose a firmware image for these devices."})
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("confirm"))
	if typed != s.Confirmation() {
		msg := fmt.Sprintf("Type %s, the number of devices to upgrade, to confirm; nothing was queued.", s.Confirmation())
		if len(s.Devices) == 1 {
			msg = fmt.Sprintf("Type the device name %s to confirm; nothing was queued.", s.Confirmation())
		}
		u.wizardRender(w, r, http.StatusBadRequest, &wizardData{wizardState: s, Error: msg, Typed: typed})
		return
	}
	jobs, err := u.core.RunAction(r.Context(), service.ActionUpgrade, service.ActionRequest{Devices: s.IDs,
		Params: map[string]any{"image": s.Image.ID}, Confirm: true})
	if err != nil {
		if status, e, ok := formError(err); ok {
			u.wizardRender(w, r, status, &wizardData{wizardState: s, Error: e.Message, Typed: typed})
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/jobs/%d", jobs[0].ID), "queued")
}
