package firmware

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func newTestStore(t *testing.T, max int64) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := NewStore(Config{DataDir: dir, MaxSize: max})
	if err != nil {
		t.Fatal(err)
	}
	return s, filepath.Join(dir, Dir)
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), 1}).Read(b)
	return b
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestReceiveHashesWhatItWrites(t *testing.T) {
	s, dir := newTestStore(t, 64<<20)
	for _, size := range []int{1, chunkSize - 1, chunkSize, chunkSize + 1, 5*chunkSize + 12345} {
		content := randomBytes(uint64(size), size)
		// Small, uneven reads, as a multipart part gives them.
		u, err := s.Receive(t.Context(), iotest.HalfReader(bytes.NewReader(content)))
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		sha, sum := sha256.Sum256(content), md5.Sum(content)
		if u.Size != int64(size) || u.SHA256 != hex.EncodeToString(sha[:]) || u.MD5 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%d bytes: %+v", size, u)
		}
		if err := s.Publish(u, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, u.SHA256))
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("%d bytes: the published file differs (%v)", size, err)
		}
		if Path(u.SHA256) != "firmware/"+u.SHA256 {
			t.Fatalf("Path = %s", Path(u.SHA256))
		}
		u.Discard() // after Publish: nothing to do, and no harm
	}
	if n := len(names(t, dir)); n != 5 {
		t.Fatalf("%d files, want 5: %v", n, names(t, dir))
	}
}

func TestReceiveFailuresLeaveNothing(t *testing.T) {
	s, dir := newTestStore(t, 3*chunkSize)
	broken := errors.New("connection reset")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for name, c := range map[string]struct {
		ctx  context.Context
		r    io.Reader
		want error
	}{
		"one byte over":       {t.Context(), bytes.NewReader(make([]byte, 3*chunkSize+1)), ErrTooLarge},
		"far over":            {t.Context(), io.LimitReader(zeroReader{}, 1<<30), ErrTooLarge},
		"empty":               {t.Context(), bytes.NewReader(nil), ErrEmpty},
		"reader fails midway": {t.Context(), io.MultiReader(bytes.NewReader(make([]byte, chunkSize+7)), iotest.ErrReader(broken)), broken},
		"cancelled":           {cancelled, bytes.NewReader(make([]byte, 10)), context.Canceled},
	} {
		u, err := s.Receive(c.ctx, c.r)
		if !errors.Is(err, c.want) || u != nil {
			t.Errorf("%s: %v, %v; want %v", name, u, err, c.want)
		}
		if files := names(t, dir); len(files) != 0 {
			t.Errorf("%s: left %v", name, files)
		}
		// The pipeline's goroutines have ended when Receive returns: each has closed its
		// done channel, and may still be returning for an instant. (Their stacks are looked
		// for, not counted goroutines: the runtime starts goroutines of its own, for
		// cleanups, at any time.)
		left := stageGoroutines()
		for deadline := time.Now().Add(2 * time.Second); left > 0 && time.Now().Before(deadline); left = stageGoroutines() {
			time.Sleep(time.Millisecond)
		}
		if left > 0 {
			t.Errorf("%s: %d pipeline goroutines left", name, left)
		}
	}
}

// stageGoroutines counts the goroutines running a pipeline stage.
func stageGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "firmware.(*stage).loop")
		}
		buf = make([]byte, 2*len(buf))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestPublishUndoesAFailedCommit(t *testing.T) {
	s, dir := newTestStore(t, 1<<20)
	content := randomBytes(1, 1000)
	u, err := s.Receive(t.Context(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("duplicate")
	var during []string
	err = s.Publish(u, func() error {
		during = names(t, dir) // the row commits while the file is already complete under its name
		return refused
	})
	if !errors.Is(err, refused) || !slices.Equal(during, []string{u.SHA256}) {
		t.Fatalf("publish: %v; during the commit %v", err, during)
	}
	if files := names(t, dir); len(files) != 0 {
		t.Fatalf("left %v", files)
	}
	if err := s.Publish(u, func() error { return nil }); err == nil {
		t.Fatal("publishing an upload twice")
	}

	// A failed commit keeps a file that was there before: another image's.
	first, _ := s.Receive(t.Context(), bytes.NewReader(content))
	if err := s.Publish(first, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	second, _ := s.Receive(t.Context(), bytes.NewReader(content))
	if err := s.Publish(second, func() error { return refused }); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	if files := names(t, dir); !slices.Equal(files, []string{first.SHA256}) {
		t.Fatalf("files %v, want the first image's", files)
	}
}

func TestUnpublishKeepsASharedFile(t *testing.T) {
	s, dir := newTestStore(t, 1<<20)
	u, _ := s.Receive(t.Context(), bytes.NewReader(randomBytes(2, 1000)))
	if err := s.Publish(u, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("in use by a job")
	if err := s.Unpublish(u.SHA256, func() (bool, error) { return false, failed }); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if err := s.Unpublish(u.SHA256, func() (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	if len(names(t, dir)) != 1 {
		t.Fatal("a file still in use, or a refused delete's, was removed")
	}
	if err := s.Unpublish(u.SHA256, func() (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if files := names(t, dir); len(files) != 0 {
		t.Fatalf("left %v", files)
	}
	if err := s.Unpublish("../webnet.db", func() (bool, error) { return false, nil }); err == nil {
		t.Fatal("unpublish of a path outside the directory")
	}
}

func TestOpenOnlyImagePaths(t *testing.T) {
	s, _ := newTestStore(t, 1<<20)
	content := randomBytes(3, 100)
	u, _ := s.Receive(t.Context(), bytes.NewReader(content))
	if err := s.Publish(u, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(Path(u.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, content) {
		t.Fatal("Open read other bytes")
	}
	for _, p := range []string{"firmware/../webnet.db", "../firmware/" + u.SHA256, "secret.keys", "firmware/" + u.SHA256[:63], u.SHA256} {
		if f, err := s.Open(p); err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestNewStoreSweepsStaleUploads(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{tempPrefix + "stale", tempPrefix + "fresh", "0123"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	for _, name := range []string{tempPrefix + "stale", "0123"} {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewStore(Config{DataDir: data, MaxSize: 1}); err != nil {
		t.Fatal(err)
	}
	if files := names(t, dir); !slices.Equal(files, []string{tempPrefix + "fresh", "0123"}) {
		t.Fatalf("after the sweep: %v (only an old temporary file goes)", files)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v", info.Mode(), err)
	}
	if _, err := NewStore(Config{DataDir: data}); err == nil {
		t.Fatal("NewStore without a size limit")
	}
}

func TestPipelineStageErrorStopsTheStream(t *testing.T) {
	failed := errors.New("disk full")
	calls := 0
	p := startPipeline(func(b []byte) error {
		if calls++; calls == 2 {
			return failed
		}
		return nil
	}, func([]byte) error { return nil })
	read := int64(0)
	size, err := p.run(t.Context(), io.LimitReader(zeroReader{}, 100*chunkSize), 1<<40, func(b []byte) { read += int64(len(b)) })
	if !errors.Is(err, failed) {
		t.Fatalf("run: %v", err)
	}
	// The reader stops within a window of the failure, not at the stream's end.
	if size > (2+inFlight+1)*chunkSize || read != size {
		t.Fatalf("read %d bytes (%d inline) after a failure at the second chunk", size, read)
	}
}
