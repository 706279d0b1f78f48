package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

const (
	cfgA = "Building configuration...\n\nCurrent configuration : 120 bytes\n!\n! Last configuration change at 09:14:02 UTC Thu Nov 26 2026\n!\nhostname acme-r1\nenable secret 9 $9$abc$def\ninterface Gi1\n description uplink\nend\n"
	// cfgA read again: only noise differs.
	cfgA2 = "Building configuration...\n\nCurrent configuration : 121 bytes\n!\n! Last configuration change at 10:20:00 UTC Thu Nov 26 2026\n!\nhostname acme-r1\nenable secret 9 $9$xyz$uvw\ninterface Gi1\n description uplink\nend\n"
	cfgB  = "Building configuration...\n\nCurrent configuration : 122 bytes\n!\n! Last configuration change at 11:00:00 UTC Thu Nov 26 2026\n!\nhostname acme-r1\nenable secret 9 $9$qqq$rrr\ninterface Gi1\n description uplink to core\nend\n"
)

func TestBackupsVersionsPermissionsAndDiffs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		sys := service.WithSubject(context.Background(), service.System())
		record := func(cfg string) (*webnet.Backup, bool) {
			t.Helper()
			b, made, err := w.env.core.RecordBackup(sys, w.r1, nil, []byte(cfg))
			if err != nil {
				t.Fatal(err)
			}
			return b, made
		}
		first, made := record(cfgA)
		if !made || !first.Changed || first.Size != len(cfgA) {
			t.Fatalf("first backup: %+v %v", first, made)
		}
		if again, made := record(cfgA2); made || again.ID != first.ID {
			t.Fatalf("a read differing only by noise made a version: %+v", again)
		}
		second, made := record(cfgB)
		if !made || second.ID == first.ID {
			t.Fatalf("a real change made no version: %+v", second)
		}
		// Users cannot record backups.
		if _, _, err := w.env.core.RecordBackup(service.WithSubject(context.Background(), &service.Subject{User: &webnet.User{ID: w.ids["admin"], IsActive: true}}),
			w.r1, nil, []byte("x")); webnet.ErrorCode(err) != webnet.EForbidden {
			t.Fatalf("a user recorded a backup: %v", err)
		}

		get := func(user, path string) result {
			t.Helper()
			tok := w.tokens[user]
			if user == "root" {
				tok = w.root
			}
			return w.doAny(t, "GET", path, "", as(tok)...)
		}
		list := fmt.Sprintf("/api/devices/%d/backups/", w.r1)
		content := fmt.Sprintf("/api/backups/%d/content/", second.ID)
		config := fmt.Sprintf("/api/devices/%d/config/", w.r1)
		diff := fmt.Sprintf("/api/backups/%d/diff/", second.ID)
		for _, c := range []struct {
			user             string
			list, cfg, diffs int
		}{
			{"root", 200, 200, 200},
			{"admin", 200, 200, 200},
			{"syncer", 200, 403, 403}, // group role: view_backups, not view_configuration
			{"viewer", 403, 403, 403},
			{"operator", 403, 403, 403},
			{"outsider", 404, 404, 404},
			{"globexadm", 404, 404, 404},
		} {
			if r := get(c.user, list); r.status != c.list {
				t.Errorf("%s list: %d %s", c.user, r.status, r.raw)
			}
			if r := get(c.user, content); r.status != c.list {
				t.Errorf("%s content: %d %s", c.user, r.status, r.raw)
			}
			if r := get(c.user, config); r.status != c.cfg {
				t.Errorf("%s config: %d %s", c.user, r.status, r.raw)
			}
			if r := get(c.user, diff); r.status != c.diffs {
				t.Errorf("%s diff: %d %s", c.user, r.status, r.raw)
			}
		}
		if r := get("viewer", list); r.body["error"] != "You do not have permission to view backups." {
			t.Errorf("viewer's refusal: %s", r.raw)
		}
		r := get("admin", list)
		if r.body["count"] != 2.0 || idOf(r.body["results"].([]any)[0].(map[string]any)) != second.ID {
			t.Fatalf("list: %s", r.raw)
		}
		r = get("admin", content)
		if r.raw != cfgB || !strings.Contains(r.header.Get("Content-Disposition"), `filename=acme-r1-backup-`) {
			t.Fatalf("download: %q %v", r.raw, r.header)
		}
		r = get("admin", config)
		if r.body["config"] != cfgB {
			t.Fatalf("config: %s", r.raw)
		}
		r = get("admin", diff)
		d := r.body["diff"].(string)
		if !strings.Contains(d, "- description uplink\n+ description uplink to core\n") || strings.Contains(d, "-! Last") ||
			strings.Contains(d, "$9$") {
			t.Fatalf("diff should show the description change only, noise masked:\n%s", d)
		}
		// Against an explicit version; the first version has nothing before it.
		if r := get("admin", fmt.Sprintf("/api/backups/%d/diff/?against=%d", first.ID, second.ID)); r.status != 200 ||
			!strings.Contains(r.body["diff"].(string), "+ description uplink\n") {
			t.Fatalf("reverse diff: %d %s", r.status, r.raw)
		}
		if r := get("admin", fmt.Sprintf("/api/backups/%d/diff/", first.ID)); r.status != 404 {
			t.Fatalf("diff of the first version: %d %s", r.status, r.raw)
		}
		if r := get("admin", fmt.Sprintf("/api/backups/%d/diff/?against=x", first.ID)); r.status != 400 {
			t.Fatalf("bad against: %d %s", r.status, r.raw)
		}
		if r := get("admin", fmt.Sprintf("/api/devices/%d/config/", w.r2)); r.status != 404 {
			t.Fatalf("config of a device without backups: %d %s", r.status, r.raw)
		}
	})
}

// TestBackupRetention keeps the newest N versions and prunes content nothing refers to.
func TestBackupRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		access, err := service.NewAccess(db)
		if err != nil {
			t.Fatal(err)
		}
		core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: e.clock,
			Retention: webnet.Retention{Keep: 2}})
		if err != nil {
			t.Fatal(err)
		}
		sys := service.WithSubject(context.Background(), service.System())
		var ids []int64
		for i := range 4 {
			b, _, err := core.RecordBackup(sys, w.r1, nil, []byte(fmt.Sprintf("hostname acme-r1\ninterface Gi%d\n", i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.ID)
		}
		list, n, err := db.Read().ListBackups(context.Background(), w.r1, webnet.Page{Limit: 10})
		if err != nil || n != 2 || list[0].ID != ids[3] || list[1].ID != ids[2] {
			t.Fatalf("kept %d: %+v %v", n, list, err)
		}
		for _, gone := range ids[:2] {
			if _, err := db.Read().BackupByID(context.Background(), gone); webnet.ErrorCode(err) != webnet.ENotFound {
				t.Fatalf("backup %d kept: %v", gone, err)
			}
		}
		stored, err := db.Read().BlobBytes(context.Background(), w.acme)
		if err != nil {
			t.Fatal(err)
		}
		if stored <= 0 || stored > 200 {
			t.Fatalf("stored %d bytes for two tiny configurations: orphans kept?", stored)
		}
	})
}
