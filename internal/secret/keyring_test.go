package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// keyLines returns the key lines of the file at path, comments and blanks left out.
func keyLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func writeFile(t *testing.T, dir, content string, mode fs.FileMode) {
	t.Helper()
	path := filepath.Join(dir, "secret.keys")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
}

func TestLoadKeyringCreatesFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not enforced on windows")
	}
	dir := filepath.Join(t.TempDir(), "data") // missing: LoadKeyring creates it
	k, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "secret.keys")
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("key file mode %#o, want 0600", m)
	}
	if m := fileMode(t, dir); m != 0o700 {
		t.Errorf("data dir mode %#o, want 0700", m)
	}
	if lines := keyLines(t, path); len(lines) != 1 || !strings.HasPrefix(lines[0], "1:") {
		t.Errorf("new key file holds %q, want one key with id 1", lines)
	}
	if k.CurrentID() != 1 {
		t.Errorf("CurrentID = %d, want 1", k.CurrentID())
	}
	b, err := k.Encrypt(NewValue(plain), where)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := again.Decrypt(b, where); err != nil || v.Reveal() != plain {
		t.Errorf("reloaded keyring does not decrypt what the first encrypted: %v", err)
	}
	other, _ := LoadKeyring(t.TempDir(), "")
	if _, err := other.Decrypt(b, where); !errors.Is(err, ErrAuth) {
		t.Errorf("another data dir's key decrypted it (%v): keys are not random", err)
	}
}

func TestLoadKeyringConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	rings := make([]*Keyring, 8)
	var wg sync.WaitGroup
	for i := range rings {
		wg.Go(func() {
			k, err := LoadKeyring(dir, "")
			if err != nil {
				t.Error(err)
			}
			rings[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	b, _ := rings[0].Encrypt(NewValue(plain), where)
	for i, k := range rings {
		if _, err := k.Decrypt(b, where); err != nil {
			t.Errorf("keyring %d loaded at the same time disagrees on key 1: %v", i, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only secret.keys (temporary files left?)", len(entries))
	}
}

func TestLoadKeyringRefusesReadableFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not enforced on windows")
	}
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		dir := t.TempDir()
		writeFile(t, dir, "1:"+envKey(1)+"\n", mode)
		_, err := LoadKeyring(dir, "")
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %#o: %v; want a refusal telling to chmod 600", mode, err)
		}
	}
	dir := t.TempDir()
	writeFile(t, dir, "1:"+envKey(1)+"\n", 0o400)
	if _, err := LoadKeyring(dir, ""); err != nil {
		t.Errorf("mode 0400 refused: %v", err)
	}
}

func TestKeyFileFormat(t *testing.T) {
	k1, k2, k3 := envKey(1), envKey(2), envKey(3)
	for _, tc := range []struct {
		name    string
		content string
		current byte   // when valid
		errText string // when not
	}{
		{"one key", "1:" + k1 + "\n", 1, ""},
		{"comments, blanks and spaces", "# keys\n\n 2 : " + k2 + "  # newest\n1:" + k1 + "\n", 2, ""},
		{"highest id current, not last", "3:" + k3 + "\n1:" + k1 + "\n", 3, ""},
		{"no trailing newline, CRLF", "1:" + k1 + "\r\n2:" + k2, 2, ""},
		{"unpadded url base64", "1:" + strings.TrimRight(base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), "="), 1, ""},
		{"missing colon", "1:" + k1 + "\n# c\n" + k2 + "\n", 0, "line 3:"},
		{"id zero", "0:" + k1, 0, "line 1:"},
		{"id too large", "1:" + k1 + "\n256:" + k2, 0, "line 2:"},
		{"id not a number", "one:" + k1, 0, "line 1:"},
		{"bad base64", "1:" + k1 + "\n2:not*base64", 0, "line 2:"},
		{"short key", "1:" + base64.StdEncoding.EncodeToString(make([]byte, 31)), 0, "line 1:"},
		{"long key", "\n\n1:" + base64.StdEncoding.EncodeToString(make([]byte, 33)), 0, "line 3:"},
		{"duplicate id", "1:" + k1 + "\n1:" + k2, 0, "line 2:"},
		{"no keys", "# only a comment\n\n", 0, "no keys"},
		{"empty", "", 0, "no keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, tc.content, 0o600)
			k, err := LoadKeyring(dir, "")
			if tc.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.CurrentID() != tc.current {
					t.Errorf("CurrentID = %d, want %d", k.CurrentID(), tc.current)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("LoadKeyring: %v; want an error with %q", err, tc.errText)
			}
			for _, key := range []string{k1, k2, k3} {
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q quotes a key", err)
				}
			}
		})
	}
}

func TestLoadKeyringFromEnv(t *testing.T) {
	ff := bytes.Repeat([]byte{0xff}, 32) // "////..." in std base64, "____..." in url
	// Every valid form below holds the key of 0xff bytes as id 1 or under the id in one.
	for _, tc := range []struct {
		name    string
		env     string
		current byte
		one     byte   // the id of the 0xff key
		errText string // when refused
	}{
		{"std padded", base64.StdEncoding.EncodeToString(ff), 1, 1, ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(ff), 1, 1, ""},
		{"url padded", base64.URLEncoding.EncodeToString(ff), 1, 1, ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(ff), 1, 1, ""},
		{"surrounding space", " " + base64.StdEncoding.EncodeToString(ff) + "\n", 1, 1, ""},
		{"list, highest current", "1:" + envKey(1) + ",3:" + base64.StdEncoding.EncodeToString(ff) + ",2:" + envKey(2), 3, 3, ""},
		{"list with spaces", " 5 : " + base64.RawURLEncoding.EncodeToString(ff) + " , 4:" + envKey(4), 5, 5, ""},
		{"list of one", "1:" + base64.StdEncoding.EncodeToString(ff), 1, 1, ""},
		{"31 bytes", base64.StdEncoding.EncodeToString(ff[:31]), 0, 0, "31 bytes, want 32"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(ff, 1)), 0, 0, "33 bytes, want 32"},
		{"16 bytes in a list", "1:" + envKey(1) + ",2:" + base64.StdEncoding.EncodeToString(ff[:16]), 0, 0, "entry 2: key id 2: key is 16 bytes"},
		{"not base64", "this is not base64!", 0, 0, "not valid base64"},
		{"whitespace only", "   ", 0, 0, "32"},
		{"id zero", "0:" + envKey(1), 0, 0, "entry 1: key id must be"},
		{"duplicate id", "1:" + envKey(1) + ",1:" + envKey(2), 0, 0, "entry 2: key id 1 is listed twice"},
		{"empty entry", "1:" + envKey(1) + ",", 0, 0, "entry 2:"},
		{"entry without id", "1:" + envKey(1) + "," + envKey(2), 0, 0, "entry 2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k, err := LoadKeyring(dir, tc.env)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Error("a keyring from WEBNET_SECRET_KEY wrote to the data dir")
			}
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), "WEBNET_SECRET_KEY") {
					t.Fatalf("LoadKeyring: %v; want an error about WEBNET_SECRET_KEY with %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.CurrentID() != tc.current {
				t.Errorf("CurrentID = %d, want %d", k.CurrentID(), tc.current)
			}
			// The key must be the 0xff key under id tc.one: check against a keyring built
			// from the raw bytes, in both directions.
			ref := &Keyring{keys: map[byte]*key{}, current: tc.one}
			ref.keys[tc.one], _ = newKey(ff)
			b, _ := ref.Encrypt(NewValue(plain), where)
			if v, err := k.Decrypt(b, where); err != nil || v.Reveal() != plain {
				t.Errorf("key id %d is not the key given: %v", tc.one, err)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	old, _ := k.Encrypt(NewValue("old secret"), where)
	id, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if id != 2 || k.CurrentID() != 2 {
		t.Fatalf("Rotate = %d, CurrentID = %d; want 2, 2", id, k.CurrentID())
	}
	fresh, _ := k.Encrypt(NewValue("new secret"), where)
	if got, _ := KeyID(fresh); got != 2 {
		t.Errorf("new value encrypted under key %d, want 2", got)
	}
	if !k.NeedsReencrypt(old) || k.NeedsReencrypt(fresh) {
		t.Errorf("NeedsReencrypt: old %v, new %v; want true, false", k.NeedsReencrypt(old), k.NeedsReencrypt(fresh))
	}

	path := filepath.Join(dir, "secret.keys")
	if lines := keyLines(t, path); len(lines) != 2 {
		t.Errorf("key file holds %d keys after rotation, want 2", len(lines))
	}
	if runtime.GOOS != "windows" {
		if m := fileMode(t, path); m != 0o600 {
			t.Errorf("key file mode %#o after rotation, want 0600", m)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries after rotation, want only secret.keys", len(entries))
	}
	reloaded, err := LoadKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.CurrentID() != 2 {
		t.Errorf("reloaded CurrentID = %d, want 2", reloaded.CurrentID())
	}
	for _, tc := range []struct {
		b    []byte
		want string
	}{{old, "old secret"}, {fresh, "new secret"}} {
		for name, kr := range map[string]*Keyring{"rotated": k, "reloaded": reloaded} {
			if v, err := kr.Decrypt(tc.b, where); err != nil || v.Reveal() != tc.want {
				t.Errorf("%s keyring: Decrypt = %q, %v; want %q", name, v.Reveal(), err, tc.want)
			}
		}
	}
}

// TestRotateKeepsKeysOfOthers: two processes hold the same key file; each rotates in turn. The
// second must keep the key the first added, or what the first encrypted would be lost.
func TestRotateKeepsKeysOfOthers(t *testing.T) {
	dir := t.TempDir()
	a, _ := LoadKeyring(dir, "")
	b, _ := LoadKeyring(dir, "")
	if id, err := a.Rotate(); err != nil || id != 2 {
		t.Fatalf("a.Rotate = %d, %v", id, err)
	}
	underA, _ := a.Encrypt(NewValue(plain), where)
	if id, err := b.Rotate(); err != nil || id != 3 {
		t.Fatalf("b.Rotate = %d, %v; want 3 (after a's 2)", id, err)
	}
	if v, err := b.Decrypt(underA, where); err != nil || v.Reveal() != plain {
		t.Errorf("b lost a's key: %v", err)
	}
	reloaded, _ := LoadKeyring(dir, "")
	if v, err := reloaded.Decrypt(underA, where); err != nil || v.Reveal() != plain || reloaded.CurrentID() != 3 {
		t.Errorf("reloaded: current %d, Decrypt %v", reloaded.CurrentID(), err)
	}
}

func TestRotateRefusals(t *testing.T) {
	env := envKeyring(t, "1:"+envKey(1))
	if _, err := env.Rotate(); err == nil || !strings.Contains(err.Error(), "WEBNET_SECRET_KEY") {
		t.Errorf("Rotate on an env keyring: %v; want an error explaining WEBNET_SECRET_KEY", err)
	}
	if env.CurrentID() != 1 {
		t.Error("a refused Rotate changed the current key")
	}

	for _, tc := range []struct {
		name    string
		before  string
		after   string // the file as changed behind the keyring's back; "" for unchanged
		errText string
	}{
		{"no id after 255", "255:" + envKey(1), "", "255"},
		{"loaded key changed", "1:" + envKey(1), "1:" + envKey(2), "key id 1"},
		{"loaded key removed", "1:" + envKey(1) + "\n2:" + envKey(2), "2:" + envKey(2), "key id 1"},
		{"file made readable", "1:" + envKey(1), "", "chmod 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, tc.before, 0o600)
			k, err := LoadKeyring(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			current := k.CurrentID()
			switch {
			case tc.after != "":
				writeFile(t, dir, tc.after, 0o600)
			case tc.name == "file made readable":
				if runtime.GOOS == "windows" {
					t.Skip("file modes are not enforced on windows")
				}
				os.Chmod(filepath.Join(dir, "secret.keys"), 0o644)
			}
			if _, err := k.Rotate(); err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("Rotate: %v; want an error with %q", err, tc.errText)
			}
			if k.CurrentID() != current {
				t.Error("a refused Rotate changed the current key")
			}
		})
	}
}
