package secret

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	// version is the first byte of every ciphertext this package makes.
	version byte = 0x01
	// headerLen is the version and key id bytes.
	headerLen = 2
	// gcmOverhead is the random nonce (12 bytes) and the tag (16 bytes).
	gcmOverhead = 12 + 16
)

// Errors from Decrypt and KeyID, for errors.Is. Their messages name the fault and never include
// plaintext or key material.
var (
	ErrMalformed  = errors.New("malformed ciphertext")
	ErrVersion    = errors.New("unknown ciphertext version")
	ErrUnknownKey = errors.New("unknown key id")
	ErrAuth       = errors.New("ciphertext failed authentication")
	ErrAAD        = errors.New("incomplete AAD")
)

// AAD says where a ciphertext is stored. It is authenticated with the ciphertext, so a value
// copied into another customer, table, column or row fails to decrypt. Table and Column are
// required; the ids are used as given, so encrypt after the row's id is known.
type AAD struct {
	CustomerID int64
	Table      string
	Column     string
	RowID      int64
}

func (a AAD) check() error {
	if a.Table == "" || a.Column == "" {
		return fmt.Errorf("%w: Table and Column are required", ErrAAD)
	}
	return nil
}

// bytes is the canonical encoding authenticated with a ciphertext: version, key id, customer
// id, length-prefixed table and column, row id. The length prefixes keep ("ab", "c") and
// ("a", "bc") apart.
func (a AAD) bytes(keyID byte) []byte {
	b := make([]byte, 0, headerLen+8+4+len(a.Table)+4+len(a.Column)+8)
	b = append(b, version, keyID)
	b = binary.BigEndian.AppendUint64(b, uint64(a.CustomerID))
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Table)))
	b = append(b, a.Table...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Column)))
	b = append(b, a.Column...)
	b = binary.BigEndian.AppendUint64(b, uint64(a.RowID))
	return b
}

// Encrypt encrypts v under the current key with AES-256-GCM and a random nonce, bound to aad.
// The zero Value encrypts to nil: no secret is stored.
func (k *Keyring) Encrypt(v Value, aad AAD) ([]byte, error) {
	if err := aad.check(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if v.IsZero() {
		return nil, nil
	}
	k.mu.RLock()
	id, key := k.current, k.keys[k.current]
	k.mu.RUnlock()
	plain := []byte(v.Reveal())
	defer clear(plain)
	out := make([]byte, headerLen, headerLen+gcmOverhead+len(plain))
	out[0], out[1] = version, id
	return key.aead.Seal(out, nil, plain, aad.bytes(id)), nil
}

// Decrypt returns the Value that b holds, checking that it was encrypted for aad. Empty b gives
// the zero Value and no error. An unknown version or key id, or a failed authentication
// (altered bytes, or bytes from another place), is an error matching ErrVersion,
// ErrUnknownKey or ErrAuth.
func (k *Keyring) Decrypt(b []byte, aad AAD) (Value, error) {
	if err := aad.check(); err != nil {
		return Value{}, fmt.Errorf("decrypt: %w", err)
	}
	if len(b) == 0 {
		return Value{}, nil
	}
	id, err := KeyID(b)
	if err != nil {
		return Value{}, fmt.Errorf("decrypt: %w", err)
	}
	k.mu.RLock()
	key := k.keys[id]
	k.mu.RUnlock()
	if key == nil {
		return Value{}, fmt.Errorf("decrypt: %w %d: the keyring does not have it "+
			"(a key removed too early, or added by another process: reload the keyring)", ErrUnknownKey, id)
	}
	plain, err := key.aead.Open(nil, nil, b[headerLen:], aad.bytes(id))
	if err != nil {
		return Value{}, fmt.Errorf("decrypt under key id %d: %w: the bytes were altered, or were "+
			"encrypted for another customer, table, column or row", id, ErrAuth)
	}
	defer clear(plain)
	return NewValue(string(plain)), nil
}

// KeyID returns the id of the key b was encrypted under, or an error matching ErrMalformed
// (including for empty b, which holds no secret) or ErrVersion.
func KeyID(b []byte) (byte, error) {
	switch {
	case len(b) == 0:
		return 0, fmt.Errorf("%w: empty, no secret is stored", ErrMalformed)
	case b[0] != version:
		return 0, fmt.Errorf("%w %d (this build reads version %d)", ErrVersion, b[0], version)
	case len(b) < headerLen+gcmOverhead:
		return 0, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	case b[1] == 0:
		return 0, fmt.Errorf("%w: key id 0 is never used", ErrMalformed)
	}
	return b[1], nil
}

// NeedsReencrypt reports whether b was encrypted under a key other than the current one. It is
// false for empty b (nothing stored) and true for bytes KeyID cannot read, so that a rotation
// pass visits them and reports Decrypt's error instead of skipping them silently.
func (k *Keyring) NeedsReencrypt(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	id, err := KeyID(b)
	return err != nil || id != k.CurrentID()
}
