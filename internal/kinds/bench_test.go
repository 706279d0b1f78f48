package kinds_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

var fleetSize = flag.Int("kinds.fleet", 1000, "devices in BenchmarkSyncFleet")

// BenchmarkSyncFleet syncs a whole simulated fleet in one job over real SSH on loopback,
// with the worker's default concurrency (32 devices at once) on SQLite: facts and a
// configuration backup (5-50 KB) of every device. One iteration is one sync of the fleet;
// the first sync (every backup new) and a second (every backup unchanged) are reported.
func BenchmarkSyncFleet(b *testing.B) {
	l := newLab(b, storetest.Open(b, store.SQLite), *fleetSize)
	names := l.names()
	stored := func() int64 {
		n, err := l.db.Read().BlobBytes(context.Background(), l.cust)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	var afterFirst int64
	for b.Loop() {
		for _, round := range []string{"first", "again"} {
			start := time.Now()
			j := l.sync(b, names...)
			if j.Status != webnet.JobSucceeded {
				b.Fatalf("sync: %s, %d of %d done", j.Status, j.ProgressDone, j.ProgressTotal)
			}
			b.ReportMetric(time.Since(start).Seconds(), round+"-s")
			if round == "first" {
				afterFirst = stored()
			}
		}
	}
	// Storage: the first sync stores each configuration once, compressed; the second, whose
	// reads differ only by noise, must store nothing.
	b.ReportMetric(float64(afterFirst)/float64(len(names)), "stored-B/device")
	b.ReportMetric(float64(stored()-afterFirst), "again-stored-B")
}
