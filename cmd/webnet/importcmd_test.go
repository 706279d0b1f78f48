package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WEBNET_DATA_DIR": dir, "WEBNET_LOG_FORMAT": "json"}
	ctx := context.Background()
	db, err := openDB(ctx, Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c := &webnet.Customer{Name: "Acme", Slug: "acme", CreatedAt: time.Now().UTC()}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	good := filepath.Join(dir, "fleet.csv")
	os.WriteFile(good, []byte("name,address,port,platform\nsim-1,127.0.0.1,30001,cisco_iosxe\nsim-2,127.0.0.1,30002,arista_eos\n"), 0o600)
	id := "1"
	if code, out, errOut := runCLI(t, "", env, "import", "--customer", id, "--file", good, "--dry-run"); code != 0 || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", env, "import", "--customer", id, "--file", good); code != 0 || out != "imported 2 devices\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	// Again: both names are taken now; every row is reported and nothing is written.
	code, _, errOut := runCLI(t, "", env, "import", "--customer", id, "--file", good)
	if code != 1 || !strings.Contains(errOut, "row 1 (sim-1)") || !strings.Contains(errOut, "row 2 (sim-2)") {
		t.Fatalf("second import: %d %q", code, errOut)
	}
	json := `[{"name":"sim-3","address":"127.0.0.1","port":30003,"platform":"juniper_junos"}]`
	if code, out, errOut := runCLI(t, json, env, "import", "--customer", id, "--file", "-", "--format", "json"); code != 0 || out != "imported 1 devices\n" {
		t.Fatalf("json from stdin: %d %q %q", code, out, errOut)
	}
	if code, _, _ := runCLI(t, "", env, "import", "--file", good); code != 2 {
		t.Fatalf("without --customer: %d", code)
	}
}
