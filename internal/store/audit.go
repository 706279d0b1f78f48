package store

import (
	"context"
	"errors"

	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"webnet/internal/authz"
)

// Activity is one audit record. The store computes PrevHash and Hash when appending.
type Activity struct {
	ID            int64           `json:"id"`
	At            time.Time       `json:"at"`
	ActorID       *int64          `json:"actor"`
	ActorUsername string          `json:"actor_username"`
	CustomerID    *int64          `json:"customer"`
	Action        string          `json:"action"`
	ObjectType    string          `json:"object_type"`
	ObjectID      string          `json:"object_id"`
	ObjectRepr    string          `json:"object_repr"`
	Result        string          `json:"result"`
	Details       json.RawMessage `json:"details"`
	IP            string          `json:"ip"`
	RequestID     string          `json:"request_id"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// ActivityHash is the chain hash of a record: SHA-256 (hex) of the previous record's hash
// followed by the record's digest. Defined over the digest, the link can be computed by
// either database in the statement that appends the record.
func ActivityHash(a *Activity, prevHash string) (string, error) {
	d, err := activityDigest(a)
	if err != nil {
		return "", err
	}
	return chainHash(prevHash, d), nil
}

func chainHash(prevHash, digest string) string {
	sum := sha256.Sum256([]byte(prevHash + digest))
	return hex.EncodeToString(sum[:])
}

// activityDigest is SHA-256 (hex) of a canonical encoding of every field of a record but its
// id and links (order is carried by the chain). Details are re-encoded canonically (sorted
// keys) because PostgreSQL's jsonb does not keep the text.
func activityDigest(a *Activity) (string, error) {
	var details any
	if len(a.Details) > 0 {
		if err := json.Unmarshal(a.Details, &details); err != nil {
			return "", fmt.Errorf("audit details: %w", err)
		}
	}
	canon, err := json.Marshal([]any{a.At.UTC().Format(time.RFC3339Nano), a.ActorID, a.ActorUsername,
		a.CustomerID, a.Action, a.ObjectType, a.ObjectID, a.ObjectRepr, a.Result, details, a.IP, a.RequestID})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// AppendActivity appends a to the audit chain inside tx: it takes the chain head (locked on
// PostgreSQL, so concurrent writers serialise), links and hashes the record, and moves the
// head. On PostgreSQL that is one statement (one round trip), and the head row's lock is what
// serialises concurrent appends. On SQLite, whose writer is already exclusive, the head is
// the newest record and the anchor in audit_chain moves when IndexActivity runs.
func (tx *Tx) AppendActivity(ctx context.Context, a *Activity) error {
	if len(a.Details) == 0 {
		a.Details = json.RawMessage(`{}`)
	}
	digest, err := activityDigest(a)
	if err != nil {
		return err
	}
	if one := tx.d.appendActivityInOne(); one != "" {
		err := tx.queryRow(ctx, one, a.At, a.ActorID, a.ActorUsername, a.CustomerID, a.Action, a.ObjectType, a.ObjectID,
			a.ObjectRepr, a.Result, string(a.Details), a.IP, a.RequestID, digest).Scan(&a.ID, &a.PrevHash, &a.Hash)
		if err != nil {
			return fmt.Errorf("append activity: %w", err)
		}
		if a.Hash != chainHash(a.PrevHash, digest) {
			return fmt.Errorf("append activity: the database chained hash %s, expected %s", a.Hash, chainHash(a.PrevHash, digest))
		}
		return nil
	}
	// SQLite's writer is exclusive, so the newest record is the chain head: reading it costs a
	// cached page, where moving a head row would cost a page write per audited change.
	if err := tx.queryRow(ctx, `SELECT COALESCE((SELECT hash FROM activity_log ORDER BY id DESC LIMIT 1), '')`).Scan(&a.PrevHash); err != nil {
		return fmt.Errorf("audit chain head: %w", err)
	}
	a.Hash = chainHash(a.PrevHash, digest)
	err = tx.queryRow(ctx, `INSERT INTO activity_log (at, actor_id, actor_username, customer_id, action, object_type,
		object_id, object_repr, result, details, ip, request_id, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.At, a.ActorID, a.ActorUsername, a.CustomerID, a.Action, a.ObjectType, a.ObjectID, a.ObjectRepr, a.Result,
		string(a.Details), a.IP, a.RequestID, a.PrevHash, a.Hash).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("insert activity: %w", err)
	}
	return nil
}

const activityColumns = `a.id, a.at, a.actor_id, a.actor_username, a.customer_id, a.action, a.object_type, a.object_id,
	a.object_repr, a.result, a.details, a.ip, a.request_id, a.prev_hash, a.hash`

func scanActivity(s scanner, a *Activity) error {
	var actor, customer sql.NullInt64
	var details string
	if err := s.Scan(&a.ID, &a.At, &actor, &a.ActorUsername, &customer, &a.Action, &a.ObjectType, &a.ObjectID,
		&a.ObjectRepr, &a.Result, &details, &a.IP, &a.RequestID, &a.PrevHash, &a.Hash); err != nil {
		return err
	}
	a.At = a.At.UTC()
	a.ActorID, a.CustomerID = nullInt(actor), nullInt(customer)
	a.Details = json.RawMessage(details)
	return nil
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// ActivityFilter selects audit records; zero fields select everything.
type ActivityFilter struct {
	ActorID    *int64
	Action     string
	ObjectType string
	ObjectID   string
	CustomerID *int64
	Result     string
	Since      *time.Time
	Until      *time.Time
	// Visibility is the caller's visibility condition (from the service), e.g. own entries or
	// entries of administered customers; it is required.
	Visibility     string
	VisibilityArgs []any
}

func (f ActivityFilter) where() (string, []any) {
	conds := []string{"(" + f.Visibility + ")"}
	args := append([]any{}, f.VisibilityArgs...)
	add := func(cond string, v ...any) { conds = append(conds, cond); args = append(args, v...) }
	// Lookups go through the lookup tables (see IndexActivity); the record's own columns
	// are tested too, so a lookup row can never widen what a filter selects.
	if f.ActorID != nil {
		add("a.actor_id = ? AND a.id IN (SELECT activity_id FROM activity_by_actor WHERE actor_id = ?)", *f.ActorID, *f.ActorID)
	}
	if f.Action != "" {
		add("a.action = ?", f.Action)
	}
	switch {
	case f.ObjectType != "" && f.ObjectID != "":
		add("a.object_type = ? AND a.object_id = ? AND a.id IN (SELECT activity_id FROM activity_by_object WHERE object_type = ? AND object_id = ?)",
			f.ObjectType, f.ObjectID, f.ObjectType, f.ObjectID)
	case f.ObjectType != "":
		add("a.object_type = ? AND a.id IN (SELECT activity_id FROM activity_by_object WHERE object_type = ?)", f.ObjectType, f.ObjectType)
	case f.ObjectID != "":
		add("a.object_id = ?", f.ObjectID)
	}
	if f.CustomerID != nil {
		add("a.customer_id = ? AND a.id IN (SELECT activity_id FROM activity_by_customer WHERE customer_id = ?)", *f.CustomerID, *f.CustomerID)
	}
	if f.Result != "" {
		add("a.result = ?", f.Result)
	}
	if f.Since != nil {
		add("a.at >= ?", *f.Since)
	}
	if f.Until != nil {
		add("a.at < ?", *f.Until)
	}
	return strings.Join(conds, " AND "), args
}

// ListActivity returns a page of audit records, newest first, and how many match.
func (q Q) ListActivity(ctx context.Context, f ActivityFilter, limit, offset int) ([]Activity, int, error) {
	if f.Visibility == "" {
		return nil, 0, fmt.Errorf("list activity: no visibility condition")
	}
	where, args := f.where()
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM activity_log a WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count activity: %w", err)
	}
	rows, err := q.query(ctx, `SELECT `+activityColumns+` FROM activity_log a WHERE `+where+` ORDER BY a.id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list activity: %w", err)
	}
	defer rows.Close()
	out := []Activity{}
	for rows.Next() {
		var a Activity
		if err := scanActivity(rows, &a); err != nil {
			return nil, 0, fmt.Errorf("scan activity: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// EachActivity calls fn for every matching record in id order (oldest first), streaming: for
// exports and chain verification. It stops at fn's first error.
func (q Q) EachActivity(ctx context.Context, f ActivityFilter, fn func(*Activity) error) error {
	if f.Visibility == "" {
		return fmt.Errorf("each activity: no visibility condition")
	}
	where, args := f.where()
	rows, err := q.query(ctx, `SELECT `+activityColumns+` FROM activity_log a WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return fmt.Errorf("read activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Activity
		if err := scanActivity(rows, &a); err != nil {
			return fmt.Errorf("scan activity: %w", err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ActivityVisibility is the visibility condition of a user who sees the records they are the
// actor of and those of the customers the authz filter admin selects (built over column
// "x.customer_id"), through the lookup tables.
func ActivityVisibility(userID int64, admin authz.Filter) (string, []any, error) {
	cond, args, err := admin.Where()
	if err != nil {
		return "", nil, err
	}
	own := "a.id IN (SELECT activity_id FROM activity_by_actor WHERE actor_id = ?)"
	if cond == "1=0" {
		return own, []any{userID}, nil
	}
	return "(" + own + " OR a.id IN (SELECT x.activity_id FROM activity_by_customer x WHERE " + cond + "))",
		append([]any{userID}, args...), nil
}

// IndexActivity brings the audit log's lookup tables (by customer, actor and object) up to
// the newest record and returns how many records it indexed. Audit-log reads call it first,
// so they see every record; appends stay one unindexed row. It locks the chain head, so on
// PostgreSQL no append commits while it runs and none is missed.
func (tx *Tx) IndexActivity(ctx context.Context) (int64, error) {
	var indexed, anchorID int64
	var anchorHash string
	if err := tx.queryRow(ctx, `SELECT indexed_id, last_id, last_hash FROM audit_chain WHERE id = 1`+tx.d.forUpdate()).
		Scan(&indexed, &anchorID, &anchorHash); err != nil {
		return 0, fmt.Errorf("audit index position: %w", err)
	}
	var last int64
	var lastHash string
	err := tx.queryRow(ctx, `SELECT id, hash FROM activity_log ORDER BY id DESC LIMIT 1`).Scan(&last, &lastHash)
	if errors.Is(err, sql.ErrNoRows) {
		last = 0
	} else if err != nil {
		return 0, fmt.Errorf("newest audit record: %w", err)
	}
	if last <= indexed && last == anchorID {
		return 0, nil
	}
	// Move the anchor only along the chain: if the anchored record is gone or changed, the log
	// was tampered with, and moving on would hide it from audit verify.
	if anchorID != 0 && anchorID != last {
		var h string
		if err := tx.queryRow(ctx, `SELECT hash FROM activity_log WHERE id = ?`, anchorID).Scan(&h); err != nil || h != anchorHash {
			return 0, fmt.Errorf("audit log tampered with: the anchored record %d is changed or missing; run webnet audit verify", anchorID)
		}
	}
	for _, q := range []string{
		`INSERT INTO activity_by_customer (customer_id, activity_id)
			SELECT customer_id, id FROM activity_log WHERE id > ? AND id <= ? AND customer_id IS NOT NULL`,
		`INSERT INTO activity_by_actor (actor_id, activity_id)
			SELECT actor_id, id FROM activity_log WHERE id > ? AND id <= ? AND actor_id IS NOT NULL`,
		`INSERT INTO activity_by_object (object_type, object_id, activity_id)
			SELECT object_type, object_id, id FROM activity_log WHERE id > ? AND id <= ?`,
	} {
		if _, err := tx.exec(ctx, q, indexed, last); err != nil {
			return 0, fmt.Errorf("index audit log: %w", err)
		}
	}
	if _, err := tx.exec(ctx, `UPDATE audit_chain SET indexed_id = ?, last_id = ?, last_hash = ? WHERE id = 1`, last, last, lastHash); err != nil {
		return 0, fmt.Errorf("audit index position: %w", err)
	}
	return max(0, last-indexed), nil
}

// VerifyChain recomputes the whole audit chain and returns the id of the first record whose
// link or hash is wrong (0 when the chain is intact) and how many records it checked.
//
// Beyond the links, the anchor in audit_chain (the newest record as of the last append on
// PostgreSQL, or of the last indexing on SQLite) must still be in the log with its hash: so
// removing the newest records is detected too, up to the anchor.
func (q Q) VerifyChain(ctx context.Context) (badID int64, checked int, err error) {
	var anchorID int64
	var anchorHash string
	if err := q.queryRow(ctx, `SELECT last_id, last_hash FROM audit_chain WHERE id = 1`).Scan(&anchorID, &anchorHash); err != nil {
		return 0, 0, fmt.Errorf("audit chain anchor: %w", err)
	}
	prev, anchored := "", anchorID == 0
	stop := errors.New("stop")
	err = q.EachActivity(ctx, ActivityFilter{Visibility: "1=1"}, func(a *Activity) error {
		checked++
		h, err := ActivityHash(a, prev)
		if err != nil || a.PrevHash != prev || a.Hash != h {
			badID = a.ID
			return stop
		}
		if a.ID == anchorID {
			anchored = a.Hash == anchorHash
		}
		prev = a.Hash
		return nil
	})
	if errors.Is(err, stop) {
		return badID, checked, nil
	}
	if err == nil && !anchored {
		// The anchored record was removed or replaced along with everything after it.
		return anchorID, checked, nil
	}
	return 0, checked, err
}

// ActivityIDString formats an object id for the audit log.
func ActivityIDString(id int64) string { return strconv.FormatInt(id, 10) }
