// Package arch holds the architecture test: the import rules of conventions.md, checked on
// every package's non-test files so that a shortcut around the service layer fails CI.
package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "webnet/"

// forbidden maps a package directory (relative to the repository root) to the imports it
// must not have. A prefix ending in "/" forbids the whole tree.
var forbidden = map[string][]string{
	"internal/httpapi": {"webnet/internal/store", "database/sql"},
	"internal/ui":      {"webnet/internal/store", "database/sql", "webnet/internal/httpapi"},
	"internal/jobs":    {"webnet/internal/store", "database/sql", "webnet/internal/httpapi", "webnet/internal/ui"},
	"internal/kinds":   {"webnet/internal/store", "database/sql", "webnet/internal/httpapi", "webnet/internal/ui"},
	"internal/device":  {"webnet/internal/store", "webnet/internal/service", "database/sql"},
	"internal/service": {"webnet/internal/httpapi", "webnet/internal/ui", "database/sql"},
	"internal/store":   {"webnet/internal/service", "webnet/internal/httpapi", "webnet/internal/ui"},
	"internal/webnet":  {module},
	"internal/authz":   {"webnet/internal/store", "webnet/internal/service", "database/sql"},
	// The firmware files know nothing of tenants or the database: the service decides.
	"internal/firmware": {"webnet/internal/store", "webnet/internal/service", "webnet/internal/httpapi", "database/sql"},
}

func imports(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[p] = f
		}
	}
	return out
}

func TestImportRules(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	for dir, bad := range forbidden {
		full := filepath.Join(root, dir)
		if _, err := os.Stat(full); err != nil {
			continue // the package does not exist yet
		}
		checked++
		for imp, file := range imports(t, full) {
			for _, b := range bad {
				if imp == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(imp, b)) {
					t.Errorf("%s imports %s: not allowed in %s (conventions.md)", file, imp, dir)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d of the ruled packages found: is the test running from internal/arch?", checked)
	}
}

// TestRulesBite proves the checker sees an import: httpapi does import service.
func TestRulesBite(t *testing.T) {
	if _, ok := imports(t, filepath.Join("..", "httpapi"))["webnet/internal/service"]; !ok {
		t.Fatal("import scan found nothing in httpapi")
	}
}
