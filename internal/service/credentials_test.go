package service_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// keysFixture is a Core over a real database with its own keyring, logging into a buffer.
type keysFixture struct {
	db       *store.DB
	core     *service.Core
	keyring  *secret.Keyring
	customer int64
	sys      context.Context
	logs     *bytes.Buffer
}

func newKeysFixture(t *testing.T, db *store.DB, keyring *secret.Keyring) *keysFixture {
	t.Helper()
	c := &webnet.Customer{Name: "acme", Slug: "acme", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateCustomer(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return withKeyring(t, db, c.ID, keyring)
}

// withKeyring builds the Core of a process that loaded keyring (a random key file when nil).
func withKeyring(t *testing.T, db *store.DB, customer int64, keyring *secret.Keyring) *keysFixture {
	t.Helper()
	if keyring == nil {
		var err error
		if keyring, err = secret.LoadKeyring(t.TempDir(), ""); err != nil {
			t.Fatal(err)
		}
	}
	access, err := service.NewAccess(db)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	clock := webnet.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	core, err := service.NewCore(service.CoreConfig{DB: db, Access: access, Clock: clock, Keyring: keyring,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return &keysFixture{db: db, core: core, keyring: keyring, customer: customer, logs: logs,
		sys: service.WithSubject(context.Background(), service.System())}
}

// secretOf returns a SecretField holding plain, as a decoded request body would.
func secretOf(t *testing.T, plain string) service.SecretField {
	t.Helper()
	var s service.SecretField
	if err := json.Unmarshal([]byte(fmt.Sprintf("%q", plain)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// create makes a credential with the given password and enable secret ("" for none).
func (f *keysFixture) create(t *testing.T, name, password, enable string) int64 {
	t.Helper()
	v, err := f.core.CreateCredential(f.sys, service.CredentialInput{Customer: &f.customer, Name: name, Username: "ops",
		Password: secretOf(t, password), EnableSecret: secretOf(t, enable)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return v.ID
}

func (f *keysFixture) rows(t *testing.T) []store.Credential {
	t.Helper()
	var out []store.Credential
	if err := f.db.InTx(context.Background(), func(tx *store.Tx) (err error) {
		out, err = tx.AllCredentials(context.Background())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *keysFixture) activity(t *testing.T, action string) []store.Activity {
	t.Helper()
	all, _, err := f.db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1", Action: action}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// keyIDs lists the key id of every stored ciphertext.
func keyIDs(t *testing.T, rows []store.Credential) []byte {
	t.Helper()
	var ids []byte
	for _, r := range rows {
		for _, b := range [][]byte{r.Password, r.EnableSecret, r.PrivateKey} {
			if len(b) == 0 {
				continue
			}
			id, err := secret.KeyID(b)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	return ids
}

func sameRows(a, b []store.Credential) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !bytes.Equal(a[i].Password, b[i].Password) || !bytes.Equal(a[i].EnableSecret, b[i].EnableSecret) ||
			!bytes.Equal(a[i].PrivateKey, b[i].PrivateKey) || !a[i].UpdatedAt.Equal(b[i].UpdatedAt) {
			return false
		}
	}
	return true
}

var plaintexts = map[string][2]string{
	"r1": {"r1-PLAINTEXT-pass", "r1-PLAINTEXT-enable"},
	"r2": {"r2-PLAINTEXT-pass", ""},
	"r3": {"r3-PLAINTEXT-pass", "r3-PLAINTEXT-enable"},
}

func TestRotateKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newKeysFixture(t, db, nil)
		ids := map[string]int64{}
		for _, name := range []string{"r1", "r2", "r3"} {
			ids[name] = f.create(t, name, plaintexts[name][0], plaintexts[name][1])
		}
		before := f.rows(t)
		n, keyID, err := f.core.RotateKeys(f.sys)
		if err != nil || n != 5 || keyID != 2 || f.keyring.CurrentID() != 2 {
			t.Fatalf("rotate: %d values, key %d, %v", n, keyID, err)
		}
		after := f.rows(t)
		for _, id := range keyIDs(t, after) {
			if id != 2 {
				t.Fatalf("a value is still under key %d after rotation", id)
			}
		}
		for i := range after {
			if bytes.Equal(after[i].Password, before[i].Password) || !after[i].UpdatedAt.Equal(before[i].UpdatedAt) {
				t.Fatalf("credential %d: password not re-encrypted, or updated_at moved", after[i].ID)
			}
		}
		for name, id := range ids {
			l, err := f.core.DecryptCredential(f.sys, id)
			if err != nil || l.Password.Reveal() != plaintexts[name][0] || l.EnableSecret.Reveal() != plaintexts[name][1] || l.Username != "ops" {
				t.Fatalf("decrypt %s after rotation: %v", name, err)
			}
		}
		recs := f.activity(t, "keys.rotate")
		if len(recs) != 1 || recs[0].Result != "success" || recs[0].ActorUsername != "system" {
			t.Fatalf("audit of the rotation: %+v", recs)
		}
		var details struct {
			KeyID  int `json:"key_id"`
			Values int `json:"values"`
		}
		if err := json.Unmarshal(recs[0].Details, &details); err != nil || details.KeyID != 2 || details.Values != 5 {
			t.Fatalf("rotation details %s", recs[0].Details)
		}
		// A second pass has nothing to do.
		if n, err := f.core.ReencryptCredentials(f.sys); err != nil || n != 0 {
			t.Fatalf("re-encrypt after rotation: %d %v", n, err)
		}
		f.checkNoLeaks(t)
	})
}

func TestRotateKeysRollsBackOnFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newKeysFixture(t, db, nil)
		r1 := f.create(t, "r1", plaintexts["r1"][0], plaintexts["r1"][1])
		r2 := f.create(t, "r2", plaintexts["r2"][0], "")
		r3 := f.create(t, "r3", plaintexts["r3"][0], plaintexts["r3"][1])
		// Corrupt r2's password: r1 comes first and would be re-encrypted before the failure.
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			c, err := tx.CredentialByID(context.Background(), r2)
			if err != nil {
				return err
			}
			c.Password[len(c.Password)-1] ^= 0xff
			return tx.UpdateCredential(context.Background(), c)
		}); err != nil {
			t.Fatal(err)
		}
		before := f.rows(t)
		n, keyID, err := f.core.RotateKeys(f.sys)
		if err == nil || !errors.Is(err, secret.ErrAuth) || n != 0 || keyID != 2 {
			t.Fatalf("rotation over a corrupt value: %d values, key %d, %v", n, keyID, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("credential %d", r2)) || !strings.Contains(err.Error(), "password") {
			t.Fatalf("the error does not say which value failed: %v", err)
		}
		if !sameRows(before, f.rows(t)) {
			t.Fatal("a failed rotation changed stored values: it must roll back entirely")
		}
		for _, id := range keyIDs(t, f.rows(t)) {
			if id != 1 {
				t.Fatalf("a value moved to key %d in a failed rotation", id)
			}
		}
		if ok := f.activity(t, "keys.rotate"); len(ok) != 1 || ok[0].Result != "failure" {
			t.Fatalf("want one failure record for the rotation, got %+v", ok)
		}
		// The old key still decrypts the untouched values.
		for _, id := range []int64{r1, r3} {
			if _, err := f.core.DecryptCredential(f.sys, id); err != nil {
				t.Fatalf("decrypt %d after a failed rotation: %v", id, err)
			}
		}
		if _, err := f.core.DecryptCredential(f.sys, r2); !errors.Is(err, secret.ErrAuth) {
			t.Fatalf("decrypt corrupt value: %v", err)
		}
		// Once the corrupt value is replaced, the re-encryption pass finishes the job.
		if _, err := f.core.UpdateCredential(f.sys, r2, service.CredentialPatch{Password: secretOf(t, plaintexts["r2"][0])}); err != nil {
			t.Fatal(err)
		}
		if n, err := f.core.ReencryptCredentials(f.sys); err != nil || n != 4 {
			t.Fatalf("re-encrypt after the fix: %d %v", n, err)
		}
		for _, id := range keyIDs(t, f.rows(t)) {
			if id != 2 {
				t.Fatalf("value under key %d after the re-encryption pass", id)
			}
		}
		f.checkNoLeaks(t)
	})
}

func TestReencryptWithEnvironmentKeys(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	k1 := base64.StdEncoding.EncodeToString(randomBytes(t, 32))
	k2 := base64.StdEncoding.EncodeToString(randomBytes(t, 32))
	old, err := secret.LoadKeyring("", k1)
	if err != nil {
		t.Fatal(err)
	}
	f := newKeysFixture(t, db, old)
	id := f.create(t, "r1", plaintexts["r1"][0], plaintexts["r1"][1])
	if _, _, err := f.core.RotateKeys(f.sys); err == nil || !strings.Contains(err.Error(), "WEBNET_SECRET_KEY") {
		t.Fatalf("rotating environment keys: %v", err)
	}
	// The operator adds key 2 to the variable and restarts.
	both, err := secret.LoadKeyring("", "1:"+k1+",2:"+k2)
	if err != nil {
		t.Fatal(err)
	}
	g := withKeyring(t, db, f.customer, both)
	if n, err := g.core.ReencryptCredentials(g.sys); err != nil || n != 2 {
		t.Fatalf("re-encrypt: %d %v", n, err)
	}
	for _, k := range keyIDs(t, g.rows(t)) {
		if k != 2 {
			t.Fatalf("value under key %d", k)
		}
	}
	if l, err := g.core.DecryptCredential(g.sys, id); err != nil || l.Password.Reveal() != plaintexts["r1"][0] {
		t.Fatalf("decrypt: %v", err)
	}
	if recs := g.activity(t, "keys.reencrypt"); len(recs) != 1 || recs[0].Result != "success" {
		t.Fatalf("audit of the pass: %+v", recs)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestKeyOperationsAreSystemOnly: not even a superuser decrypts or re-keys secrets.
func TestKeyOperationsAreSystemOnly(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newKeysFixture(t, db, nil)
	id := f.create(t, "r1", plaintexts["r1"][0], "")
	root := service.WithSubject(context.Background(), &service.Subject{User: &webnet.User{ID: 1, Username: "root", IsActive: true, IsSuperuser: true}})
	for name, ctx := range map[string]context.Context{"superuser": root, "nobody": context.Background()} {
		want := webnet.EForbidden
		if name == "nobody" {
			want = webnet.EUnauthenticated
		}
		_, err := f.core.DecryptCredential(ctx, id)
		_, _, rerr := f.core.RotateKeys(ctx)
		_, perr := f.core.ReencryptCredentials(ctx)
		for _, e := range []error{err, rerr, perr} {
			if webnet.ErrorCode(e) != want {
				t.Errorf("%s: got %v, want %s", name, e, want)
			}
		}
	}
	if f.keyring.CurrentID() != 1 {
		t.Fatal("a refused rotation rotated")
	}
}

// TestCredentialValidationAndRedaction checks the limits and that secrets print redacted.
func TestCredentialValidationAndRedaction(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newKeysFixture(t, db, nil)
	big := strings.Repeat("x", 16<<10+1)
	_, err := f.core.CreateCredential(f.sys, service.CredentialInput{Customer: &f.customer, Name: "big", Password: secretOf(t, big)})
	var e *webnet.Error
	if !errors.As(err, &e) || e.Code != webnet.EInvalid || e.Fields["password"] == "" || strings.Contains(e.Error(), big) {
		t.Fatalf("16 KiB + 1 password: %v", err)
	}
	in := service.CredentialInput{Customer: &f.customer, Name: "r1", Password: secretOf(t, plaintexts["r1"][0])}
	id := f.create(t, "r1", plaintexts["r1"][0], plaintexts["r1"][1])
	l, err := f.core.DecryptCredential(f.sys, id)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := json.Marshal(in)
	loginJSON, _ := json.Marshal(l)
	slog.New(slog.NewTextHandler(f.logs, nil)).Info("values", "input", in, "login", l, "password", l.Password)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %v", in, in, in, in.Password), fmt.Sprintf("%v %+v %#v", l, l, *l),
		string(enc), string(loginJSON), f.logs.String()} {
		for _, p := range plaintexts["r1"] {
			if strings.Contains(s, p) {
				t.Fatalf("plaintext printed: %s", s)
			}
		}
	}
}

// checkNoLeaks searches the logs, the audit log and the stored rows for any plaintext.
func (f *keysFixture) checkNoLeaks(t *testing.T) {
	t.Helper()
	var haystack strings.Builder
	haystack.WriteString(f.logs.String())
	all, _, err := f.db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1"}, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		b, _ := json.Marshal(a)
		haystack.Write(b)
	}
	for _, r := range f.rows(t) {
		haystack.Write(r.Password)
		haystack.Write(r.EnableSecret)
	}
	for _, ps := range plaintexts {
		for _, p := range ps {
			if p != "" && strings.Contains(haystack.String(), p) {
				t.Fatalf("plaintext %q leaked into logs, audit or storage", p)
			}
		}
	}
}
