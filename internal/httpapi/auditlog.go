package httpapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// registerAudit adds the audit log routes.
func (a *API) registerAudit(mux *http.ServeMux) {
	a.handle(mux, "GET /api/audit-log/", signedIn, a.listActivity)
}

// activityQuery reads the audit log filters of the query string; the service validates them.
func activityQuery(r *http.Request) service.ActivityQuery {
	q := r.URL.Query()
	return service.ActivityQuery{Actor: q.Get("actor"), Action: q.Get("action"), ObjectType: q.Get("object_type"),
		ObjectID: q.Get("object_id"), Customer: q.Get("customer"), Result: q.Get("result"),
		Since: q.Get("since"), Until: q.Get("until")}
}

// listActivity is GET /api/audit-log/: a page of records, or with ?format=csv|jsonl every
// matching record as a streamed download.
func (a *API) listActivity(w http.ResponseWriter, r *http.Request) error {
	aq := activityQuery(r)
	switch format := r.URL.Query().Get("format"); format {
	case "", "json":
		page, err := pageOf(r)
		if err != nil {
			return err
		}
		items, total, err := a.core.ListActivity(r.Context(), aq, page)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newList(r, page, total, items))
		return nil
	case "csv":
		return a.exportActivity(w, r, aq, newCSVExport)
	case "jsonl":
		return a.exportActivity(w, r, aq, newJSONLExport)
	default:
		return webnet.Invalid("Unknown export format.", map[string]string{"format": "Use csv or jsonl (or leave it out for a page of JSON)."})
	}
}

// activityEncoder writes an export's rows to a buffered body.
type activityEncoder interface {
	// begin writes what comes before the first row (the CSV header).
	begin() error
	// row writes one record.
	row(a *service.Activity) error
	// flush pushes buffered rows to the response writer.
	flush() error
}

// exportFormat describes one download format.
type exportFormat struct {
	contentType string
	filename    string
}

// flushEvery is how many rows an export buffers before pushing them to the client.
const flushEvery = 200

// exportActivity streams every matching record in the format made by newEncoder. The
// response starts only once the service has validated the filters (at the first row, or at
// the end when there is none), so a bad filter is still a 400. A failure after the response
// has started cannot change its status: the connection is aborted instead, so the client
// sees a truncated transfer rather than a file that looks complete.
func (a *API) exportActivity(w http.ResponseWriter, r *http.Request, aq service.ActivityQuery,
	newEncoder func(io.Writer) (exportFormat, activityEncoder)) error {
	rc := http.NewResponseController(w)
	format, enc := newEncoder(w)
	started, rows := false, 0
	start := func() error {
		if started {
			return nil
		}
		started = true
		h := w.Header()
		h.Set("Content-Type", format.contentType)
		h.Set("Content-Disposition", `attachment; filename="`+format.filename+`"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return enc.begin()
	}
	push := func() error {
		if err := enc.flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	err := a.core.ExportActivity(r.Context(), aq, func(act *service.Activity) error {
		if err := start(); err != nil {
			return err
		}
		if err := enc.row(act); err != nil {
			return err
		}
		if rows++; rows%flushEvery == 0 {
			return push()
		}
		return nil
	})
	if err == nil {
		if err = start(); err == nil {
			err = push()
		}
	}
	if err == nil {
		return nil
	}
	if !started {
		return err
	}
	if r.Context().Err() == nil {
		a.log.ErrorContext(r.Context(), "audit log export failed", "request_id", service.RequestFrom(r.Context()).ID,
			"rows", rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// csvColumns are the columns of the CSV export, in order.
var csvColumns = []string{"id", "at", "actor", "actor_username", "customer", "action", "object_type", "object_id",
	"object_repr", "result", "details", "ip", "request_id", "prev_hash", "hash"}

type csvExport struct {
	w    *csv.Writer
	cell []string
}

func newCSVExport(w io.Writer) (exportFormat, activityEncoder) {
	return exportFormat{contentType: "text/csv; charset=utf-8", filename: "audit-log.csv"},
		&csvExport{w: csv.NewWriter(w), cell: make([]string, len(csvColumns))}
}

func (e *csvExport) begin() error { return e.w.Write(csvColumns) }

func (e *csvExport) row(a *service.Activity) error {
	c := e.cell
	c[0] = strconv.FormatInt(a.ID, 10)
	c[1] = a.At.UTC().Format(time.RFC3339Nano)
	c[2] = optionalID(a.ActorID)
	c[3] = a.ActorUsername
	c[4] = optionalID(a.CustomerID)
	c[5], c[6], c[7], c[8], c[9] = a.Action, a.ObjectType, a.ObjectID, a.ObjectRepr, a.Result
	c[10] = string(a.Details)
	c[11], c[12], c[13], c[14] = a.IP, a.RequestID, a.PrevHash, a.Hash
	for i := range c {
		c[i] = csvSafe(c[i])
	}
	return e.w.Write(c)
}

func (e *csvExport) flush() error {
	e.w.Flush()
	return e.w.Error()
}

func optionalID(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// csvSafe defuses CSV (formula) injection: a spreadsheet would evaluate a cell that starts
// with = + - @ (or a tab or carriage return, per OWASP), so such a cell gets a leading single
// quote, which spreadsheets show as text. Every value webnet writes itself (ids, times, JSON
// objects, hashes) starts otherwise, so only user-supplied text is changed.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

type jsonlExport struct {
	buf *bufio.Writer
	enc *json.Encoder
}

func newJSONLExport(w io.Writer) (exportFormat, activityEncoder) {
	buf := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(buf) // one compact value and a newline per record
	enc.SetEscapeHTML(true)
	return exportFormat{contentType: "application/x-ndjson", filename: "audit-log.jsonl"}, &jsonlExport{buf: buf, enc: enc}
}

func (e *jsonlExport) begin() error                  { return nil }
func (e *jsonlExport) row(a *service.Activity) error { return e.enc.Encode(a) }
func (e *jsonlExport) flush() error                  { return e.buf.Flush() }
