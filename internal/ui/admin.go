package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// This file holds what the tenant-administration pages share: their routes, the form
// plumbing (a refused form is shown again with the service's words next to its fields) and
// the caller's administrative scope. The pages themselves are in admin_groups.go (device
// groups and the access explainer), admin_audit.go (the audit log) and admin_*.go (the
// admin section).

func init() {
	funcs["adminErr"] = func(f *adminForm, form, field string) string {
		if f == nil || f.Name != form {
			return ""
		}
		return f.Fields[field]
	}
	funcs["adminMsg"] = func(f *adminForm, form string) string {
		if f == nil || f.Name != form {
			return ""
		}
		return f.Message
	}
	funcs["adminVal"] = func(f *adminForm, form, field string) string {
		if f == nil || f.Name != form {
			return ""
		}
		return f.Values.Get(field)
	}
	funcs["adminHas"] = func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	funcs["adminHasID"] = func(list []int64, id int64) bool {
		for _, x := range list {
			if x == id {
				return true
			}
		}
		return false
	}
	funcs["adminDeref"] = adminID
}

// registerAdmin adds device groups, the audit log and the admin pages.
func (u *UI) registerAdmin(mux *http.ServeMux) {
	u.registerGroups(mux)
	mux.HandleFunc("GET /audit", authed(u.audit))
	mux.HandleFunc("GET /admin", authed(u.adminIndex))
	u.registerAdminUsers(mux)
	u.registerAdminTenancy(mux)
	u.registerAdminOps(mux)
	u.registerAdminEdits(mux)
}

// adminForm is a form the service refused: which form (several share a page), its message,
// the reason per field, and what was typed (secrets are never kept).
type adminForm struct {
	Name    string
	Message string
	Fields  map[string]string
	Values  url.Values
}

// adminSecretFields are form fields never rendered back.
var adminSecretFields = []string{"password", "enable_secret", "private_key"}

// adminFormError returns the error as a form error with its status when it is the user's to fix
// (invalid input, a conflict, a reference that is not found by a field), else nil.
func adminFormError(name string, r *http.Request, err error) (*adminForm, int) {
	var e *webnet.Error
	if !errors.As(err, &e) {
		return nil, 0
	}
	status := 0
	switch e.Code {
	case webnet.EInvalid:
		status = http.StatusBadRequest
	case webnet.EConflict:
		status = http.StatusConflict
	case webnet.ETooLarge:
		status = http.StatusRequestEntityTooLarge
	case webnet.ENotFound:
		if len(e.Fields) == 0 {
			return nil, 0
		}
		status = http.StatusNotFound
	default:
		return nil, 0
	}
	values := url.Values{}
	for k, v := range r.PostForm {
		values[k] = v
	}
	for _, s := range adminSecretFields {
		values.Del(s)
	}
	return &adminForm{Name: name, Message: e.Message, Fields: e.Fields, Values: values}, status
}

// adminPageFunc renders a page, with a refused form when there is one.
type adminPageFunc func(w http.ResponseWriter, r *http.Request, f *adminForm, status int)

// maxAdminForm bounds an urlencoded admin form.
const maxAdminForm = 64 << 10

// adminSubmit runs a form post: it parses the form, runs do, and on success redirects to target
// with notice n; a refusal the user can fix shows page again with the reasons, any other
// error is an error page.
func (u *UI) adminSubmit(w http.ResponseWriter, r *http.Request, form string, page adminPageFunc, target, n string, do func() error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAdminForm)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, webnet.Errorf(webnet.EInvalid, "The form could not be read."))
		return
	}
	if err := do(); err != nil {
		if f, status := adminFormError(form, r, err); f != nil {
			page(w, r, f, status)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, target, n)
}

// adminFormID reads an optional id field: nil when empty, invalid (naming the field) when not
// a positive number.
func adminFormID(r *http.Request, field, label string) (*int64, error) {
	v := strings.TrimSpace(r.FormValue(field))
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, webnet.Invalid("Invalid "+label+".", map[string]string{field: "Choose one from the list."})
	}
	return &id, nil
}

// adminRequiredID reads a required id field.
func adminRequiredID(r *http.Request, field, label, what string) (int64, error) {
	id, err := adminFormID(r, field, label)
	if err != nil {
		return 0, err
	}
	if id == nil {
		return 0, webnet.Invalid("Invalid "+label+".", map[string]string{field: "Choose " + what + "."})
	}
	return *id, nil
}

// adminFormIDs reads a multi-valued id field (checkboxes).
func adminFormIDs(r *http.Request, field, label string) ([]int64, error) {
	out := []int64{}
	for _, v := range r.PostForm[field] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, webnet.Invalid("Invalid "+label+".", map[string]string{field: "Choose from the list."})
		}
		out = append(out, id)
	}
	return out, nil
}

// adminFormStrings reads a multi-valued text field, never nil.
func adminFormStrings(r *http.Request, field string) []string {
	out := []string{}
	return append(out, r.PostForm[field]...)
}

// adminPathID reads the {id} of the route as a not-found when it is not an id.
func adminPathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, webnet.Errorf(webnet.ENotFound, "Not found.")
	}
	return id, nil
}

// withID wraps a signed-in page handler of a route with {id}: a path that names no id is
// not found.
func (u *UI) withID(h func(http.ResponseWriter, *http.Request, int64)) http.HandlerFunc {
	return authed(func(w http.ResponseWriter, r *http.Request) {
		id, err := adminPathID(r, "id")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		h(w, r, id)
	})
}

// adminStanding is what the caller may administer, as the services answer it: the customers they
// see, the ones they administer (every customer for staff and superusers) and their names.
type adminStanding struct {
	Me *service.Me
	// Bypass: staff or superuser (they administer every customer and global objects).
	Bypass bool
	// Customers are the customers the caller sees; Admin those they administer.
	Customers, Admin []webnet.Customer
	names            map[int64]string
	admin            map[int64]bool
}

// adminStandingAndUsers loads the caller's standing and the users they see (to choose from).
func (u *UI) adminStandingAndUsers(r *http.Request) (*adminStanding, []webnet.User, error) {
	s, err := u.adminStandingOf(r)
	if err != nil {
		return nil, nil, err
	}
	users, _, err := u.core.ListUsers(r.Context(), service.UserFilter{}, webnet.Page{Limit: webnet.MaxLimit})
	return s, users, err
}

// adminStandingOf loads the caller's scope.
func (u *UI) adminStandingOf(r *http.Request) (*adminStanding, error) {
	me, err := u.id.Me(r.Context())
	if err != nil {
		return nil, err
	}
	cs, _, err := u.core.ListCustomers(r.Context(), webnet.Page{Limit: webnet.MaxLimit})
	if err != nil {
		return nil, err
	}
	s := &adminStanding{Me: me, Bypass: me.IsStaff || me.IsSuperuser, Customers: cs, names: map[int64]string{}, admin: map[int64]bool{}}
	for _, m := range me.Memberships {
		if m.Role == webnet.RoleAdmin {
			s.admin[m.CustomerID] = true
		}
	}
	for _, c := range cs {
		s.names[c.ID] = c.Name
		if s.Bypass || s.admin[c.ID] {
			s.admin[c.ID] = true
			s.Admin = append(s.Admin, c)
		}
	}
	return s, nil
}

// Name is a customer's name ("global" for none).
func (s *adminStanding) Name(id *int64) string {
	if id == nil {
		return "global"
	}
	if n, ok := s.names[*id]; ok {
		return n
	}
	return "#" + strconv.FormatInt(*id, 10)
}

// CustomerName is Name of a plain id.
func (s *adminStanding) CustomerName(id int64) string { return s.Name(&id) }

// Admins reports whether the caller administers customer id.
func (s *adminStanding) Admins(id int64) bool { return s.admin[id] }

// errNotAdmin is the admin section's answer to a user who administers nothing.
var errNotAdmin = webnet.Errorf(webnet.EForbidden, "Only customer admins and staff may use the admin pages.")

// adminScope loads the scope of an admin page: forbidden for a caller who administers no
// customer, as the API forbids them every administrative change.
func (u *UI) adminScope(r *http.Request) (*adminStanding, error) {
	s, err := u.adminStandingOf(r)
	if err != nil {
		return nil, err
	}
	if !s.Bypass && len(s.Admin) == 0 {
		return nil, errNotAdmin
	}
	return s, nil
}

// adminPager is a list page's position, for the previous and next links.
type adminPager struct {
	Offset, Limit, Total int
	// Path and Query are the page's path and query (its offset is replaced).
	Path  string
	Query url.Values
}

// newAdminPager is the pager of a list page of r.
func newAdminPager(r *http.Request, p webnet.Page, total int) adminPager {
	return adminPager{Offset: p.Offset, Limit: p.Limit, Total: total, Path: r.URL.Path, Query: r.URL.Query()}
}

// HasPrev reports whether there is a page before this one.
func (p adminPager) HasPrev() bool { return p.Offset > 0 }

// HasNext reports whether there is a page after this one.
func (p adminPager) HasNext() bool { return p.Offset+p.Limit < p.Total }

// PrevURL is the previous page's address.
func (p adminPager) PrevURL() string { return p.at(max(0, p.Offset-p.Limit)) }

// NextURL is the next page's address.
func (p adminPager) NextURL() string { return p.at(p.Offset + p.Limit) }

func (p adminPager) at(offset int) string {
	q := url.Values{}
	for k, v := range p.Query {
		if k != "notice" {
			q[k] = v
		}
	}
	q.Set("offset", strconv.Itoa(offset))
	return p.Path + "?" + q.Encode()
}

// adminPage reads ?offset= (the limit is the page's own); a bad offset is the first page.
func adminPage(r *http.Request, limit int) webnet.Page {
	off, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || off < 0 {
		off = 0
	}
	return webnet.Page{Limit: limit, Offset: off}
}

// adminConfirm is the confirmation page of a deletion.
type adminConfirm struct {
	What, Detail, Action, Back string
}

// adminConfirmPage asks before a deletion: the form posts to action; without JavaScript this page is
// the confirmation.
func (u *UI) adminConfirmPage(w http.ResponseWriter, r *http.Request, nav string, d adminConfirm) {
	u.renderNav(w, r, http.StatusOK, "admin_confirm", "Delete "+d.What+"? · webnet", nav, d)
}

// adminIndex is GET /admin: the admin section's entry.
func (u *UI) adminIndex(w http.ResponseWriter, r *http.Request) {
	s, err := u.adminScope(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, http.StatusOK, "admin", "Admin · webnet", "admin", s)
}
