package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one versioned schema change. Its SQL is written once for both dialects, with
// {{id}}, {{time}}, {{blob}} and {{json}} standing for the column types that differ. A change
// that only one engine can express (a full-text index, an extension) is a pair of files,
// NNNN_name.sqlite.sql and NNNN_name.postgres.sql: the same version, one file per dialect.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations of dialect d in version order. File names are
// NNNN_name.sql (both dialects) or NNNN_name.<dialect>.sql; versions must be unique and
// increasing, and a version written per dialect must be written for every dialect.
func Migrations(d Dialect) ([]Migration, error) {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	return migrationsIn(sub, d)
}

// migrationsIn reads the migrations of d from the files at the root of fsys.
func migrationsIn(fsys fs.FS, d Dialect) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	shared := map[int]string{}                 // version → its file for both dialects
	perDialect := map[int]map[Dialect]string{} // version → dialect → its file
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(name, ".sql")
		only := Dialect("")
		for dl := range ddlTokens {
			if b, ok := strings.CutSuffix(base, "."+string(dl)); ok {
				base, only = b, dl
			}
		}
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || strings.Contains(rest, ".") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql or NNNN_name.<dialect>.sql", name)
		}
		other, dup := shared[v]
		for dl, f := range perDialect[v] {
			if only == "" || dl == only {
				other, dup = f, true
			}
		}
		if dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, name, v)
		}
		if only == "" {
			shared[v] = name
		} else {
			if perDialect[v] == nil {
				perDialect[v] = map[Dialect]string{}
			}
			perDialect[v][only] = name
		}
		if only != "" && only != d {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	for v, files := range perDialect {
		for dl := range ddlTokens {
			if _, ok := files[dl]; !ok {
				return nil, fmt.Errorf("migration %04d is written per dialect but not for %s", v, dl)
			}
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// LatestVersion is the newest embedded migration's version.
func LatestVersion() int {
	ms, err := Migrations(SQLite) // every version exists for every dialect
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at {{time}} NOT NULL
)`

// Migrate applies every pending migration in one transaction, serialised against other
// processes, and returns the versions it applied. A database newer than this binary is an
// error: running old code on a new schema could corrupt it.
func (db *DB) Migrate(ctx context.Context) (applied []int, err error) {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	return db.migrate(ctx, ms)
}

// migrate applies the migrations of ms that the database has not applied yet.
func (db *DB) migrate(ctx context.Context, ms []Migration) (applied []int, err error) {
	err = db.InTx(ctx, func(tx *Tx) error {
		applied = nil
		if lock := db.dialect.migrationLock(); lock != "" {
			if _, err := tx.exec(ctx, lock); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		ddl, err := db.dialect.expandDDL(createMigrationsTable)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, ddl); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		current, err := tx.schemaVersion(ctx)
		if err != nil {
			return err
		}
		latest := 0
		if len(ms) > 0 {
			latest = ms[len(ms)-1].Version
		}
		if current > latest {
			return fmt.Errorf("database schema is at version %d, newer than this webnet (%d): upgrade webnet", current, latest)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			sqlText, err := db.dialect.expandDDL(m.SQL)
			if err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			for _, stmt := range splitStatements(sqlText) {
				if _, err := tx.exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, now); err != nil {
				return fmt.Errorf("record migration %d: %w", m.Version, err)
			}
			applied = append(applied, m.Version)
		}
		// The catalog lives in the schema from version 2 on; migrate keeps it current
		// (init-device-group-permissions does the same on demand).
		if latest >= 2 {
			if _, err := tx.InitCatalog(ctx, now); err != nil {
				return err
			}
		}
		return nil
	})
	return applied, err
}

// SchemaVersion returns the newest applied migration version, 0 on an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return db.Read().schemaVersion(ctx)
}

func (q Q) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil && isMissingTable(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func isMissingTable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "SQLSTATE 42P01")
}

// splitStatements splits a migration on semicolons that end a line. Migrations keep one
// statement per semicolon-terminated line group and no semicolons inside literals, except in
// a $$-quoted body (a PostgreSQL DO block), which is never split.
func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	inBody := false
	for _, line := range strings.Split(sqlText, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.Count(line, "$$")%2 == 1 {
			inBody = !inBody
		}
		if !inBody && strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
