package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// BenchmarkLiveFanout checks the budget of live updates: each log line delivered to 500
// connected WebSocket subscribers with p99 ≤ 100 ms from AppendLog to the client's receipt,
// on loopback. Each iteration appends one line (its own transaction, as a worker does) about
// a device the subscribers see through their viewer role, so every delivery is authorized
// per subscriber. The lines come at a steady rate ("every=10ms": 100 lines/s, 50,000
// deliveries/s) or back to back ("every=0", as fast as the store appends). The latency
// metrics cover every (line, subscriber) pair.
//
//	go test ./internal/httpapi -run '^$' -bench BenchmarkLiveFanout -benchtime 300x
func BenchmarkLiveFanout(b *testing.B) {
	for _, every := range []time.Duration{10 * time.Millisecond, 0} {
		b.Run(fmt.Sprintf("subscribers=500/every=%s", every), func(b *testing.B) { benchFanout(b, 500, every) })
	}
}

var messageKey, throughKey = []byte(`"message":"`), []byte(`"through":`)

func benchFanout(b *testing.B, subscribers int, every time.Duration) {
	db := storetest.Open(b, store.SQLite)
	e := newEnv(b, db)
	root := e.token(b)
	cust := e.customer(b, "acme")
	post := func(path, body string) int64 {
		r := e.do(b, "POST", path, body, as(root)...)
		if r.status != 201 && r.status != 202 {
			b.Fatalf("POST %s: %d %s", path, r.status, r.raw)
		}
		if j, ok := r.body["job"].(map[string]any); ok {
			return idOf(j)
		}
		return idOf(r.body)
	}
	group := post("/api/device-groups/", fmt.Sprintf(`{"customer":%d,"name":"core"}`, cust))
	device := post("/api/devices/", fmt.Sprintf(`{"customer":%d,"device_group":%d,"name":"r1","address":"192.0.2.1","platform":"cisco_iosxe"}`, cust, group))
	job := post(fmt.Sprintf("/api/devices/%d/sync/", device), "")
	_, viewer := e.user(b, "viewer", false, false, map[int64]webnet.Role{cust: webnet.RoleViewer})

	clients := make([]*wsClient, subscribers)
	for i := range clients {
		clients[i] = e.ws(b, viewer)
		clients[i].subscribeJob(job, 0)
		clients[i].logsThrough(job, 1) // caught up on the line of the job's creation
	}

	// Each client records, for every line it receives, how long ago it was appended: the
	// line's message is its append time.
	lastSeq := int64(1 + b.N)
	latencies := make([][]time.Duration, subscribers)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for {
				_, data, err := c.conn.Read(context.Background())
				now := time.Now()
				if err != nil {
					b.Errorf("client %d: %v", i, err)
					return
				}
				// A scan rather than a JSON decoder: the clients share the two cores with the
				// server, and what is measured is the server.
				for rest := data; ; {
					at := bytes.Index(rest, messageKey)
					if at < 0 {
						break
					}
					rest = rest[at+len(messageKey):]
					end := bytes.IndexByte(rest, '"')
					sent, _ := strconv.ParseInt(string(rest[:end]), 10, 64)
					latencies[i] = append(latencies[i], now.Sub(time.Unix(0, sent)))
				}
				if at := bytes.Index(data, throughKey); at >= 0 {
					n := data[at+len(throughKey):]
					through, _ := strconv.ParseInt(string(n[:bytes.IndexByte(n, ',')]), 10, 64)
					if through >= lastSeq {
						return
					}
				}
			}
		})
	}

	ctx := context.Background()
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	b.ResetTimer()
	for range b.N {
		if tick != nil {
			<-tick
		}
		l := &webnet.JobLogLine{At: time.Now().UTC(), Level: "info", DeviceID: &device,
			Message: strconv.FormatInt(time.Now().UnixNano(), 10)}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendJobLog(ctx, job, l) }); err != nil {
			b.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("not every subscriber received every line within 2 minutes")
	}
	b.StopTimer()

	var all []time.Duration
	for i, ls := range latencies {
		if len(ls) != b.N {
			b.Fatalf("client %d received %d lines, want %d", i, len(ls), b.N)
		}
		all = append(all, ls...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
