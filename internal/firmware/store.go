// Package firmware keeps the files of firmware images in the data dir: an upload is streamed
// into a temporary file while its size is limited and its SHA-256 and MD5 are computed, and it
// is published under its SHA-256 only once the caller's database transaction is ready to
// commit. It knows nothing of customers, permissions or the database: the service decides who
// may upload what and records the rows; this package only guarantees that a file under its
// final name is always complete, and that a failed upload leaves nothing behind.
package firmware

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Dir is the directory of the image files, relative to the data dir.
const Dir = "firmware"

// tempPrefix starts the names of files being received; no published name starts with it.
const tempPrefix = ".upload-"

// staleAfter is how old a temporary file must be before NewStore removes it as the remains of
// an upload that a crash interrupted. Files of uploads in progress (in this or another
// process sharing the directory) are written to all the time and never look this old.
const staleAfter = time.Hour

// Errors of Receive.
var (
	ErrTooLarge = errors.New("firmware: the image is larger than the limit")
	ErrEmpty    = errors.New("firmware: the image is empty")
)

// Config configures a Store.
type Config struct {
	// DataDir is webnet's data dir; the files go into its firmware/ subdirectory.
	DataDir string
	// MaxSize is the largest image Receive accepts, in bytes (required).
	MaxSize int64
	Logger  *slog.Logger
}

// Store is the firmware directory. It is safe for concurrent use.
type Store struct {
	dir     string
	maxSize int64
	log     *slog.Logger
	// mu orders publishing and unpublishing of files within this process: a file shared by
	// two scopes must not be removed by one image's deletion just as the other's upload is
	// published. Only the short rename-and-commit steps hold it, never a transfer.
	mu sync.Mutex
}

// NewStore opens (creating it, mode 0700) the firmware directory of cfg.DataDir and removes
// temporary files that crashed uploads left behind.
func NewStore(cfg Config) (*Store, error) {
	if cfg.DataDir == "" || cfg.MaxSize <= 0 {
		return nil, errors.New("firmware: DataDir and a positive MaxSize are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: filepath.Join(cfg.DataDir, Dir), maxSize: cfg.MaxSize, log: cfg.Logger}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("firmware directory: %w", err)
	}
	if err := s.sweep(time.Now()); err != nil {
		return nil, err
	}
	return s, nil
}

// MaxSize is the largest image Receive accepts.
func (s *Store) MaxSize() int64 { return s.maxSize }

// sweep removes temporary files older than staleAfter.
func (s *Store) sweep(now time.Time) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("firmware directory: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleAfter {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove an interrupted firmware upload", "file", e.Name(), "err", err)
		} else {
			s.log.Info("removed an interrupted firmware upload", "file", e.Name(), "size", info.Size())
		}
	}
	return nil
}

// Upload is an image received into a temporary file: complete, synced to disk and hashed,
// but not yet published. Call Discard when done with it, whatever happened.
type Upload struct {
	Size   int64
	SHA256 string // lower-case hex
	MD5    string // lower-case hex
	tmp    string // "" once published or discarded
}

// Discard removes the temporary file, if it is still there. It is safe to call after
// Publish and more than once.
func (u *Upload) Discard() {
	if u.tmp != "" {
		_ = os.Remove(u.tmp)
		u.tmp = ""
	}
}

// Receive reads r to its end into a temporary file in the firmware directory, computing the
// size, SHA-256 and MD5 as it goes, and syncs the file to disk. Memory use is a few chunks,
// whatever the size. It fails with ErrTooLarge past MaxSize bytes, ErrEmpty for no bytes,
// r's own error, or ctx's; on any failure the temporary file is gone.
func (s *Store) Receive(ctx context.Context, r io.Reader) (_ *Upload, err error) {
	f, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create a temporary image file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	sha, sum := sha256.New(), md5.New()
	wb := newWriteback(f)
	p := startPipeline(wb.write, func(b []byte) error { sum.Write(b); return nil })
	size, err := p.run(ctx, r, s.maxSize, func(b []byte) { sha.Write(b) })
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, ErrEmpty
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync the image: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close the image: %w", err)
	}
	return &Upload{Size: size, SHA256: hex.EncodeToString(sha.Sum(nil)), MD5: hex.EncodeToString(sum.Sum(nil)), tmp: f.Name()}, nil
}

// Path returns where the image with the given SHA-256 is, relative to the data dir.
func Path(sha256 string) string { return Dir + "/" + sha256 }

// Publish moves u's file to its final name, then runs commit (the caller's database
// transaction). If commit fails, the file is removed again unless it was already there
// before (the same content, published for another scope), and commit's error is returned.
// The final name only ever holds a complete, synced file, so a row that commit makes
// visible always finds its file.
func (s *Store) Publish(u *Upload, commit func() error) error {
	if u.tmp == "" {
		return errors.New("firmware: publish of an upload already published or discarded")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	final := filepath.Join(s.dir, u.SHA256)
	_, err := os.Lstat(final)
	existed := err == nil
	// Renaming over an existing file of the same name replaces identical bytes: harmless,
	// and it repairs a file a disk fault had truncated. Readers that have it open keep theirs.
	if err := os.Rename(u.tmp, final); err != nil {
		return fmt.Errorf("publish the image: %w", err)
	}
	u.tmp = ""
	if err := syncDir(s.dir); err != nil {
		s.log.Warn("sync the firmware directory", "err", err)
	}
	if err := commit(); err != nil {
		if !existed {
			if rerr := os.Remove(final); rerr != nil {
				s.log.Error("remove the file of an image that was not recorded", "sha256", u.SHA256, "err", rerr)
			}
		}
		return err
	}
	return nil
}

// Unpublish runs commit (the caller's transaction deleting an image's row), which reports
// whether another image still uses the file; if none does, the file is removed. A file that
// cannot be removed is logged, not returned: the image is gone either way, and the file is
// only disk space.
func (s *Store) Unpublish(sha256 string, commit func() (inUse bool, err error)) error {
	if !shaRE.MatchString(sha256) {
		return fmt.Errorf("firmware: %q is not a SHA-256", sha256)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inUse, err := commit()
	if err != nil || inUse {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, sha256)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("remove the file of a deleted image", "sha256", sha256, "err", err)
	}
	return nil
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Open opens the published image at path (as Path gives it), for reading.
func (s *Store) Open(path string) (*os.File, error) {
	name, ok := strings.CutPrefix(path, Dir+"/")
	if !ok || !shaRE.MatchString(name) {
		// Paths come from the database: anything else would be a way out of the directory.
		return nil, fmt.Errorf("firmware: %q is not an image path", path)
	}
	return os.Open(filepath.Join(s.dir, name))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
