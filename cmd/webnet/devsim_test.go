package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"webnet/internal/devsim"
	"webnet/internal/service"
)

// lockedBuffer is a bytes.Buffer written by the command and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestDevsimCommand(t *testing.T) {
	var out, errb lockedBuffer
	c := cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- c.devsim(ctx, []string{"--count", "4", "--seed", "5", "--faults", "auth:1", "--log-format", "json"})
	}()

	// The inventory is in the import's own format: it parses as an import as it is.
	var rows []service.ImportRow
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if rows, err = service.ParseImportJSON([]byte(out.String())); err == nil && len(rows) == 4 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no importable inventory printed: %q; stderr: %s", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	logins := 0
	for _, d := range rows {
		if d.Credential != devsim.InventoryCredential || d.Port == nil {
			t.Fatalf("inventory row: %+v", d)
		}
		cfg := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.Password("admin")},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
		client, err := ssh.Dial("tcp", net.JoinHostPort(d.Address, strconv.Itoa(*d.Port)), cfg)
		if err == nil {
			logins++
			client.Close()
		}
	}
	if logins != 3 {
		t.Fatalf("%d of 4 devices let the inventory's credential in, want 3 (one has the auth fault)", logins)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("devsim: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devsim did not stop with its context")
	}
}

func TestDevsimCommandUsage(t *testing.T) {
	c := cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	for _, args := range [][]string{
		{"--inventory", "xml"},
		{"--faults", "meteor:1"},
		{"--platforms", "cisco_nxos"},
		{"--count", "2", "--faults", "auth:3"},
	} {
		if err := c.devsim(t.Context(), args); !errors.As(err, new(usageError)) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
