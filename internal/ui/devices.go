package ui

import "net/http"

// registerDevices adds the device list, its floating action bar and bulk actions.
func (u *UI) registerDevices(mux *http.ServeMux) {}
