package webnet

import "time"

// FirmwareImage is a software image devices can be upgraded to. A customer's image belongs
// to that customer; a global image (CustomerID nil) is managed by staff and offered to every
// customer. The file itself lives in the data dir, named by its SHA-256.
type FirmwareImage struct {
	ID         int64  `json:"id"`
	CustomerID *int64 `json:"customer"`
	Platform   string `json:"platform"`
	Version    string `json:"version"`
	// Model narrows the image to one hardware model of the platform; "" is every model.
	Model string `json:"model"`
	// Filename is the name the device stores the image under.
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	MD5      string `json:"md5"`
	// Golden marks the image to upgrade to: at most one per scope (the customer, or global),
	// platform and model.
	Golden     bool      `json:"golden"`
	UploadedBy *int64    `json:"uploaded_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Path is where the file is, relative to the data dir.
	Path string `json:"-"`
}
