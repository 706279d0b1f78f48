package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// maxImportBody caps an import file: 10,000 devices of about a hundred bytes each, and room.
const maxImportBody = 10 << 20

func (a *API) registerImports(mux *http.ServeMux) {
	a.handle(mux, "POST /api/devices/import/", signedIn, a.importDevices)
}

// importDevices is POST /api/devices/import/?customer=ID[&dry_run=true] with a CSV
// (text/csv) or JSON (application/json) body; see service.ImportDevices.
func (a *API) importDevices(w http.ResponseWriter, r *http.Request) error {
	customer, err := queryID(r, "customer")
	if err != nil {
		return err
	}
	if customer == nil {
		return webnet.Invalid("Invalid request.", map[string]string{"customer": "Give the customer to import into: ?customer=ID."})
	}
	dryRun, err := boolQuery(r, "dry_run")
	if err != nil {
		return err
	}
	req := service.ImportRequest{Customer: *customer, DryRun: dryRun}
	req.Rows, req.BodyErr = readImport(w, r)
	if webnet.ErrorCode(req.BodyErr) == webnet.ETooLarge || webnet.ErrorCode(req.BodyErr) == webnet.EUnsupported {
		return req.BodyErr
	}
	res, err := a.core.ImportDevices(r.Context(), req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
	return nil
}

// readImport reads the body as CSV or JSON by its Content-Type.
func readImport(w http.ResponseWriter, r *http.Request) ([]service.ImportRow, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, webnet.Errorf(webnet.EUnsupported, "Send the devices as text/csv or application/json.")
	}
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	data, err := io.ReadAll(body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, webnet.Errorf(webnet.ETooLarge, "The file is larger than 10 MiB.")
		}
		return nil, webnet.Invalid("Invalid request.", map[string]string{"file": "The body could not be read."})
	}
	switch {
	case mt == "text/csv":
		return service.ParseImportCSV(strings.NewReader(string(data)))
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return service.ParseImportJSON(data)
	default:
		return nil, webnet.Errorf(webnet.EUnsupported, "Send the devices as text/csv or application/json.")
	}
}
