package store_test

import (
	"context"
	"fmt"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// BenchmarkTokenByHash is the database lookup behind a token cache miss: one indexed join,
// with 10,000 tokens in the table.
func BenchmarkTokenByHash(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				u := &webnet.User{Username: "bench", PasswordHash: "x", IsActive: true, CreatedAt: t0}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				for i := range 10000 {
					tok := &webnet.Token{UserID: u.ID, Prefix: "wn_", CreatedAt: t0}
					if err := tx.CreateToken(ctx, tok, fmt.Sprintf("hash-%05d", i)); err != nil {
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
				if _, _, err := q.TokenByHash(ctx, "hash-05000"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuditedMutation compares a device creation transaction with and without its audit
// record (chain head read and lock, insert, head update). Budget: audited ≤ 1.3× plain.
func BenchmarkAuditedMutation(b *testing.B) {
	for _, d := range storetest.Backends {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			c := &webnet.Customer{Name: "c", Slug: "c", CreatedAt: t0}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
				b.Fatal(err)
			}
			n := 0
			run := func(b *testing.B, audited bool) {
				for b.Loop() {
					n++
					err := db.InTx(ctx, func(tx *store.Tx) error {
						dev := &webnet.Device{CustomerID: c.ID, Name: fmt.Sprintf("d%07d", n), Address: "192.0.2.1", Port: 22,
							Platform: "cisco_iosxe", Enabled: true, CreatedAt: t0, UpdatedAt: t0}
						if err := tx.CreateDevice(ctx, dev); err != nil {
							return err
						}
						if !audited {
							return nil
						}
						cid := c.ID
						return tx.AppendActivity(ctx, &store.Activity{At: t0, ActorUsername: "bench", CustomerID: &cid,
							Action: "device.create", ObjectType: "device", ObjectID: fmt.Sprint(dev.ID), ObjectRepr: dev.Name,
							Result: "success", Details: []byte(`{"after":{"name":"` + dev.Name + `","port":22}}`)})
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("plain", func(b *testing.B) { run(b, false) })
			b.Run("audited", func(b *testing.B) { run(b, true) })
		})
	}
}
