package ui

import "net/http"

// registerAdmin adds device groups, the audit log and the admin pages.
func (u *UI) registerAdmin(mux *http.ServeMux) {}
