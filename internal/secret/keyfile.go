package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

const (
	keyFileName = "secret.keys"
	// maxKeyFileSize bounds the read: 255 keys with comments fit in a few kilobytes.
	maxKeyFileSize = 64 << 10
)

const keyFileHeader = `# webnet secret keys: one "id:base64key" (32 bytes, AES-256) per line.
# The highest id encrypts new values; the others decrypt older ones. Never delete a key
# while values encrypted under it remain, and keep this file private (chmod 600) and backed
# up: without it the stored credentials are lost.
`

// loadOrCreateKeyFile reads the key file, creating it with one random key if it is missing.
func loadOrCreateKeyFile(path string) (map[byte]*key, error) {
	keys, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key file directory: %w", err)
	}
	keys = map[byte]*key{1: randomKey()}
	err = writeKeyFile(path, keys, false)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our read and our write: use its key, or the two
		// would encrypt under different keys that both call themselves id 1.
		return readKeyFile(path)
	}
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// readKeyFile reads and parses the key file, refusing one others may read. A missing file
// gives an error matching fs.ErrNotExist.
func readKeyFile(path string) (map[byte]*key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	// Windows has no such mode bits; its ACLs are the administrator's business.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %#o, so others may read the keys: "+
			"run chmod 600 %s (and consider the keys exposed if others did)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("key file %s is over %d bytes", path, maxKeyFileSize)
	}
	keys, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return keys, nil
}

func parseKeyFile(data []byte) (map[byte]*key, error) {
	keys := map[byte]*key{}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := addEntry(keys, line); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	if len(keys) == 0 {
		// Not regenerated: an emptied file most likely means lost keys, not a fresh install.
		return nil, errors.New("no keys in the file")
	}
	return keys, nil
}

func formatKeyFile(keys map[byte]*key) []byte {
	var b bytes.Buffer
	b.WriteString(keyFileHeader)
	for _, id := range slices.Sorted(maps.Keys(keys)) {
		fmt.Fprintf(&b, "%d:%s\n", id, base64.StdEncoding.EncodeToString(keys[id].raw))
	}
	return b.Bytes()
}

// writeKeyFile writes keys to a temporary file (mode 0600) in the same directory, syncs it,
// then puts it in place: by rename when replace is true, otherwise by link, which fails with
// fs.ErrExist if the file already exists. Readers see the old file or the whole new one.
func writeKeyFile(path string, keys map[byte]*key, replace bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+keyFileName+"-*.tmp") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a rename there is nothing left; after a link, the extra name
	if _, err := tmp.Write(formatKeyFile(keys)); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close key file: %w", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("put key file in place: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; NTFS journals the rename
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key file directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key file directory: %w", err)
	}
	return nil
}
