package kinds_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"webnet/internal/devsim"
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

var (
	upgradeFleet       = flag.Int("kinds.upgrade-fleet", 200, "devices in BenchmarkRollingUpgrade")
	upgradeConcurrency = flag.Int("kinds.upgrade-concurrency", 20, "devices at once in BenchmarkRollingUpgrade")
)

// BenchmarkRollingUpgrade upgrades a simulated IOS-XE fleet (a 4 MiB image, a 2 s reload)
// in one job with concurrency 20, over real SSH and webnet's real signed-URL HTTP server,
// on SQLite. It first upgrades one device alone to measure the per-device time, then the
// rest of the fleet; ideal = devices/concurrency × per-device time, and the budget is
// wall ≤ 1.5 × ideal (reported as wall/ideal).
func BenchmarkRollingUpgrade(b *testing.B) {
	l := newLabWith(b, storetest.Open(b, store.SQLite), labConfig{Devices: *upgradeFleet + 1,
		Platforms: []string{devsim.IOSXE}, ReloadTime: 2 * time.Second})
	names := l.names()
	// Every device goes to a version none runs at the start.
	img := l.image(b, devsim.IOSXE, "17.15.01", 4<<20)
	for b.Loop() {
		start := time.Now()
		one := l.run(b, webnet.JobUpgrade, map[string]any{"image": img.ID}, false, names[0])
		if one.Status != webnet.JobSucceeded {
			b.Fatalf("single upgrade: %s %+v", one.Status, one.Targets)
		}
		perDevice := time.Since(start)
		start = time.Now()
		j := l.runWithin(b, webnet.JobUpgrade, map[string]any{"image": img.ID, "concurrency": *upgradeConcurrency}, 30*time.Minute, names[1:]...)
		wall := time.Since(start)
		if j.Status != webnet.JobSucceeded {
			b.Fatalf("rolling upgrade: %s, %d of %d done", j.Status, j.ProgressDone, j.ProgressTotal)
		}
		ideal := time.Duration(float64(perDevice) * float64(len(names)-1) / float64(*upgradeConcurrency))
		b.ReportMetric(perDevice.Seconds(), "per-device-s")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "wall/ideal")
	}
}
