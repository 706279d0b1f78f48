package ui

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"webnet/internal/compliance"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerAdminOps adds credentials, firmware images, compliance rules and schedules.
func (u *UI) registerAdminOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/credentials", authed(func(w http.ResponseWriter, r *http.Request) { u.adminCredentials(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/credentials", authed(u.createCredential))
	mux.HandleFunc("POST /admin/credentials/{id}", u.withID(u.updateCredential))
	u.registerDeletes(mux, u.adminCredentials, adminDeletable{path: "credentials", what: "credential",
		name: adminNamed(u.core.GetCredential, "Name"), del: u.core.DeleteCredential})

	mux.HandleFunc("GET /admin/firmware", authed(func(w http.ResponseWriter, r *http.Request) { u.adminFirmware(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/firmware", authed(u.uploadFirmware))
	mux.HandleFunc("POST /admin/firmware/{id}/golden", u.withID(u.setGolden))
	u.registerDeletes(mux, u.adminFirmware, adminDeletable{path: "firmware", what: "firmware image",
		name: adminNamed(u.core.GetFirmwareImage, "Filename"), del: u.core.DeleteFirmwareImage})

	mux.HandleFunc("GET /admin/compliance", authed(func(w http.ResponseWriter, r *http.Request) { u.adminCompliance(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/compliance", authed(u.createComplianceRule))
	u.registerDeletes(mux, u.adminCompliance, adminDeletable{path: "compliance", what: "compliance rule",
		name: adminNamed(u.core.GetComplianceRule, "Name"), del: u.core.DeleteComplianceRule})

	mux.HandleFunc("GET /admin/schedules", authed(func(w http.ResponseWriter, r *http.Request) { u.adminSchedules(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/schedules", authed(u.createSchedule))
	mux.HandleFunc("POST /admin/schedules/{id}/enabled", u.withID(u.setScheduleEnabled))
	u.registerDeletes(mux, u.adminSchedules, adminDeletable{path: "schedules", what: "schedule",
		name: adminNamed(u.core.GetSchedule, "Name"), del: u.core.DeleteSchedule})
}

// adminCredentials is GET /admin/credentials: device credentials; secrets are never shown,
// only whether each is set.
func (u *UI) adminCredentials(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_credentials", "Credentials", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		creds, total, err := u.core.ListCredentials(r.Context(), nil, p)
		d.Items, d.Pager = creds, newAdminPager(r, p, total)
		return err
	})
}

// adminSecret reads a write-only secret field: blank leaves it as it is (not Set).
func adminSecret(r *http.Request, field string) service.SecretField {
	v := r.PostFormValue(field)
	if v == "" {
		return service.SecretField{}
	}
	return service.SecretField{Set: true, Value: secret.NewValue(v)}
}

// createCredential is POST /admin/credentials {customer, name, username, password,
// enable_secret, private_key}; blank secrets are not set.
func (u *UI) createCredential(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "credential", u.adminCredentials, "/admin/credentials", "admin-created", func() error {
		cid, err := adminRequiredID(r, "customer", "credential", "a customer")
		if err != nil {
			return err
		}
		_, err = u.core.CreateCredential(r.Context(), service.CredentialInput{Customer: &cid,
			Name: strings.TrimSpace(r.PostFormValue("name")), Username: strings.TrimSpace(r.PostFormValue("username")),
			Password: adminSecret(r, "password"), EnableSecret: adminSecret(r, "enable_secret"), PrivateKey: adminSecret(r, "private_key")})
		return err
	})
}

// adminSecretChange reads a secret field of the change form: clear_<field> checked clears the
// stored secret (typing a value as well is refused into bad), else adminSecret.
func adminSecretChange(r *http.Request, field string, bad map[string]string) service.SecretField {
	if r.PostFormValue("clear_"+field) == "" {
		return adminSecret(r, field)
	}
	if r.PostFormValue(field) != "" {
		bad[field] = "Type a new value or clear it, not both."
	}
	return service.SecretField{Set: true}
}

// updateCredential is POST /admin/credentials/{id}: name and username; a secret typed
// replaces the stored one, a blank one leaves it unchanged, one with its clear_<field> box
// checked is cleared.
func (u *UI) updateCredential(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "credential-"+strconv.FormatInt(id, 10), u.adminCredentials, "/admin/credentials", "saved", func() error {
		name, user := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("username"))
		bad := map[string]string{}
		p := service.CredentialPatch{Name: &name, Username: &user, Password: adminSecretChange(r, "password", bad),
			EnableSecret: adminSecretChange(r, "enable_secret", bad), PrivateKey: adminSecretChange(r, "private_key", bad)}
		if len(bad) > 0 {
			// Reported by the service after its authorization checks, as the API's body errors.
			p.BodyErr = webnet.Invalid("Invalid credential.", bad)
		}
		_, err := u.core.UpdateCredential(r.Context(), id, p)
		return err
	})
}

// adminFirmware is GET /admin/firmware: the firmware images the caller sees, the golden
// flag and the upload form.
func (u *UI) adminFirmware(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_firmware", "Firmware images", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		images, total, err := u.core.ListFirmwareImages(r.Context(), service.FirmwareFilter{}, p)
		d.Items, d.Pager = images, newAdminPager(r, p, total)
		d.Choices = map[string][]string{"platform": webnet.Platforms}
		return err
	})
}

// setGolden is POST /admin/firmware/{id}/golden {golden: true|false}.
func (u *UI) setGolden(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "golden", u.adminFirmware, "/admin/firmware", "saved", func() error {
		golden, err := strconv.ParseBool(r.PostFormValue("golden"))
		if err != nil {
			return webnet.Invalid("Invalid firmware image.", map[string]string{"golden": "Must be true or false."})
		}
		_, err = u.core.UpdateFirmwareImage(r.Context(), id, service.FirmwarePatch{Golden: &golden})
		return err
	})
}

// firmwareFields are the text fields of the upload form, before its file.
var firmwareFields = map[string]bool{"customer": true, "platform": true, "version": true, "model": true, "golden": true}

// uploadFirmware is POST /admin/firmware, the upload form without JavaScript (with it,
// admin.js posts the same form to /api/firmware-images/ to show progress): multipart, the
// fields first and the file last, streamed to the service as it arrives.
func (u *UI) uploadFirmware(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, u.core.FirmwareMaxSize()+1<<20)
	var in service.FirmwareUpload
	var file io.Reader
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		in.BodyErr = webnet.Errorf(webnet.EInvalid, "The upload form must be sent as multipart/form-data.")
	} else {
		in, file = readFirmwareForm(multipart.NewReader(bufio.NewReaderSize(r.Body, 64<<10), params["boundary"]))
	}
	in.ContentLength = r.ContentLength
	_, err = u.core.UploadFirmwareImage(r.Context(), in, file)
	if err != nil {
		if f, status := adminFormError("upload", r, err); f != nil {
			f.Values = map[string][]string{"version": {in.Version}, "model": {in.Model}, "platform": {in.Platform}}
			u.adminFirmware(w, r, f, status)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/firmware", "admin-uploaded")
}

// readFirmwareForm reads the upload form's fields up to its file part; what is wrong goes
// into BodyErr for the service to report after its authorization checks.
func readFirmwareForm(form *multipart.Reader) (service.FirmwareUpload, io.Reader) {
	var in service.FirmwareUpload
	bad := map[string]string{}
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			in.BodyErr = webnet.Errorf(webnet.EInvalid, "The upload form could not be read.")
			return in, nil
		}
		name := part.FormName()
		if name == "file" {
			in.Filename = part.FileName()
			if in.Filename == "" {
				bad["file"] = "Choose the image file."
			}
			return finishFirmwareForm(in, bad), part
		}
		b, err := io.ReadAll(io.LimitReader(part, 1<<10+1))
		if err != nil || len(b) > 1<<10 || !firmwareFields[name] {
			bad[name] = "Not a field of this form, or too long."
			continue
		}
		v := strings.TrimSpace(string(b))
		switch name {
		case "customer":
			if v != "" {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil || id <= 0 {
					bad["customer"] = "Choose one from the list."
				}
				in.Customer = &id
			}
		case "golden":
			in.Golden = v == "true"
		case "platform":
			in.Platform = v
		case "version":
			in.Version = v
		case "model":
			in.Model = v
		}
	}
	bad["file"] = "Choose the image file."
	return finishFirmwareForm(in, bad), nil
}

func finishFirmwareForm(in service.FirmwareUpload, bad map[string]string) service.FirmwareUpload {
	in.Global = in.Customer == nil
	if len(bad) > 0 && in.BodyErr == nil {
		in.BodyErr = webnet.Invalid("Invalid firmware image.", bad)
	}
	return in
}

// adminCompliance is GET /admin/compliance: compliance rules.
func (u *UI) adminCompliance(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_compliance", "Compliance rules", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		rules, total, err := u.core.ListComplianceRules(r.Context(), nil, p)
		d.Items, d.Pager = rules, newAdminPager(r, p, total)
		d.Choices = map[string][]string{"platform": webnet.Platforms, "kind": compliance.Kinds, "severity": compliance.Severities}
		return err
	})
}

// adminText reads a text field as the pointer the service inputs take.
func adminText(r *http.Request, field string) *string {
	v := strings.TrimSpace(r.PostFormValue(field))
	return &v
}

// createComplianceRule is POST /admin/compliance {customer, name, description, platform,
// kind, pattern, severity}.
func (u *UI) createComplianceRule(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "rule", u.adminCompliance, "/admin/compliance", "admin-created", func() error {
		cid, err := adminRequiredID(r, "customer", "compliance rule", "a customer")
		if err != nil {
			return err
		}
		_, err = u.core.CreateComplianceRule(r.Context(), service.ComplianceRuleInput{Customer: &cid, Name: adminText(r, "name"),
			Description: adminText(r, "description"), Platform: adminText(r, "platform"), Kind: adminText(r, "kind"),
			Pattern: adminText(r, "pattern"), Severity: adminText(r, "severity")})
		return err
	})
}

// adminSchedules is GET /admin/schedules.
func (u *UI) adminSchedules(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_schedules", "Schedules", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		schedules, total, err := u.core.ListSchedules(r.Context(), webnet.ScheduleQuery{}, p)
		if err != nil {
			return err
		}
		d.Items, d.Pager = schedules, newAdminPager(r, p, total)
		d.Choices = map[string][]string{"kind": {webnet.JobSync, webnet.JobReadiness, webnet.JobUpgrade, webnet.JobConfigPush}}
		if d.DeviceGroups, _, err = u.core.ListDeviceGroups(r.Context(), nil, webnet.Page{Limit: webnet.MaxLimit}); err != nil {
			return err
		}
		d.Images, _, err = u.core.ListFirmwareImages(r.Context(), service.FirmwareFilter{}, webnet.Page{Limit: webnet.MaxLimit})
		return err
	})
}

// scheduleParams reads the parameters of a schedule's kind from its form: the firmware image
// of a readiness check or an upgrade, the configuration of a push. Fields of other kinds are
// ignored (the form shows them all); the service checks what is left.
func scheduleParams(r *http.Request, kind string) (map[string]any, error) {
	params := map[string]any{}
	switch kind {
	case webnet.JobReadiness, webnet.JobUpgrade:
		img, err := adminFormID(r, "image", "schedule")
		if err != nil {
			return nil, err
		}
		if img != nil {
			params["image"] = *img
		}
	case webnet.JobConfigPush:
		if c := r.PostFormValue("config"); strings.TrimSpace(c) != "" {
			params["config"] = strings.ReplaceAll(c, "\r\n", "\n")
		}
	}
	return params, nil
}

// createSchedule is POST /admin/schedules {customer, name, kind, cron, timezone,
// device_group, image (readiness, upgrade), config (config_push), dry_run, enabled}.
func (u *UI) createSchedule(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "schedule", u.adminSchedules, "/admin/schedules", "admin-created", func() error {
		cid, err := adminRequiredID(r, "customer", "schedule", "a customer")
		if err != nil {
			return err
		}
		gid, err := adminRequiredID(r, "device_group", "schedule", "the device group it runs on")
		if err != nil {
			return err
		}
		dry, enabled := r.PostFormValue("dry_run") == "true", r.PostFormValue("enabled") == "true"
		params, err := scheduleParams(r, r.PostFormValue("kind"))
		if err != nil {
			return err
		}
		in := service.ScheduleInput{Customer: &cid, Name: adminText(r, "name"), Kind: adminText(r, "kind"), Cron: adminText(r, "cron"),
			Timezone: adminText(r, "timezone"), DeviceGroup: service.OptionalID{Set: true, Value: &gid}, DryRun: &dry, Enabled: &enabled,
			Params: params}
		if *in.Timezone == "" {
			in.Timezone = nil
		}
		_, err = u.core.CreateSchedule(r.Context(), in)
		return err
	})
}

// setScheduleEnabled is POST /admin/schedules/{id}/enabled {enabled: true|false}.
func (u *UI) setScheduleEnabled(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "enabled", u.adminSchedules, "/admin/schedules", "saved", func() error {
		enabled, err := strconv.ParseBool(r.PostFormValue("enabled"))
		if err != nil {
			return webnet.Invalid("Invalid schedule.", map[string]string{"enabled": "Must be true or false."})
		}
		_, err = u.core.UpdateSchedule(r.Context(), id, service.ScheduleInput{Enabled: &enabled})
		return err
	})
}
