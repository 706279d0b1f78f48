package httpapi

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerFirmware adds /api/firmware-images/ and the signed download route devices use.
func (a *API) registerFirmware(mux *http.ServeMux) {
	a.handle(mux, "GET /api/firmware-images/", signedIn, a.listFirmwareImages)
	a.handle(mux, "POST /api/firmware-images/", signedIn, a.uploadFirmwareImage)
	a.handle(mux, "GET /api/firmware-images/{id}/", signedIn, a.getFirmwareImage)
	a.handle(mux, "PATCH /api/firmware-images/{id}/", signedIn, a.updateFirmwareImage)
	a.handle(mux, "DELETE /api/firmware-images/{id}/", signedIn, a.deleteFirmwareImage)
	// Public: the URL's signature is the authorization (service.OpenFirmwareImage).
	a.handle(mux, "GET /firmware/{id}/{expires}/{signature}/{filename}", public, a.downloadFirmwareImage)
}

// listFirmwareImages is GET /api/firmware-images/?customer=&global=&platform=&golden=.
func (a *API) listFirmwareImages(w http.ResponseWriter, r *http.Request) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var f service.FirmwareFilter
	bad := map[string]string{}
	if v := q.Get("customer"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			bad["customer"] = "Must be a positive id."
		}
		f.CustomerID = &id
	}
	for name, dst := range map[string]**bool{"global": &f.Global, "golden": &f.Golden} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad[name] = "Must be true or false."
			}
			*dst = &b
		}
	}
	f.Platform = q.Get("platform")
	if len(bad) > 0 {
		return webnet.Invalid("Invalid filter.", bad)
	}
	images, total, err := a.core.ListFirmwareImages(r.Context(), f, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(r, p, total, images))
	return nil
}

func (a *API) getFirmwareImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	img, err := a.core.GetFirmwareImage(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, img)
	return nil
}

// updateFirmwareImage is PATCH /api/firmware-images/{id}/ (golden, model). Any body error
// goes to the service, which reports it only after the visibility and permission checks.
func (a *API) updateFirmwareImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var p service.FirmwarePatch
	if err := decode(w, r, a.maxBody, &p); err != nil {
		p = service.FirmwarePatch{BodyErr: err}
	}
	img, err := a.core.UpdateFirmwareImage(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, img)
	return nil
}

func (a *API) deleteFirmwareImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.core.DeleteFirmwareImage(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// uploadFirmwareImage is POST /api/firmware-images/: multipart/form-data with the fields
// platform, version, filename (default: the file's own name), model, golden and customer
// (absent: a global image), then the part "file", last. The fields are read first (a few
// KiB); the service authorizes the caller on them before a byte of the file is read, then
// streams the file to disk.
func (a *API) uploadFirmwareImage(w http.ResponseWriter, r *http.Request) error {
	// Uploads take as long as the link needs: the server's whole-request read timeout gives
	// way to an idle one, renewed as the body arrives (uploadBody).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(a.uploadIdle)) // not supported by every writer: then the server's timeout stays
	r.Body = http.MaxBytesReader(w, r.Body, a.core.FirmwareMaxSize()+maxFormFields*maxFormField+formSlack)
	in, file := readUploadForm(r)
	in.ContentLength = r.ContentLength
	var content io.Reader
	if file != nil {
		content = &uploadBody{part: file.part, form: file.form, rc: rc, idle: a.uploadIdle}
	}
	img, err := a.core.UploadFirmwareImage(r.Context(), in, content)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, img)
	return nil
}

// Bounds of an upload form besides its file.
const (
	maxFormFields = 16        // parts before the file
	maxFormField  = 1 << 10   // bytes of one field's value
	formSlack     = 1 << 20   // boundaries and part headers
	formBuffer    = 256 << 10 // the body's buffer, under the form's own 4 KiB one
	// defaultUploadIdle is how long an upload may send nothing before it is cut off.
	defaultUploadIdle = time.Minute
)

// uploadFields are the text fields an upload form may have.
var uploadFields = map[string]bool{"customer": true, "platform": true, "version": true, "model": true, "filename": true, "golden": true}

// filePart is the form's file part, with the rest of the form after it.
type filePart struct {
	part *multipart.Part
	form *multipart.Reader
}

// readUploadForm reads the fields of an upload form up to its file part. What is wrong with
// the form goes into in.BodyErr, for the service to report after its authorization checks;
// reading stops at the first malformed part, the file or the end.
func readUploadForm(r *http.Request) (service.FirmwareUpload, *filePart) {
	var in service.FirmwareUpload
	fail := func(err error) {
		if in.BodyErr == nil {
			in.BodyErr = err
		}
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		in.BodyErr = webnet.Errorf(webnet.EUnsupported, "Request body must be multipart/form-data, the image in the part \"file\".")
		return in, nil
	}
	// A large buffer under the form's own small one: the body is then read from the
	// connection a quarter MiB per system call, not 4 KiB.
	form := multipart.NewReader(bufio.NewReaderSize(r.Body, formBuffer), params["boundary"])
	values := map[string]string{}
	var file *filePart
	// whole says the fields were read to the file or the form's end: only then does an
	// absent customer mean a global image rather than one that could not be read.
	whole := false
	for n := 0; ; n++ {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			whole = true
			break
		}
		if err != nil {
			fail(formError(err))
			break
		}
		name := part.FormName()
		if name == "file" {
			file, whole = &filePart{part: part, form: form}, true
			break
		}
		if n >= maxFormFields {
			fail(webnet.Errorf(webnet.EInvalid, "The form has too many fields before the file."))
			break
		}
		if !uploadFields[name] {
			// Go on: the customer may come later, and the answer depends on it.
			fail(errUnknownField(name))
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		if err != nil {
			fail(formError(err))
			break
		}
		if len(v) > maxFormField {
			fail(webnet.Invalid("Invalid firmware image.", map[string]string{name: "Too long."}))
		}
		if _, twice := values[name]; twice {
			fail(webnet.Invalid("Invalid firmware image.", map[string]string{name: "Given twice."}))
			continue
		}
		// Kept even when refused: a customer that is there but unreadable must not be
		// taken for an absent one (a global image).
		values[name] = string(v)
	}
	in.Platform, in.Version, in.Model = values["platform"], values["version"], values["model"]
	if v, ok := values["customer"]; ok {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			in.Customer = &id
		} else {
			fail(webnet.Invalid("Invalid firmware image.", map[string]string{"customer": "Must be a customer id, or absent for a global image."}))
		}
	} else {
		in.Global = whole
	}
	if v, ok := values["golden"]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			in.Golden = b
		} else {
			fail(webnet.Invalid("Invalid firmware image.", map[string]string{"golden": "Must be true or false."}))
		}
	}
	in.Filename = values["filename"]
	if _, ok := values["filename"]; !ok && file != nil {
		in.Filename = file.part.FileName()
	}
	if file == nil {
		fail(webnet.Invalid("Invalid firmware image.", map[string]string{"file": "This field is required: the image, as the last part of the form."}))
	}
	return in, file
}

// formError describes a failure to read the form: too large, stalled, or cut short.
func formError(err error) error {
	var maxErr *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &maxErr):
		return webnet.Errorf(webnet.ETooLarge, "Request body too large.")
	case errors.As(err, &ne) && ne.Timeout():
		return &webnet.Error{Code: webnet.EInvalid, Message: "The upload stalled: nothing arrived for too long.", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &webnet.Error{Code: webnet.EInvalid, Message: "The upload ended before the form did.", Err: err}
	}
	return &webnet.Error{Code: webnet.EInvalid, Message: "Malformed multipart/form-data body.", Err: err}
}

// uploadBody is the file part as the service reads it. It renews the read deadline as bytes
// arrive, and at the file's end checks that the form ends there too: a field after the file
// would come too late to be authorized or validated.
type uploadBody struct {
	part    *multipart.Part
	form    *multipart.Reader
	rc      *http.ResponseController
	idle    time.Duration
	renewed time.Time
	reads   int
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.part.Read(p)
	// Renewed a few times per idle period, at most once a second: a deadline is a system
	// call. A part yields 4 KiB a read, so the clock is read only every 32nd (128 KiB at
	// full speed; a link that yields fewer reads per idle period has all but stalled).
	if b.reads++; n > 0 && b.reads%32 == 1 {
		if now := time.Now(); now.Sub(b.renewed) > min(time.Second, b.idle/4) {
			_ = b.rc.SetReadDeadline(now.Add(b.idle))
			b.renewed = now
		}
	}
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF):
		next, err := b.form.NextPart()
		if errors.Is(err, io.EOF) {
			return n, io.EOF
		}
		if err != nil {
			return n, formError(err)
		}
		return n, webnet.Invalid("Invalid firmware image.", map[string]string{next.FormName(): "Send the fields before the file: it must be the last part of the form."})
	}
	return n, formError(err)
}

// downloadFirmwareImage is GET /firmware/{id}/{expires}/{signature}/{filename}: an image for
// a device, by a signed URL from service.FirmwareURL. Range requests let a device resume.
func (a *API) downloadFirmwareImage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := a.core.OpenFirmwareImage(r.Context(), id, r.PathValue("filename"), r.PathValue("expires"), r.PathValue("signature"))
	if err != nil {
		return err
	}
	defer f.File.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "private, no-cache")
	// The ETag makes If-Range work, so a resumed transfer is known to be of the same bytes.
	h.Set("ETag", `"`+f.Image.SHA256+`"`)
	if sum, err := hex.DecodeString(f.Image.SHA256); err == nil {
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":") // RFC 9530
	}
	http.ServeContent(w, r, f.Image.Filename, f.Image.CreatedAt, f.File)
	return nil
}
