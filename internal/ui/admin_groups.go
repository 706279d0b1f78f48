package ui

import (
	"net/http"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerGroups adds device-group management (/groups) and the access explainer.
func (u *UI) registerGroups(mux *http.ServeMux) {
	mux.HandleFunc("GET /groups", authed(u.groups))
	mux.HandleFunc("POST /groups", authed(u.createDeviceGroup))
	mux.HandleFunc("GET /groups/access", authed(u.accessExplainer))
	mux.HandleFunc("GET /groups/{id}", authed(u.group))
	mux.HandleFunc("GET /groups/{id}/delete", u.withID(u.confirmDeleteDeviceGroup))
	mux.HandleFunc("POST /groups/{id}/delete", u.withID(u.deleteDeviceGroup))
	mux.HandleFunc("POST /groups/{id}/roles", u.withID(u.createRole))
	mux.HandleFunc("GET /groups/roles/{id}/delete", u.withRole(u.confirmDeleteRole))
	mux.HandleFunc("POST /groups/roles/{id}/delete", u.withRole(u.deleteRole))
	mux.HandleFunc("POST /groups/roles/{id}/assignments", u.withRole(u.createAssignment))
	mux.HandleFunc("POST /groups/assignments/{kind}/{id}/delete", u.withID(u.deleteAssignment))
}

// groupsPageSize is how many device groups a page lists.
const groupsPageSize = 50

// groupHolder is one assignment of a role: to a user or to a user group.
type groupHolder struct {
	ID   int64 // the assignment
	Kind string
	Name string
}

// groupRole is a role of a device group with its holders.
type groupRole struct {
	ID          int64
	Name        string
	Description string
	Permissions []string
	Holders     []groupHolder
}

// groupRow is a device group as the pages show it.
type groupRow struct {
	service.DeviceGroupView
	Customer string
	// Admin: the caller administers the group's customer (roles are shown and managed).
	Admin bool
	Roles []groupRole
}

// groupsData is the data of /groups and /groups/{id}.
type groupsData struct {
	S      *adminStanding
	Groups []groupRow
	Pager  adminPager
	Form   *adminForm
	// Detail only: the permissions a role may hold, and who may be given a role.
	Perms      []service.DeviceGroupPermission
	Users      []webnet.User
	UserGroups any
}

// roleHolders returns the assignments of the roles the caller administers by role id, named.
func (u *UI) roleHolders(r *http.Request) (map[int64][]groupHolder, error) {
	all := webnet.Page{Limit: webnet.MaxLimit}
	users, _, err := u.core.ListUsers(r.Context(), service.UserFilter{}, all)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, x := range users {
		names["user:"+strconv.FormatInt(x.ID, 10)] = x.Username
	}
	groups, _, err := u.core.ListGroups(r.Context(), nil, all)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		names["group:"+strconv.FormatInt(g.ID, 10)] = g.Name
	}
	out := map[int64][]groupHolder{}
	for _, kind := range []string{"user", "group"} {
		as, _, err := u.core.ListAssignments(r.Context(), kind, all)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			sub := a.User
			if kind == "group" {
				sub = a.Group
			}
			key := kind + ":" + strconv.FormatInt(adminID(sub), 10)
			name, ok := names[key]
			if !ok {
				name = "#" + strconv.FormatInt(adminID(sub), 10)
			}
			out[a.Role] = append(out[a.Role], groupHolder{ID: a.ID, Kind: kind, Name: name})
		}
	}
	return out, nil
}

func adminID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// groupRows decorates device groups with their customer and their roles' holders.
func (u *UI) groupRows(r *http.Request, s *adminStanding, groups []service.DeviceGroupView) ([]groupRow, error) {
	held, err := u.roleHolders(r)
	if err != nil {
		return nil, err
	}
	out := make([]groupRow, len(groups))
	for i, g := range groups {
		row := groupRow{DeviceGroupView: g, Customer: s.CustomerName(g.CustomerID), Admin: s.Admins(g.CustomerID)}
		for _, role := range g.Roles {
			row.Roles = append(row.Roles, groupRole{ID: role.ID, Name: role.Name, Description: role.Description,
				Permissions: role.Permissions, Holders: held[role.ID]})
		}
		out[i] = row
	}
	return out, nil
}

// groups is GET /groups: the device groups the caller sees, with device counts and, in the
// customers the caller administers, their roles and who holds them.
func (u *UI) groups(w http.ResponseWriter, r *http.Request) { u.groupsPage(w, r, nil, http.StatusOK) }

func (u *UI) groupsPage(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	s, err := u.adminStandingOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := adminPage(r, groupsPageSize)
	groups, total, err := u.core.ListDeviceGroups(r.Context(), nil, p)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rows, err := u.groupRows(r, s, groups)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := groupsData{S: s, Groups: rows, Form: f, Pager: newAdminPager(r, p, total)}
	u.renderNav(w, r, status, "groups", "Device groups · webnet", "groups", d)
}

// group is GET /groups/{id}: one device group with its roles, and the forms to manage them
// for its customer's admins.
func (u *UI) group(w http.ResponseWriter, r *http.Request) { u.groupPage(w, r, nil, http.StatusOK) }

func (u *UI) groupPage(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	id, err := adminPathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	s, err := u.adminStandingOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	g, err := u.core.GetDeviceGroup(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rows, err := u.groupRows(r, s, []service.DeviceGroupView{*g})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := groupsData{S: s, Groups: rows, Form: f}
	if rows[0].Admin {
		all := webnet.Page{Limit: webnet.MaxLimit}
		if d.Perms, err = u.core.DeviceGroupPermissions(r.Context()); err == nil {
			d.Users, _, err = u.core.ListUsers(r.Context(), service.UserFilter{CustomerID: &g.CustomerID}, all)
		}
		if err == nil {
			d.UserGroups, _, err = u.core.ListGroups(r.Context(), &g.CustomerID, all)
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
	}
	u.renderNav(w, r, status, "group", g.Name+" · Device groups · webnet", "groups", d)
}

// createDeviceGroup is POST /groups {customer, name, description}.
func (u *UI) createDeviceGroup(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "group", u.groupsPage, "/groups", "admin-created", func() error {
		cid, err := adminRequiredID(r, "customer", "device group", "a customer")
		if err != nil {
			return err
		}
		name, desc := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("description")
		_, err = u.core.CreateDeviceGroup(r.Context(), service.DeviceGroupInput{Customer: &cid, Name: &name, Description: &desc})
		return err
	})
}

// confirmDeleteDeviceGroup is GET /groups/{id}/delete: the confirmation.
func (u *UI) confirmDeleteDeviceGroup(w http.ResponseWriter, r *http.Request, id int64) {
	g, err := u.core.GetDeviceGroup(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	detail := "It has no devices; its roles and their assignments are deleted with it."
	if g.DeviceCount > 0 {
		detail = "It still has " + strconv.Itoa(g.DeviceCount) + " devices: move or delete them first, or the deletion is refused."
	}
	u.adminConfirmPage(w, r, "groups", adminConfirm{What: "device group " + g.Name, Detail: detail,
		Action: "/groups/" + strconv.FormatInt(id, 10) + "/delete", Back: "/groups/" + strconv.FormatInt(id, 10)})
}

// deleteDeviceGroup is POST /groups/{id}/delete.
func (u *UI) deleteDeviceGroup(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "delete", u.groupPage, "/groups", "admin-deleted", func() error {
		return u.core.DeleteDeviceGroup(r.Context(), id)
	})
}

// createRole is POST /groups/{id}/roles {name, description, permissions…}.
func (u *UI) createRole(w http.ResponseWriter, r *http.Request, id int64) {
	back := "/groups/" + strconv.FormatInt(id, 10)
	u.adminSubmit(w, r, "role", u.groupPage, back, "admin-created", func() error {
		name, desc, perms := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("description"), adminFormStrings(r, "permissions")
		_, err := u.core.CreateRole(r.Context(), service.RoleInput{DeviceGroup: &id, Name: &name, Description: &desc, Permissions: &perms})
		return err
	})
}

// confirmDeleteRole is GET /groups/roles/{id}/delete.
func (u *UI) confirmDeleteRole(w http.ResponseWriter, r *http.Request, id int64, role groupRoleRef) {
	u.adminConfirmPage(w, r, "groups", adminConfirm{What: "role " + role.name,
		Detail: "Everyone who holds it loses its permissions on their next request.",
		Action: "/groups/roles/" + strconv.FormatInt(id, 10) + "/delete", Back: "/groups/" + strconv.FormatInt(role.group, 10)})
}

// deleteRole is POST /groups/roles/{id}/delete.
func (u *UI) deleteRole(w http.ResponseWriter, r *http.Request, id int64, role groupRoleRef) {
	back := "/groups/" + strconv.FormatInt(role.group, 10)
	u.adminSubmit(w, r, "delete", u.groupsPage, back, "admin-deleted", func() error {
		return u.core.DeleteRole(r.Context(), id)
	})
}

// createAssignment is POST /groups/roles/{id}/assignments {holder: "user:ID" or "group:ID"}.
func (u *UI) createAssignment(w http.ResponseWriter, r *http.Request, id int64, role groupRoleRef) {
	back, page := u.roleGroupPage(role)
	u.adminSubmit(w, r, "assign-"+strconv.FormatInt(id, 10), page, back, "saved", func() error {
		kind, sub, ok := strings.Cut(r.PostFormValue("holder"), ":")
		n, err := strconv.ParseInt(sub, 10, 64)
		if !ok || err != nil || n <= 0 || (kind != "user" && kind != "group") {
			return webnet.Invalid("Invalid assignment.", map[string]string{"holder": "Choose a user or a user group."})
		}
		in := service.AssignmentInput{Role: &id}
		if kind == "user" {
			in.User = &n
		} else {
			in.Group = &n
		}
		_, err = u.core.CreateAssignment(r.Context(), kind, in)
		return err
	})
}

// deleteAssignment is POST /groups/assignments/{kind}/{id}/delete; the form says which
// device group to go back to.
func (u *UI) deleteAssignment(w http.ResponseWriter, r *http.Request, id int64) {
	kind := r.PathValue("kind")
	if kind != "user" && kind != "group" {
		u.fail(w, r, webnet.Errorf(webnet.ENotFound, "Not found."))
		return
	}
	back := "/groups"
	if g, err := strconv.ParseInt(r.FormValue("device_group"), 10, 64); err == nil && g > 0 {
		back = "/groups/" + strconv.FormatInt(g, 10)
	}
	u.adminSubmit(w, r, "unassign", u.groupsPage, back, "admin-removed", func() error {
		return u.core.DeleteAssignment(r.Context(), kind, id)
	})
}

// roleGroupPage is where a form of a role goes back to: its device group's page, which
// shows the form again when it is refused.
func (u *UI) roleGroupPage(role groupRoleRef) (string, adminPageFunc) {
	id := strconv.FormatInt(role.group, 10)
	return "/groups/" + id, func(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
		r.SetPathValue("id", id)
		u.groupPage(w, r, f, status)
	}
}

// groupRoleRef is what the role routes need of their role.
type groupRoleRef struct {
	group int64
	name  string
}

// withRole wraps a handler of a route /groups/roles/{id}/…: the role is one the caller
// administers (GetRole), else an error page.
func (u *UI) withRole(h func(http.ResponseWriter, *http.Request, int64, groupRoleRef)) http.HandlerFunc {
	return u.withID(func(w http.ResponseWriter, r *http.Request, id int64) {
		role, err := u.core.GetRole(r.Context(), id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		h(w, r, id, groupRoleRef{group: role.DeviceGroupID, name: role.Name})
	})
}
