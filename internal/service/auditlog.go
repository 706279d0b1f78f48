package service

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Activity is one audit record as the service hands it out. It is the store's type, named
// here so that callers (the HTTP layer) need not import store.
type Activity = store.Activity

// ActivityQuery holds the filters of GET /api/audit-log/ as the client wrote them; the
// service parses and validates them. Empty fields do not filter.
type ActivityQuery struct {
	Actor      string // user id
	Action     string
	ObjectType string
	ObjectID   string
	Customer   string // customer id
	Result     string // success, denied or failure
	Since      string // RFC 3339, inclusive
	Until      string // RFC 3339, exclusive
}

// maxFilterText bounds the free-text filters; longer values cannot match anything webnet
// writes and would only cost the database.
const maxFilterText = 200

// filterText returns v if it is a valid free-text filter, or records why not in bad and
// returns "".
func filterText(bad fieldErrors, field, v string) string {
	switch {
	case len(v) > maxFilterText:
		bad.add(field, "Use at most 200 characters.")
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		bad.add(field, "Must be valid UTF-8 text without NUL characters.")
	default:
		return v
	}
	return ""
}

// filter parses q into a store filter (without visibility), or answers invalid naming every
// field at fault.
func (q ActivityQuery) filter() (store.ActivityFilter, error) {
	var f store.ActivityFilter
	bad := fieldErrors{}
	id := func(field, v string) *int64 {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad.add(field, "Must be a positive whole number (an id).")
			return nil
		}
		return &n
	}
	text := func(field, v string) string { return filterText(bad, field, v) }
	at := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			bad.add(field, "Must be an RFC 3339 time, e.g. 2026-01-31T23:59:00Z.")
			return nil
		}
		t = t.UTC()
		return &t
	}
	f.ActorID = id("actor", q.Actor)
	f.CustomerID = id("customer", q.Customer)
	f.Action = text("action", q.Action)
	f.ObjectType = text("object_type", q.ObjectType)
	f.ObjectID = text("object_id", q.ObjectID)
	switch q.Result {
	case "", "success", "denied", "failure":
		f.Result = q.Result
	default:
		bad.add("result", "Must be success, denied or failure.")
	}
	f.Since = at("since", q.Since)
	f.Until = at("until", q.Until)
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		bad.add("until", "Must be later than since.")
	}
	return f, bad.err("Invalid audit log filter.")
}

// activityFilter authenticates the caller, validates q and adds the caller's visibility
// condition (design.md §2): staff and superusers see every record; anyone else sees the
// records they are the actor of and those of the customers they administer.
func (c *Core) activityFilter(ctx context.Context, q ActivityQuery) (store.ActivityFilter, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return store.ActivityFilter{}, err
	}
	f, err := q.filter()
	if err != nil {
		return store.ActivityFilter{}, err
	}
	switch {
	case g.Bypass():
		f.Visibility = "1=1"
	case !g.Active:
		f.Visibility = "1=0"
	default:
		u, err := requireUser(ctx)
		if err != nil {
			return store.ActivityFilter{}, err
		}
		if f.Visibility, f.VisibilityArgs, err = store.ActivityVisibility(u.ID, g.AdminFilter("x.customer_id")); err != nil {
			return store.ActivityFilter{}, err
		}
	}
	return f, nil
}

// ListActivity returns a page of the audit records the caller may see, newest first, and
// how many match; visibility and filters are applied in the query. Any signed-in user may
// call it; reading the audit log is not itself audited. Errors: unauthenticated, invalid
// (a filter value, naming the field).
func (c *Core) ListActivity(ctx context.Context, q ActivityQuery, page webnet.Page) ([]store.Activity, int, error) {
	f, err := c.activityFilter(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	if err := c.indexAudit(ctx); err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListActivity(ctx, f, page.Limit, page.Offset)
}

// ExportActivity calls fn for every audit record the caller may see that matches q, oldest
// first, streaming from the database: nothing is held in memory beyond one record. It
// validates q before the first call of fn, so a caller may start its response in fn. It
// stops at fn's first error and returns it. Any signed-in user may call it; it is not
// audited. Errors: unauthenticated, invalid.
func (c *Core) ExportActivity(ctx context.Context, q ActivityQuery, fn func(*store.Activity) error) error {
	f, err := c.activityFilter(ctx, q)
	if err != nil {
		return err
	}
	if err := c.indexAudit(ctx); err != nil {
		return err
	}
	return c.db.Read().EachActivity(ctx, f, fn)
}

// VerifyAudit recomputes the whole audit hash chain and returns the id of the first record
// whose link or hash is wrong (0 when the chain is intact) and how many records it checked.
// A deleted tail is reported as the id the chain head still remembers. Only the system
// subject (the CLI) and staff or superusers may call it. Errors: unauthenticated, forbidden.
func (c *Core) VerifyAudit(ctx context.Context) (badID int64, checked int, err error) {
	if !SubjectFrom(ctx).IsSystem() {
		g, err := c.grants(ctx)
		if err != nil {
			return 0, 0, err
		}
		if !g.Bypass() {
			return 0, 0, forbidden("Only staff and superusers may verify the audit log.")
		}
	}
	return c.db.Read().VerifyChain(ctx)
}

// indexAudit brings the audit log's lookup tables up to date before a read, so that reads see
// every record while audited changes write a single unindexed row.
func (c *Core) indexAudit(ctx context.Context) error {
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.IndexActivity(ctx)
		return err
	})
}

// IndexAudit indexes the newest audit records; the serve command's janitor calls it so reads
// find little left to do. Only the system subject may call it. Errors: forbidden.
func (c *Core) IndexAudit(ctx context.Context) error {
	if !SubjectFrom(ctx).IsSystem() {
		return forbidden("Only the system indexes the audit log.")
	}
	return c.indexAudit(ctx)
}
