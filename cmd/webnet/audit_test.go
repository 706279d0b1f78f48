package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestAuditVerify runs `webnet audit verify` on an intact chain, after an edit behind the
// store's back, and after the newest record was deleted, on both backends.
func TestAuditVerify(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) {
			sc := storetest.Config(t, d)
			env := map[string]string{"WEBNET_DATA_DIR": sc.DataDir, "WEBNET_DATABASE_URL": sc.URL, "WEBNET_LOG_FORMAT": "json"}
			verify := func(wantCode int, wantOut string) {
				t.Helper()
				code, out, errOut := runCLI(t, "", env, "audit", "verify")
				if code != wantCode || !strings.Contains(out+errOut, wantOut) {
					t.Fatalf("audit verify: exit %d, stdout %q, stderr %q; want exit %d saying %q", code, out, errOut, wantCode, wantOut)
				}
			}
			verify(0, "audit chain intact: 0 records") // a fresh database: migrated, empty chain

			ctx := context.Background()
			db, err := store.Open(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			var ids []int64
			for i := 1; i <= 3; i++ {
				a := &store.Activity{At: at.Add(time.Duration(i) * time.Second), ActorUsername: "system", Action: "test.append",
					ObjectType: "test", ObjectID: fmt.Sprint(i), ObjectRepr: fmt.Sprint("record ", i), Result: "success"}
				if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendActivity(ctx, a) }); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, a.ID)
			}
			verify(0, "audit chain intact: 3 records")

			// Tamper through a raw connection, as someone with database access could.
			raw := db.SQL()
			exec := func(query string, id int64) {
				t.Helper()
				if _, err := raw.ExecContext(ctx, fmt.Sprintf(query, id)); err != nil {
					t.Fatal(err)
				}
			}
			exec(`UPDATE activity_log SET object_repr = 'x' WHERE id = %d`, ids[1])
			verify(1, fmt.Sprintf("audit chain broken at record %d (checked 2)", ids[1]))

			// Undone, the chain is whole again; then the newest record disappears.
			exec(`UPDATE activity_log SET object_repr = 'record 2' WHERE id = %d`, ids[1])
			verify(0, "audit chain intact: 3 records")
			// Reads and serve's janitor index the log, which anchors the newest record.
			if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.IndexActivity(ctx); return err }); err != nil {
				t.Fatal(err)
			}
			exec(`DELETE FROM activity_log WHERE id = %d`, ids[2])
			verify(1, fmt.Sprintf("audit chain broken at record %d (checked 2)", ids[2]))
		})
	}
}

func TestAuditCommandUsage(t *testing.T) {
	env := map[string]string{"WEBNET_DATA_DIR": t.TempDir(), "WEBNET_LOG_FORMAT": "json"}
	if code, _, errOut := runCLI(t, "", env, "audit", "verify", "--help"); code != 0 || !strings.Contains(errOut, "Usage: webnet audit verify") {
		t.Errorf("audit verify --help: %d %q", code, errOut)
	}
	for _, args := range [][]string{{"audit"}, {"audit", "frobnicate"}, {"audit", "verify", "extra"}, {"audit", "verify", "--nope"}} {
		if code, _, _ := runCLI(t, "", env, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI(t, "", env, "help"); code != 0 || !strings.Contains(out, "audit verify") {
		t.Errorf("help does not list audit verify: %q", out)
	}
}
