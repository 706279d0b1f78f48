package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// BenchmarkDeviceList is GET /api/devices/?limit=50 for a non-admin user holding roles on 200
// of 2,000 device groups, with 1,000,000 devices in the customer: the filtered count and the
// first page, as the API runs them. Budget: p95 ≤ 25 ms on both backends. It also logs the
// query plans. Seeding takes a while; run it alone:
//
//	go test -run XXX -bench DeviceList -benchtime 200x ./internal/store/
func BenchmarkDeviceList(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			seedDevices(b, db, 2000, 1_000_000)
			u := &webnet.User{ID: 99, IsActive: true}
			g := authz.NewGrants(u)
			g.AddMembership(1, webnet.RoleMember)
			for i := int64(1); i <= 2000; i += 10 {
				g.AddGroupRole(1, i, webnet.PermSet(webnet.PermSyncDeviceInventory), authz.Source{})
			}
			f := g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id")
			where, args, _ := f.Where()
			plan, err := store.ExplainDeviceList(ctx, db, "devices d", where, args)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("query plans (%s):\n%s", d, shorten(strings.Join(plan, "\n")))
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				devices, total, err := db.Read().ListDevices(ctx, f, webnet.DeviceQuery{}, webnet.Page{Limit: 50})
				ds = append(ds, time.Since(start))
				if err != nil || len(devices) != 50 || total != 100_000 {
					b.Fatalf("list: %d devices, total %d, %v", len(devices), total, err)
				}
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// seedDevices creates customer 1 with groups device groups and n devices spread evenly over
// them, with names in an order unrelated to their groups, in a few large statements.
func seedDevices(b testing.TB, db *store.DB, groups, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCustomer(ctx, &webnet.Customer{Name: "Big", Slug: "big", CreatedAt: now}); err != nil {
			return err
		}
		for i := 1; i <= groups; i++ {
			if err := tx.CreateDeviceGroup(ctx, &webnet.DeviceGroup{CustomerID: 1, Name: fmt.Sprintf("group-%04d", i), CreatedAt: now}); err != nil {
				return err
			}
		}
		// 1000003 is prime, so i*7919 mod it is a permutation: names interleave the groups.
		if err := store.ExecForTest(ctx, tx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO devices (customer_id, device_group_id, name, address, port, platform, enabled, created_at, updated_at)
			SELECT 1, ((i - 1) % ?) + 1, 'dev-' || ((CAST(i AS BIGINT) * 7919) % 1000003), '192.0.2.1', 22, 'cisco_iosxe', TRUE, ?, ?
			FROM n`, n, groups, now, now); err != nil {
			return err
		}
		// The bulk insert went around CreateDevice: set the kept counts as it would have.
		return store.RecountDevicesForTest(ctx, tx)
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.AnalyzeForTest(ctx, db); err != nil {
		b.Fatal(err)
	}
}

// shorten elides the long id lists of plans.
func shorten(plan string) string {
	var b strings.Builder
	for _, line := range strings.Split(plan, "\n") {
		if len(line) > 160 {
			line = line[:160] + "…"
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
