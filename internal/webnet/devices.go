package webnet

import "time"

// DeviceGroup organises a customer's devices for RBAC.
type DeviceGroup struct {
	ID          int64     `json:"id"`
	CustomerID  int64     `json:"customer"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// DeviceGroupRole is a named set of group-scoped permissions on one device group.
type DeviceGroupRole struct {
	ID            int64     `json:"id"`
	DeviceGroupID int64     `json:"device_group"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	Permissions   PermSet   `json:"-"`
	CreatedAt     time.Time `json:"created_at"`
}

// Platforms are the device platforms webnet drives.
var Platforms = []string{"cisco_iosxe", "arista_eos", "juniper_junos"}

// ValidPlatform reports whether p is a known platform.
func ValidPlatform(p string) bool {
	for _, x := range Platforms {
		if x == p {
			return true
		}
	}
	return false
}

// Device is a network device of one customer.
type Device struct {
	ID            int64      `json:"id"`
	CustomerID    int64      `json:"customer"`
	DeviceGroupID *int64     `json:"device_group"`
	Name          string     `json:"name"`
	Address       string     `json:"address"`
	Port          int        `json:"port"`
	Platform      string     `json:"platform"`
	CredentialID  *int64     `json:"credential"`
	Enabled       bool       `json:"enabled"`
	Vendor        string     `json:"vendor"`
	Model         string     `json:"model"`
	Serial        string     `json:"serial"`
	OSVersion     string     `json:"os_version"`
	Uptime        string     `json:"uptime"`
	LastSyncAt    *time.Time `json:"last_sync_at"`
	LastBackupAt  *time.Time `json:"last_backup_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// GroupID returns the device group id, 0 for an ungrouped device.
func (d *Device) GroupID() int64 {
	if d.DeviceGroupID == nil {
		return 0
	}
	return *d.DeviceGroupID
}

// DeviceQuery holds the list filters of GET /api/devices/.
type DeviceQuery struct {
	CustomerID    *int64
	DeviceGroupID *int64
	Ungrouped     bool
	Platform      string
	Enabled       *bool
	OSVersion     string
	Search        string // matches name or address (case-insensitive substring)
}

// DeviceFacts are what a sync learns about a device.
type DeviceFacts struct {
	Vendor, Model, Serial, OSVersion, Uptime string
}
