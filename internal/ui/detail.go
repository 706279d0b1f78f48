package ui

import "net/http"

// registerDetail adds the device detail page and the upgrade wizard.
func (u *UI) registerDetail(mux *http.ServeMux) {}
