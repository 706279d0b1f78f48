//go:build linux

package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// smallBufferWS opens a WebSocket whose socket receive buffer is 32 KiB, so that a client
// that stops reading blocks the server after a few megabytes (the server's send buffer)
// rather than the dozens that kernel autotuning would take in.
func smallBufferWS(t *testing.T, e *env, token string) *wsClient {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 32<<10)
		})
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	c, _, err := e.dialWSWith(t, &websocket.DialOptions{HTTPClient: client,
		HTTPHeader: http.Header{"Authorization": {"Token " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLiveSlowClientIsDropped: a client that stops reading never holds up another one
// watching the same job; it is dropped after the write timeout, and loses nothing by it: it
// resumes from the last seq it received.
func TestLiveSlowClientIsDropped(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	dropped := make(chan struct{}, 10)
	e := newEnvWith(t, db, func(c *httpapi.Config, _ *service.FeedConfig) {
		// Long enough for the fast client on a busy machine (two cores, the race detector).
		c.LiveWriteTimeout = 3 * time.Second
		c.Logger = slog.New(&onMessage{msg: "websocket client dropped", seen: dropped})
	})
	w := newWorld(t, e)
	job := w.startJob(t, "operator", fmt.Sprintf("/api/devices/%d/sync/", w.r1), "")
	slow, fast := smallBufferWS(t, e, w.tokens["operator"]), w.ws(t, w.tokens["operator"])
	for _, c := range []*wsClient{slow, fast} {
		c.subscribeJob(job, 0)
		c.logsThrough(job, 1)
	}

	// The slow client reads nothing more; far more than the socket buffers hold is written,
	// while the fast client reads.
	const lines = 150
	last := int64(1 + lines)
	appended := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 64<<10)
		ctx := context.Background()
		for range lines {
			l := &webnet.JobLogLine{At: time.Now().UTC(), Level: "info", Message: big}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendJobLog(ctx, job, l) }); err != nil {
				appended <- err
				return
			}
		}
		appended <- nil
	}()
	checkSeqs(t, "the fast client", fast.logsThrough(job, last), seqRange(2, last))
	if err := <-appended; err != nil {
		t.Fatal(err)
	}

	// The server gives up on the slow client, which can then read what had reached its
	// buffers before the connection ends.
	select {
	case <-dropped:
	case <-time.After(15 * time.Second):
		t.Fatal("the slow client was not dropped")
	}
	var through int64
	for {
		m, err := slow.read(10 * time.Second)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("the slow client's connection stays open")
		}
		if err != nil {
			break
		}
		if m.Type == "log" {
			through = m.Through
		}
	}
	if through >= last {
		t.Fatalf("the slow client received everything (through %d): nothing was slow", through)
	}
	again := w.ws(t, w.tokens["operator"])
	again.subscribeJob(job, through)
	checkSeqs(t, "the slow client, resumed", again.logsThrough(job, last), seqRange(through+1, last))
}

// onMessage is a log handler that signals each record with message msg.
type onMessage struct {
	msg  string
	seen chan<- struct{}
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *onMessage) WithGroup(string) slog.Handler            { return h }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
	return nil
}
