package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"

	"webnet/internal/authz"
	"webnet/internal/secret"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Credentials are tenant administration (design.md §2): the customer's admins and
// staff/superusers manage them, and nobody reads a secret back. Secrets are secret.Values from
// the moment a request body is decoded until they are encrypted, bound to their customer,
// table, column and row; only the system subject (the worker) may decrypt them.

// maxSecretLen caps each secret: an RSA-4096 key in PEM is about 3.3 KiB.
const maxSecretLen = 16 << 10

// credentialTable is the table the secrets' AAD names.
const credentialTable = "credentials"

// credentialSecret is one encrypted column of a credential.
type credentialSecret struct {
	column string // also the JSON field name
	bytes  func(*store.Credential) *[]byte
}

// credentialSecrets are the encrypted columns, in the order the API lists them.
var credentialSecrets = []credentialSecret{
	{"password", func(c *store.Credential) *[]byte { return &c.Password }},
	{"enable_secret", func(c *store.Credential) *[]byte { return &c.EnableSecret }},
	{"private_key", func(c *store.Credential) *[]byte { return &c.PrivateKey }},
}

func credentialAAD(c *store.Credential, column string) secret.AAD {
	return secret.AAD{CustomerID: c.CustomerID, Table: credentialTable, Column: column, RowID: c.ID}
}

// SecretField is a write-only secret in a request body. Absent, it leaves the stored secret
// as it is (Set is false); "" or null clears it; any other string replaces it. The plaintext
// is a secret.Value from the moment it is decoded, so printing, logging or encoding the field
// shows "[redacted]".
type SecretField struct {
	Set   bool
	Value secret.Value
}

// UnmarshalJSON takes a JSON string or null, and records that the field was present.
func (s *SecretField) UnmarshalJSON(b []byte) error {
	s.Set, s.Value = true, secret.Value{}
	if string(b) == "null" {
		return nil
	}
	var plain string
	if err := json.Unmarshal(b, &plain); err != nil {
		return err // an *json.UnmarshalTypeError: it names the field and the type, never the value
	}
	s.Value = secret.NewValue(plain)
	return nil
}

// MarshalJSON gives "[redacted]": a secret never leaves in an encoding.
func (s SecretField) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// CredentialInput is the body of POST /api/credentials/.
type CredentialInput struct {
	Customer     *int64      `json:"customer"`
	Name         string      `json:"name"`
	Username     string      `json:"username"`
	Password     SecretField `json:"password"`
	EnableSecret SecretField `json:"enable_secret"`
	PrivateKey   SecretField `json:"private_key"`
	// BodyErr is the error of decoding the request body, if it failed after the customer
	// could be read. CreateCredential reports it after its authorization checks, so that a
	// caller without the permission never learns what a valid body would be.
	BodyErr error `json:"-"`
}

// CredentialPatch is the body of PATCH /api/credentials/{id}/: only the given fields change;
// a secret field absent is unchanged, "" (or null) clears it, a value replaces it.
type CredentialPatch struct {
	Customer     *int64      `json:"customer"`
	Name         *string     `json:"name"`
	Username     *string     `json:"username"`
	Password     SecretField `json:"password"`
	EnableSecret SecretField `json:"enable_secret"`
	PrivateKey   SecretField `json:"private_key"`
	// BodyErr is the error of decoding the request body, if it failed. UpdateCredential
	// reports it after its authorization checks (see CredentialInput.BodyErr).
	BodyErr error `json:"-"`
}

// secrets maps each secret column to its field.
func (p *CredentialPatch) secrets() map[string]SecretField {
	return map[string]SecretField{"password": p.Password, "enable_secret": p.EnableSecret, "private_key": p.PrivateKey}
}

// CredentialView is a credential as the API shows it: whether each secret is set, never the
// secret or its ciphertext.
type CredentialView struct {
	ID              int64     `json:"id"`
	Customer        int64     `json:"customer"`
	Name            string    `json:"name"`
	Username        string    `json:"username"`
	HasPassword     bool      `json:"has_password"`
	HasEnableSecret bool      `json:"has_enable_secret"`
	HasPrivateKey   bool      `json:"has_private_key"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func credentialView(c *store.Credential) CredentialView {
	return CredentialView{ID: c.ID, Customer: c.CustomerID, Name: c.Name, Username: c.Username,
		HasPassword: len(c.Password) > 0, HasEnableSecret: len(c.EnableSecret) > 0, HasPrivateKey: len(c.PrivateKey) > 0,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// DeviceLogin is a credential decrypted for a device connection. Its secrets stay
// secret.Values (redacted when printed, logged or encoded); Reveal them only to authenticate,
// and drop the DeviceLogin when the connection is up.
type DeviceLogin struct {
	CredentialID int64
	CustomerID   int64
	Username     string
	Password     secret.Value
	EnableSecret secret.Value
	PrivateKey   secret.Value
}

// credentialFields are a credential's audited fields: secrets appear as "[redacted]" when
// set and null when not, never as plaintext or ciphertext.
func credentialFields(c *store.Credential) map[string]any {
	m := map[string]any{"name": c.Name, "username": c.Username}
	for _, s := range credentialSecrets {
		m[s.column] = redactedIfSet(*s.bytes(c))
	}
	return m
}

func redactedIfSet(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return redacted
}

// validateCredential checks the fields being written: nil name or username are not.
func validateCredential(name, username *string, secrets map[string]secret.Value) error {
	f := fieldErrors{}
	if name != nil {
		f.checkName("name", *name)
	}
	if username != nil {
		switch u := *username; {
		case len([]rune(u)) > 150:
			f.add("username", "Use at most 150 characters.")
		case strings.IndexFunc(u, unicode.IsControl) >= 0:
			f.add("username", "Control characters are not allowed.")
		}
	}
	for _, s := range credentialSecrets {
		v, ok := secrets[s.column]
		if !ok || v.IsZero() {
			continue
		}
		if len(v.Reveal()) > maxSecretLen {
			f.add(s.column, "Use at most 16 KiB.")
			continue
		}
		if s.column == "private_key" {
			checkPrivateKey(f, v)
		}
	}
	return f.err("Invalid credential.")
}

// checkPrivateKey accepts an unencrypted PEM private key that SSH can use. Its messages never
// quote the key or the parser's error, which may.
func checkPrivateKey(f fieldErrors, v secret.Value) {
	pemBytes := []byte(v.Reveal())
	defer clear(pemBytes)
	_, err := ssh.ParseRawPrivateKey(pemBytes)
	var passphrase *ssh.PassphraseMissingError
	switch {
	case err == nil:
	case errors.As(err, &passphrase):
		f.add("private_key", "Encrypted keys are not supported: remove the passphrase (ssh-keygen -p) and send the key again.")
	default:
		f.add("private_key", "Not a PEM private key (RSA, ECDSA or Ed25519 in PKCS#1, PKCS#8, SEC 1 or OpenSSH format).")
	}
}

// credentialFor loads credential id and checks that the caller administers its customer:
// not_found when it does not exist or the caller is no member of its customer (they must not
// learn it exists), forbidden for a member who is not an admin. A forbidden mutation (action
// not "") is audited as denied.
func (c *Core) credentialFor(ctx context.Context, q store.Q, g *authz.Grants, id int64, action string) (*store.Credential, error) {
	cr, err := q.CredentialByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.Admin(cr.CustomerID) {
		return cr, nil
	}
	if !g.Member(cr.CustomerID) {
		return nil, notFoundErr("Credential")
	}
	err = forbidden("Only the customer's admins manage credentials.")
	if action != "" {
		// No repr: the actor reads their own audit entries, and the name is not theirs to see.
		return nil, c.denied(ctx, entry{action: action, objectType: "credential", objectID: cr.ID, customerID: cr.CustomerID}, err)
	}
	return nil, err
}

// errNoKeyring is the fault of a Core built without the keyring credentials need.
var errNoKeyring = errors.New("credentials: the service has no keyring")

// ListCredentials returns a page of the credentials of the customers the caller administers
// (all for staff and superusers), filtered in the query, optionally of one customer. Any
// signed-in user may call it; others' credentials are simply not listed. Errors:
// unauthenticated.
func (c *Core) ListCredentials(ctx context.Context, customer *int64, page webnet.Page) ([]CredentialView, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	rows, total, err := c.db.Read().ListCredentials(ctx, g.AdminFilter("c.customer_id"), customer, page)
	if err != nil {
		return nil, 0, err
	}
	out := make([]CredentialView, len(rows))
	for i := range rows {
		out[i] = credentialView(&rows[i])
	}
	return out, total, nil
}

// GetCredential returns a credential without its secrets. The caller must administer its
// customer (or be staff/superuser). Errors: unauthenticated, not_found (absent, or of a
// customer the caller is no member of), forbidden (a member who is not admin).
func (c *Core) GetCredential(ctx context.Context, id int64) (*CredentialView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	cr, err := c.credentialFor(ctx, c.db.Read(), g, id, "")
	if err != nil {
		return nil, err
	}
	v := credentialView(cr)
	return &v, nil
}

// CreateCredential creates a credential, encrypting its secrets under the current key once
// the row's id exists, in one transaction with its audit record. The caller must administer
// the customer (or be staff/superuser). Errors: unauthenticated, invalid (also in.BodyErr,
// after the authorization checks), not_found (customer), forbidden, conflict (name taken).
func (c *Core) CreateCredential(ctx context.Context, in CredentialInput) (*CredentialView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		if in.BodyErr != nil {
			return nil, in.BodyErr
		}
		return nil, webnet.Invalid("Invalid credential.", map[string]string{"customer": "This field is required."})
	}
	cid := *in.Customer
	if err := c.namedCustomer(ctx, g, cid); err != nil {
		return nil, err
	}
	e := entry{action: "credential.create", objectType: "credential", repr: in.Name, customerID: cid}
	if !g.Admin(cid) {
		return nil, c.denied(ctx, e, forbidden("Only the customer's admins manage credentials."))
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	secrets := map[string]secret.Value{"password": in.Password.Value, "enable_secret": in.EnableSecret.Value, "private_key": in.PrivateKey.Value}
	if err := validateCredential(&in.Name, &in.Username, secrets); err != nil {
		return nil, err
	}
	if c.keyring == nil {
		return nil, errNoKeyring
	}
	now := c.clock.Now()
	cr := &store.Credential{CustomerID: cid, Name: in.Name, Username: in.Username, CreatedAt: now, UpdatedAt: now}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCredential(ctx, cr); err != nil {
			return err
		}
		// The AAD binds each ciphertext to the row id, which exists only now.
		for _, s := range credentialSecrets {
			b, err := c.keyring.Encrypt(secrets[s.column], credentialAAD(cr, s.column))
			if err != nil {
				return fmt.Errorf("encrypt %s: %w", s.column, err)
			}
			*s.bytes(cr) = b
		}
		if err := tx.UpdateCredential(ctx, cr); err != nil {
			return err
		}
		e.objectID = cr.ID
		e.details = map[string]any{"after": credentialFields(cr)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	v := credentialView(cr)
	return &v, nil
}

// UpdateCredential changes a credential's name, username or secrets (see CredentialPatch),
// with its audit record in the same transaction; a patch that changes nothing writes nothing.
// The caller must administer its customer (or be staff/superuser). Errors: unauthenticated,
// not_found, forbidden, invalid (also p.BodyErr, after the authorization checks), conflict
// (name taken).
func (c *Core) UpdateCredential(ctx context.Context, id int64, p CredentialPatch) (*CredentialView, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	cr, err := c.credentialFor(ctx, c.db.Read(), g, id, "credential.update")
	if err != nil {
		return nil, err
	}
	if p.BodyErr != nil {
		return nil, p.BodyErr
	}
	if p.Customer != nil && *p.Customer != cr.CustomerID {
		return nil, webnet.Invalid("Invalid credential.", map[string]string{"customer": "A credential cannot move to another customer."})
	}
	secrets := map[string]secret.Value{}
	for column, f := range p.secrets() {
		if f.Set {
			secrets[column] = f.Value
		}
	}
	if err := validateCredential(p.Name, p.Username, secrets); err != nil {
		return nil, err
	}
	if c.keyring == nil {
		return nil, errNoKeyring
	}
	var out CredentialView
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		// Apply the patch to the row as it is now, not as it was read before the transaction.
		cur, err := tx.CredentialByID(ctx, id)
		if err != nil {
			return err
		}
		next := *cur
		if p.Name != nil {
			next.Name = *p.Name
		}
		if p.Username != nil {
			next.Username = *p.Username
		}
		details := changes(map[string]any{"name": cur.Name, "username": cur.Username},
			map[string]any{"name": next.Name, "username": next.Username})
		for _, s := range credentialSecrets {
			v, ok := secrets[s.column]
			if !ok {
				continue
			}
			before := *s.bytes(cur)
			if v.IsZero() && len(before) == 0 {
				continue // clearing what is not set
			}
			b, err := c.keyring.Encrypt(v, credentialAAD(&next, s.column))
			if err != nil {
				return fmt.Errorf("encrypt %s: %w", s.column, err)
			}
			*s.bytes(&next) = b
			// A replacement counts as a change even if the value is the same: telling would
			// mean decrypting the old one.
			details[s.column] = map[string]any{"before": redactedIfSet(before), "after": redactedIfSet(b)}
		}
		if len(details) == 0 {
			out = credentialView(cur)
			return nil
		}
		next.UpdatedAt = c.clock.Now()
		if err := tx.UpdateCredential(ctx, &next); err != nil {
			return err
		}
		e := entry{action: "credential.update", objectType: "credential", objectID: next.ID, repr: next.Name,
			customerID: next.CustomerID, details: details}
		out = credentialView(&next)
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCredential deletes a credential no device uses, with its audit record in the same
// transaction. The caller must administer its customer (or be staff/superuser). Errors:
// unauthenticated, not_found, forbidden, conflict (devices use it).
func (c *Core) DeleteCredential(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	cr, err := c.credentialFor(ctx, c.db.Read(), g, id, "credential.delete")
	if err != nil {
		return err
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteCredential(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, entry{action: "credential.delete", objectType: "credential", objectID: cr.ID, repr: cr.Name,
			customerID: cr.CustomerID, details: map[string]any{"before": credentialFields(cr)}})
	})
}

// requireSystemSubject lets only the system subject through: decrypting and re-keying
// secrets is webnet's own work, never a user's, whatever their grants.
func requireSystemSubject(ctx context.Context, what string) error {
	sub := SubjectFrom(ctx)
	switch {
	case sub.IsSystem():
		return nil
	case sub == nil || sub.User == nil:
		return webnet.Errorf(webnet.EUnauthenticated, "Authentication credentials were not provided.")
	default:
		return forbidden("Only webnet itself may %s.", what)
	}
}

// DecryptCredential returns credential id decrypted, for the worker that connects to a
// device. Only the system subject may call it. Errors: unauthenticated, forbidden (any
// user, staff and superusers included), not_found, internal (a ciphertext that does not
// decrypt: altered, moved, or under a key this process does not have).
func (c *Core) DecryptCredential(ctx context.Context, id int64) (*DeviceLogin, error) {
	if err := requireSystemSubject(ctx, "decrypt credentials"); err != nil {
		return nil, err
	}
	if c.keyring == nil {
		return nil, errNoKeyring
	}
	cr, err := c.db.Read().CredentialByID(ctx, id)
	if err != nil {
		return nil, err
	}
	values := map[string]secret.Value{}
	for _, s := range credentialSecrets {
		v, err := c.keyring.Decrypt(*s.bytes(cr), credentialAAD(cr, s.column))
		if err != nil {
			return nil, fmt.Errorf("credential %d, %s: %w", cr.ID, s.column, err)
		}
		values[s.column] = v
	}
	return &DeviceLogin{CredentialID: cr.ID, CustomerID: cr.CustomerID, Username: cr.Username,
		Password: values["password"], EnableSecret: values["enable_secret"], PrivateKey: values["private_key"]}, nil
}

// RotateKeys adds a new current key to the keyring (and its key file), then re-encrypts every
// credential secret under it (see ReencryptCredentials). Only the system subject may call
// it. It returns how many values were re-encrypted and the new key's id. If the
// re-encryption fails, the new key stays and its id comes back with the error: nothing was
// re-encrypted, values under the old keys still decrypt, and ReencryptCredentials finishes
// the job once the cause is fixed. A keyring
// from WEBNET_SECRET_KEY cannot rotate: that is an error, and the operator adds the key to
// the variable and runs ReencryptCredentials. Errors: unauthenticated, forbidden, internal.
func (c *Core) RotateKeys(ctx context.Context) (rotated int, newKeyID byte, err error) {
	if err := requireSystemSubject(ctx, "rotate credential keys"); err != nil {
		return 0, 0, err
	}
	if c.keyring == nil {
		return 0, 0, errNoKeyring
	}
	e := entry{action: "keys.rotate", objectType: "keyring", repr: "credential keys"}
	newKeyID, err = c.keyring.Rotate()
	if err != nil {
		return 0, 0, c.auditFailure(ctx, e, err)
	}
	rotated, err = c.reencrypt(ctx, e)
	return rotated, newKeyID, err
}

// ReencryptCredentials re-encrypts, in one transaction with its audit record, every
// credential secret not under the keyring's current key, and returns how many values it
// re-encrypted. If any value fails to decrypt, nothing is changed and the error names the
// credential and column. Only the system subject may call it. Errors: unauthenticated,
// forbidden, internal.
func (c *Core) ReencryptCredentials(ctx context.Context) (int, error) {
	if err := requireSystemSubject(ctx, "re-encrypt credentials"); err != nil {
		return 0, err
	}
	if c.keyring == nil {
		return 0, errNoKeyring
	}
	return c.reencrypt(ctx, entry{action: "keys.reencrypt", objectType: "keyring", repr: "credential keys"})
}

// reencrypt moves every secret to the current key in one transaction, audited as e.
func (c *Core) reencrypt(ctx context.Context, e entry) (int, error) {
	keyID := c.keyring.CurrentID()
	var n int
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		all, err := tx.AllCredentials(ctx)
		if err != nil {
			return err
		}
		for i := range all {
			cr := &all[i]
			changed := false
			for _, s := range credentialSecrets {
				b := s.bytes(cr)
				if !c.keyring.NeedsReencrypt(*b) {
					continue
				}
				aad := credentialAAD(cr, s.column)
				v, err := c.keyring.Decrypt(*b, aad)
				if err != nil {
					return fmt.Errorf("re-encrypt credential %d (customer %d), %s: %w", cr.ID, cr.CustomerID, s.column, err)
				}
				if *b, err = c.keyring.Encrypt(v, aad); err != nil {
					return fmt.Errorf("re-encrypt credential %d, %s: %w", cr.ID, s.column, err)
				}
				changed = true
				n++
			}
			// updated_at stays: the credential itself did not change.
			if changed {
				if err := tx.UpdateCredential(ctx, cr); err != nil {
					return err
				}
			}
		}
		e.details = map[string]any{"key_id": keyID, "values": n}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return 0, c.auditFailure(ctx, e, err)
	}
	return n, nil
}

// auditFailure records a failed system operation in its own transaction (the failed one rolled
// back with its record) and returns err unchanged. The error text is webnet's own (ids,
// columns, key ids), never a secret.
func (c *Core) auditFailure(ctx context.Context, e entry, err error) error {
	e.details = map[string]any{"error": err.Error()}
	if werr := c.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendActivity(ctx, c.activity(ctx, e, "failure"))
	}); werr != nil {
		c.log.ErrorContext(ctx, "audit a failure", "action", e.action, "err", werr)
	}
	return err
}
