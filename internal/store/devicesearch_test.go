package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestDeviceSearch: a search is a case-insensitive substring of the name or the address, the
// same on both backends whether the trigram index answers it (three characters or more) or a
// scan does (fewer), and the index follows creations, renames and deletions.
func TestDeviceSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: t0}
		other := &webnet.Customer{Name: "o", Slug: "o", CreatedAt: t0}
		ids := map[string]int64{}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, cu := range []*webnet.Customer{c, other} {
				if err := tx.CreateCustomer(ctx, cu); err != nil {
					return err
				}
			}
			for _, d := range []struct {
				cust       *webnet.Customer
				name, addr string
			}{
				{c, "core-RTR-01", "10.0.0.1"},
				{c, "core-rtr-02", "10.0.0.2"},
				{c, "edge-sw-10", "192.0.2.10"},
				{c, "lab_50%_off", "lab.example.net"},
				{c, `quote"d`, "2001:db8::7"},
				{other, "core-rtr-99", "10.0.0.99"}, // another customer's: never in c's results
			} {
				dev := &webnet.Device{CustomerID: d.cust.ID, Name: d.name, Address: d.addr, Port: 22,
					Platform: "cisco_iosxe", Enabled: true, CreatedAt: t0, UpdatedAt: t0}
				if err := tx.CreateDevice(ctx, dev); err != nil {
					return err
				}
				ids[d.name] = dev.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		search := func(q string) string {
			t.Helper()
			devs, total, err := db.Read().ListDevices(ctx, authz.All(), webnet.DeviceQuery{CustomerID: &c.ID, Search: q}, webnet.Page{Limit: 50})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if total != len(devs) {
				t.Fatalf("search %q: total %d for %d devices", q, total, len(devs))
			}
			names := make([]string, len(devs))
			for i, d := range devs {
				names[i] = d.Name
			}
			return strings.Join(names, " ")
		}
		for q, want := range map[string]string{
			"rtr":         "core-RTR-01 core-rtr-02", // any case
			"CORE-rtr-0":  "core-RTR-01 core-rtr-02",
			"TR-01":       "core-RTR-01",
			"10.0.0.":     "core-RTR-01 core-rtr-02", // the address
			"0.2.1":       "edge-sw-10",
			"r-0":         "core-RTR-01 core-rtr-02",
			"-1":          "edge-sw-10",                                             // two characters: the scan
			"e":           `core-RTR-01 core-rtr-02 edge-sw-10 lab_50%_off quote"d`, // one character: the scan
			"50%":         "lab_50%_off",                                            // LIKE's wildcards are plain characters
			"%_o":         "lab_50%_off",
			"_50":         "lab_50%_off",
			"b_5":         "lab_50%_off",
			"b.ex":        "lab_50%_off",
			`te"d`:        `quote"d`, // FTS5's quote is a plain character
			`"d`:          `quote"d`,
			"db8::7":      `quote"d`,
			"core-rtr-99": "", // another customer's
			"nowhere":     "",
			"rtr-01 ":     "", // spaces count
		} {
			if got := search(q); got != want {
				t.Errorf("search %q: %q, want %q", q, got, want)
			}
		}

		// Renames, readdressing and deletion reach the index in the same transaction.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			d, err := tx.DeviceByID(ctx, ids["edge-sw-10"])
			if err != nil {
				return err
			}
			d.Name, d.Address = "border-gw-10", "198.51.100.10"
			if err := tx.UpdateDevice(ctx, d); err != nil {
				return err
			}
			_, err = tx.DeleteDevices(ctx, []int64{ids["core-rtr-02"]})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]string{
			"edge":         "",
			"192.0.2":      "",
			"border":       "border-gw-10",
			"51.100":       "border-gw-10",
			"rtr":          "core-RTR-01",
			"core-rtr-02":  "",
			"gw-1":         "border-gw-10",
			"BORDER-GW-10": "border-gw-10",
		} {
			if got := search(q); got != want {
				t.Errorf("after the changes, search %q: %q, want %q", q, got, want)
			}
		}
		// A failed transaction leaves the index as it was.
		_ = db.InTx(ctx, func(tx *store.Tx) error {
			d, err := tx.DeviceByID(ctx, ids["core-RTR-01"])
			if err != nil {
				return err
			}
			d.Name = "renamed-then-rolled-back"
			if err := tx.UpdateDevice(ctx, d); err != nil {
				return err
			}
			return fmt.Errorf("roll back")
		})
		if got := search("rolled"); got != "" {
			t.Errorf("a rolled-back rename is searchable: %q", got)
		}
		if got := search("rtr-01"); got != "core-RTR-01" {
			t.Errorf("after a rolled-back rename: %q", got)
		}
	})
}

// TestDeviceSearchUsesIndex: a search of three characters or more reads the trigram index on
// both backends instead of scanning every device.
func TestDeviceSearchUsesIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// PostgreSQL's planner prefers a scan of a small table; SQLite always reads the index.
		n := 2000
		if db.Dialect() == store.Postgres {
			n = 100_000
		}
		seedDevices(t, db, 10, n)
		from, where, args := store.DeviceSearchForTest(db, "dev-12")
		plan, err := store.ExplainDeviceList(ctx, db, from, where, args)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		index := "VIRTUAL TABLE INDEX 0:M" // FTS5 answering a MATCH
		if db.Dialect() == store.Postgres {
			index = "devices_name_trgm"
		}
		if !strings.Contains(text, index) {
			t.Errorf("the search's plans do not read %s:\n%s", index, text)
		}
		devs, total, err := db.Read().ListDevices(ctx, authz.All(), webnet.DeviceQuery{Search: "DEV-12"}, webnet.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		want := 0 // seedDevices's names
		for i := 1; i <= n; i++ {
			if strings.Contains(fmt.Sprintf("dev-%d", i*7919%1000003), "dev-12") {
				want++
			}
		}
		var names []string
		for _, d := range devs {
			names = append(names, d.Name)
		}
		if want == 0 || total != want || len(devs) != min(want, 50) || !slices.IsSorted(names) {
			t.Errorf("search dev-12: total %d of %d, %d devices %v", total, want, len(devs), names)
		}
	})
}

// TestMigrateWithoutTrigram: on a PostgreSQL database whose role may not create pg_trgm,
// webnet still migrates and searches (by a scan): the extension is an index, not a
// requirement.
func TestMigrateWithoutTrigram(t *testing.T) {
	base := os.Getenv(storetest.EnvURL)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to run them", storetest.EnvURL)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "wt_" + hex.EncodeToString(b) // the database, its role and the role's schema
	for _, stmt := range []string{"CREATE ROLE " + name + " LOGIN", "CREATE DATABASE " + name} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		for _, stmt := range []string{"DROP DATABASE " + name + " WITH (FORCE)", "DROP ROLE " + name} {
			if _, err := admin.Exec(stmt); err != nil {
				t.Logf("%s: %v", stmt, err)
			}
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	owner, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Exec("CREATE SCHEMA " + name + " AUTHORIZATION " + name); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: u.String(), MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate as a role that may not create extensions: %v", err)
	}
	var trgm int
	if err := owner.QueryRow(`SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'`).Scan(&trgm); err != nil || trgm != 0 {
		t.Fatalf("pg_trgm in the restricted database: %d %v", trgm, err)
	}
	c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: t0}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		return tx.CreateDevice(ctx, &webnet.Device{CustomerID: c.ID, Name: "core-RTR-01", Address: "10.0.0.1", Port: 22,
			Platform: "cisco_iosxe", Enabled: true, CreatedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	devs, total, err := db.Read().ListDevices(ctx, authz.All(), webnet.DeviceQuery{Search: "rtr-0"}, webnet.Page{Limit: 50})
	if err != nil || total != 1 || len(devs) != 1 {
		t.Fatalf("search without the index: %d %v %v", total, devs, err)
	}
}

// TestDeviceSearchIndexesExistingDevices: the devices of a database made before the search
// index (migration 13) are found once it is migrated.
func TestDeviceSearchIndexesExistingDevices(t *testing.T) {
	for _, d := range storetest.Backends {
		t.Run(string(d), func(t *testing.T) { deviceSearchIndexesExistingDevices(t, storetest.OpenEmpty(t, d)) })
	}
}

func deviceSearchIndexesExistingDevices(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := store.MigrateToForTest(ctx, db, 12); err != nil {
		t.Fatal(err)
	}
	seedDevices(t, db, 10, 3000)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := 1; i <= 3000; i++ {
		if strings.Contains(fmt.Sprintf("dev-%d", i*7919%1000003), "ev-12") {
			want++
		}
	}
	_, total, err := db.Read().ListDevices(ctx, authz.All(), webnet.DeviceQuery{Search: "EV-12"}, webnet.Page{Limit: 50})
	if err != nil || want == 0 || total != want {
		t.Fatalf("search of the devices from before the index: %d, want %d (%v)", total, want, err)
	}
}
