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
