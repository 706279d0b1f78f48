package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"webnet/internal/webnet"
)

// Devices fetch images from webnet itself, over HTTP, with no session: the URL carries its
// own authorization, an expiry and an HMAC-SHA256 (keyed from the credential keyring, see
// secret.Keyring.MAC) over the image id, the file name and the expiry. Its form is
//
//	<public URL>/firmware/<id>/<expires>/<signature>/<filename>
//
// with everything in the path: device CLIs (IOS-XE, EOS, Junos) take "?" as a request for
// help, so a query string could not be typed into a copy command. The file name comes last,
// so a device that names its copy after the URL stores it under the image's file name.

// firmwareURLPurpose is the MAC purpose of signed firmware URLs.
const firmwareURLPurpose = "firmware url"

// MaxFirmwareURLTTL is the longest a signed firmware URL may be valid: long enough for a
// rolling upgrade's wait, short enough that a URL copied from a log is soon worthless.
const MaxFirmwareURLTTL = 24 * time.Hour

// parsePublicURL checks the base URL devices reach webnet at.
func parsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("public URL %q: want http(s)://host[:port][/path]", s)
	}
	return u, nil
}

// firmwareURLMessage is what a signature covers. NUL cannot occur in a file name or a number.
func firmwareURLMessage(id int64, filename string, expires int64) []byte {
	return fmt.Appendf(nil, "%d\x00%s\x00%d", id, filename, expires)
}

// FirmwareURL returns a URL from which a device can fetch image id without a session, for
// ttl (at most MaxFirmwareURLTTL), under the public URL the Core was configured with. Only
// the system subject (the worker running an upgrade) may call it. Errors: unauthenticated,
// forbidden (any user), invalid (ttl), not_found, unavailable (no public URL configured).
func (c *Core) FirmwareURL(ctx context.Context, id int64, ttl time.Duration) (string, error) {
	if err := requireSystemSubject(ctx, "sign firmware URLs"); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > MaxFirmwareURLTTL {
		return "", webnet.Errorf(webnet.EInvalid, "A firmware URL lives between 1 s and %s.", MaxFirmwareURLTTL)
	}
	if c.publicURL == nil {
		return "", webnet.Errorf(webnet.EUnavailable, "webnet does not know the address devices reach it at: set WEBNET_PUBLIC_URL.")
	}
	if c.keyring == nil {
		return "", errNoKeyring
	}
	img, err := c.db.Read().FirmwareImageByID(ctx, id)
	if err != nil {
		return "", err
	}
	// Rounded up to the second: a URL is never valid for less than it was asked for.
	expires := c.clock.Now().Add(ttl + time.Second - 1).Unix()
	sig := hex.EncodeToString(c.keyring.MAC(firmwareURLPurpose, firmwareURLMessage(img.ID, img.Filename, expires)))
	u := *c.publicURL
	u.Path += "/firmware/" + strconv.FormatInt(img.ID, 10) + "/" + strconv.FormatInt(expires, 10) + "/" + sig + "/" + img.Filename
	return u.String(), nil
}

// FirmwareFile is an image opened for a device; the caller closes File.
type FirmwareFile struct {
	Image *webnet.FirmwareImage
	File  *os.File
}

// OpenFirmwareImage checks the parts of a signed firmware URL and opens the image for
// reading. The signature is the authorization: no subject is needed. It is checked before
// anything is looked up, so a URL that was not signed learns nothing, not even whether the
// image exists. Errors: forbidden (malformed, tampered or expired), not_found (the image was
// deleted since), internal.
func (c *Core) OpenFirmwareImage(ctx context.Context, id int64, filename, expires, signature string) (*FirmwareFile, error) {
	bad := forbidden("This firmware URL is not valid.")
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return nil, bad
	}
	sig, err := hex.DecodeString(signature)
	if err != nil || c.keyring == nil || !c.keyring.CheckMAC(firmwareURLPurpose, firmwareURLMessage(id, filename, exp), sig) {
		return nil, bad
	}
	if c.clock.Now().Unix() > exp {
		return nil, forbidden("This firmware URL has expired; ask for a new one.")
	}
	img, err := c.db.Read().FirmwareImageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if img.Filename != filename {
		return nil, notFoundErr("Firmware image") // unreachable while file names cannot change
	}
	if c.firmware == nil {
		return nil, errNoFirmwareStore
	}
	f, err := c.firmware.Open(img.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("firmware image %d: its file is missing: %w", img.ID, err)
		}
		return nil, err
	}
	return &FirmwareFile{Image: img, File: f}, nil
}
