package ui

import "net/http"

func (u *UI) registerAdminUsers(mux *http.ServeMux)   {}
func (u *UI) registerAdminTenancy(mux *http.ServeMux) {}
func (u *UI) registerAdminOps(mux *http.ServeMux)     {}
