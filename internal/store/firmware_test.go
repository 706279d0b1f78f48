package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

func TestFirmwareImageConstraints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		write := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		customers := []*webnet.Customer{{Name: "acme", Slug: "acme", CreatedAt: now}, {Name: "globex", Slug: "globex", CreatedAt: now}}
		if err := write(func(tx *store.Tx) error {
			for _, c := range customers {
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		acme, globex := customers[0].ID, customers[1].ID
		image := func(customer *int64, sha string, golden bool) *webnet.FirmwareImage {
			return &webnet.FirmwareImage{CustomerID: customer, Platform: "cisco_iosxe", Version: "17.12.03", Filename: "a.bin",
				Size: 10, SHA256: sha, MD5: "m", Golden: golden, Path: "firmware/" + sha, CreatedAt: now, UpdatedAt: now}
		}
		insert := func(f *webnet.FirmwareImage) error {
			return write(func(tx *store.Tx) error { return tx.CreateFirmwareImage(ctx, f) })
		}
		sha := strings.Repeat("a", 64)
		g1 := image(nil, sha, true)
		a1 := image(&acme, sha, true)
		x1 := image(&globex, sha, true)
		for _, f := range []*webnet.FirmwareImage{g1, a1, x1} {
			if err := insert(f); err != nil {
				t.Fatalf("the same content in three scopes: %v", err)
			}
		}
		// Once per scope and content, global images included (NULL is no exemption); one
		// golden image per scope, platform and model.
		for name, f := range map[string]*webnet.FirmwareImage{
			"global duplicate":   image(nil, sha, false),
			"customer duplicate": image(&acme, sha, false),
			"second golden":      image(&acme, strings.Repeat("b", 64), true),
			"second global gold": image(nil, strings.Repeat("c", 64), true),
		} {
			if err := insert(f); webnet.ErrorCode(err) != webnet.EConflict {
				t.Errorf("%s: %v, want a conflict", name, err)
			}
		}
		other := image(&acme, strings.Repeat("d", 64), false)
		other.Model = "C9300-48P"
		other.Golden = true
		if err := insert(other); err != nil {
			t.Fatalf("golden for one model beside the platform's: %v", err)
		}
		if err := write(func(tx *store.Tx) error {
			cleared, err := tx.ClearGolden(ctx, &acme, "cisco_iosxe", "", 0, now)
			if err != nil || !slices.Equal(cleared, []int64{a1.ID}) {
				t.Errorf("clear acme's golden: %v, %v", cleared, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		golden := true
		gold, _, _ := db.Read().ListFirmwareImages(ctx, authz.All(), store.FirmwareFilter{Golden: &golden}, webnet.Page{Limit: 10})
		if len(gold) != 3 {
			t.Fatalf("golden after clearing acme's: %+v", gold)
		}

		// Jobs that hold an image: unfinished readiness and upgrade jobs naming it, of the
		// image's customer only for a customer's image.
		job := func(customer int64, kind, status string, params string) int64 {
			j := &webnet.Job{CustomerID: customer, Kind: kind, Status: status, Params: json.RawMessage(params), CreatedAt: now}
			if err := write(func(tx *store.Tx) error { return tx.CreateJob(ctx, j) }); err != nil {
				t.Fatal(err)
			}
			return j.ID
		}
		imageParams := func(id int64) string { b, _ := json.Marshal(map[string]any{"image": id}); return string(b) }
		held := job(acme, webnet.JobUpgrade, webnet.JobQueued, imageParams(a1.ID))
		job(acme, webnet.JobUpgrade, webnet.JobSucceeded, imageParams(a1.ID))
		job(acme, webnet.JobSync, webnet.JobQueued, imageParams(a1.ID))
		job(acme, webnet.JobReadiness, webnet.JobRunning, `{"image":"not a number"}`)
		byGlobex := job(globex, webnet.JobReadiness, webnet.JobRunning, imageParams(a1.ID))
		for _, c := range []struct {
			image    int64
			customer *int64
			want     []int64
		}{
			{a1.ID, &acme, []int64{held}},         // globex's job naming acme's image does not hold it
			{a1.ID, nil, []int64{held, byGlobex}}, // as a global image, any customer's job would
			{x1.ID, &globex, nil},
		} {
			got, err := db.Read().JobsUsingImage(ctx, c.image, c.customer)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("jobs using %d: %v, %v; want %v", c.image, got, err, c.want)
			}
		}

		// Deleting reports whether another scope still has the file.
		for i, f := range []*webnet.FirmwareImage{g1, a1, x1} {
			var inUse bool
			if err := write(func(tx *store.Tx) (err error) { inUse, err = tx.DeleteFirmwareImage(ctx, f.ID); return err }); err != nil {
				t.Fatal(err)
			}
			if inUse != (i < 2) {
				t.Errorf("delete %d of 3: file in use %v", i+1, inUse)
			}
		}
		if err := write(func(tx *store.Tx) error { _, err := tx.DeleteFirmwareImage(ctx, g1.ID); return err }); webnet.ErrorCode(err) != webnet.ENotFound {
			t.Fatalf("delete twice: %v", err)
		}
	})
}
