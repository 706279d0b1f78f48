package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// TestBulkJobCreation: a job over hundreds of devices is written in batches (more rows than
// one SQLite batch holds), with every target as given, and LockDevices locks the free
// devices and names the holder of each busy one, in one call.
func TestBulkJobCreation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		var devices []int64
		first := &webnet.Job{Kind: webnet.JobSync, Status: webnet.JobQueued, CreatedAt: now}
		second := &webnet.Job{Kind: webnet.JobSync, Status: webnet.JobQueued, CreatedAt: now}
		var busy map[int64]int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			customer, ids, err := createFleet(ctx, tx, 300)
			if err != nil {
				return err
			}
			devices = ids
			// The first job holds every third device.
			first.CustomerID, second.CustomerID = customer, customer
			var held []int64
			for i := 0; i < len(devices); i += 3 {
				held = append(held, devices[i])
				first.Targets = append(first.Targets, webnet.JobTarget{DeviceID: devices[i], Status: webnet.TargetPending})
			}
			if err := tx.CreateJob(ctx, first); err != nil {
				return err
			}
			if got, err := tx.LockDevices(ctx, first.ID, held); err != nil || len(got) != 0 {
				return fmt.Errorf("the first job's locks: busy %v, %v", got, err)
			}
			for i, d := range devices {
				second.Targets = append(second.Targets, webnet.JobTarget{DeviceID: d, Status: webnet.TargetPending, Message: fmt.Sprint("m", i)})
			}
			if err := tx.CreateJob(ctx, second); err != nil {
				return err
			}
			busy, err = tx.LockDevices(ctx, second.ID, devices)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(busy) != 100 {
			t.Fatalf("%d busy devices, want 100", len(busy))
		}
		for i, d := range devices {
			if h, ok := busy[d]; (i%3 == 0) != ok || (ok && h != first.ID) {
				t.Fatalf("device %d (index %d): busy %v, holder %d", d, i, ok, h)
			}
		}
		got, err := db.Read().JobByID(ctx, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ProgressTotal != 300 || len(got.Targets) != 300 {
			t.Fatalf("the second job: %d of %d targets", len(got.Targets), got.ProgressTotal)
		}
		for i, tg := range got.Targets {
			if tg.DeviceID != devices[i] || tg.Status != webnet.TargetPending || tg.Message != fmt.Sprint("m", i) {
				t.Fatalf("target %d: %+v", i, tg)
			}
		}
		// Each free device is the second job's now: nobody else can take it.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			again, err := tx.LockDevices(ctx, first.ID, devices[1:3])
			if err != nil {
				return err
			}
			if again[devices[1]] != second.ID || again[devices[2]] != second.ID {
				return fmt.Errorf("devices 1 and 2 held by %v, want job %d", again, second.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// createFleet creates customer "a" with n ungrouped devices, in tx.
func createFleet(ctx context.Context, tx *store.Tx, n int) (customer int64, devices []int64, err error) {
	now := time.Now().UTC()
	c := &webnet.Customer{Name: "A", Slug: "a", CreatedAt: now}
	if err := tx.CreateCustomer(ctx, c); err != nil {
		return 0, nil, err
	}
	for i := range n {
		d := &webnet.Device{CustomerID: c.ID, Name: fmt.Sprintf("d%03d", i), Address: "192.0.2.1", Port: 22,
			Platform: "cisco_iosxe", Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return 0, nil, err
		}
		devices = append(devices, d.ID)
	}
	return c.ID, devices, nil
}
