package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// keyLen is the size of an AES-256 key.
const keyLen = 32

// Keyring holds AES-256 keys by id (1 to 255) and which id is current, that is, used for new
// encryptions. Older keys stay to decrypt what they encrypted until a rotation pass has moved
// every value to the current key. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	keys    map[byte]*key
	current byte
	path    string // the key file; "" when the keys came from WEBNET_SECRET_KEY
}

// key is one AES-256 key and its GCM, built once.
type key struct {
	raw  []byte
	aead cipher.AEAD
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != keyLen {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(raw), keyLen)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &key{raw: raw, aead: aead}, nil
}

func randomKey() *key {
	raw := make([]byte, keyLen)
	rand.Read(raw) // never fails: crypto/rand crashes the program rather than return weak bytes
	k, err := newKey(raw)
	if err != nil {
		panic(err) // unreachable: the length is right and AES accepts any 32 bytes
	}
	return k
}

func newKeyring(keys map[byte]*key, path string) *Keyring {
	kr := &Keyring{keys: keys, path: path}
	for id := range keys {
		kr.current = max(kr.current, id)
	}
	return kr
}

// LoadKeyring returns the keyring to use.
//
// If envKey (the value of WEBNET_SECRET_KEY) is not empty, it holds the keys and dataDir is not
// touched. It is either one base64 key (standard or URL alphabet, padded or not, of exactly 32
// bytes), which becomes key id 1, or a comma-separated list of "id:base64key" pairs, of which
// the highest id is current.
//
// Otherwise the keys are in dataDir/secret.keys, one "id:base64key" per line, '#' starting a
// comment, the highest id current. The file must be readable by its owner only (mode 0600). If
// it does not exist, it is created with one random key, id 1, and dataDir with mode 0700 if
// that is missing; processes starting at the same moment agree on one file.
func LoadKeyring(dataDir, envKey string) (*Keyring, error) {
	if envKey != "" {
		keys, err := parseEnv(envKey)
		if err != nil {
			return nil, fmt.Errorf("WEBNET_SECRET_KEY: %w", err)
		}
		return newKeyring(keys, ""), nil
	}
	if dataDir == "" {
		return nil, errors.New("load keyring: neither a data directory nor WEBNET_SECRET_KEY is set")
	}
	path := filepath.Join(dataDir, keyFileName)
	keys, err := loadOrCreateKeyFile(path)
	if err != nil {
		return nil, err
	}
	return newKeyring(keys, path), nil
}

// CurrentID returns the id of the key that encrypts new values.
func (k *Keyring) CurrentID() byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// Rotate adds a new random key with the next id, makes it current and replaces the key file
// atomically. Values encrypted before still decrypt; NeedsReencrypt finds them for the
// re-encryption pass. Other processes holding the keyring see the new key only after they
// load it again, so rotate where it will be reloaded (the CLI before a restart, or the
// server itself).
//
// Keys another process added to the file since it was loaded are kept. If a loaded key was
// changed or removed in the file, Rotate refuses rather than guess which is right. A keyring
// from WEBNET_SECRET_KEY cannot rotate: the variable is the operator's to change.
func (k *Keyring) Rotate() (newID byte, err error) {
	if k.path == "" {
		return 0, errors.New("rotate: the keys come from WEBNET_SECRET_KEY, which webnet cannot " +
			`change: add a key to it yourself as "1:<old key>,2:<new key>" (the highest id encrypts ` +
			"new values), restart, then re-encrypt")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	onDisk, err := readKeyFile(k.path)
	if err != nil {
		return 0, fmt.Errorf("rotate: %w", err)
	}
	for id, mine := range k.keys {
		theirs, ok := onDisk[id]
		if !ok || !bytes.Equal(mine.raw, theirs.raw) {
			return 0, fmt.Errorf("rotate: key id %d in %s was changed or removed since it was loaded: "+
				"check the file, restart webnet, then rotate", id, k.path)
		}
	}
	keys := maps.Clone(onDisk) // the loaded keys and any another process added
	var top byte
	for id := range keys {
		top = max(top, id)
	}
	if top == 255 {
		return 0, errors.New("rotate: key id 255 is in use, there is no next id")
	}
	newID = top + 1
	keys[newID] = randomKey()
	if err := writeKeyFile(k.path, keys, true); err != nil {
		return 0, fmt.Errorf("rotate: %w", err)
	}
	k.keys, k.current = keys, newID
	return newID, nil
}

// parseEnv reads WEBNET_SECRET_KEY: one base64 key (id 1) or "id:base64key" pairs joined by
// commas. Base64 has neither ':' nor ',', so the two forms cannot be confused.
func parseEnv(s string) (map[byte]*key, error) {
	if !strings.ContainsAny(s, ":,") {
		k, err := decodeKey(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		return map[byte]*key{1: k}, nil
	}
	keys := map[byte]*key{}
	for i, entry := range strings.Split(s, ",") {
		if err := addEntry(keys, entry); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return keys, nil
}

// addEntry parses "id:base64key" into keys. Its errors never quote the entry, which holds a key.
func addEntry(keys map[byte]*key, entry string) error {
	idText, b64, ok := strings.Cut(strings.TrimSpace(entry), ":")
	if !ok {
		return errors.New(`want "id:base64key"`)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 8)
	if err != nil || id == 0 {
		return errors.New("key id must be a number from 1 to 255")
	}
	if _, dup := keys[byte(id)]; dup {
		return fmt.Errorf("key id %d is listed twice", id)
	}
	k, err := decodeKey(strings.TrimSpace(b64))
	if err != nil {
		return fmt.Errorf("key id %d: %w", id, err)
	}
	keys[byte(id)] = k
	return nil
}

// decodeKey accepts base64 in the standard or URL alphabet, padded or not.
func decodeKey(s string) (*key, error) {
	s = strings.TrimRight(s, "=")
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("key is not valid base64")
	}
	return newKey(raw)
}
