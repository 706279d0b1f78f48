package ui

import (
	"fmt"
	"net/http"
	"strings"

	"webnet/internal/authz"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// accessVerbs say what each permission lets a user do to a device, in plain words.
var accessVerbs = map[string]string{
	"view_device":             "view",
	"add_device":              "add devices next to",
	"change_device":           "change",
	"delete_device":           "delete",
	"enable_device":           "enable or disable",
	"view_configuration":      "view the configuration of",
	"view_backups":            "view the backups of",
	"edit_configuration":      "push configuration to",
	"sync_device_inventory":   "sync",
	"check_device_readiness":  "check the readiness of",
	"upgrade_device_firmware": "upgrade the firmware of",
}

// accessLine is one permission of the explainer's answer.
type accessLine struct {
	Permission string
	Allowed    bool
	Sentence   string
}

// accessData is the explainer page's data.
type accessData struct {
	S      *adminStanding
	Users  []webnet.User
	Form   *adminForm
	User   string // the chosen user id, as typed
	Device string // the device name, as typed
	Answer *service.DeviceAccess
	Lines  []accessLine
}

// accessExplainer is GET /groups/access?user=&device=: why a user may or may not do each
// thing to a device (GET /api/devices/{id}/access/?user=), in sentences. The device is named
// as the devices list finds it; the user is one the caller sees.
func (u *UI) accessExplainer(w http.ResponseWriter, r *http.Request) {
	s, users, err := u.adminStandingAndUsers(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := accessData{S: s, Users: users, User: q.Get("user"), Device: strings.TrimSpace(q.Get("device"))}
	status := http.StatusOK
	if d.User != "" || d.Device != "" {
		if err := u.explain(r, &d); err != nil {
			f, st := adminFormError("access", r, err)
			if f == nil {
				u.fail(w, r, err)
				return
			}
			f.Values = q
			d.Form, status = f, st
		}
	}
	u.renderNav(w, r, status, "groups_access", "Access explainer · webnet", "groups", d)
}

// explain asks the service and puts its answer into sentences.
func (u *UI) explain(r *http.Request, d *accessData) error {
	bad := map[string]string{}
	var uid int64
	if _, err := fmt.Sscan(d.User, &uid); err != nil || uid <= 0 {
		bad["user"] = "Choose a user."
	}
	if d.Device == "" {
		bad["device"] = "Type a device's name."
	}
	if len(bad) > 0 {
		return webnet.Invalid("Which user and which device?", bad)
	}
	devs, _, err := u.core.ListDevices(r.Context(), webnet.DeviceQuery{Search: d.Device}, webnet.Page{Limit: 50})
	if err != nil {
		return err
	}
	var dev *webnet.Device
	for i := range devs {
		if strings.EqualFold(devs[i].Name, d.Device) {
			dev = &devs[i]
			break
		}
	}
	if dev == nil {
		return webnet.Invalid("No such device.", map[string]string{"device": "No device you can see has that name."})
	}
	acc, err := u.core.ExplainAccess(r.Context(), dev.ID, uid)
	if err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return &webnet.Error{Code: webnet.ENotFound, Message: "User not found.",
				Fields: map[string]string{"user": "The user is not a member of the device's customer (or you may not see them)."}}
		}
		return err
	}
	group := ""
	if dev.DeviceGroupID != nil {
		if g, err := u.core.GetDeviceGroup(r.Context(), *dev.DeviceGroupID); err == nil {
			group = g.Name
		}
	}
	d.Answer = acc
	for _, e := range acc.Permissions {
		d.Lines = append(d.Lines, accessLine{Permission: e.Permission, Allowed: e.Allowed,
			Sentence: accessSentence(acc.User.Username, acc.Device.Name, d.S.CustomerName(dev.CustomerID), group, e)})
	}
	return nil
}

// accessSentence says in one sentence why user may or may not do e.Permission to device.
func accessSentence(user, device, customer, group string, e authz.Explanation) string {
	verb := accessVerbs[e.Permission]
	if verb == "" {
		verb = "use " + e.Permission + " on"
	}
	if !e.Allowed {
		why := strings.TrimSuffix(strings.ToLower(e.Reason[:1])+e.Reason[1:], ".")
		switch e.Step {
		case authz.StepNotMember:
			why = "they are not a member of " + customer
		case authz.StepUngrouped:
			why = device + " is in no device group, and only " + customer + "'s admins see ungrouped devices"
		case authz.StepDenied:
			why = "no role, permission, bundle or device-group role of theirs grants " + e.Permission
		}
		return fmt.Sprintf("%s may not %s %s: %s.", user, verb, device, why)
	}
	var why string
	switch e.Step {
	case authz.StepAdmin:
		why = "they are an admin of " + customer
	case authz.StepRoleGrant:
		why = fmt.Sprintf("they are %s of %s, and that role grants %s on grouped devices", article(accessRole(e)), customer, e.Permission)
	case authz.StepCustomerWide:
		why = fmt.Sprintf("they are a member of %s and %s", customer, accessSources(e.Grants, "grants it customer-wide", "grant it customer-wide"))
	case authz.StepDeviceGroup:
		var held []string
		for _, g := range e.Grants {
			h := fmt.Sprintf("the role '%s' on group %s", g.Name, group)
			if g.ViaName != "" {
				h += fmt.Sprintf(" through their user group '%s'", g.ViaName)
			}
			held = append(held, h)
		}
		why = fmt.Sprintf("they are a member of %s and have %s", customer, strings.Join(held, " and "))
	default:
		why = strings.TrimSuffix(strings.ToLower(e.Reason[:1])+e.Reason[1:], ".")
	}
	return fmt.Sprintf("%s may %s %s because %s.", user, verb, device, why)
}

// accessRole is the membership role of a role grant.
func accessRole(e authz.Explanation) string {
	if len(e.Grants) > 0 {
		return e.Grants[0].Name
	}
	return "a member"
}

func article(role string) string {
	if strings.ContainsRune("aeiou", rune(role[0])) {
		return "an " + role
	}
	return "a " + role
}

// accessSources names the grants of a customer-wide permission.
func accessSources(grants []authz.Source, one, many string) string {
	var names []string
	for _, g := range grants {
		switch g.Kind {
		case "membership":
			names = append(names, "their membership")
		case "bundle":
			names = append(names, fmt.Sprintf("the bundle '%s' of their membership", g.Name))
		case "group":
			names = append(names, fmt.Sprintf("their user group '%s'", g.Name))
		case "group_bundle":
			names = append(names, fmt.Sprintf("the bundle '%s' of a user group of theirs", g.Name))
		default:
			names = append(names, fmt.Sprintf("%s '%s'", g.Kind, g.Name))
		}
	}
	if len(names) == 0 {
		return "a grant " + one
	}
	if len(names) == 1 {
		return names[0] + " " + one
	}
	return strings.Join(names, " and ") + " " + many
}
