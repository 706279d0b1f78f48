package ui

import "net/http"

// registerDashboard adds the dashboard (/).
func (u *UI) registerDashboard(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", authed(u.dashboard))
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request) {
	me, err := u.id.Me(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderNav(w, r, http.StatusOK, "dashboard", "Dashboard · webnet", "dashboard", me)
}
