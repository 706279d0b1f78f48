package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"webnet/internal/httpapi"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// Plaintexts that must never come back: in responses, the audit log, logs or the database.
const (
	credPassword = "pw-PLAINTEXT-7f3a"
	credEnable   = "en-PLAINTEXT-91c2"
	credNewPass  = "pw2-PLAINTEXT-55d0"
)

// credKey is an Ed25519 key in OpenSSH PEM, and marker a line of it: what a leak would show.
type credKey struct{ pem, marker string }

func newCredKey(t testing.TB, passphrase string) credKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	p := string(pem.EncodeToMemory(block))
	lines := strings.Split(p, "\n")
	return credKey{pem: p, marker: lines[2]}
}

// jsonString quotes s for a request body.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// credFixture is two customers with an admin each, a non-admin member of the first, and the
// plaintexts to look for.
type credFixture struct {
	e                  *env
	acme, globex       int64
	alice, bob, mallet string // tokens: acme admin, globex admin, acme operator (not admin)
	root               string
	key                credKey
	bodies             []string // every response body, for the leak check
}

func newCredFixture(t *testing.T, db *store.DB) *credFixture {
	t.Helper()
	e := newEnv(t, db)
	f := &credFixture{e: e, acme: e.customer(t, "acme"), globex: e.customer(t, "globex"), key: newCredKey(t, "")}
	_, f.alice = e.user(t, "alice", false, false, map[int64]webnet.Role{f.acme: webnet.RoleAdmin})
	_, f.bob = e.user(t, "bob", false, false, map[int64]webnet.Role{f.globex: webnet.RoleAdmin})
	_, f.mallet = e.user(t, "mallet", false, false, map[int64]webnet.Role{f.acme: webnet.RoleOperator})
	f.root = e.token(t)
	return f
}

// do sends a request and keeps the response body for the leak check.
func (f *credFixture) do(t *testing.T, token, method, path, body string) result {
	t.Helper()
	r := f.e.do(t, method, path, body, as(token)...)
	f.bodies = append(f.bodies, r.raw)
	return r
}

func (f *credFixture) plaintexts() []string {
	return []string{credPassword, credEnable, credNewPass, f.key.marker}
}

// noLeak fails if any plaintext occurs in s.
func (f *credFixture) noLeak(t *testing.T, where, s string) {
	t.Helper()
	for _, p := range f.plaintexts() {
		if strings.Contains(s, p) || strings.Contains(s, jsonString(p)) {
			t.Errorf("plaintext %q found in %s", p, where)
		}
	}
}

func (f *credFixture) fullBody(customer int64, name string) string {
	return fmt.Sprintf(`{"customer":%d,"name":%s,"username":"netops","password":%s,"enable_secret":%s,"private_key":%s}`,
		customer, jsonString(name), jsonString(credPassword), jsonString(credEnable), jsonString(f.key.pem))
}

// create makes a credential as alice and returns its id.
func (f *credFixture) create(t *testing.T, name string) int64 {
	t.Helper()
	r := f.do(t, f.alice, "POST", "/api/credentials/", f.fullBody(f.acme, name))
	if r.status != 201 {
		t.Fatalf("create %s: %d %s", name, r.status, r.raw)
	}
	return int64(r.body["id"].(float64))
}

func credPath(id int64) string { return fmt.Sprintf("/api/credentials/%d/", id) }

// decrypt returns the credential's secrets as the worker would see them.
func (f *credFixture) decrypt(t *testing.T, id int64) *service.DeviceLogin {
	t.Helper()
	l, err := f.e.core.DecryptCredential(service.WithSubject(context.Background(), service.System()), id)
	if err != nil {
		t.Fatalf("decrypt credential %d: %v", id, err)
	}
	return l
}

// activity returns every audit record.
func (f *credFixture) activity(t *testing.T) []store.Activity {
	t.Helper()
	all, _, err := f.e.db.Read().ListActivity(context.Background(), store.ActivityFilter{Visibility: "1=1"}, 10000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// credentialRows returns every stored credential, ciphertexts included.
func (f *credFixture) credentialRows(t *testing.T) []store.Credential {
	t.Helper()
	var out []store.Credential
	f.e.tx(t, func(ctx context.Context, tx *store.Tx) (err error) {
		out, err = tx.AllCredentials(ctx)
		return err
	})
	return out
}

// checkNoLeaks searches every response, the whole audit log and the stored rows for plaintext.
func (f *credFixture) checkNoLeaks(t *testing.T) {
	t.Helper()
	for i, b := range f.bodies {
		f.noLeak(t, fmt.Sprintf("response %d", i), b)
		for _, field := range []string{`"password"`, `"enable_secret"`, `"private_key"`} {
			if strings.Contains(b, field+":") && !strings.Contains(b, `"fields"`) {
				t.Errorf("response %d has a secret field: %s", i, b)
			}
		}
	}
	for _, a := range f.activity(t) {
		b, _ := json.Marshal(a)
		f.noLeak(t, "activity_log "+a.Action, string(b))
	}
	for _, c := range f.credentialRows(t) {
		for _, col := range [][]byte{c.Password, c.EnableSecret, c.PrivateKey} {
			f.noLeak(t, "credentials row", string(col))
		}
	}
}

var credViewKeys = []string{"created_at", "customer", "has_enable_secret", "has_password", "has_private_key", "id", "name", "updated_at", "username"}

func wantCredView(t *testing.T, r result, status int, name string, pw, en, pk bool) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %d %s, want %d", r.status, r.raw, status)
	}
	var keys []string
	for k := range r.body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, credViewKeys) {
		t.Fatalf("credential view has keys %v, want %v", keys, credViewKeys)
	}
	if r.body["name"] != name || r.body["has_password"] != pw || r.body["has_enable_secret"] != en || r.body["has_private_key"] != pk {
		t.Fatalf("got %s; want name %q, has_password %v, has_enable_secret %v, has_private_key %v", r.raw, name, pw, en, pk)
	}
}

func TestCredentialsCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCredFixture(t, db)
		r := f.do(t, f.alice, "POST", "/api/credentials/", f.fullBody(f.acme, "core"))
		wantCredView(t, r, 201, "core", true, true, true)
		id := int64(r.body["id"].(float64))
		if r.body["username"] != "netops" || r.body["customer"] != float64(f.acme) {
			t.Fatalf("create: %s", r.raw)
		}
		// Stored encrypted under key 1, bound to the row: never the plaintext.
		rows := f.credentialRows(t)
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		for _, b := range [][]byte{rows[0].Password, rows[0].EnableSecret, rows[0].PrivateKey} {
			if k, err := secret.KeyID(b); err != nil || k != 1 {
				t.Fatalf("ciphertext key id %d, %v", k, err)
			}
		}
		l := f.decrypt(t, id)
		if l.Username != "netops" || l.Password.Reveal() != credPassword || l.EnableSecret.Reveal() != credEnable || l.PrivateKey.Reveal() != f.key.pem {
			t.Fatal("decrypted credential differs from what was stored")
		}

		wantCredView(t, f.do(t, f.alice, "GET", credPath(id), ""), 200, "core", true, true, true)
		list := f.do(t, f.alice, "GET", "/api/credentials/", "")
		if list.status != 200 || list.body["count"] != 1.0 {
			t.Fatalf("list: %s", list.raw)
		}
		if list := f.do(t, f.alice, "GET", fmt.Sprintf("/api/credentials/?customer=%d", f.acme), ""); list.body["count"] != 1.0 {
			t.Fatalf("list by customer: %s", list.raw)
		}
		if list := f.do(t, f.root, "GET", fmt.Sprintf("/api/credentials/?customer=%d", f.globex), ""); list.body["count"] != 0.0 {
			t.Fatalf("list of another customer: %s", list.raw)
		}
		wantError(t, f.do(t, f.alice, "GET", "/api/credentials/?customer=x", ""), 400, "invalid")

		// PATCH: an absent secret is unchanged.
		r = f.do(t, f.alice, "PATCH", credPath(id), `{"name":"edge","username":"ops2"}`)
		wantCredView(t, r, 200, "edge", true, true, true)
		if l := f.decrypt(t, id); l.Username != "ops2" || l.Password.Reveal() != credPassword || l.EnableSecret.Reveal() != credEnable || l.PrivateKey.Reveal() != f.key.pem {
			t.Fatal("secrets changed by a PATCH that did not name them")
		}
		// A value replaces.
		wantCredView(t, f.do(t, f.alice, "PATCH", credPath(id), `{"password":`+jsonString(credNewPass)+`}`), 200, "edge", true, true, true)
		if l := f.decrypt(t, id); l.Password.Reveal() != credNewPass || l.EnableSecret.Reveal() != credEnable {
			t.Fatal("password not replaced, or enable secret touched")
		}
		// "" and null clear.
		wantCredView(t, f.do(t, f.alice, "PATCH", credPath(id), `{"enable_secret":""}`), 200, "edge", true, false, true)
		wantCredView(t, f.do(t, f.alice, "PATCH", credPath(id), `{"private_key":null}`), 200, "edge", true, false, false)
		if l := f.decrypt(t, id); !l.EnableSecret.IsZero() || !l.PrivateKey.IsZero() || l.Password.Reveal() != credNewPass {
			t.Fatal("clearing did not clear, or cleared too much")
		}
		// Nothing to change writes nothing, not even an audit record.
		before := len(f.activity(t))
		f.e.clock.Advance(1e9)
		r = f.do(t, f.alice, "PATCH", credPath(id), `{"enable_secret":"","name":"edge"}`)
		wantCredView(t, r, 200, "edge", true, false, false)
		if after := len(f.activity(t)); after != before {
			t.Fatalf("a no-op PATCH wrote %d audit records", after-before)
		}

		// The superuser may too; then delete.
		wantCredView(t, f.do(t, f.root, "GET", credPath(id), ""), 200, "edge", true, false, false)
		if r := f.do(t, f.alice, "DELETE", credPath(id), ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		wantError(t, f.do(t, f.alice, "GET", credPath(id), ""), 404, "not_found")
		wantError(t, f.do(t, f.alice, "DELETE", credPath(id), ""), 404, "not_found")

		// The audit trail: every mutation, secrets only as "[redacted]".
		var actions []string
		details := map[string][]string{}
		for _, a := range f.activity(t) {
			if a.ObjectType == "credential" {
				actions = append(actions, a.Action+"/"+a.Result)
				details[a.Action] = append(details[a.Action], string(a.Details))
			}
		}
		slices.Reverse(actions)
		want := []string{"credential.create/success", "credential.update/success", "credential.update/success",
			"credential.update/success", "credential.update/success", "credential.delete/success"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit actions %v, want %v", actions, want)
		}
		updates := strings.Join(details["credential.update"], "\n")
		for _, s := range []string{
			`"password":{"after":"[redacted]","before":"[redacted]"}`,
			`"enable_secret":{"after":null,"before":"[redacted]"}`,
			`"name":{"after":"edge","before":"core"}`,
		} {
			if !strings.Contains(strings.ReplaceAll(updates, " ", ""), s) {
				t.Errorf("update details lack %s:\n%s", s, updates)
			}
		}
		if !strings.Contains(strings.Join(details["credential.create"], ""), `[redacted]`) {
			t.Errorf("create details: %v", details["credential.create"])
		}
		f.checkNoLeaks(t)
	})
}

func TestCredentialsTenancy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCredFixture(t, db)
		id := f.create(t, "acme-secret-name")
		rowsBefore := f.credentialRows(t)
		patch := `{"name":"hijacked","password":"x"}`

		// An acme member who is not admin: the credential exists for them, but is not theirs.
		if r := f.do(t, f.mallet, "GET", "/api/credentials/", ""); r.status != 200 || r.body["count"] != 0.0 {
			t.Fatalf("member list: %s", r.raw)
		}
		wantError(t, f.do(t, f.mallet, "GET", credPath(id), ""), 403, "forbidden")
		wantError(t, f.do(t, f.mallet, "PATCH", credPath(id), patch), 403, "forbidden")
		wantError(t, f.do(t, f.mallet, "PATCH", credPath(id), `{"bogus":1}`), 403, "forbidden") // 403 before 400
		wantError(t, f.do(t, f.mallet, "PATCH", credPath(id), `{"name":`), 403, "forbidden")
		wantError(t, f.do(t, f.mallet, "DELETE", credPath(id), ""), 403, "forbidden")
		wantError(t, f.do(t, f.mallet, "POST", "/api/credentials/", f.fullBody(f.acme, "mine")), 403, "forbidden")
		wantError(t, f.do(t, f.mallet, "POST", "/api/credentials/", fmt.Sprintf(`{"customer":%d,"bogus":1}`, f.acme)), 403, "forbidden")

		// Another customer's admin: it does not exist.
		for _, r := range []result{
			f.do(t, f.bob, "GET", credPath(id), ""),
			f.do(t, f.bob, "PATCH", credPath(id), patch),
			f.do(t, f.bob, "PATCH", credPath(id), `{"bogus":1}`),
			f.do(t, f.bob, "DELETE", credPath(id), ""),
			f.do(t, f.bob, "POST", "/api/credentials/", f.fullBody(f.acme, "planted")),
			f.do(t, f.bob, "POST", "/api/credentials/", fmt.Sprintf(`{"customer":%d,"bogus":1}`, f.acme)),
			f.do(t, f.bob, "GET", credPath(id+1000), ""),
		} {
			wantError(t, r, 404, "not_found")
		}
		for _, q := range []string{"", fmt.Sprintf("?customer=%d", f.acme)} {
			r := f.do(t, f.bob, "GET", "/api/credentials/"+q, "")
			if r.status != 200 || r.body["count"] != 0.0 {
				t.Fatalf("other tenant's list %q: %s", q, r.raw)
			}
		}
		for _, tok := range []string{f.bob, f.mallet} {
			for _, path := range []string{"/api/credentials/", credPath(id)} {
				if r := f.e.do(t, "GET", path, "", as(tok)...); strings.Contains(r.raw, "acme-secret-name") {
					t.Fatalf("%s shows the name to an outsider: %s", path, r.raw)
				}
			}
		}
		// The 404 for an existing credential is the 404 for a missing one.
		a := f.do(t, f.bob, "GET", credPath(id), "")
		b := f.do(t, f.bob, "GET", credPath(id+1000), "")
		if a.raw != b.raw {
			t.Fatalf("existing %s and missing %s differ", a.raw, b.raw)
		}
		wantError(t, f.e.do(t, "GET", "/api/credentials/", ""), 401, "unauthenticated")
		wantError(t, f.e.do(t, "PATCH", credPath(id), `{"bogus":1}`), 401, "unauthenticated")

		// Nothing was written.
		rowsAfter := f.credentialRows(t)
		if len(rowsAfter) != 1 || rowsAfter[0].Name != "acme-secret-name" || !bytes.Equal(rowsAfter[0].Password, rowsBefore[0].Password) ||
			!rowsAfter[0].UpdatedAt.Equal(rowsBefore[0].UpdatedAt) {
			t.Fatalf("an outsider changed the credential: %+v", rowsAfter)
		}
		// The member's refused mutations are audited as denied, without the credential's name.
		denied := 0
		for _, a := range f.activity(t) {
			if a.Result == "denied" && a.ActorUsername == "mallet" {
				denied++
				if strings.Contains(a.ObjectRepr, "acme-secret-name") {
					t.Errorf("denial record names the credential to its actor: %+v", a)
				}
			}
		}
		if denied < 6 {
			t.Errorf("%d denials audited, want one per refused mutation (6)", denied)
		}
		// Staff see every customer's credentials.
		_, staff := f.e.user(t, "sam", true, false, nil)
		wantCredView(t, f.do(t, staff, "GET", credPath(id), ""), 200, "acme-secret-name", true, true, true)
		f.checkNoLeaks(t)
	})
}

func TestCredentialsBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCredFixture(t, db)
		id := f.create(t, "core")
		f.create(t, "edge") // the name a rename collides with
		rowsBefore := f.credentialRows(t)
		auditBefore := len(f.activity(t))
		encrypted := newCredKey(t, "a passphrase")
		c := fmt.Sprint(f.acme)
		posts := []struct {
			name, body, field string
			status            int
		}{
			{"unknown field", `{"customer":` + c + `,"name":"x","root":true}`, "root", 400},
			{"name of the wrong type", `{"customer":` + c + `,"name":1}`, "name", 400},
			{"password of the wrong type", `{"customer":` + c + `,"name":"x","password":5}`, "password", 400},
			{"customer of the wrong type", `{"customer":"acme","name":"x"}`, "customer", 400},
			{"not an object", `[1]`, "", 400},
			{"malformed", `{"customer":` + c + `,`, "", 400},
			{"missing customer", `{"name":"x"}`, "customer", 400},
			{"missing name", `{"customer":` + c + `,"username":"u"}`, "name", 400},
			{"blank name", `{"customer":` + c + `,"name":"  "}`, "name", 400},
			{"long username", `{"customer":` + c + `,"name":"x","username":"` + strings.Repeat("u", 151) + `"}`, "username", 400},
			{"bad PEM", `{"customer":` + c + `,"name":"x","private_key":"-----BEGIN nonsense"}`, "private_key", 400},
			{"encrypted key", `{"customer":` + c + `,"name":"x","private_key":` + jsonString(encrypted.pem) + `}`, "private_key", 400},
			{"duplicate name", `{"customer":` + c + `,"name":"core","password":"p"}`, "name", 409},
			{"unknown customer", `{"customer":99999,"name":"x"}`, "customer", 404},
		}
		for _, p := range posts {
			t.Run("POST "+p.name, func(t *testing.T) {
				r := f.do(t, f.alice, "POST", "/api/credentials/", p.body)
				code := map[int]string{400: "invalid", 404: "not_found", 409: "conflict"}[p.status]
				wantError(t, r, p.status, code)
				if fields, _ := r.body["fields"].(map[string]any); p.field != "" && fields[p.field] == nil {
					t.Fatalf("field %q not named: %s", p.field, r.raw)
				}
				if p.name == "encrypted key" && !strings.Contains(r.raw, "Encrypted keys are not supported") {
					t.Fatalf("encrypted key: %s", r.raw)
				}
			})
		}
		// Staff reach every customer, so an unknown one is theirs to be told about.
		wantError(t, f.do(t, f.root, "POST", "/api/credentials/", `{"customer":99999,"name":"x"}`), 404, "not_found")
		patches := []struct {
			name, body, field string
			status            int
		}{
			{"unknown field", `{"name":"x","root":true}`, "root", 400},
			{"wrong type", `{"username":7}`, "username", 400},
			{"blank name", `{"name":""}`, "name", 400},
			{"bad PEM", `{"private_key":"nope"}`, "private_key", 400},
			{"encrypted key", `{"private_key":` + jsonString(encrypted.pem) + `}`, "private_key", 400},
			{"another customer", `{"customer":` + fmt.Sprint(f.globex) + `}`, "customer", 400},
			{"malformed", `{"name":`, "", 400},
			{"empty body", ``, "", 400},
			{"duplicate name", `{"name":"edge"}`, "name", 409},
		}
		for _, p := range patches {
			t.Run("PATCH "+p.name, func(t *testing.T) {
				r := f.do(t, f.alice, "PATCH", credPath(id), p.body)
				code := map[int]string{400: "invalid", 409: "conflict"}[p.status]
				wantError(t, r, p.status, code)
				if fields, _ := r.body["fields"].(map[string]any); p.field != "" && fields[p.field] == nil {
					t.Fatalf("field %q not named: %s", p.field, r.raw)
				}
			})
		}
		// Nothing was written: the same rows, byte for byte, and no new audit record but denials
		// (there are none: alice is acme's admin).
		rowsAfter := f.credentialRows(t)
		if len(rowsAfter) != 2 {
			t.Fatalf("%d credentials after bad input, want 2", len(rowsAfter))
		}
		for i := range rowsAfter {
			b, a := rowsBefore[i], rowsAfter[i]
			if a.Name != b.Name || a.Username != b.Username || !bytes.Equal(a.Password, b.Password) ||
				!bytes.Equal(a.EnableSecret, b.EnableSecret) || !bytes.Equal(a.PrivateKey, b.PrivateKey) || !a.UpdatedAt.Equal(b.UpdatedAt) {
				t.Fatalf("credential %d changed by bad input", a.ID)
			}
		}
		if n := len(f.activity(t)); n != auditBefore {
			t.Fatalf("bad input wrote %d audit records", n-auditBefore)
		}
		f.checkNoLeaks(t)
	})
}

func TestCredentialInUseCannotBeDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCredFixture(t, db)
		id := f.create(t, "core")
		now := f.e.clock.Now()
		d := &webnet.Device{CustomerID: f.acme, Name: "r1", Address: "192.0.2.1", Port: 22, Platform: "cisco_iosxe",
			CredentialID: &id, Enabled: true, CreatedAt: now, UpdatedAt: now}
		f.e.tx(t, func(ctx context.Context, tx *store.Tx) error { return tx.CreateDevice(ctx, d) })
		wantError(t, f.do(t, f.alice, "DELETE", credPath(id), ""), 409, "conflict")
		wantCredView(t, f.do(t, f.alice, "GET", credPath(id), ""), 200, "core", true, true, true)
		f.e.tx(t, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.DeleteDevices(ctx, []int64{d.ID})
			return err
		})
		if r := f.do(t, f.alice, "DELETE", credPath(id), ""); r.status != 204 {
			t.Fatalf("delete once unused: %d %s", r.status, r.raw)
		}
	})
}

// TestCredentialSecretsNeverLogged runs the API with debug logging into a buffer: neither the
// access log nor error logging may carry a secret.
func TestCredentialSecretsNeverLogged(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newCredFixture(t, db)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	health, err := service.NewHealth(db)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Identity: f.e.id, Core: f.e.core, Health: health, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(httpapi.Wrap(httpapi.JSONFallback(mux), httpapi.MiddlewareConfig{Identity: f.e.id, Logger: log}))
	defer srv.Close()
	f.e.srv = srv // requests now go through the logging server
	id := f.create(t, "core")
	f.do(t, f.alice, "PATCH", credPath(id), `{"password":`+jsonString(credNewPass)+`,"enable_secret":`+jsonString(credEnable)+`}`)
	f.do(t, f.alice, "PATCH", credPath(id), `{"password":`+jsonString(credNewPass)+`,"bogus":1}`)
	f.do(t, f.mallet, "PATCH", credPath(id), `{"password":`+jsonString(credNewPass)+`}`)
	f.do(t, f.alice, "POST", "/api/credentials/", f.fullBody(f.acme, "core")) // conflict
	if !strings.Contains(logs.String(), "/api/credentials/") {
		t.Fatalf("nothing logged: %s", logs.String())
	}
	f.noLeak(t, "logs", logs.String())
	f.checkNoLeaks(t)
}
