package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// benchImageSize is the image BenchmarkImageUpload sends (budget: ≥ 200 MB/s for 1 GiB, in
// constant memory).
const benchImageSize = 1 << 30

// BenchmarkImageUpload uploads a 1 GiB image, generated as it is sent, through the whole
// stack: an HTTP client, the test server, middleware with token authentication, the
// multipart handler, the service's streaming receipt (size limit, SHA-256, MD5, write-behind
// to disk, fsync) and the transaction that records it. It reports the throughput and what the
// process's memory did meanwhile: the peak of the Go heap above where it started, and the
// peak of the resident set (sampled every 10 ms) above where it started. Each iteration's
// image differs (its bytes carry the iteration's number) and is deleted untimed afterwards.
func BenchmarkImageUpload(b *testing.B) {
	e := newEnvTuned(b, storetest.Open(b, store.SQLite), nil, func(c *service.CoreConfig) { c.FirmwareMaxSize = 4 << 30 })
	w := newWorld(b, e)
	client := &http.Client{Transport: &http.Transport{WriteBufferSize: 256 << 10, DisableCompression: true}}
	b.SetBytes(benchImageSize)
	var peakHeap, peakRSS float64
	for i := range b.N {
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap0, rss0 := ms.HeapInuse, residentBytes(b)
		s := startMemorySampler(b)
		b.StartTimer()

		body, ctype, length := generatedForm(w.acme, uint64(i), benchImageSize)
		req, err := http.NewRequest("POST", e.srv.URL+"/api/firmware-images/", body)
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = length
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Token "+w.tokens["admin"])
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		b.StopTimer()
		heap, rss := s.stop()
		if resp.StatusCode != 201 {
			b.Fatalf("upload: %d %s", resp.StatusCode, answer)
		}
		peakHeap = max(peakHeap, float64(heap)-float64(heap0))
		peakRSS = max(peakRSS, float64(rss)-float64(rss0))
		var img struct{ ID int64 }
		if err := json.Unmarshal(answer, &img); err != nil {
			b.Fatal(err)
		}
		if d := w.do(b, "DELETE", imagePath(img.ID), "", as(w.tokens["admin"])...); d.status != 204 {
			b.Fatalf("delete: %d %s", d.status, d.raw)
		}
		b.StartTimer()
	}
	b.ReportMetric(peakHeap/(1<<20), "heap-growth-MiB")
	b.ReportMetric(peakRSS/(1<<20), "rss-growth-MiB")
}

// generatedForm is an upload form whose file is size bytes made as they are read: a random
// MiB repeated, each copy stamped with the iteration and its offset so that no two images
// (or chunks) are alike. It returns the body, its Content-Type and its length.
func generatedForm(customer int64, iteration uint64, size int64) (io.Reader, string, int64) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.SetBoundary(testBoundary)
	for _, f := range [][2]string{{"customer", strconv.FormatInt(customer, 10)}, {"platform", "cisco_iosxe"}, {"version", "17.12.03"}} {
		mw.WriteField(f[0], f[1])
	}
	mw.CreateFormFile("file", fmt.Sprintf("bench-%d.bin", iteration))
	tail := "\r\n--" + testBoundary + "--\r\n"
	gen := &imageGenerator{left: size, iteration: iteration, block: make([]byte, 1<<20)}
	rand.NewChaCha8([32]byte{9}).Read(gen.block)
	return io.MultiReader(bytes.NewReader(head.Bytes()), gen, strings.NewReader(tail)), mw.FormDataContentType(),
		int64(head.Len()) + size + int64(len(tail))
}

type imageGenerator struct {
	left, off int64
	iteration uint64
	block     []byte
}

func (g *imageGenerator) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	at := int(g.off % int64(len(g.block)))
	if at == 0 {
		binary.LittleEndian.PutUint64(g.block[0:], g.iteration)
		binary.LittleEndian.PutUint64(g.block[8:], uint64(g.off))
	}
	n := copy(p[:min(int64(len(p)), g.left)], g.block[at:])
	g.off += int64(n)
	g.left -= int64(n)
	return n, nil
}

// memorySampler records the peaks of the Go heap in use and of the resident set while it
// runs; its goroutine ends with stop.
type memorySampler struct {
	done            chan struct{}
	wg              sync.WaitGroup
	peakHeap, peakR uint64
}

func startMemorySampler(b *testing.B) *memorySampler {
	s := &memorySampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			s.peakHeap = max(s.peakHeap, ms.HeapInuse)
			s.peakR = max(s.peakR, residentBytes(b))
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// stop ends the sampling and returns the peaks.
func (s *memorySampler) stop() (heap, rss uint64) {
	close(s.done)
	s.wg.Wait()
	return s.peakHeap, s.peakR
}

// residentBytes reads the process's resident set size (Linux; 0 elsewhere).
func residentBytes(b *testing.B) uint64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(statm))
	if len(fields) < 2 {
		b.Fatalf("statm: %q", statm)
	}
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
