package devsim

import (
	"bufio"
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	benchDevices  = flag.Int("devsim.devices", 10_000, "devices BenchmarkIdleFleet starts")
	benchBasePort = flag.Int("devsim.baseport", 0, "BenchmarkIdleFleet's first port (0: ephemeral ports)")
)

// vmRSS reads the process's resident set size from /proc/self/status, in bytes.
func vmRSS(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS line")
	return 0
}

// BenchmarkIdleFleet measures the budget of design.md's devsim: 10,000 idle devices in at most
// 1 GiB of RSS. Each iteration starts a fleet, logs in to a sample of its devices and runs a
// command on each (so the fleet is known to work), then measures the process's RSS.
//
//	go test ./internal/devsim/ -run '^$' -bench IdleFleet -benchtime 1x
func BenchmarkIdleFleet(b *testing.B) {
	n := *benchDevices
	for b.Loop() {
		start := time.Now()
		f, err := Start(b.Context(), Config{Count: n, Seed: 1, BasePort: *benchBasePort})
		if err != nil {
			b.Fatalf("start %d devices: %v", n, err)
		}
		startup := time.Since(start)
		for i := 0; i < n; i += max(1, n/50) {
			if out, err := execCommand(b, f.DeviceAt(i), "show version"); err != nil || !strings.Contains(out, f.DeviceAt(i).Version()) {
				b.Fatalf("device %d: %v %q", i, err, out)
			}
		}
		runtime.GC()
		rss := vmRSS(b)
		b.ReportMetric(float64(rss)/(1<<20), "MiB-RSS")
		b.ReportMetric(float64(rss)/float64(n)/1024, "KiB/device") // whole process ÷ devices: an upper bound
		b.ReportMetric(startup.Seconds(), "s-startup")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		if rss > 1<<30 {
			b.Errorf("%d idle devices take %d MiB of RSS, over the 1 GiB budget", n, rss>>20)
		}
		f.Close()
	}
}
