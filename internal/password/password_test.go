package password

import (
	"context"
	"strings"
	"testing"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := NewHasher(fast, 2)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q lacks its parameters", enc)
	}
	again, _ := h.Hash(ctx, "correct horse battery")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}} {
		ok, err := h.Verify(ctx, tc.pw, enc)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
}

func TestVerifyUsesStoredParams(t *testing.T) {
	ctx := context.Background()
	old, _ := NewHasher(fast, 1)
	enc, _ := old.Hash(ctx, "a long password")
	stronger := fast
	stronger.Memory, stronger.Time = 128, 2
	h, _ := NewHasher(stronger, 1)
	if ok, err := h.Verify(ctx, "a long password", enc); !ok || err != nil {
		t.Fatalf("verify with stored params: %v %v", ok, err)
	}
	if !h.NeedsRehash(enc) {
		t.Error("NeedsRehash = false for a hash with weaker params")
	}
	enc2, _ := h.Hash(ctx, "x")
	if h.NeedsRehash(enc2) {
		t.Error("NeedsRehash = true for a current hash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h, _ := NewHasher(fast, 1)
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
	} {
		if ok, err := h.Verify(context.Background(), "pw", enc); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", enc, ok, err)
		}
	}
}

func TestWeakParamsRefused(t *testing.T) {
	if _, err := NewHasher(Params{Memory: 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1); err == nil {
		t.Fatal("NewHasher accepted 1 KiB of memory")
	}
}

func TestConcurrencyBoundHonoursContext(t *testing.T) {
	h, _ := NewHasher(fast, 1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); err == nil {
		t.Fatal("Hash ran while every slot was taken and the context was done")
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h, _ := NewHasher(DefaultParams, 1)
	enc, _ := h.Hash(context.Background(), "benchmark password")
	for b.Loop() {
		h.Verify(context.Background(), "benchmark password", enc)
	}
}
