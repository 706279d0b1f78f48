// Package storetest opens fresh, migrated webnet databases for tests, on SQLite always and on
// PostgreSQL when WEBNET_TEST_DATABASE_URL is set, so that one test body runs on both backends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop test schemas

	"webnet/internal/store"
)

// EnvURL names the environment variable with the PostgreSQL URL for tests.
const EnvURL = "WEBNET_TEST_DATABASE_URL"

// Backends are the names Each runs: "sqlite" and "postgres".
var Backends = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as a subtest on a fresh, migrated database of each backend. The PostgreSQL
// subtest skips, saying why, when WEBNET_TEST_DATABASE_URL is unset.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Backends {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated database of dialect d, closed and removed when t ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// OpenProcess opens the database of cfg (from Config) once more, as another webnet process
// would: its own pools, migrated, closed when t ends.
func OpenProcess(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open another process: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// OpenEmpty returns a fresh database of dialect d without migrating it.
func OpenEmpty(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	cfg := Config(t, d)
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Config returns a store.Config for a fresh database of dialect d: a temporary directory for
// SQLite; a new schema (dropped when t ends) in the test PostgreSQL database, or a skip when
// WEBNET_TEST_DATABASE_URL is unset.
func Config(t testing.TB, d store.Dialect) store.Config {
	t.Helper()
	if d == store.SQLite {
		return store.Config{DataDir: t.TempDir()}
	}
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run them", EnvURL)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "wt_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvURL, err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Config{URL: u.String(), MaxOpenConns: 8}
}
