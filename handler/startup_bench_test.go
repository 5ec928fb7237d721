package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startupSamples is how many starts each median is taken over.
const startupSamples = 20

// BenchmarkStartup measures how long the handler takes from exec to its first
// answer on GET / (the host's readiness probe), against the smallest Go custom
// handler (testdata/minimalhandler) on the same machine: the median of 20
// starts each, reported as ready-ms, minimal-ms and ratio (the budget is
// 1.3). Flex Consumption allows 30 s.
//
//	go test -run '^$' -bench BenchmarkStartup -benchtime 1x ./handler/
func BenchmarkStartup(b *testing.B) {
	minimal := filepath.Join(b.TempDir(), "minimalhandler")
	if out, err := exec.Command("go", "build", "-o", minimal, "./testdata/minimalhandler").CombinedOutput(); err != nil {
		b.Fatalf("build the minimal handler: %v\n%s", err, out)
	}
	for b.Loop() {
		// Interleaved, so that a change of load hits both alike.
		var ready, base []time.Duration
		for range startupSamples {
			ready = append(ready, startOnce(b, handlerBinary))
			base = append(base, startOnce(b, minimal))
		}
		r, m := median(ready), median(base)
		b.ReportMetric(float64(r.Microseconds())/1000, "ready-ms")
		b.ReportMetric(float64(m.Microseconds())/1000, "minimal-ms")
		b.ReportMetric(float64(r)/float64(m), "ratio")
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// startOnce starts exe as the host would (managed identity settings, no
// Service Bus) and returns the time from exec to the first answer on GET /.
func startOnce(b *testing.B, exe string) time.Duration {
	b.Helper()
	client := &http.Client{Timeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(exe)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PAL_PARTNER_ID=1234567",
		"FUNCTIONS_CUSTOMHANDLER_PORT=" + strconv.Itoa(port), "IDENTITY_ENDPOINT=http://127.0.0.1:1/msi", "IDENTITY_HEADER=x"}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	deadline := start.Add(10 * time.Second)
	var took time.Duration
	for {
		resp, err := client.Get(url)
		if err == nil {
			took = time.Since(start)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			b.Fatalf("%s: no answer on GET / after 10 s: %v", exe, err)
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return took
}
