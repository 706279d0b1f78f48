package secret

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"slices"
)

// MACs let webnet vouch for a value it hands out and later gets back (a signed firmware URL
// that a device presents without a session). They are keyed from the keyring because every
// process that shares the database shares the keyring too (a worker must decrypt the
// credentials the server encrypted): a MAC made by a worker checks in the server that
// receives it. Each purpose gets its own key, derived with HKDF-SHA256 from a credential key,
// so a MAC is never a credential key and a MAC of one purpose is worthless for another; the
// derived keys never leave this package.

// macKeyLen is the size of a derived MAC key.
const macKeyLen = 32

// deriveMACKey derives the MAC key of purpose from a credential key.
func deriveMACKey(k *key, purpose string) []byte {
	mk, err := hkdf.Key(sha256.New, k.raw, nil, "webnet mac v1: "+purpose, macKeyLen)
	if err != nil {
		panic(err) // unreachable: 32 bytes is far below HKDF-SHA256's limit
	}
	return mk
}

// MAC returns the HMAC-SHA256 of msg under the key of purpose derived from the current key.
func (k *Keyring) MAC(purpose string, msg []byte) []byte {
	k.mu.RLock()
	cur := k.keys[k.current]
	k.mu.RUnlock()
	m := hmac.New(sha256.New, deriveMACKey(cur, purpose))
	m.Write(msg)
	return m.Sum(nil)
}

// CheckMAC reports whether mac is msg's MAC of purpose under any key of the keyring, the
// current one first, so that a MAC made just before a rotation still checks. Each comparison
// takes constant time.
func (k *Keyring) CheckMAC(purpose string, msg, mac []byte) bool {
	k.mu.RLock()
	ids := make([]byte, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	keys := make([]*key, 0, len(ids))
	slices.Sort(ids)
	for _, id := range slices.Backward(ids) {
		keys = append(keys, k.keys[id])
	}
	k.mu.RUnlock()
	ok := false
	for _, kk := range keys {
		m := hmac.New(sha256.New, deriveMACKey(kk, purpose))
		m.Write(msg)
		// Every key is tried even after a match: how long a check takes says nothing.
		ok = hmac.Equal(m.Sum(nil), mac) || ok
	}
	return ok
}
