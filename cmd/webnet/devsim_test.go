package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	var inv devsim.Inventory
	deadline := time.Now().Add(10 * time.Second)
	for json.Unmarshal([]byte(out.String()), &inv) != nil {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no inventory printed; stderr: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !inv.Simulated || len(inv.Devices) != 4 || inv.Credential.Name != devsim.InventoryCredential {
		t.Fatalf("inventory: %+v", inv)
	}
	logins := 0
	for _, d := range inv.Devices {
		cfg := &ssh.ClientConfig{User: inv.Credential.Username, Auth: []ssh.AuthMethod{ssh.Password(inv.Credential.Password)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
		client, err := ssh.Dial("tcp", net.JoinHostPort(d.Address, strconv.Itoa(d.Port)), cfg)
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
