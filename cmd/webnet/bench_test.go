package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart starts the real binary on an empty SQLite data dir and measures the
// time until /readyz answers 200 (budget 300 ms) and the resident memory once it has idled
// for a second (budget 40 MiB). Run with -benchtime=10x: each iteration is a process.
func BenchmarkColdStart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "webnet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var ready time.Duration
	var rssMax float64
	for b.Loop() {
		start := time.Now()
		cmd, _ := startBinary(b, bin, b.TempDir())
		ready += time.Since(start)
		time.Sleep(time.Second)
		rss := rssMiB(b, cmd.Process.Pid)
		rssMax = max(rssMax, rss)
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ms-to-ready")
	b.ReportMetric(rssMax, "MiB-idle-rss-max")
}

func rssMiB(b *testing.B, pid int) float64 {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
