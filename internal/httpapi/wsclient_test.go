package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"webnet/internal/store"
	"webnet/internal/webnet"
)

// A real WebSocket client of GET /api/ws for the tests: coder/websocket's Dial against the
// test server, authenticated like any API client.

// wsMsg is any server message; fields not in a message's type stay empty. "job" is an object
// in job messages and a number in log and targets messages.
type wsMsg struct {
	Type         string              `json:"type"`
	Subscription string              `json:"subscription"`
	Error        string              `json:"error"`
	Job          json.RawMessage     `json:"job"`
	Lines        []webnet.JobLogLine `json:"lines"`
	Through      int64               `json:"through"`
	Latest       int64               `json:"latest"`
	Targets      []webnet.JobTarget  `json:"targets"`
	Device       json.RawMessage     `json:"device"`
	raw          string
}

// jobObject decodes a job message's job.
func (m wsMsg) jobObject(t testing.TB) webnet.Job {
	t.Helper()
	var j webnet.Job
	if err := json.Unmarshal(m.Job, &j); err != nil {
		t.Fatalf("job message %s: %v", m, err)
	}
	return j
}

type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

// wsURL is the test server's WebSocket URL.
func (e *env) wsURL() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/ws" }

// dialWS opens a WebSocket with the given headers (alternating names and values); the
// response is returned for handshake failures.
func (e *env) dialWS(t testing.TB, hdr ...string) (*wsClient, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return e.dialWSWith(t, &websocket.DialOptions{HTTPHeader: h})
}

// dialWSWith opens a WebSocket with the given options.
func (e *env) dialWSWith(t testing.TB, opts *websocket.DialOptions) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, e.wsURL(), opts)
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn}, resp, nil
}

// ws opens a WebSocket as the holder of token, failing the test if it cannot.
func (e *env) ws(t testing.TB, token string) *wsClient {
	t.Helper()
	c, resp, err := e.dialWS(t, "Authorization", "Token "+token)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", e.wsURL(), err, status)
	}
	return c
}

// send writes one client message.
func (c *wsClient) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// next reads one message, failing the test after timeout.
func (c *wsClient) next(timeout time.Duration) wsMsg {
	c.t.Helper()
	m, err := c.read(timeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *wsClient) read(timeout time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, data, err := c.conn.Read(ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	if typ != websocket.MessageText {
		return m, fmt.Errorf("a binary message")
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("message %.300q: %v", data, err)
	}
	m.raw = string(data)
	return m, nil
}

// until reads messages until one satisfies done and returns them all, done's included.
func (c *wsClient) until(what string, done func(wsMsg) bool) []wsMsg {
	c.t.Helper()
	var got []wsMsg
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %s: %v; got %d messages, the last ones: %v", what, err, len(got), raws(got[max(0, len(got)-5):]))
		}
		got = append(got, m)
		if done(m) {
			return got
		}
	}
}

// logsThrough reads until a log message of job covers seq through, and returns the lines
// received on the way.
func (c *wsClient) logsThrough(job, through int64) []webnet.JobLogLine {
	c.t.Helper()
	var lines []webnet.JobLogLine
	for _, m := range c.until(fmt.Sprintf("job %d's log through %d", job, through), func(m wsMsg) bool {
		return m.Type == "log" && string(m.Job) == fmt.Sprint(job) && m.Through >= through
	}) {
		if m.Type == "log" {
			lines = append(lines, m.Lines...)
		}
	}
	return lines
}

// raws lists messages for a failure report, each cut short.
func raws(ms []wsMsg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// String is the message's JSON, cut short: log lines can be long.
func (m wsMsg) String() string {
	if len(m.raw) > 300 {
		return m.raw[:300] + "…"
	}
	return m.raw
}

// appendLines appends n lines to a job's log through the store, as a worker would, each about
// the device of devices[i % len] (0: about the job); it returns the last seq.
func appendLines(t testing.TB, db *store.DB, job int64, n int, devices ...int64) int64 {
	t.Helper()
	if len(devices) == 0 {
		devices = []int64{0}
	}
	var last int64
	ctx := context.Background()
	for i := range n {
		l := &webnet.JobLogLine{At: time.Now().UTC(), Level: "info"}
		if d := devices[i%len(devices)]; d != 0 {
			l.DeviceID = &d
			l.Message = fmt.Sprintf("line %d about device %d", i, d)
		} else {
			l.Message = fmt.Sprintf("line %d", i)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendJobLog(ctx, job, l) }); err != nil {
			t.Fatal(err)
		}
		last = l.Seq
	}
	return last
}

// checkSeqs fails unless lines have exactly the seqs want, in order.
func checkSeqs(t testing.TB, what string, lines []webnet.JobLogLine, want []int64) {
	t.Helper()
	got := make([]int64, len(lines))
	for i, l := range lines {
		got[i] = l.Seq
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: seqs %v, want %v", what, got, want)
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}
