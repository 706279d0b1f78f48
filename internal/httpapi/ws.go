package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// GET /api/ws: live updates over a WebSocket. This file is transport only: the upgrade, the
// Origin check, limits on what the client sends, keepalive, write timeouts and close codes.
// What a user is sent, and that they may see it, is service.Watcher's business.
//
// Client → server: {"subscribe":"job:12","after":57}, {"subscribe":"jobs"},
// {"subscribe":"devices"}, {"unsubscribe":"job:12"}. Server → client: see service/livemsg.go.
//
// Close codes: 1001 the server is shutting down; 4000 reconnect and resume (subscribe again
// with after = the last "through" received): the user's access changed, or the server may
// have missed updates; 1008 the client sent too much; 1011 an internal error. A client that
// does not read for LiveWriteTimeout is dropped without a close frame; after any drop it
// resumes the same way, without losing or repeating a line.

// closeReconnect asks the client to connect again and resume from its last seq.
const closeReconnect websocket.StatusCode = 4000

// Limits on what a client sends: messages are small and rare (subscriptions).
const (
	maxClientMessage = 1024
	clientBurst      = 20 // messages at once
	clientPerSecond  = 5  // messages per second, sustained
)

// Defaults of the WebSocket timing settings of Config.
const (
	defaultLiveWriteTimeout = 10 * time.Second
	defaultLivePingInterval = 30 * time.Second
)

// errFlooding ends a connection whose client sends more than the limits allow.
var errFlooding = errors.New("client sends too many messages")

func (a *API) registerLive(mux *http.ServeMux) {
	a.handle(mux, "GET /api/ws", signedIn, a.liveSocket)
}

// liveSocket authenticates (the route is signed-in only: a token header or, from a browser,
// the session cookie), upgrades and serves the connection until one side ends it.
func (a *API) liveSocket(w http.ResponseWriter, r *http.Request) error {
	if a.live == nil {
		return webnet.Errorf(webnet.EUnavailable, "Live updates are not available.")
	}
	if !slices.ContainsFunc(strings.Split(r.Header.Get("Upgrade"), ","), func(p string) bool {
		return strings.EqualFold(strings.TrimSpace(p), "websocket")
	}) {
		return webnet.Errorf(webnet.EInvalid, "This endpoint is a WebSocket: connect with Upgrade: websocket.")
	}
	watcher, err := a.live.Watch(r.Context())
	if err != nil {
		return err
	}
	defer watcher.Close()
	// The server's read deadline is meant for request bodies; this connection outlives it
	// and is kept in check by pings instead.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	// Default options: no compression, and a browser's Origin must be this host.
	// http.CrossOriginProtection lets GET through, so this check is the one that keeps other
	// sites from opening a socket with a signed-in user's cookie.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		a.log.InfoContext(r.Context(), "websocket refused", "request_id", service.RequestFrom(r.Context()).ID, "err", err)
		return nil // Accept has answered (403 for a foreign Origin)
	}
	conn.SetReadLimit(maxClientMessage)
	a.serveLive(r.Context(), conn, watcher)
	return nil
}

// serveLive runs the connection: this goroutine writes what the watcher produces, one reads
// the client's requests, one pings; it returns once all three have stopped.
func (a *API) serveLive(ctx context.Context, conn *websocket.Conn, watcher *service.Watcher) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	// The reader's context is not cancelled when writing stops: cancelling a read closes the
	// connection at once, and the close handshake below needs the reader to see the reply.
	readCtx := context.WithoutCancel(ctx)
	readDone := make(chan error, 1)
	wg.Go(func() {
		readDone <- readClient(readCtx, conn, watcher)
		cancel()
	})
	wg.Go(func() {
		if err := keepAlive(ctx, conn, a.livePing); err != nil {
			cancel()
		}
	})
	err := a.writeClient(ctx, conn, watcher)
	ended := ctx.Err() != nil
	cancel() // the pings stop; the reader stops when the connection closes
	var dropped *droppedError
	if errors.As(err, &dropped) {
		// Nothing more can be said to this client.
		a.log.InfoContext(ctx, "websocket client dropped", "request_id", service.RequestFrom(ctx).ID, "err", dropped.err)
		_ = conn.CloseNow()
		return
	}
	if ended {
		select {
		case err = <-readDone: // the reader ended it: say why
		default: // the pings went unanswered
		}
	}
	code, reason := a.closeStatus(ctx, err)
	_ = conn.Close(code, reason)
}

// droppedError is a write that failed or timed out: the client is gone or too slow.
type droppedError struct{ err error }

func (e *droppedError) Error() string { return "write to client: " + e.err.Error() }

// writeClient sends the watcher's messages until it, the connection or ctx ends. A client
// that does not take a message within the write timeout is dropped: the feed never waits
// for it, and when it reconnects it resumes from its last seq.
func (a *API) writeClient(ctx context.Context, conn *websocket.Conn, watcher *service.Watcher) error {
	for {
		msg, err := watcher.Next(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, a.liveWrite)
		err = conn.Write(wctx, websocket.MessageText, msg)
		slow := errors.Is(wctx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case err == nil:
		case !slow && ctx.Err() != nil:
			return ctx.Err() // the reader or the pings ended it
		default:
			return &droppedError{err}
		}
	}
}

// closeStatus maps why a connection ends to its close code and reason.
func (a *API) closeStatus(ctx context.Context, err error) (websocket.StatusCode, string) {
	var reconnect *service.ReconnectError
	switch {
	case errors.Is(err, service.ErrFeedClosed):
		return websocket.StatusGoingAway, "The server is shutting down; reconnect later."
	case errors.As(err, &reconnect):
		return closeReconnect, reconnect.Reason
	case errors.Is(err, errFlooding):
		return websocket.StatusPolicyViolation, "Too many messages."
	case err == nil, websocket.CloseStatus(err) != -1, errors.Is(err, context.Canceled), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return websocket.StatusNormalClosure, ""
	}
	a.log.ErrorContext(ctx, "websocket failed", "request_id", service.RequestFrom(ctx).ID, "err", err)
	return websocket.StatusInternalError, "Internal error; reconnect and resume."
}

// clientMessage is one request of the client.
type clientMessage struct {
	Subscribe   *string `json:"subscribe"`
	Unsubscribe *string `json:"unsubscribe"`
	After       int64   `json:"after"`
}

const badMessage = `Malformed message: send {"subscribe":"job:12","after":0}, {"subscribe":"jobs"}, ` +
	`{"subscribe":"devices"} or {"unsubscribe":"job:12"}.`

// readClient reads the client's requests, strictly and within the rate limit, and hands them
// to the watcher; a malformed one gets an error message, a flood ends the connection.
func readClient(ctx context.Context, conn *websocket.Conn, watcher *service.Watcher) error {
	tokens, last := float64(clientBurst), time.Now()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		tokens = min(clientBurst, tokens+now.Sub(last).Seconds()*clientPerSecond)
		last = now
		if tokens < 1 {
			return errFlooding
		}
		tokens--
		var m clientMessage
		switch {
		case typ != websocket.MessageText || decodeStrict(data, &m) != nil || (m.Subscribe == nil) == (m.Unsubscribe == nil):
			err = watcher.Refuse(badMessage)
		case m.Subscribe != nil:
			err = watcher.Subscribe(*m.Subscribe, m.After)
		default:
			err = watcher.Unsubscribe(*m.Unsubscribe)
		}
		if err != nil {
			return errFlooding
		}
	}
}

// decodeStrict decodes one JSON value with no unknown field and nothing after it.
func decodeStrict(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// keepAlive pings the client; one that does not answer within half the interval is gone.
func keepAlive(ctx context.Context, conn *websocket.Conn, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every/2)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}
