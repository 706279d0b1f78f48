package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
)

// envKey returns the base64 of a 32-byte key filled with b.
func envKey(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, keyLen)) }

// envKeyring returns a keyring with the given "id:base64" list; it touches no file.
func envKeyring(t testing.TB, list string) *Keyring {
	t.Helper()
	k, err := LoadKeyring(t.TempDir(), list)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var where = AAD{CustomerID: 7, Table: "devices", Column: "password", RowID: 42}

func TestRoundTrip(t *testing.T) {
	k := envKeyring(t, "1:"+envKey(1)+",2:"+envKey(2))
	for _, s := range []string{"x", plain, strings.Repeat("ssh-key ", 500), "ünïcødé\x00bytes"} {
		b, err := k.Encrypt(NewValue(s), where)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0x01 || b[1] != 2 || len(b) != 2+12+len(s)+16 {
			t.Errorf("ciphertext header %x, length %d: want version 1, key 2, length %d", b[:2], len(b), 2+12+len(s)+16)
		}
		if len(s) >= 8 && bytes.Contains(b, []byte(s)) { // a shorter one may appear by chance
			t.Errorf("ciphertext contains the plaintext %q", s)
		}
		got, err := k.Decrypt(b, where)
		if err != nil || got.Reveal() != s {
			t.Errorf("Decrypt = %q, %v; want %q", got.Reveal(), err, s)
		}
		again, _ := k.Encrypt(NewValue(s), where)
		if bytes.Equal(again, b) {
			t.Error("two encryptions are equal: nonce not random")
		}
	}
}

func TestZeroValueAndEmptyCiphertext(t *testing.T) {
	k := envKeyring(t, envKey(1))
	b, err := k.Encrypt(Value{}, where)
	if b != nil || err != nil {
		t.Errorf("Encrypt(zero) = %x, %v; want nil, nil", b, err)
	}
	for _, empty := range [][]byte{nil, {}} {
		v, err := k.Decrypt(empty, where)
		if !v.IsZero() || err != nil {
			t.Errorf("Decrypt(%#v) = %v, %v; want zero, nil", empty, v.IsZero(), err)
		}
	}
}

func TestAADRequired(t *testing.T) {
	k := envKeyring(t, envKey(1))
	for _, aad := range []AAD{{}, {Table: "devices"}, {Column: "password"}} {
		if _, err := k.Encrypt(NewValue(plain), aad); !errors.Is(err, ErrAAD) {
			t.Errorf("Encrypt with %+v: %v, want ErrAAD", aad, err)
		}
		if _, err := k.Decrypt([]byte{1}, aad); !errors.Is(err, ErrAAD) {
			t.Errorf("Decrypt with %+v: %v, want ErrAAD", aad, err)
		}
	}
}

func TestDecryptFailures(t *testing.T) {
	k := envKeyring(t, "1:"+envKey(1)+",2:"+envKey(2))
	good, err := k.Encrypt(NewValue(plain), where)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	flip := func(i int) []byte { return edit(func(b []byte) []byte { b[i] ^= 0x01; return b }) }
	with := func(f func(a *AAD)) AAD { a := where; f(&a); return a }

	for _, tc := range []struct {
		name string
		b    []byte
		aad  AAD
		want error
	}{
		{"other row", good, with(func(a *AAD) { a.RowID = 43 }), ErrAuth},
		{"other column", good, with(func(a *AAD) { a.Column = "enable_secret" }), ErrAuth},
		{"other table", good, with(func(a *AAD) { a.Table = "jobs" }), ErrAuth},
		{"other customer", good, with(func(a *AAD) { a.CustomerID = 8 }), ErrAuth},
		{"table and column boundary moved", good, with(func(a *AAD) { a.Table, a.Column = "devicesp", "assword" }), ErrAuth},
		{"nonce byte flipped", flip(2), where, ErrAuth},
		{"ciphertext byte flipped", flip(2 + 12 + 3), where, ErrAuth},
		{"tag byte flipped", flip(len(good) - 1), where, ErrAuth},
		{"relabelled to another known key", edit(func(b []byte) []byte { b[1] = 1; return b }), where, ErrAuth},
		{"unknown key id", edit(func(b []byte) []byte { b[1] = 9; return b }), where, ErrUnknownKey},
		{"key id 0", edit(func(b []byte) []byte { b[1] = 0; return b }), where, ErrMalformed},
		{"wrong version", edit(func(b []byte) []byte { b[0] = 0x02; return b }), where, ErrVersion},
		{"version 0", edit(func(b []byte) []byte { b[0] = 0x00; return b }), where, ErrVersion},
		{"truncated", good[:len(good)-1], where, ErrAuth},
		{"header only", good[:2], where, ErrMalformed},
		{"one byte", good[:1], where, ErrMalformed},
		{"appended byte", append(bytes.Clone(good), 0), where, ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := k.Decrypt(tc.b, tc.aad)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decrypt: %v; want %v", err, tc.want)
			}
			if !v.IsZero() {
				t.Error("a failed Decrypt returned a Value")
			}
			msg := err.Error()
			if strings.Contains(msg, plain) || strings.Contains(msg, envKey(1)) || strings.Contains(msg, envKey(2)) {
				t.Errorf("error %q leaks plaintext or key material", msg)
			}
		})
	}
	if v, err := k.Decrypt(good, where); err != nil || v.Reveal() != plain {
		t.Fatalf("the untouched ciphertext no longer decrypts: %v", err)
	}
}

func TestKeyIDAndNeedsReencrypt(t *testing.T) {
	old := envKeyring(t, envKey(1))
	k := envKeyring(t, "1:"+envKey(1)+",2:"+envKey(2))
	underOld, _ := old.Encrypt(NewValue(plain), where)
	underNew, _ := k.Encrypt(NewValue(plain), where)
	for _, tc := range []struct {
		name   string
		b      []byte
		id     byte
		idErr  error
		reencr bool
	}{
		{"old key", underOld, 1, nil, true},
		{"current key", underNew, 2, nil, false},
		{"empty", nil, 0, ErrMalformed, false},
		{"too short", underNew[:5], 0, ErrMalformed, true},
		{"other version", append([]byte{9}, underNew[1:]...), 0, ErrVersion, true},
	} {
		id, err := KeyID(tc.b)
		if id != tc.id || !errors.Is(err, tc.idErr) {
			t.Errorf("%s: KeyID = %d, %v; want %d, %v", tc.name, id, err, tc.id, tc.idErr)
		}
		if got := k.NeedsReencrypt(tc.b); got != tc.reencr {
			t.Errorf("%s: NeedsReencrypt = %v, want %v", tc.name, got, tc.reencr)
		}
	}
	if v, err := k.Decrypt(underOld, where); err != nil || v.Reveal() != plain {
		t.Errorf("a value under the old key does not decrypt with both keys: %v", err)
	}
	if _, err := old.Decrypt(underNew, where); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a keyring without key 2 decrypting under key 2: %v, want ErrUnknownKey", err)
	}
}

func TestConcurrentUseDuringRotate(t *testing.T) {
	k, err := LoadKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				b, err := k.Encrypt(NewValue(plain), where)
				if err != nil {
					t.Error(err)
					return
				}
				if v, err := k.Decrypt(b, where); err != nil || v.Reveal() != plain {
					t.Errorf("Decrypt during rotation: %v", err)
					return
				}
			}
		})
	}
	for range 3 {
		if _, err := k.Rotate(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if k.CurrentID() != 4 {
		t.Errorf("CurrentID = %d after three rotations, want 4", k.CurrentID())
	}
}

func BenchmarkEncryptDecrypt2KB(b *testing.B) {
	k := envKeyring(b, envKey(1))
	v := NewValue(strings.Repeat("k", 2048))
	b.SetBytes(2048)
	b.ReportAllocs()
	for b.Loop() {
		ct, err := k.Encrypt(v, where)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Decrypt(ct, where); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAADBindsKeyID: an operator may list one key under two ids. Relabelling a ciphertext from
// one id to the other must still fail, which only the key id inside the AAD ensures.
func TestAADBindsKeyID(t *testing.T) {
	k := envKeyring(t, "1:"+envKey(1)+",2:"+envKey(1))
	b, _ := k.Encrypt(NewValue(plain), where)
	b[1] = 1
	if _, err := k.Decrypt(b, where); !errors.Is(err, ErrAuth) {
		t.Errorf("relabelled to an id with the same key: %v, want ErrAuth", err)
	}
}

// TestAADEncodingIsUnambiguous: places whose fields concatenate to the same bytes must still
// differ, so that one cannot be passed off as the other.
func TestAADEncodingIsUnambiguous(t *testing.T) {
	k := envKeyring(t, envKey(1))
	for _, pair := range [][2]AAD{
		{{Table: "ab", Column: "c"}, {Table: "a", Column: "bc"}},
		{{Table: "t", Column: "\x00\x00\x00\x01x"}, {Table: "t\x00\x00\x00\x05", Column: "x"}},
		{{Table: "t", Column: "c", CustomerID: 1}, {Table: "t", Column: "c", RowID: 1}},
		{{Table: "t", Column: "c", CustomerID: -1}, {Table: "t", Column: "c", CustomerID: 1<<63 - 1}},
	} {
		b, _ := k.Encrypt(NewValue(plain), pair[0])
		if _, err := k.Decrypt(b, pair[1]); !errors.Is(err, ErrAuth) {
			t.Errorf("encrypted for %+v, decrypted for %+v: %v; want ErrAuth", pair[0], pair[1], err)
		}
	}
}
