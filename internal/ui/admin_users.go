package ui

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// adminPageSize is how many rows an admin list shows.
const adminPageSize = 50

// adminData is the data of every admin list page; each page fills what it shows.
type adminData struct {
	S     *adminStanding
	Tab   string
	Form  *adminForm
	Pager adminPager
	// Items is the page's list (users, groups, bundles, credentials, images, rules,
	// schedules), as the service returned it.
	Items any
	// Users are the users the caller sees, to choose from; Roles the membership roles.
	Users []webnet.User
	Roles []webnet.Role
	// Members maps a user id to their memberships (users page).
	Members map[int64][]adminMembership
	// Perms is the permission catalog (bundles), or the platforms and such of a page.
	Perms   []webnet.PermInfo
	Choices map[string][]string
	// Bundles are the bundles the caller sees, to grant (users and user groups).
	Bundles []service.PermissionBundle
	// DeviceGroups are the device groups the caller sees (schedules).
	DeviceGroups []service.DeviceGroupView
	// Images are the firmware images the caller sees (schedules of readiness and upgrades).
	Images []webnet.FirmwareImage
	// UserNames maps a user id to their name.
	UserNames map[int64]string
}

// adminMembership is a membership as the users page shows it.
type adminMembership struct {
	ID         int64
	CustomerID int64
	Customer   string
	Role       webnet.Role
	Admin      bool // the caller administers its customer
	// Permissions and Bundles are its direct customer-wide grants.
	Permissions []string
	Bundles     []int64
}

// adminTabs are the admin section's pages, for its navigation.
var adminTabs = []struct{ Path, Name string }{
	{"/admin/users", "Users"}, {"/admin/user-groups", "User groups"}, {"/admin/bundles", "Bundles"},
	{"/admin/credentials", "Credentials"}, {"/admin/firmware", "Firmware"}, {"/admin/compliance", "Compliance rules"},
	{"/admin/schedules", "Schedules"}, {"/admin/customers", "Customers"},
}

func init() {
	funcs["adminTabs"] = func() any { return adminTabs }
}

// adminRender renders an admin list page: forbidden for a caller who administers nothing;
// load fills the page's data.
func (u *UI) adminRender(w http.ResponseWriter, r *http.Request, f *adminForm, status int, name, title string,
	load func(s *adminStanding, d *adminData) error) {
	s, err := u.adminScope(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &adminData{S: s, Tab: "/admin/" + strings.TrimPrefix(strings.ReplaceAll(name, "_", "-"), "admin-"), Form: f,
		Roles: []webnet.Role{webnet.RoleMember, webnet.RoleViewer, webnet.RoleOperator, webnet.RoleAdmin}}
	if err := load(s, d); err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, status, name, title+" · Admin · webnet", "admin", d)
}

// adminDeletable is a kind of object the admin pages delete after a confirmation.
type adminDeletable struct {
	path string // under /admin/
	what string
	name func(ctx context.Context, id int64) (string, error)
	del  func(ctx context.Context, id int64) error
}

// adminNamed makes the name function of an adminDeletable from the service's getter: the
// object's field (Name, Filename…) as text.
func adminNamed[T any](get func(context.Context, int64) (*T, error), field string) func(context.Context, int64) (string, error) {
	return func(ctx context.Context, id int64) (string, error) {
		x, err := get(ctx, id)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(reflect.ValueOf(x).Elem().FieldByName(field).Interface()), nil
	}
}

// registerDeletes adds GET /admin/{path}/{id}/delete (the confirmation) and the POST that
// deletes, for each kind; a refusal is shown on the list page.
func (u *UI) registerDeletes(mux *http.ServeMux, page adminPageFunc, kinds ...adminDeletable) {
	for _, k := range kinds {
		list := "/admin/" + k.path
		mux.HandleFunc("GET "+list+"/{id}/delete", u.withID(func(w http.ResponseWriter, r *http.Request, id int64) {
			name, err := k.name(r.Context(), id)
			if err != nil {
				u.fail(w, r, err)
				return
			}
			u.adminConfirmPage(w, r, "admin", adminConfirm{What: k.what + " " + name, Detail: "This cannot be undone.",
				Action: list + "/" + strconv.FormatInt(id, 10) + "/delete", Back: list})
		}))
		mux.HandleFunc("POST "+list+"/{id}/delete", u.withID(func(w http.ResponseWriter, r *http.Request, id int64) {
			u.adminSubmit(w, r, "delete", page, list, "admin-deleted", func() error { return k.del(r.Context(), id) })
		}))
	}
}

// registerAdminUsers adds users and memberships (/admin/users).
func (u *UI) registerAdminUsers(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users", authed(func(w http.ResponseWriter, r *http.Request) { u.adminUsers(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/users", authed(u.createUser))
	mux.HandleFunc("POST /admin/users/{id}/active", u.withID(u.setUserActive))
	mux.HandleFunc("POST /admin/memberships", authed(u.createMembership))
	mux.HandleFunc("POST /admin/memberships/{id}", u.withID(u.setMembershipRole))
	u.registerDeletes(mux, u.adminUsers, adminDeletable{path: "memberships", what: "membership",
		name: adminNamed(u.core.GetMembership, "ID"), del: u.core.DeleteMembership})
}

// adminUsers is GET /admin/users: the users the caller sees with their memberships.
func (u *UI) adminUsers(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_users", "Users", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		users, total, err := u.core.ListUsers(r.Context(), service.UserFilter{}, p)
		if err != nil {
			return err
		}
		d.Items, d.Pager = users, newAdminPager(r, p, total)
		if _, d.Users, err = u.adminStandingAndUsers(r); err != nil {
			return err
		}
		ms, _, err := u.core.ListMemberships(r.Context(), service.MembershipFilter{}, webnet.Page{Limit: webnet.MaxLimit})
		if err != nil {
			return err
		}
		d.Members = map[int64][]adminMembership{}
		for _, m := range ms {
			d.Members[m.UserID] = append(d.Members[m.UserID], adminMembership{ID: m.ID, CustomerID: m.CustomerID,
				Customer: s.CustomerName(m.CustomerID), Role: m.Role, Admin: s.Admins(m.CustomerID),
				Permissions: m.Permissions, Bundles: m.Bundles})
		}
		return u.adminGrantChoices(r, d)
	})
}

// adminRole reads the role field: nil when empty.
func adminRole(r *http.Request) *string {
	if v := r.PostFormValue("role"); v != "" {
		return &v
	}
	return nil
}

// createUser is POST /admin/users {username, email, password, customer, role}.
func (u *UI) createUser(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "user", u.adminUsers, "/admin/users", "admin-created", func() error {
		cid, err := adminFormID(r, "customer", "user")
		if err != nil {
			return err
		}
		in := service.UserInput{Username: strings.TrimSpace(r.PostFormValue("username")), Email: strings.TrimSpace(r.PostFormValue("email")),
			Password: r.PostFormValue("password"), Customer: cid, Role: adminRole(r)}
		if cid == nil {
			in.Role = nil
		}
		_, err = u.core.CreateUser(r.Context(), in)
		return err
	})
}

// setUserActive is POST /admin/users/{id}/active {active: true|false}: deactivate or
// reactivate.
func (u *UI) setUserActive(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "active", u.adminUsers, "/admin/users", "saved", func() error {
		active, err := strconv.ParseBool(r.PostFormValue("active"))
		if err != nil {
			return webnet.Invalid("Invalid user.", map[string]string{"active": "Must be true or false."})
		}
		_, err = u.core.UpdateUser(r.Context(), id, service.UserPatch{IsActive: &active})
		return err
	})
}

// createMembership is POST /admin/memberships {user, customer, role}.
func (u *UI) createMembership(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "membership", u.adminUsers, "/admin/users", "saved", func() error {
		uid, err := adminRequiredID(r, "user", "membership", "a user")
		if err != nil {
			return err
		}
		cid, err := adminRequiredID(r, "customer", "membership", "a customer")
		if err != nil {
			return err
		}
		_, err = u.core.CreateMembership(r.Context(), service.MembershipInput{User: &uid, Customer: &cid, Role: r.PostFormValue("role")})
		return err
	})
}

// setMembershipRole is POST /admin/memberships/{id} {role}.
func (u *UI) setMembershipRole(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "membership-"+strconv.FormatInt(id, 10), u.adminUsers, "/admin/users", "saved", func() error {
		_, err := u.core.UpdateMembership(r.Context(), id, service.MembershipPatch{Role: adminRole(r)})
		return err
	})
}

// registerAdminTenancy adds user groups and permission bundles.
func (u *UI) registerAdminTenancy(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/user-groups", authed(func(w http.ResponseWriter, r *http.Request) { u.adminUserGroups(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/user-groups", authed(u.createUserGroup))
	mux.HandleFunc("POST /admin/user-groups/{id}", u.withID(u.setUserGroupMembers))
	u.registerDeletes(mux, u.adminUserGroups, adminDeletable{path: "user-groups", what: "user group",
		name: adminNamed(u.core.GetGroup, "Name"), del: u.core.DeleteGroup})
	mux.HandleFunc("GET /admin/bundles", authed(func(w http.ResponseWriter, r *http.Request) { u.adminBundles(w, r, nil, http.StatusOK) }))
	mux.HandleFunc("POST /admin/bundles", authed(u.createBundle))
	u.registerDeletes(mux, u.adminBundles, adminDeletable{path: "bundles", what: "bundle",
		name: adminNamed(u.core.GetBundle, "Name"), del: u.core.DeleteBundle})
}

// adminUserGroups is GET /admin/user-groups: auth groups with their members.
func (u *UI) adminUserGroups(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_user_groups", "User groups", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		groups, total, err := u.core.ListGroups(r.Context(), nil, p)
		if err != nil {
			return err
		}
		d.Items, d.Pager = groups, newAdminPager(r, p, total)
		_, d.Users, err = u.adminStandingAndUsers(r)
		if err != nil {
			return err
		}
		d.UserNames = map[int64]string{}
		for _, x := range d.Users {
			d.UserNames[x.ID] = x.Username
		}
		return u.adminGrantChoices(r, d)
	})
}

// createUserGroup is POST /admin/user-groups {customer, name, users…}.
func (u *UI) createUserGroup(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "user-group", u.adminUserGroups, "/admin/user-groups", "admin-created", func() error {
		cid, err := adminRequiredID(r, "customer", "user group", "a customer")
		if err != nil {
			return err
		}
		users, err := adminFormIDs(r, "users", "user group")
		if err != nil {
			return err
		}
		_, err = u.core.CreateGroup(r.Context(), service.GroupInput{Customer: &cid, Name: strings.TrimSpace(r.PostFormValue("name")),
			Users: users, Permissions: []string{}, Bundles: []int64{}})
		return err
	})
}

// setUserGroupMembers is POST /admin/user-groups/{id} {users…}: the group's members.
func (u *UI) setUserGroupMembers(w http.ResponseWriter, r *http.Request, id int64) {
	u.adminSubmit(w, r, "user-group-"+strconv.FormatInt(id, 10), u.adminUserGroups, "/admin/user-groups", "saved", func() error {
		users, err := adminFormIDs(r, "users", "user group")
		if err != nil {
			return err
		}
		_, err = u.core.UpdateGroup(r.Context(), id, service.GroupPatch{Users: &users})
		return err
	})
}

// adminBundles is GET /admin/bundles: permission bundles, global and of the customers.
func (u *UI) adminBundles(w http.ResponseWriter, r *http.Request, f *adminForm, status int) {
	u.adminRender(w, r, f, status, "admin_bundles", "Permission bundles", func(s *adminStanding, d *adminData) error {
		p := adminPage(r, adminPageSize)
		bundles, total, err := u.core.ListBundles(r.Context(), nil, p)
		d.Items, d.Pager, d.Perms = bundles, newAdminPager(r, p, total), webnet.Catalog
		return err
	})
}

// createBundle is POST /admin/bundles {customer ("" for global), name, description,
// permissions…}.
func (u *UI) createBundle(w http.ResponseWriter, r *http.Request) {
	u.adminSubmit(w, r, "bundle", u.adminBundles, "/admin/bundles", "admin-created", func() error {
		cid, err := adminFormID(r, "customer", "bundle")
		if err != nil {
			return err
		}
		_, err = u.core.CreateBundle(r.Context(), service.BundleInput{Customer: cid, Name: strings.TrimSpace(r.PostFormValue("name")),
			Description: r.PostFormValue("description"), Permissions: adminFormStrings(r, "permissions")})
		return err
	})
}
