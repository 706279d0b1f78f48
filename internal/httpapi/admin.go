package httpapi

import (
	"net/http"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerAdmin adds the tenant-administration routes: customers, users, memberships, auth
// groups, the permission catalog and permission bundles (design.md §3).
func (a *API) registerAdmin(mux *http.ServeMux) {
	a.handle(mux, "GET /api/customers/", signedIn, a.listCustomers)
	a.handle(mux, "POST /api/customers/", signedIn, a.createCustomer)
	a.handle(mux, "GET /api/customers/{id}/", signedIn, a.getCustomer)
	a.handle(mux, "PATCH /api/customers/{id}/", signedIn, a.updateCustomer)

	a.handle(mux, "GET /api/users/", signedIn, a.listUsers)
	a.handle(mux, "POST /api/users/", signedIn, a.createUser)
	a.handle(mux, "GET /api/users/{id}/", signedIn, a.getUser)
	a.handle(mux, "PATCH /api/users/{id}/", signedIn, a.updateUser)

	a.handle(mux, "GET /api/memberships/", signedIn, a.listMemberships)
	a.handle(mux, "POST /api/memberships/", signedIn, a.createMembership)
	a.handle(mux, "GET /api/memberships/{id}/", signedIn, a.getMembership)
	a.handle(mux, "PATCH /api/memberships/{id}/", signedIn, a.updateMembership)
	a.handle(mux, "DELETE /api/memberships/{id}/", signedIn, a.deleteMembership)

	a.handle(mux, "GET /api/groups/", signedIn, a.listGroups)
	a.handle(mux, "POST /api/groups/", signedIn, a.createGroup)
	a.handle(mux, "GET /api/groups/{id}/", signedIn, a.getGroup)
	a.handle(mux, "PATCH /api/groups/{id}/", signedIn, a.updateGroup)
	a.handle(mux, "DELETE /api/groups/{id}/", signedIn, a.deleteGroup)

	a.handle(mux, "GET /api/permissions/", signedIn, a.listPermissions)
	a.handle(mux, "GET /api/device-group-permissions/", signedIn, a.listDeviceGroupPermissions)

	a.handle(mux, "GET /api/permission-bundles/", signedIn, a.listBundles)
	a.handle(mux, "POST /api/permission-bundles/", signedIn, a.createBundle)
	a.handle(mux, "GET /api/permission-bundles/{id}/", signedIn, a.getBundle)
	a.handle(mux, "PATCH /api/permission-bundles/{id}/", signedIn, a.updateBundle)
	a.handle(mux, "DELETE /api/permission-bundles/{id}/", signedIn, a.deleteBundle)
}

// pageAndID reads the page and an optional id filter.
func pageAndID(r *http.Request, name string) (webnet.Page, *int64, error) {
	p, err := pageOf(r)
	if err != nil {
		return p, nil, err
	}
	id, err := queryID(r, name)
	return p, id, err
}

// reply writes v with status, or returns err for the error adapter.
func reply(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

// replyNoContent answers 204, or returns err for the error adapter.
func replyNoContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := a.core.ListCustomers(r.Context(), p)
	return reply(w, http.StatusOK, newList(r, p, total, items), err)
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := a.core.GetCustomer(r.Context(), id)
	return reply(w, http.StatusOK, c, err)
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var body service.CustomerInput
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	c, err := a.core.CreateCustomer(r.Context(), body)
	return reply(w, http.StatusCreated, c, err)
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body service.CustomerPatch
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	c, err := a.core.UpdateCustomer(r.Context(), id, body)
	return reply(w, http.StatusOK, c, err)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, customer, err := pageAndID(r, "customer")
	if err != nil {
		return err
	}
	items, total, err := a.core.ListUsers(r.Context(), service.UserFilter{CustomerID: customer}, p)
	return reply(w, http.StatusOK, newList(r, p, total, items), err)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := a.core.GetUser(r.Context(), id)
	return reply(w, http.StatusOK, u, err)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var body service.UserInput
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	u, err := a.core.CreateUser(r.Context(), body)
	return reply(w, http.StatusCreated, u, err)
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body service.UserPatch
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	u, err := a.core.UpdateUser(r.Context(), id, body)
	return reply(w, http.StatusOK, u, err)
}

func (a *API) listMemberships(w http.ResponseWriter, r *http.Request) error {
	p, customer, err := pageAndID(r, "customer")
	if err != nil {
		return err
	}
	user, err := queryID(r, "user")
	if err != nil {
		return err
	}
	items, total, err := a.core.ListMemberships(r.Context(), service.MembershipFilter{CustomerID: customer, UserID: user}, p)
	return reply(w, http.StatusOK, newList(r, p, total, items), err)
}

func (a *API) getMembership(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := a.core.GetMembership(r.Context(), id)
	return reply(w, http.StatusOK, m, err)
}

func (a *API) createMembership(w http.ResponseWriter, r *http.Request) error {
	var body service.MembershipInput
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	m, err := a.core.CreateMembership(r.Context(), body)
	return reply(w, http.StatusCreated, m, err)
}

func (a *API) updateMembership(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body service.MembershipPatch
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	m, err := a.core.UpdateMembership(r.Context(), id, body)
	return reply(w, http.StatusOK, m, err)
}

func (a *API) deleteMembership(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return replyNoContent(w, a.core.DeleteMembership(r.Context(), id))
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	p, customer, err := pageAndID(r, "customer")
	if err != nil {
		return err
	}
	items, total, err := a.core.ListGroups(r.Context(), customer, p)
	return reply(w, http.StatusOK, newList(r, p, total, items), err)
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := a.core.GetGroup(r.Context(), id)
	return reply(w, http.StatusOK, g, err)
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var body service.GroupInput
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	g, err := a.core.CreateGroup(r.Context(), body)
	return reply(w, http.StatusCreated, g, err)
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body service.GroupPatch
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	g, err := a.core.UpdateGroup(r.Context(), id, body)
	return reply(w, http.StatusOK, g, err)
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return replyNoContent(w, a.core.DeleteGroup(r.Context(), id))
}

// listPermissions is GET /api/permissions/: a plain array, the catalog is small and fixed.
func (a *API) listPermissions(w http.ResponseWriter, r *http.Request) error {
	perms, err := a.core.Permissions(r.Context())
	return reply(w, http.StatusOK, perms, err)
}

// listDeviceGroupPermissions is GET /api/device-group-permissions/: a plain array.
func (a *API) listDeviceGroupPermissions(w http.ResponseWriter, r *http.Request) error {
	perms, err := a.core.DeviceGroupPermissions(r.Context())
	return reply(w, http.StatusOK, perms, err)
}

func (a *API) listBundles(w http.ResponseWriter, r *http.Request) error {
	p, customer, err := pageAndID(r, "customer")
	if err != nil {
		return err
	}
	items, total, err := a.core.ListBundles(r.Context(), customer, p)
	return reply(w, http.StatusOK, newList(r, p, total, items), err)
}

func (a *API) getBundle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := a.core.GetBundle(r.Context(), id)
	return reply(w, http.StatusOK, b, err)
}

func (a *API) createBundle(w http.ResponseWriter, r *http.Request) error {
	var body service.BundleInput
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	b, err := a.core.CreateBundle(r.Context(), body)
	return reply(w, http.StatusCreated, b, err)
}

func (a *API) updateBundle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body service.BundlePatch
	if err := decode(w, r, a.maxBody, &body); err != nil {
		return err
	}
	b, err := a.core.UpdateBundle(r.Context(), id, body)
	return reply(w, http.StatusOK, b, err)
}

func (a *API) deleteBundle(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return replyNoContent(w, a.core.DeleteBundle(r.Context(), id))
}
