package ui

import (
	"net/http"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// This file holds the admin pages' edits of what exists: a device group's name and
// description, a role's name, description and permissions, a membership's and a user group's
// customer-wide grants (and a user group's name), a firmware image's model, and customers
// (staff create them). Each goes through the service, which checks and audits it.

func init() {
	// adminChecked reports whether a checkbox is checked: as typed when form is the refused
	// form being shown again, else as stored.
	funcs["adminChecked"] = func(f *adminForm, form, field, value string, stored bool) bool {
		if f == nil || f.Name != form {
			return stored
		}
		for _, v := range f.Values[field] {
			if v == value {
				return true
			}
		}
		return false
	}
	// adminBundlesFor lists the bundles an object of customer cid may hold: global ones and
	// the customer's own.
	funcs["adminBundlesFor"] = func(bs []service.PermissionBundle, cid int64) []service.PermissionBundle {
		var out []service.PermissionBundle
		for _, b := range bs {
			if b.CustomerID == nil || *b.CustomerID == cid {
				out = append(out, b)
			}
		}
		return out
	}
}

// registerAdminEdits adds the edit routes.
func (u *UI) registerAdminEdits(mux *http.ServeMux) {
	mux.HandleFunc("POST /groups/{id}/edit", u.withID(u.updateDeviceGroup))
	mux.HandleFunc("POST /groups/roles/{id}/edit", u.withRole(u.updateRole))
	mux.HandleFunc("GET /admin/memberships/{id}", u.withID(func(w http.ResponseWriter, r *http.Request, id int64) {
		u.adminMembershipPage(w, r, nil, http.StatusOK)
	}))
	mux.HandleFunc("POST /admin/memberships/{id}/grants", u.withID(u.setMembershipGrants))
	mux.HandleFunc("POST /admin/user-groups/{id}/edit", u.withID(u.editUserGroup))
	mux.HandleFunc("POST /admin/firmware/{id}/model", u.withID(u.setImageModel))
	mux.HandleFunc("GET /admin/customers", authed(func(w http.ResponseWriter, r *http.Request) { u.adminCustomers(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/customers", authed(u.createCustomer))
	mux.HandleFunc("POST /admin/customers/{id}/edit", u.withID(u.renameCustomer))
}

// updateDeviceGroup is POST /groups/{id}/edit {name, description}: rename or re-describe.
func (u *UI) updateDeviceGroup(w http.ResponseWriter, r *http.Request, id int64) {
	back := "/groups/" + strconv.FormatInt(id, 10)
	u.adminSubmit(w, r, "group-edit", u.groupPage, back, "saved", func() error {
		name, desc := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("description")
		_, err := u.core.UpdateDeviceGroup(r.Context(), id, service.DeviceGroupInput{Name: &name, Description: &desc})
		return err
	})
}

// updateRole is POST /groups/roles/{id}/edit {name, description, permissions…}: the role's new
// name, description and permissions (none checked: none).
func (u *UI) updateRole(w http.ResponseWriter, r *http.Request, id int64, role groupRoleRef) {
	back, page := u.roleGroupPage(role)
	u.adminSubmit(w, r, "role-"+strconv.FormatInt(id, 10), page, back, "saved", func() error {
		name, desc, perms := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("description"), adminFormStrings(r, "permissions")
		_, err := u.core.UpdateRole(r.Context(), id, service.RoleInput{Name: &name, Description: &desc, Permissions: &perms})
		return err
	})
}

// adminGrants reads the customer-wide grants of a form: permissions… and bundles….
func adminGrants(r *http.Request, label string) (perms []string, bundles []int64, err error) {
	bundles, err = adminFormIDs(r, "bundles", label)
	return adminFormStrings(r, "permissions"), bundles, err
}

// adminMembershipView is a membership with its user's and customer's names.
type adminMembershipView struct {
	service.MembershipDetail
	Username, Customer string
}

// adminMembershipPage is GET /admin/memberships/{id}: a membership's direct customer-wide
// permissions and bundles, to change (its own page: every permission and bundle for every
// membership would make the users page heavy).
func (u *UI) adminMembershipPage(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_membership", "Membership", func(s *adminStanding, d *adminData) error {
		id, err := adminPathID(r, "id")
		if err != nil {
			return err
		}
		m, err := u.core.GetMembership(r.Context(), id)
		if err != nil {
			return err
		}
		user, err := u.core.GetUser(r.Context(), m.UserID)
		if err != nil {
			return err
		}
		d.Tab, d.Items = "/admin/users", adminMembershipView{MembershipDetail: *m, Username: user.Username, Customer: s.CustomerName(m.CustomerID)}
		return u.adminGrantChoices(r, d)
	})
}

// setMembershipGrants is POST /admin/memberships/{id}/grants {permissions…, bundles…}: the
// membership's direct customer-wide permissions and bundles (its role is set apart).
func (u *UI) setMembershipGrants(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "grants", u.adminMembershipPage, "/admin/users", "saved", func() error {
		perms, bundles, err := adminGrants(r, "membership")
		if err != nil {
			return err
		}
		_, err = u.core.UpdateMembership(r.Context(), id, service.MembershipPatch{Permissions: &perms, Bundles: &bundles})
		return err
	})
}

// editUserGroup is POST /admin/user-groups/{id}/edit {name, permissions…, bundles…}: the
// group's name and customer-wide grants (its members are set apart).
func (u *UI) editUserGroup(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "user-group-edit-"+strconv.FormatInt(id, 10), u.adminUserGroups, "/admin/user-groups", "saved", func() error {
		perms, bundles, err := adminGrants(r, "user group")
		if err != nil {
			return err
		}
		name := strings.TrimSpace(r.PostFormValue("name"))
		_, err = u.core.UpdateGroup(r.Context(), id, service.GroupPatch{Name: &name, Permissions: &perms, Bundles: &bundles})
		return err
	})
}

// adminGrantChoices loads what grants are chosen from: the permission catalog and the
// bundles the caller sees.
func (u *UI) adminGrantChoices(r *http.Request, d *adminData) error {
	bundles, _, err := u.core.ListBundles(r.Context(), nil, webnet.Page{Limit: webnet.MaxLimit})
	d.Perms, d.Bundles = webnet.Catalog, bundles
	return err
}

// setImageModel is POST /admin/firmware/{id}/model {model}: the models an image is for
// (blank: every model of its platform).
func (u *UI) setImageModel(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "model-"+strconv.FormatInt(id, 10), u.adminFirmware, "/admin/firmware", "saved", func() error {
		_, err := u.core.UpdateFirmwareImage(r.Context(), id, service.FirmwarePatch{Model: adminText(r, "model")})
		return err
	})
}

// adminCustomers is GET /admin/customers: the customers the caller sees; staff and
// superusers create them here.
func (u *UI) adminCustomers(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_customers", "Customers", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		customers, total, err := u.core.ListCustomers(r.Context(), p)
		d.Items, d.Pager = customers, newAdminPager(r, p, total)
		return err
	})
}

// createCustomer is POST /admin/customers {name, slug}: staff and superusers only (the
// service refuses anyone else).
func (u *UI) createCustomer(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "customer", u.adminCustomers, "/admin/customers", "admin-created", func() error {
		_, err := u.core.CreateCustomer(r.Context(), service.CustomerInput{Name: strings.TrimSpace(r.PostFormValue("name")),
			Slug: strings.TrimSpace(r.PostFormValue("slug"))})
		return err
	})
}

// renameCustomer is POST /admin/customers/{id}/edit {name, slug}: staff and superusers only
// (the service refuses anyone else, audited).
func (u *UI) renameCustomer(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "customer-"+strconv.FormatInt(id, 10), u.adminCustomers, "/admin/customers", "saved", func() error {
		name, slug := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("slug"))
		_, err := u.core.UpdateCustomer(r.Context(), id, service.CustomerPatch{Name: &name, Slug: &slug})
		return err
	})
}

// BundleName is the name of bundle id, as the caller sees it.
func (d *adminData) BundleName(id int64) string {
	for _, b := range d.Bundles {
		if b.ID == id {
			return b.Name
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}
