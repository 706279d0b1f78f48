package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
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
// head. On PostgreSQL that is one statement (one round trip); on SQLite, whose writer is
// already exclusive and whose statements cost no round trip, three plain ones.
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
	var lastID int64
	if err := tx.queryRow(ctx, `SELECT last_id, last_hash FROM audit_chain WHERE id = 1`).Scan(&lastID, &a.PrevHash); err != nil {
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
	if _, err := tx.exec(ctx, `UPDATE audit_chain SET last_id = ?, last_hash = ? WHERE id = 1`, a.ID, a.Hash); err != nil {
		return fmt.Errorf("move audit chain head: %w", err)
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
	add := func(cond string, v any) { conds = append(conds, cond); args = append(args, v) }
	if f.ActorID != nil {
		add("a.actor_id = ?", *f.ActorID)
	}
	if f.Action != "" {
		add("a.action = ?", f.Action)
	}
	if f.ObjectType != "" {
		add("a.object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("a.object_id = ?", f.ObjectID)
	}
	if f.CustomerID != nil {
		add("a.customer_id = ?", *f.CustomerID)
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

// VerifyChain recomputes the whole audit chain and returns the id of the first record whose
// link or hash is wrong (0 when the chain is intact) and how many records it checked.
func (q Q) VerifyChain(ctx context.Context) (badID int64, checked int, err error) {
	prev := ""
	err = q.EachActivity(ctx, ActivityFilter{Visibility: "1=1"}, func(a *Activity) error {
		checked++
		h, err := ActivityHash(a, prev)
		if err != nil || a.PrevHash != prev || a.Hash != h {
			badID = a.ID
			return errStop
		}
		prev = a.Hash
		return nil
	})
	if err == errStop {
		err = nil
	}
	if err == nil && badID == 0 {
		var head string
		if err := q.queryRow(ctx, `SELECT last_hash FROM audit_chain WHERE id = 1`).Scan(&head); err != nil {
			return 0, checked, fmt.Errorf("audit chain head: %w", err)
		}
		if head != prev {
			// The newest records were removed: the head remembers a hash the log no longer has.
			var last int64
			q.queryRow(ctx, `SELECT last_id FROM audit_chain WHERE id = 1`).Scan(&last)
			return last, checked, nil
		}
	}
	return badID, checked, err
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}

// ActivityIDString formats an object id for the audit log.
func ActivityIDString(id int64) string { return strconv.FormatInt(id, 10) }
