package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// devicesPerPage is the device list's page size.
const devicesPerPage = 50

// devicesMaxForm caps the body of the list's posts: a page's ids, or a selection kept over
// a few pages, fit many times over.
const devicesMaxForm = 256 << 10

// registerDevices adds the device list, its floating action bar and bulk actions.
//
// The list is a GET form (filters) above a POST form (the checked rows). The bar's buttons
// are submit buttons of that form with their own formaction, so every action is an ordinary
// form post that works without JavaScript; which buttons exist is decided here, from
// Core.SelectDevices, for the ids actually selected: with htmx on every change of the
// selection (POST /devices/bar, answering the bar alone), without it by the "Choose action"
// button (the same POST, answering a page).
func (u *UI) registerDevices(mux *http.ServeMux) {
	mux.HandleFunc("GET /devices", authed(u.devices))
	mux.HandleFunc("POST /devices/bar", authed(u.devicesBar))
	mux.HandleFunc("POST /devices/sync", authed(u.devicesAction(service.ActionSync)))
	mux.HandleFunc("POST /devices/readiness", authed(u.devicesAction(service.ActionReadiness)))
	mux.HandleFunc("POST /devices/delete", authed(u.devicesDeletePreview))
	mux.HandleFunc("POST /devices/delete/confirm", authed(u.devicesDelete))
}

// devicesFilter is the list's query: what the filter form shows and every page link keeps.
type devicesFilter struct {
	Q, Customer, Group, Platform, Enabled string
	Page                                  int
}

// url returns the list's address for this filter at page n.
func (f devicesFilter) url(n int) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"customer", f.Customer}, {"device_group", f.Group},
		{"platform", f.Platform}, {"enabled", f.Enabled}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/devices"
	}
	return "/devices?" + v.Encode()
}

// devicesQuery reads the filter from r, like GET /api/devices/ does, and reports each bad
// field (by its query name) with a sentence for the page that names it by its label.
func devicesQuery(r *http.Request) (devicesFilter, webnet.DeviceQuery, map[string]string) {
	q := r.URL.Query()
	f := devicesFilter{Q: strings.TrimSpace(q.Get("q")), Customer: q.Get("customer"), Group: q.Get("device_group"),
		Platform: q.Get("platform"), Enabled: q.Get("enabled"), Page: 1}
	dq := webnet.DeviceQuery{Search: f.Q, Platform: f.Platform}
	bad := map[string]string{}
	id := func(field, label, v string) *int64 {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad[field] = label + ": choose one from the list."
			return nil
		}
		return &n
	}
	dq.CustomerID = id("customer", "Customer", f.Customer)
	if f.Group == "null" {
		dq.Ungrouped = true
	} else {
		dq.DeviceGroupID = id("device_group", "Device group", f.Group)
	}
	if f.Platform != "" && !webnet.ValidPlatform(f.Platform) {
		bad["platform"] = "Platform: choose one of " + strings.Join(webnet.Platforms, ", ") + "."
	}
	switch f.Enabled {
	case "":
	case "true", "false":
		b := f.Enabled == "true"
		dq.Enabled = &b
	default:
		bad["enabled"] = "State: choose enabled, disabled or any."
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			bad["page"] = "Page: must be a whole number from 1."
		} else {
			f.Page = n
		}
	}
	return f, dq, bad
}

// deviceRow is a device with the names of its customer and group.
type deviceRow struct {
	webnet.Device
	Customer, Group string
}

// devicesData is the device list page's data.
type devicesData struct {
	Filter    devicesFilter
	Errors    map[string]string
	Options   *service.DeviceListOptions
	Platforms []string
	// Groups are the device group filter's choices: named with their customer when the
	// user sees several customers (two may each have a "core").
	Groups []devicesChoice
	Rows   []deviceRow
	// Total is the number of devices matching the filter that the user may see.
	Total, Pages, First, Last int
	Prev, Next                string
	Bar                       devicesBarData
	// Chosen, on the page answering "Choose action" without JavaScript, is the selection and
	// its bar instead of the list.
	Chosen *devicesChosen
}

// devicesChoice is one option of a filter.
type devicesChoice struct {
	ID    int64
	Label string
}

// devicesChosen is a selection shown on its own page, with its bar.
type devicesChosen struct {
	Devices []service.DeviceBrief
	Bar     devicesBarData
}

// devicesBarData is the floating action bar. Until the server has seen the selection
// (Decided false) it offers only "Choose action".
type devicesBarData struct {
	Decided                          bool
	Count                            int
	Sync, Readiness, Upgrade, Delete bool
	Error                            string
}

// devicesBarOf is the bar for a selection: a button per action the user may take on all of
// it.
func devicesBarOf(s *service.Selection) devicesBarData {
	return devicesBarData{Decided: true, Count: len(s.Devices),
		Sync: s.Can(webnet.PermSyncDeviceInventory), Readiness: s.Can(webnet.PermCheckDeviceReadiness),
		Upgrade: s.Can(webnet.PermUpgradeDeviceFirmware), Delete: s.Can(webnet.PermDeleteDevice)}
}

// devicesFragment reports whether r is htmx asking for the element target alone (not a
// history restore, which needs the whole page).
func devicesFragment(r *http.Request, target string) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == target &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// devices is GET /devices: the list, or with htmx (the filter form as one types) only its
// results.
func (u *UI) devices(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "HX-Request, HX-Target")
	f, dq, bad := devicesQuery(r)
	data := devicesData{Filter: f, Errors: bad, Platforms: webnet.Platforms}
	ctx := r.Context()
	opts, err := u.core.ListDeviceListOptions(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	data.Options = opts
	data.Groups = devicesGroupChoices(opts)
	status := http.StatusOK
	if len(bad) > 0 {
		status = http.StatusBadRequest
	} else {
		page := webnet.Page{Limit: devicesPerPage, Offset: (f.Page - 1) * devicesPerPage}
		list, total, err := u.core.ListDevices(ctx, dq, page)
		var e *webnet.Error
		switch {
		case errors.As(err, &e) && e.Code == webnet.EInvalid && e.Fields["q"] != "":
			// The service's checks of the search text, said by the form.
			why := e.Fields["q"]
			data.Errors = map[string]string{"q": "Search: " + strings.ToLower(why[:1]) + why[1:]}
			status = http.StatusBadRequest
		case err != nil:
			u.fail(w, r, err)
			return
		default:
			data.fill(list, total)
		}
	}
	if devicesFragment(r, "devices-results") {
		// The address bar gets the filter's own address, without the form's empty fields.
		w.Header().Set("HX-Push-Url", f.url(f.Page))
		u.renderFragment(w, r, status, "devices", "devices-results", data)
		return
	}
	u.renderNav(w, r, status, "devices", "Devices · webnet", "devices", data)
}

// devicesGroupChoices names the device groups of opts for the filter.
func devicesGroupChoices(opts *service.DeviceListOptions) []devicesChoice {
	customers := map[int64]string{}
	for _, c := range opts.Customers {
		customers[c.ID] = c.Name
	}
	out := make([]devicesChoice, len(opts.Groups))
	for i, g := range opts.Groups {
		out[i] = devicesChoice{ID: g.ID, Label: g.Name}
		if len(customers) > 1 {
			out[i].Label += " (" + customers[g.CustomerID] + ")"
		}
	}
	return out
}

// fill sets the rows (named from the options) and the pagination of one page of list.
func (d *devicesData) fill(list []webnet.Device, total int) {
	customers := map[int64]string{}
	for _, c := range d.Options.Customers {
		customers[c.ID] = c.Name
	}
	groups := map[int64]string{}
	for _, g := range d.Options.Groups {
		groups[g.ID] = g.Name
	}
	d.Rows = make([]deviceRow, len(list))
	for i, dev := range list {
		row := deviceRow{Device: dev, Customer: customers[dev.CustomerID], Group: "—"}
		if row.Customer == "" {
			row.Customer = fmt.Sprintf("customer %d", dev.CustomerID)
		}
		if id := dev.GroupID(); id != 0 {
			if row.Group = groups[id]; row.Group == "" {
				row.Group = fmt.Sprintf("group %d", id)
			}
		}
		d.Rows[i] = row
	}
	d.Total = total
	d.Pages = (total + devicesPerPage - 1) / devicesPerPage
	if len(list) > 0 {
		d.First = (d.Filter.Page-1)*devicesPerPage + 1
		d.Last = d.First + len(list) - 1
	}
	if d.Filter.Page > 1 {
		d.Prev = d.Filter.url(min(d.Filter.Page-1, max(d.Pages, 1)))
	}
	if d.Filter.Page < d.Pages {
		d.Next = d.Filter.url(d.Filter.Page + 1)
	}
}

// devicesSelection reads the posted device ids ("device", repeated). A form that cannot be
// read or an id that is not one is invalid.
func devicesSelection(w http.ResponseWriter, r *http.Request) ([]int64, error) {
	r.Body = http.MaxBytesReader(w, r.Body, devicesMaxForm)
	if err := r.ParseForm(); err != nil {
		return nil, webnet.Invalid("The form could not be read.", nil)
	}
	values := r.PostForm["device"]
	ids := make([]int64, 0, len(values))
	for _, v := range values {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, webnet.Invalid("The selection holds something that is not a device.", map[string]string{"device": "Not a device id."})
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// devicesStatus is the HTTP status of a service error shown inside a fragment (u.fail
// answers whole pages).
func devicesStatus(err error) int {
	switch webnet.ErrorCode(err) {
	case webnet.EInvalid:
		return http.StatusBadRequest
	case webnet.ENotFound:
		return http.StatusNotFound
	case webnet.EForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// devicesBar is POST /devices/bar: the bar for the posted selection; with htmx the bar
// alone, without it a page with the selection and its bar. Ids the user cannot see answer
// not_found and no buttons.
func (u *UI) devicesBar(w http.ResponseWriter, r *http.Request) {
	fragment := devicesFragment(r, "devices-bar")
	ids, err := devicesSelection(w, r)
	var sel *service.Selection
	if err == nil && len(ids) > 0 {
		sel, err = u.core.SelectDevices(r.Context(), ids)
	}
	switch {
	case fragment && err != nil:
		status := devicesStatus(err)
		msg := webnet.ErrorMessage(err)
		if status == http.StatusInternalServerError {
			u.log.ErrorContext(r.Context(), "device selection", "err", err)
			msg = "The actions could not be loaded; try again."
		}
		u.renderFragment(w, r, status, "devices", "devices-bar", devicesBarData{Decided: true, Count: len(ids), Error: msg})
	case fragment && sel == nil:
		u.renderFragment(w, r, http.StatusOK, "devices", "devices-bar", devicesBarData{Decided: true})
	case fragment:
		u.renderFragment(w, r, http.StatusOK, "devices", "devices-bar", devicesBarOf(sel))
	case err != nil:
		u.fail(w, r, err)
	case sel == nil:
		redirect(w, r, "/devices", "no-devices")
	default:
		u.renderNav(w, r, http.StatusOK, "devices", "Choose an action · webnet", "devices",
			devicesData{Chosen: &devicesChosen{Devices: sel.Devices, Bar: devicesBarOf(sel)}})
	}
}

// devicesPosted reads the selection of an action's post; it answers the request itself
// (and returns false) when there is none or it cannot be read.
func (u *UI) devicesPosted(w http.ResponseWriter, r *http.Request) ([]int64, bool) {
	ids, err := devicesSelection(w, r)
	if err != nil {
		u.fail(w, r, err)
		return nil, false
	}
	if len(ids) == 0 {
		redirect(w, r, "/devices", "no-devices")
		return nil, false
	}
	return ids, true
}

// devicesAction is POST /devices/sync and /devices/readiness: the action on the selection
// (all or nothing, decided by RunAction), then the job. RunAction makes one job per
// customer: one job opens its page, several (a staff selection over customers) the job list.
func (u *UI) devicesAction(a service.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ids, ok := u.devicesPosted(w, r)
		if !ok {
			return
		}
		jobs, err := u.core.RunAction(r.Context(), a, service.ActionRequest{Devices: ids})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		if len(jobs) == 1 {
			redirect(w, r, fmt.Sprintf("/jobs/%d", jobs[0].ID), "queued")
			return
		}
		redirect(w, r, "/jobs", "queued-many")
	}
}

// devicesDeleteData is the delete confirmation page's data.
type devicesDeleteData struct {
	Preview *service.DeletePreview
	Error   string
}

// devicesDeletePreview is POST /devices/delete: what deleting the selection would delete
// (BulkDelete's dry run), and a button to confirm. Nothing is deleted here.
func (u *UI) devicesDeletePreview(w http.ResponseWriter, r *http.Request) {
	ids, ok := u.devicesPosted(w, r)
	if !ok {
		return
	}
	u.devicesPreview(w, r, http.StatusOK, ids, "")
}

func (u *UI) devicesPreview(w http.ResponseWriter, r *http.Request, status int, ids []int64, msg string) {
	p, err := u.core.BulkDelete(r.Context(), ids, true, false)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, status, "devices_delete", "Delete devices? · webnet", "devices", devicesDeleteData{Preview: p, Error: msg})
}

// devicesDelete is POST /devices/delete/confirm: deletes the selection when the post says
// confirm=yes (the confirmation page's button), else shows the preview again.
func (u *UI) devicesDelete(w http.ResponseWriter, r *http.Request) {
	ids, ok := u.devicesPosted(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		u.devicesPreview(w, r, http.StatusBadRequest, ids, "Nothing was deleted: confirm with the Delete button below.")
		return
	}
	if _, err := u.core.BulkDelete(r.Context(), ids, false, true); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/devices", "deleted")
}
