package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestMigrationFiles: a migration is shared or written once per dialect, never both, never
// for one dialect only, and each dialect reads its own files.
func TestMigrationFiles(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	ok := fstest.MapFS{
		"0001_base.sql":            file("shared"),
		"0002_search.sqlite.sql":   file("fts"),
		"0002_search.postgres.sql": file("trgm"),
		"0003_more.sql":            file("more"),
	}
	for d, want := range map[Dialect]string{SQLite: "shared fts more", Postgres: "shared trgm more"} {
		ms, err := migrationsIn(ok, d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		var got []string
		for i, m := range ms {
			if m.Version != i+1 {
				t.Errorf("%s: version %d at %d", d, m.Version, i)
			}
			got = append(got, m.SQL)
		}
		if strings.Join(got, " ") != want || ms[1].Name != "search" {
			t.Errorf("%s: %q (%+v)", d, got, ms)
		}
	}
	for name, fsys := range map[string]fstest.MapFS{
		"one dialect only": {"0001_a.sql": file(""), "0002_b.postgres.sql": file("")},
		"shared and per dialect": {
			"0001_a.sql": file(""), "0001_a.sqlite.sql": file(""), "0001_a.postgres.sql": file("")},
		"two shared":         {"0001_a.sql": file(""), "0001_b.sql": file("")},
		"an unknown dialect": {"0001_a.mysql.sql": file("")},
		"no version":         {"base.sql": file("")},
	} {
		for _, d := range []Dialect{SQLite, Postgres} {
			if _, err := migrationsIn(fsys, d); err == nil {
				t.Errorf("%s (%s): no error", name, d)
			}
		}
	}
}

// TestSplitStatements: statements end with a semicolon at the end of a line, except inside
// a $$-quoted body.
func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- comment\nCREATE TABLE a (x INT);\nDO $$\nBEGIN\n\tPERFORM 1;\nEND\n$$;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n")
	want := []string{"CREATE TABLE a (x INT);", "DO $$\nBEGIN\n\tPERFORM 1;\nEND\n$$;", "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("split: %q", got)
	}
}
