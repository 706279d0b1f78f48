package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

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
	// Rolling is the confirm step's optional shaping of the job: devices at once and the
	// failures after which no more devices start, as typed.
	Concurrency, MaxFailures string
}

// maxWizardConcurrency bounds "devices at once" as the API does.
const maxWizardConcurrency = 256

// rollingParams reads the optional "devices at once" and "stop after failures" fields into
// params; a bad value is the message to show.
func rollingParams(v url.Values, params map[string]any) string {
	if c := strings.TrimSpace(v.Get("concurrency")); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > maxWizardConcurrency {
			return fmt.Sprintf("Devices at once: a number from 1 to %d, or empty for the worker's limit.", maxWizardConcurrency)
		}
		params["concurrency"] = n
	}
	if m := strings.TrimSpace(v.Get("max_failures")); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 {
			return "Stop after: a number of failed devices, at least 1, or empty to never stop."
		}
		params["max_failures"] = n
	}
	return ""
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
	data := &wizardData{wizardState: s, Typed: typed, Concurrency: r.PostForm.Get("concurrency"), MaxFailures: r.PostForm.Get("max_failures")}
	params := map[string]any{"image": s.Image.ID}
	if msg := rollingParams(r.PostForm, params); msg != "" {
		data.Error = msg + " Nothing was queued."
		u.wizardRender(w, r, http.StatusBadRequest, data)
		return
	}
	if typed != s.Confirmation() {
		data.Error = fmt.Sprintf("Type %s, the number of devices to upgrade, to confirm; nothing was queued.", s.Confirmation())
		if len(s.Devices) == 1 {
			data.Error = fmt.Sprintf("Type the device name %s to confirm; nothing was queued.", s.Confirmation())
		}
		u.wizardRender(w, r, http.StatusBadRequest, data)
		return
	}
	jobs, err := u.core.RunAction(r.Context(), service.ActionUpgrade, service.ActionRequest{Devices: s.IDs,
		Params: params, Confirm: true})
	if err != nil {
		if status, e, ok := formError(err); ok {
			data.Error = e.Message
			u.wizardRender(w, r, status, data)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/jobs/%d", jobs[0].ID), "queued")
}
