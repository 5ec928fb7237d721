package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// 1.3). Flex Consumption allows 30 s. Both are built as the deployment
// package builds the handler (shippedBuild), not as the tests build theirs.
//
//	go test -run '^$' -bench BenchmarkStartup -benchtime 1x ./handler/
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	handler, minimal := filepath.Join(dir, "handler"), filepath.Join(dir, "minimalhandler")
	shippedBuild(b, handler, ".")
	shippedBuild(b, minimal, "./testdata/minimalhandler")
	for b.Loop() {
		// Interleaved, so that a change of load hits both alike.
		var ready, base []time.Duration
		for range startupSamples {
			ready = append(ready, startOnce(b, handler))
			base = append(base, startOnce(b, minimal))
		}
		r, m := median(ready), median(base)
		b.ReportMetric(float64(r.Microseconds())/1000, "ready-ms")
		b.ReportMetric(float64(m.Microseconds())/1000, "minimal-ms")
		b.ReportMetric(float64(r)/float64(m), "ratio")
	}
}

// shippedBuild builds the package pkg into out as the deployment package
// builds the handler (make package, internal/tools/mkzip): with the Makefile's
// PACKAGE_GOTOOLCHAIN, cgo off, -trimpath, symbols and DWARF stripped, for
// this machine. So the figure is the shipped binary's: a cgo build is
// dynamically linked, and the dynamic loader's fixed cost would hide part of
// the difference.
func shippedBuild(b *testing.B, out, pkg string) {
	b.Helper()
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		b.Fatal(err)
	}
	toolchain := regexp.MustCompile(`(?m)^PACKAGE_GOTOOLCHAIN := *(\S+)$`).FindSubmatch(makefile)
	if toolchain == nil {
		b.Fatal("no PACKAGE_GOTOOLCHAIN in the Makefile")
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN="+string(toolchain[1]))
	if output, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, output)
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
