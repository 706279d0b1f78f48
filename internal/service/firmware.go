package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"syscall"

	"webnet/internal/authz"
	"webnet/internal/firmware"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Firmware images (design.md §1, §3). A customer's images are tenant administration: its
// admins (and staff/superusers) upload, change and delete them. Global images are offered to
// every customer and managed by staff and superusers only. Every member of a customer sees
// the customer's images and the global ones: operators pick an image for readiness checks and
// upgrades without administering anything. The files live in the data dir (package
// firmware); the rows, their audit records and the file's publication commit together.

// DefaultFirmwareMaxSize is the largest image accepted unless CoreConfig says otherwise.
const DefaultFirmwareMaxSize int64 = 4 << 30

// Sentences of the firmware refusals.
const (
	deniedGlobalImages   = "Only staff manage global firmware images."
	deniedCustomerImages = "Only the customer's admins manage its firmware images."
)

var (
	// imageFilenameRE: the name the device stores the image under, safe in every device CLI
	// and URL path without quoting.
	imageFilenameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)
	// imageVersionRE: 17.12.03, 4.31.2F, 23.2R1.14, 16.12.04(MD)…
	imageVersionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+()-]{0,63}$`)
	// imageModelRE: C9300-48P, DCS-7050SX3-48YC8, MX204…
	imageModelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
)

// errNoFirmwareStore is the fault of a Core built without a data dir.
var errNoFirmwareStore = errors.New("firmware: the service has no data dir")

// FirmwareUpload is the form of POST /api/firmware-images/ without its file.
type FirmwareUpload struct {
	// Customer is the customer the image is for; Global says the form named none, which
	// makes a global image. Neither (a customer that could not be read) answers BodyErr at
	// once: there is no scope to authorize against.
	Customer *int64
	Global   bool
	Platform string
	Version  string
	Model    string
	Filename string
	Golden   bool
	// ContentLength is the request body's declared length (-1: unknown). A body certainly
	// over the size limit is refused once the caller is authorized, before the file is read.
	ContentLength int64
	// BodyErr is what is wrong with the form, if anything; UploadFirmwareImage reports it
	// after its authorization checks (design.md §3: 404, 403, then 400).
	BodyErr error
}

// FirmwarePatch is the body of PATCH /api/firmware-images/{id}/: only the given fields
// change. The content, platform and version of an image never change: upload another.
type FirmwarePatch struct {
	Golden *bool   `json:"golden"`
	Model  *string `json:"model"`
	// BodyErr is the error of decoding the body, reported after the authorization checks.
	BodyErr error `json:"-"`
}

// FirmwareFilter narrows ListFirmwareImages (?customer=, ?global=, ?platform=, ?golden=).
type FirmwareFilter = store.FirmwareFilter

// FirmwareMaxSize is the largest image UploadFirmwareImage accepts, in bytes (0 without a
// data dir).
func (c *Core) FirmwareMaxSize() int64 {
	if c.firmware == nil {
		return 0
	}
	return c.firmware.MaxSize()
}

// imageFields are an image's audited fields: what it is and its checksums, never its bytes.
func imageFields(f *webnet.FirmwareImage) map[string]any {
	return map[string]any{"customer": f.CustomerID, "platform": f.Platform, "version": f.Version, "model": f.Model,
		"filename": f.Filename, "size": f.Size, "sha256": f.SHA256, "md5": f.MD5, "golden": f.Golden}
}

func imageEntry(action string, f *webnet.FirmwareImage) entry {
	e := entry{action: action, objectType: "firmware_image", objectID: f.ID, repr: f.Filename}
	if f.CustomerID != nil {
		e.customerID = *f.CustomerID
	}
	return e
}

// imageFor loads image id for the caller: not_found when it does not exist or belongs to a
// customer the caller is no member of. With action set (a change), the caller must also
// manage it — staff for a global image, the customer's admins for a customer's — or the
// refusal is forbidden and audited as denied.
func (c *Core) imageFor(ctx context.Context, g *authz.Grants, id int64, action string) (*webnet.FirmwareImage, error) {
	img, err := c.db.Read().FirmwareImageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var refusal error
	switch {
	case !g.Active:
		return nil, notFoundErr("Firmware image")
	case img.CustomerID == nil:
		if !g.Bypass() {
			refusal = forbidden(deniedGlobalImages)
		}
	case !seesCustomer(g, *img.CustomerID):
		return nil, notFoundErr("Firmware image")
	case !g.Admin(*img.CustomerID):
		refusal = forbidden(deniedCustomerImages)
	}
	if refusal == nil || action == "" {
		return img, nil
	}
	return nil, c.denied(ctx, imageEntry(action, img), refusal)
}

// ListFirmwareImages returns a page of the global images and those of the customers the
// caller is a member of (all for staff and superusers), filtered in the query. Any signed-in
// user may call it. Errors: unauthenticated.
func (c *Core) ListFirmwareImages(ctx context.Context, f FirmwareFilter, page webnet.Page) ([]webnet.FirmwareImage, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListFirmwareImages(ctx, g.CustomerFilter("f.customer_id"), f, page)
}

// GetFirmwareImage returns a global image, or an image of a customer the caller is a member
// of. Errors: unauthenticated, not_found.
func (c *Core) GetFirmwareImage(ctx context.Context, id int64) (*webnet.FirmwareImage, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.imageFor(ctx, g, id, "")
}

// authorizeUpload checks that the caller may add images to the scope of in: staff for a
// global image; for a customer's, not_found unless they are a member (or staff), forbidden
// (audited) unless they are its admin.
func (c *Core) authorizeUpload(ctx context.Context, g *authz.Grants, in FirmwareUpload) error {
	e := entry{action: "firmware_image.create", objectType: "firmware_image", repr: in.Filename}
	if in.Global {
		if !g.Bypass() {
			return c.denied(ctx, e, forbidden(deniedGlobalImages))
		}
		return nil
	}
	cid := *in.Customer
	noCustomer := &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
	if !seesCustomer(g, cid) {
		return noCustomer
	}
	if _, err := c.db.Read().CustomerByID(ctx, cid); err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return noCustomer
		}
		return err
	}
	if !g.Admin(cid) {
		e.customerID = cid
		return c.denied(ctx, e, forbidden(deniedCustomerImages))
	}
	return nil
}

// validateUpload checks the form's fields.
func validateUpload(in FirmwareUpload) error {
	f := fieldErrors{}
	if !webnet.ValidPlatform(in.Platform) {
		f.add("platform", "Use one of cisco_iosxe, arista_eos, juniper_junos.")
	}
	if !imageVersionRE.MatchString(in.Version) {
		f.add("version", "Use 1-64 letters, digits and . _ + ( ) -, starting with a letter or digit.")
	}
	checkImageModel(f, in.Model)
	if !imageFilenameRE.MatchString(in.Filename) {
		f.add("filename", "Use 1-200 letters, digits and . _ -, starting with a letter or digit.")
	}
	return f.err("Invalid firmware image.")
}

func checkImageModel(f fieldErrors, model string) {
	if model != "" && !imageModelRE.MatchString(model) {
		f.add("model", "Use 1-64 letters, digits and . _ + -, starting with a letter or digit; empty for every model.")
	}
}

// formOverhead is what a form may add to its file: the other fields, boundaries and headers.
const formOverhead = 64 << 10

// UploadFirmwareImage streams content, the image file, into the repository: the size is
// limited and the SHA-256 and MD5 are computed while it is written to a temporary file in the
// data dir; the file then takes its final name (its SHA-256) and the row, the golden flag's
// move and the audit record commit together. On any failure nothing is left: no file, no
// row. The caller must administer the image's customer, or be staff (or superuser) for a
// global image; both are checked before content is read. Errors: unauthenticated, not_found
// (customer), forbidden, invalid (also in.BodyErr and content's own, after the authorization
// checks), body_too_large, conflict (the same image is already in the scope: the answer names
// it), unavailable (the disk is full).
func (c *Core) UploadFirmwareImage(ctx context.Context, in FirmwareUpload, content io.Reader) (*webnet.FirmwareImage, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil && !in.Global {
		if in.BodyErr != nil {
			return nil, in.BodyErr
		}
		return nil, webnet.Invalid("Invalid firmware image.", map[string]string{"customer": "Must be a customer id, or absent for a global image."})
	}
	if err := c.authorizeUpload(ctx, g, in); err != nil {
		return nil, err
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	if err := validateUpload(in); err != nil {
		return nil, err
	}
	if c.firmware == nil {
		return nil, errNoFirmwareStore
	}
	if max := c.firmware.MaxSize(); in.ContentLength > max+formOverhead {
		return nil, imageTooLarge(max)
	}
	up, err := c.firmware.Receive(ctx, content)
	if err != nil {
		return nil, receiveError(err, c.firmware.MaxSize())
	}
	defer up.Discard()

	now := c.clock.Now()
	img := &webnet.FirmwareImage{CustomerID: in.Customer, Platform: in.Platform, Version: in.Version, Model: in.Model,
		Filename: in.Filename, Size: up.Size, SHA256: up.SHA256, MD5: up.MD5, Golden: in.Golden,
		Path: firmware.Path(up.SHA256), CreatedAt: now, UpdatedAt: now}
	if sub := SubjectFrom(ctx); sub != nil && sub.User != nil {
		id := sub.User.ID
		img.UploadedBy = &id
	}
	err = c.firmware.Publish(up, func() error {
		return c.db.InTx(ctx, func(tx *store.Tx) error {
			switch dup, err := tx.FirmwareImageBySHA256(ctx, img.CustomerID, img.SHA256); {
			case err == nil:
				return duplicateImage(dup)
			case webnet.ErrorCode(err) != webnet.ENotFound:
				return err
			}
			var cleared []int64
			if img.Golden {
				if cleared, err = tx.ClearGolden(ctx, img.CustomerID, img.Platform, img.Model, 0, now); err != nil {
					return err
				}
			}
			if err := tx.CreateFirmwareImage(ctx, img); err != nil {
				return err
			}
			e := imageEntry("firmware_image.create", img)
			e.details = map[string]any{"after": imageFields(img)}
			if len(cleared) > 0 {
				e.details["golden_replaces"] = cleared
			}
			return c.audit(ctx, tx, e)
		})
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// duplicateImage is the conflict of an upload whose content is already image dup of the same
// scope, which the uploader may see (they manage that scope).
func duplicateImage(dup *webnet.FirmwareImage) error {
	return &webnet.Error{Code: webnet.EConflict,
		Message: fmt.Sprintf("This image is already in the repository: image %d (%s, %s %s).", dup.ID, dup.Filename, dup.Platform, dup.Version),
		Extra:   map[string]any{"image": dup.ID}}
}

func imageTooLarge(max int64) error {
	return &webnet.Error{Code: webnet.ETooLarge, Message: fmt.Sprintf("The image is larger than the limit of %s.", sizeString(max)),
		Fields: map[string]string{"file": "Too large."}}
}

// receiveError turns a failed receipt into the caller's error: the store's own limits, a full
// disk, or the reader's error (the HTTP layer's are already webnet errors saying what went
// wrong with the upload).
func receiveError(err error, max int64) error {
	var we *webnet.Error
	switch {
	case errors.Is(err, firmware.ErrTooLarge):
		return imageTooLarge(max)
	case errors.Is(err, firmware.ErrEmpty):
		return webnet.Invalid("Invalid firmware image.", map[string]string{"file": "The file is empty."})
	case errors.Is(err, syscall.ENOSPC):
		return &webnet.Error{Code: webnet.EUnavailable, Message: "There is not enough disk space for this image.", Err: err}
	case errors.As(err, &we), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("receive a firmware image: %w", err)
}

// sizeString writes a byte count the way people set limits: 4 GiB, 512 MiB, 1000 bytes.
func sizeString(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// UpdateFirmwareImage changes an image's golden flag or model (see FirmwarePatch), with its
// audit record in the same transaction. Marking an image golden unmarks the previous golden
// image of its scope, platform and model, in the same transaction. A patch that changes
// nothing writes nothing. The caller must manage the image (see imageFor). Errors:
// unauthenticated, not_found, forbidden, invalid (also p.BodyErr, after the authorization
// checks), conflict (a concurrent change of the same golden flag).
func (c *Core) UpdateFirmwareImage(ctx context.Context, id int64, p FirmwarePatch) (*webnet.FirmwareImage, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.imageFor(ctx, g, id, "firmware_image.update"); err != nil {
		return nil, err
	}
	if p.BodyErr != nil {
		return nil, p.BodyErr
	}
	if p.Model != nil {
		f := fieldErrors{}
		checkImageModel(f, *p.Model)
		if err := f.err("Invalid firmware image."); err != nil {
			return nil, err
		}
	}
	var out *webnet.FirmwareImage
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		// Apply the patch to the row as it is now, not as it was read before the transaction.
		cur, err := tx.FirmwareImageByID(ctx, id)
		if err != nil {
			return err
		}
		next := *cur
		if p.Golden != nil {
			next.Golden = *p.Golden
		}
		if p.Model != nil {
			next.Model = *p.Model
		}
		details := changes(map[string]any{"golden": cur.Golden, "model": cur.Model},
			map[string]any{"golden": next.Golden, "model": next.Model})
		out = cur
		if len(details) == 0 {
			return nil
		}
		next.UpdatedAt = c.clock.Now()
		if next.Golden {
			cleared, err := tx.ClearGolden(ctx, next.CustomerID, next.Platform, next.Model, next.ID, next.UpdatedAt)
			if err != nil {
				return err
			}
			if len(cleared) > 0 {
				details["golden_replaces"] = cleared
			}
		}
		if err := tx.UpdateFirmwareImage(ctx, &next); err != nil {
			return err
		}
		out = &next
		e := imageEntry("firmware_image.update", &next)
		e.details = details
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteFirmwareImage deletes an image that no queued or running readiness or upgrade job
// uses and no schedule names, with its audit record in the same transaction, and then its file unless another
// scope's image has the same content. The caller must manage the image (see imageFor).
// Errors: unauthenticated, not_found, forbidden, conflict (jobs use it: the answer lists them).
func (c *Core) DeleteFirmwareImage(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	img, err := c.imageFor(ctx, g, id, "firmware_image.delete")
	if err != nil {
		return err
	}
	if c.firmware == nil {
		return errNoFirmwareStore
	}
	return c.firmware.Unpublish(img.SHA256, func() (inUse bool, err error) {
		err = c.db.InTx(ctx, func(tx *store.Tx) error {
			jobs, err := tx.JobsUsingImage(ctx, id, img.CustomerID)
			if err != nil {
				return err
			}
			if len(jobs) > 0 {
				return &webnet.Error{Code: webnet.EConflict,
					Message: fmt.Sprintf("The image is used by %d queued or running jobs; wait for them to finish, or cancel them.", len(jobs)),
					Extra:   map[string]any{"jobs": jobs}}
			}
			schedules, err := tx.SchedulesUsingImage(ctx, id, img.CustomerID)
			if err != nil {
				return err
			}
			if len(schedules) > 0 {
				return &webnet.Error{Code: webnet.EConflict,
					Message: fmt.Sprintf("The image is named by %d schedules; change or delete them first.", len(schedules)),
					Extra:   map[string]any{"schedules": schedules}}
			}
			if inUse, err = tx.DeleteFirmwareImage(ctx, id); err != nil {
				return err
			}
			e := imageEntry("firmware_image.delete", img)
			e.details = map[string]any{"before": imageFields(img)}
			return c.audit(ctx, tx, e)
		})
		return inUse, err
	})
}
