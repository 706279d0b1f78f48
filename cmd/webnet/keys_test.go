package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// keysWorld opens the data dir's database with the keys the configuration names, as a process
// starting after the command would.
func keysWorld(t *testing.T, dir, envKey string) (*service.Core, *secret.Keyring, *store.DB) {
	t.Helper()
	ctx := context.Background()
	keyring, err := secret.LoadKeyring(dir, envKey)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(ctx, Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: webnet.SystemClock{}, Keyring: keyring})
	if err != nil {
		t.Fatal(err)
	}
	return core, keyring, db
}

// seedCredential stores a customer and one credential with a password, and returns its id.
func seedCredential(t *testing.T, dir, envKey, plain string) int64 {
	t.Helper()
	core, _, db := keysWorld(t, dir, envKey)
	ctx := service.WithSubject(context.Background(), service.System())
	c := &webnet.Customer{Name: "acme", Slug: "acme", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	var pw service.SecretField
	b, _ := json.Marshal(plain)
	if err := json.Unmarshal(b, &pw); err != nil {
		t.Fatal(err)
	}
	v, err := core.CreateCredential(ctx, service.CredentialInput{Customer: &c.ID, Name: "core", Username: "ops", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return v.ID
}

// passwordKeyID returns the key id of a credential's stored password and its plaintext as a
// fresh process decrypts it.
func passwordKeyID(t *testing.T, dir, envKey string, id int64) (byte, string) {
	t.Helper()
	core, _, db := keysWorld(t, dir, envKey)
	ctx := service.WithSubject(context.Background(), service.System())
	cr, err := db.Read().CredentialByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	k, err := secret.KeyID(cr.Password)
	if err != nil {
		t.Fatal(err)
	}
	l, err := core.DecryptCredential(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return k, l.Password.Reveal()
}

func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WEBNET_DATA_DIR": dir, "WEBNET_LOG_FORMAT": "json"}
	for _, args := range [][]string{{"keys", "--help"}, {"keys", "rotate", "--help"}, {"keys", "reencrypt", "--help"}} {
		want := "Usage: webnet " + strings.Join(args[:len(args)-1], " ")
		if code, _, errOut := runCLI(t, "", env, args...); code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", env, "keys"); code != 2 || !strings.Contains(errOut, "rotate") {
		t.Errorf("keys without a subcommand: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", env, "keys", "spin"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", env, "keys", "rotate", "extra"); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
	if code, out, _ := runCLI(t, "", env, "help"); code != 0 || !strings.Contains(out, "keys rotate") {
		t.Errorf("usage does not list keys rotate: %d %q", code, out)
	}

	const plain = "PLAINTEXT-router-pass"
	id := seedCredential(t, dir, "", plain)
	code, out, errOut := runCLI(t, "", env, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "added key id 2 and re-encrypted 1 values") || !strings.Contains(out, "restart") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errOut)
	}
	if k, got := passwordKeyID(t, dir, "", id); k != 2 || got != plain {
		t.Fatalf("after rotate: key %d, decrypts correctly %v", k, got == plain)
	}
	code, out, errOut = runCLI(t, "", env, "keys", "reencrypt")
	if code != 0 || !strings.Contains(out, "re-encrypted 0 values under key id 2") {
		t.Fatalf("keys reencrypt: %d %q %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, plain) {
		t.Fatal("the command printed a secret")
	}
}

func TestKeysRotateWithEnvironmentKeys(t *testing.T) {
	dir := t.TempDir()
	k1 := newTestKey(t)
	const plain = "PLAINTEXT-router-pass"
	id := seedCredential(t, dir, k1, plain)
	both := "1:" + k1 + ",2:" + newTestKey(t)
	env := map[string]string{"WEBNET_DATA_DIR": dir, "WEBNET_LOG_FORMAT": "json", "WEBNET_SECRET_KEY": both}
	code, out, errOut := runCLI(t, "", env, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "WEBNET_SECRET_KEY is set") || !strings.Contains(out, "re-encrypted 1 values under key id 2") {
		t.Fatalf("keys rotate with WEBNET_SECRET_KEY: %d %q %q", code, out, errOut)
	}
	if k, got := passwordKeyID(t, dir, both, id); k != 2 || got != plain {
		t.Fatalf("after re-encryption: key %d, decrypts correctly %v", k, got == plain)
	}
	if strings.Contains(out+errOut, plain) || strings.Contains(out+errOut, k1) {
		t.Fatal("the command printed a secret or a key")
	}
}

func newTestKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
