package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// BenchmarkCompileGrants loads and compiles the grants of a user holding 200 device-group
// role assignments (100 directly, 100 through two auth groups) plus membership grants and
// bundles: what a request pays on a grants-cache miss. Budget: ≤ 2 ms on SQLite.
func BenchmarkCompileGrants(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
			u := &webnet.User{Username: "u", PasswordHash: "x", IsActive: true, CreatedAt: now}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: now}
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				m := &webnet.Membership{UserID: u.ID, CustomerID: c.ID, Role: webnet.RoleOperator, CreatedAt: now}
				if err := tx.CreateMembership(ctx, m); err != nil {
					return err
				}
				if err := tx.SetMembershipGrants(ctx, m.ID, u.ID, []string{"view_backups"}, []int64{1, 2}); err != nil {
					return err
				}
				var groups []int64
				for i := range 2 {
					g := &webnet.Group{CustomerID: c.ID, Name: fmt.Sprint("g", i), CreatedAt: now}
					if err := tx.CreateGroup(ctx, g); err != nil {
						return err
					}
					if err := tx.SetGroupUsers(ctx, g.ID, []int64{u.ID}); err != nil {
						return err
					}
					groups = append(groups, g.ID)
				}
				for i := range 200 {
					dg := &webnet.DeviceGroup{CustomerID: c.ID, Name: fmt.Sprint("dg", i), CreatedAt: now}
					if err := tx.CreateDeviceGroup(ctx, dg); err != nil {
						return err
					}
					r := &store.RoleView{DeviceGroupID: dg.ID, Name: "r", Permissions: []string{"sync_device_inventory", "view_backups"}, CreatedAt: now}
					if err := tx.CreateRole(ctx, r); err != nil {
						return err
					}
					a := &store.Assignment{Kind: "user", SubjectID: u.ID, RoleID: r.ID, CreatedAt: now}
					if i%2 == 1 {
						a = &store.Assignment{Kind: "group", SubjectID: groups[i%4/2], RoleID: r.ID, CreatedAt: now}
					}
					if err := tx.CreateAssignment(ctx, a); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			q := db.Read()
			for b.Loop() {
				rows, err := q.GrantRows(ctx, u.ID)
				if err != nil {
					b.Fatal(err)
				}
				g, err := service.Compile(u, rows)
				if err != nil || len(g.Customers[1].Groups) != 200 {
					b.Fatalf("compiled %d groups, %v", len(g.Customers[1].Groups), err)
				}
			}
		})
	}
}

// BenchmarkCreateBulkJob creates a job over 10,000 devices in one transaction (what a bulk
// sync of a whole fleet asks for): the job, its targets, the devices' locks and its first log
// line. Each iteration rolls back, so the devices stay free.
//
//	go test -run XXX -bench CreateBulkJob -benchtime 10x ./internal/service/
func BenchmarkCreateBulkJob(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			customer, devices := seedFleet(b, db, 10000)
			rollback := fmt.Errorf("roll back")
			for b.Loop() {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					j, err := service.QueuedJobs{}.CreateJob(ctx, tx, service.NewJob{CustomerID: customer, Kind: webnet.JobSync, DeviceIDs: devices})
					if err != nil {
						return err
					}
					if len(j.Targets) != len(devices) {
						return fmt.Errorf("%d targets", len(j.Targets))
					}
					return rollback
				})
				if err != rollback {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedFleet creates a customer with n devices in one device group.
func seedFleet(b *testing.B, db *store.DB, n int) (customer int64, devices []int64) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: now}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		customer = c.ID
		g := &webnet.DeviceGroup{CustomerID: c.ID, Name: "fleet", CreatedAt: now}
		if err := tx.CreateDeviceGroup(ctx, g); err != nil {
			return err
		}
		for i := range n {
			dv := &webnet.Device{CustomerID: c.ID, DeviceGroupID: &g.ID, Name: fmt.Sprintf("dev-%05d", i), Address: "192.0.2.1", Port: 22,
				Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateDevice(ctx, dv); err != nil {
				return err
			}
			devices = append(devices, dv.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return customer, devices
}

// BenchmarkBulkJobReads is what a viewer's reads of a job over 10,000 devices cost: the job
// with its targets (GET /api/jobs/{id}/) and a page of its log (GET /api/jobs/{id}/logs/,
// which a client following the job by polling asks for again and again). Both decide which
// targets the viewer may see.
//
//	go test -run XXX -bench BulkJobReads -benchtime 20x ./internal/service/
func BenchmarkBulkJobReads(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			customer, devices := seedFleet(b, db, 10000)
			now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			u := &webnet.User{Username: "viewer", PasswordHash: "x", IsActive: true, CreatedAt: now}
			var job int64
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if err := tx.CreateMembership(ctx, &webnet.Membership{UserID: u.ID, CustomerID: customer, Role: webnet.RoleViewer, CreatedAt: now}); err != nil {
					return err
				}
				j, err := service.QueuedJobs{}.CreateJob(ctx, tx, service.NewJob{CustomerID: customer, Kind: webnet.JobSync, DeviceIDs: devices})
				job = j.ID
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			access, err := service.NewAccess(db)
			if err != nil {
				b.Fatal(err)
			}
			core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: webnet.SystemClock{}})
			if err != nil {
				b.Fatal(err)
			}
			as := service.WithSubject(ctx, &service.Subject{User: u})
			b.Run("job", func(b *testing.B) {
				for b.Loop() {
					j, err := core.GetJob(as, job)
					if err != nil || len(j.Targets) != len(devices) {
						b.Fatal(err)
					}
				}
			})
			b.Run("logs", func(b *testing.B) {
				for b.Loop() {
					if lines, err := core.JobLogs(as, job, 0, 100); err != nil || len(lines) != 1 {
						b.Fatal(len(lines), err)
					}
				}
			})
		})
	}
}
