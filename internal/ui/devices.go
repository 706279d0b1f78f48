package ui

import "net/http"

// registerDevices adds the device list, device detail and upgrade wizard.
func (u *UI) registerDevices(mux *http.ServeMux) {}
