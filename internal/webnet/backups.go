package webnet

import "time"

// Backup is one version of a device's configuration.
type Backup struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer"`
	DeviceID   int64     `json:"device"`
	JobID      *int64    `json:"job"`
	TakenAt    time.Time `json:"taken_at"`
	SHA256     string    `json:"sha256"`
	Size       int       `json:"size"`
	// Changed is true when the configuration differs from the device's previous version
	// (beyond noise); a device's first backup is a change from nothing.
	Changed bool `json:"changed"`
	// MaskedSHA256 identifies the configuration with its noise masked.
	MaskedSHA256 string `json:"-"`
}

// Retention says which of a device's backups to keep: a version is kept while it is one of
// the newest Keep, or younger than KeepFor. The newest version is always kept. Zero values
// keep everything of that kind (Keep 0 and KeepFor 0: keep all).
type Retention struct {
	Keep    int
	KeepFor time.Duration
}
