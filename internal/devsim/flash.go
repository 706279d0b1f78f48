package devsim

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// File is one file in a device's flash (Junos: in /var/tmp). Copied images are hashed while
// they stream in and are not kept: a File holds only what "dir" and "verify /md5" show.
type File struct {
	Name    string
	Size    int64
	MD5     string // lower-case hex
	ModTime time.Time
	Dir     bool
	corrupt bool // a corrupted transfer: does not boot
}

// Flash lists the device's flash files, sorted by name.
func (d *Device) Flash() []File {
	d.mu.Lock()
	defer d.mu.Unlock()
	files := d.filesLocked()
	out := make([]File, len(files))
	for i, f := range files {
		out[i] = *f
	}
	return out
}

// PutFile stores a file in the device's flash as if it had been copied there, replacing one
// of the same name: tests use it to stage images without an HTTP server.
func (d *Device) PutFile(name string, content []byte) File {
	sum := md5.Sum(content)
	f := &File{Name: name, Size: int64(len(content)), MD5: hex.EncodeToString(sum[:]), ModTime: d.f.cfg.Clock()}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.putFileLocked(f)
	return *f
}

// FlashFree is the free space on the device's flash, in bytes.
func (d *Device) FlashFree() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.freeLocked()
}

// filesLocked returns the flash contents, the seed's defaults until the flash first changes.
func (d *Device) filesLocked() []*File {
	if d.files == nil {
		return d.defaultFiles()
	}
	return d.files
}

func (d *Device) fileLocked(name string) *File {
	for _, f := range d.filesLocked() {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func (d *Device) putFileLocked(f *File) {
	if d.files == nil {
		d.files = d.defaultFiles()
	}
	d.files = slices.DeleteFunc(d.files, func(g *File) bool { return g.Name == f.Name })
	d.files = append(d.files, f)
	slices.SortFunc(d.files, func(a, b *File) int { return strings.Compare(a.Name, b.Name) })
}

func (d *Device) deleteFileLocked(name string) bool {
	if d.fileLocked(name) == nil {
		return false
	}
	if d.files == nil {
		d.files = d.defaultFiles()
	}
	d.files = slices.DeleteFunc(d.files, func(g *File) bool { return g.Name == name })
	return true
}

func (d *Device) usedLocked() int64 {
	var used int64
	for _, f := range d.filesLocked() {
		used += f.Size
	}
	return used
}

func (d *Device) freeLocked() int64 {
	if d.faults.FullFlash {
		return 0
	}
	return max(0, d.model.flashSize-d.usedLocked())
}

// defaultFiles are the files a device has when the fleet starts: the running image and the
// platform's usual companions, sizes and checksums derived from the seed.
func (d *Device) defaultFiles() []*File {
	r := d.f.stream(d.index, streamFlash)
	at := d.bootedAt.Add(-time.Duration(1+r.IntN(90*24)) * time.Hour)
	file := func(name string, size int64) *File {
		return &File{Name: name, Size: size, MD5: d.virtualMD5(name), ModTime: at}
	}
	dir := func(name string) *File { return &File{Name: name, Size: 4096, Dir: true, ModTime: at} }
	image := file(d.image, d.model.imageSize+int64(r.IntN(20_000_000)))
	var files []*File
	switch d.plat.name {
	case IOSXE:
		files = []*File{image, file("nvram_config", 2_097_152), file("vlan.dat", 3_516),
			dir("tracelogs"), dir("crashinfo"), file("pnp-info", 1_024+int64(r.IntN(512)))}
	case EOS:
		files = []*File{image, file("boot-config", int64(len("SWI=flash:")+len(d.image)+1)),
			file("startup-config", 6_000+int64(r.IntN(40_000))), dir("persist"), dir("schedule"),
			file("zerotouch-config", 12)}
	default:
		files = []*File{dir("gres-tp"), file("krt_gencfg_filter.txt", 0), file("eedebug_bin_file", 34_272+int64(r.IntN(4096)))}
	}
	slices.SortFunc(files, func(a, b *File) int { return strings.Compare(a.Name, b.Name) })
	return files
}

// virtualMD5 is the checksum of a file that exists only as a name and size.
func (d *Device) virtualMD5(name string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], d.f.cfg.Seed)
	binary.BigEndian.PutUint64(b[8:], uint64(d.index))
	sum := sha256.Sum256(append(b[:], name...))
	return hex.EncodeToString(sum[:16])
}

// Transfer errors; each platform words them its own way.
var (
	errNoSpace     = errors.New("No space left on device")
	errAborted     = errors.New("I/O error")
	errUnsupported = errors.New("Protocol not supported")
	errNotFound    = errors.New("No such file or directory")
)

// transferError is a failed copy: the platform reports op (opening or reading the source).
type transferError struct {
	opening bool
	err     error
}

func (e *transferError) Error() string { return e.err.Error() }
func (e *transferError) Unwrap() error { return e.err }

// urlFileName is the last path element of a source URL, the default destination name.
func urlFileName(src string) string {
	u, err := url.Parse(src)
	if err != nil {
		return ""
	}
	return path.Base(u.Path)
}

// progressEvery is how many bytes one progress mark ("!") stands for.
const progressEvery = 1 << 20

// download copies an image from an HTTP URL into the flash as name: a real transfer, hashed as
// it arrives and counted against free space. progress is called every progressEvery bytes; its
// error (the session is gone) aborts the transfer. Faults: full flash, abort halfway, corrupt.
func (d *Device) download(ctx context.Context, src, name string, progress func() error) (*File, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &transferError{opening: true, err: errUnsupported}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, &transferError{opening: true, err: errUnsupported}
	}
	resp, err := d.f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &transferError{opening: true, err: fmt.Errorf("Connection refused: %w", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &transferError{opening: true, err: errNotFound}
	}
	d.mu.Lock()
	free := d.freeLocked()
	if old := d.fileLocked(name); old != nil {
		free += old.Size // overwriting frees the old file's space
	}
	faults := d.faults
	d.mu.Unlock()
	if resp.ContentLength > free {
		return nil, &transferError{err: errNoSpace}
	}
	abortAt := int64(-1)
	if faults.AbortTransfer {
		abortAt = max(1, resp.ContentLength/2)
		if resp.ContentLength < 0 {
			abortAt = progressEvery
		}
	}
	corruptAt := int64(-1)
	if faults.CorruptTransfer {
		corruptAt = max(0, resp.ContentLength/2)
	}
	w := &flashWriter{h: md5.New(), free: free, abortAt: abortAt, corruptAt: corruptAt, progress: progress}
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(w, resp.Body, buf); err != nil {
		var te *transferError
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, &transferError{err: errAborted}
	}
	if w.n == 0 && corruptAt >= 0 {
		w.h.Write([]byte{0}) // an empty file has no byte to flip
	}
	f := &File{Name: name, Size: w.n, MD5: hex.EncodeToString(w.h.Sum(nil)), ModTime: d.f.cfg.Clock(), corrupt: corruptAt >= 0}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.putFileLocked(f)
	return f, nil
}

// flashWriter hashes a transfer and enforces free space and the transfer faults.
type flashWriter struct {
	h         hash.Hash
	n         int64
	free      int64
	abortAt   int64
	corruptAt int64
	progress  func() error
}

func (w *flashWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.free {
		return 0, &transferError{err: errNoSpace}
	}
	if w.abortAt >= 0 && w.n+int64(len(p)) >= w.abortAt {
		return 0, &transferError{err: errAborted}
	}
	if w.corruptAt >= w.n && w.corruptAt < w.n+int64(len(p)) {
		q := slices.Clone(p)
		q[w.corruptAt-w.n] ^= 0x20
		w.h.Write(q)
	} else {
		w.h.Write(p)
	}
	before := w.n / progressEvery
	w.n += int64(len(p))
	for range w.n/progressEvery - before {
		if err := w.progress(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
