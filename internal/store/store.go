// Package store owns webnet's SQL: opening SQLite or PostgreSQL, migrations, transactions and
// one file of plain SQL per table. It holds no business rules (those live in service) and never
// imports service. Dialect differences live in dialect.go only.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Config says which database to open.
type Config struct {
	// URL, when it starts with postgres:// or postgresql://, selects PostgreSQL.
	URL string
	// DataDir holds the SQLite file (webnet.db) when URL is empty.
	DataDir string
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
	// Logger receives the store's own warnings (listener reconnects).
	Logger *slog.Logger
}

// DB is an open database: a write pool for transactions and a read pool for queries outside
// them. On SQLite the write pool is a single connection (SQLite has one writer anyway, and
// BEGIN IMMEDIATE on it avoids SQLITE_BUSY upgrades) and reads use a small separate pool; on
// PostgreSQL both are the same pool.
type DB struct {
	dialect Dialect
	w, r    *sql.DB
	closers []*sql.DB
	url     string // PostgreSQL: for the notification listener's own connection
	channel string // PostgreSQL: the notification channel of the schema (notifyChannel)
	hub     *hub
	outbox  *outbox // PostgreSQL: announcements for other processes
	log     *slog.Logger
	// SQLite only: prepared statements of the write and read pools.
	wcache, rcache *stmtCache
}

// Open opens (and, for SQLite, creates) the database described by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if strings.HasPrefix(cfg.URL, "postgres://") || strings.HasPrefix(cfg.URL, "postgresql://") {
		return openPostgres(ctx, cfg)
	}
	if cfg.URL != "" {
		return nil, fmt.Errorf("database url: only postgres:// URLs are supported (leave it empty for SQLite in the data dir)")
	}
	return openSQLite(ctx, cfg)
}

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	pool, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 20
	}
	pool.SetMaxOpenConns(n)
	// Keep every connection idle rather than close and reopen it under bursts: a new
	// PostgreSQL connection costs a backend fork and, often, a TLS handshake.
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{dialect: Postgres, w: pool, r: pool, closers: []*sql.DB{pool}, url: cfg.URL,
		hub: &hub{subs: map[int]func(Notification){}}, log: cfg.Logger,
		outbox: &outbox{queued: map[string]bool{}, waiting: make(chan struct{}, 1)}}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	var schema sql.NullString
	if err := pool.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("read the current schema: %w", err)
	}
	db.channel = notifyChannel(schema.String)
	return db, nil
}

// sqliteDSN builds the DSN: pragmas must be in it, because a PRAGMA run after Open reaches one
// pooled connection only.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	dir := cfg.DataDir
	if dir == "" {
		return nil, errors.New("open sqlite: no data dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, "webnet.db")
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{dialect: SQLite, w: w, closers: []*sql.DB{w}, hub: &hub{subs: map[int]func(Notification){}}, log: cfg.Logger}
	// Create the file and switch it to WAL through the writer before readers open it. Switching
	// the journal mode takes an exclusive lock that the busy timeout does not always wait for
	// when several processes open a new database at once: retry briefly.
	for attempt := 0; ; attempt++ {
		err = w.PingContext(ctx)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "locked") {
			break
		}
		time.Sleep(time.Duration(10*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	r.SetConnMaxIdleTime(0)
	db.r = r
	db.closers = append(db.closers, r)
	db.wcache, db.rcache = newStmtCache(w), newStmtCache(r)
	return db, nil
}

// Dialect reports which backend db is.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the write pool, for libraries that share webnet's database and must enlist in
// its transactions (the job queue).
func (db *DB) SQL() *sql.DB { return db.w }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return err
	}
	return nil
}

// Close closes every pool.
func (db *DB) Close() error {
	var errs []error
	for _, c := range []*stmtCache{db.wcache, db.rcache} {
		if c != nil {
			c.close()
		}
	}
	for _, c := range db.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs the store's queries on a pool or inside a transaction. Read methods are on Q so they
// work in both places; a Tx embeds Q and adds the writes.
type Q struct {
	ex    execer
	d     Dialect
	cache *stmtCache // SQLite: prepared statements of the pool
	tx    *sql.Tx    // set inside a transaction
}

func (q Q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ex.ExecContext(ctx, q.d.rebind(query), args...)
}

func (q Q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.ex.QueryContext(ctx, q.d.rebind(query), args...)
}

func (q Q) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.ex.QueryRowContext(ctx, q.d.rebind(query), args...)
}

// eachRow runs query and calls scan on each row; errors name what was read.
func (q Q) eachRow(ctx context.Context, what, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Read returns a Q on the read pool, for queries outside a transaction.
func (db *DB) Read() Q { return Q{ex: db.r, d: db.dialect, cache: db.rcache} }

// Tx is a write transaction. Every multi-row change in webnet runs in one.
type Tx struct {
	Q
	tx      *sql.Tx
	pending *[]Notification
	channel string // PostgreSQL: where Notify sends
}

// SQL returns the underlying transaction, for libraries that must write in it (the job queue).
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// InTx runs fn in a write transaction, committing if fn returns nil and rolling back
// otherwise (also when fn panics).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if db.wcache != nil {
		db.wcache.prepareWanted(ctx)
	}
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	var pending []Notification
	if err = fn(&Tx{Q: Q{ex: stx, d: db.dialect, cache: db.wcache, tx: stx}, tx: stx, pending: &pending, channel: db.channel}); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, n := range pending {
		db.hub.publish(n)
		if n.async && db.outbox != nil {
			db.outbox.add(n)
		}
	}
	return nil
}
