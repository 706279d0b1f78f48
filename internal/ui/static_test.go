package ui_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVendoredHTMXIsTheLockedVersion: static/vendor/htmx.min.js is the htmx.org of
// package-lock.json (go generate ./internal/ui copies it from node_modules); where npm ci has
// run (CI), byte for byte.
func TestVendoredHTMXIsTheLockedVersion(t *testing.T) {
	raw, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	want := lock.Packages["node_modules/htmx.org"].Version
	if want == "" {
		t.Fatal("package-lock.json has no htmx.org")
	}
	vendored, err := os.ReadFile("static/vendor/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(vendored, []byte(`version:"`+want+`"`)) {
		t.Fatalf("static/vendor/htmx.min.js is not htmx %s: run go generate ./internal/ui", want)
	}
	installed, err := os.ReadFile("node_modules/htmx.org/dist/htmx.min.js")
	if os.IsNotExist(err) {
		t.Log("node_modules not installed (npm ci): checked the version only")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(installed, vendored) {
		t.Fatal("static/vendor/htmx.min.js differs from the installed htmx.org: run go generate ./internal/ui")
	}
}

// TestShippedAssetsBudget: all the JavaScript and CSS a page loads weighs at most 100 KB
// gzip-compressed (issue 7's budget).
func TestShippedAssetsBudget(t *testing.T) {
	var total int
	err := filepath.WalkDir("static", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = w.Write(b)
		_ = w.Close()
		t.Logf("%s: %d bytes, %d gzip'd", p, len(b), z.Len())
		total += z.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("total: %d bytes gzip'd", total)
	if total > 100_000 {
		t.Fatalf("JS and CSS shipped: %d bytes gzip'd, over the 100 KB budget", total)
	}
}
