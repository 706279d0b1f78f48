package webnet

// DeviceHealth counts the devices a user may view by how recently they were synced and
// backed up, and by their latest readiness.
type DeviceHealth struct {
	Devices int `json:"devices"`
	// Sync and Backup count devices never done, done within the hour, within 24 hours, and
	// longer ago, in that order.
	Sync   [4]int `json:"sync"`
	Backup [4]int `json:"backup"`
	// Readiness counts the latest readiness: pass, warn, fail, skip, never checked.
	Readiness [5]int `json:"readiness"`
}
