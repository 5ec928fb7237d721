package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startupSamples is how many starts each median is taken over.
const startupSamples = 20

// floorPackage is where the floors' source is put by an overlay
// (floorOverlay): no such directory exists on disk.
const floorPackage = "./testdata/startupfloor"

// requiredLibraries are the libraries the product must use (README, "What
// it is built with"): the required floor links them into the minimal handler.
func requiredLibraries() []string {
	return []string{
		"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
		"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus",
		"github.com/rs/zerolog",
	}
}

// BenchmarkStartup measures how long the handler takes from exec to its first
// answer on GET / (the host's readiness probe), against the smallest Go custom
// handler (testdata/minimalhandler) on the same machine: the median of 20
// starts each, reported as ready-ms, minimal-ms and ratio (the budget is
// 1.3). Flex Consumption allows 30 s. All are built as the deployment
// package builds the handler (shippedBuild), not as the tests build theirs.
//
// Three floors say where the gap comes from, each a program that answers
// the probe as the minimal handler does (name-ms, name-ratio):
//   - required: the minimal handler with the required libraries linked in
//     by blank imports, so that their package inits run and none of their
//     code;
//   - packages: the same with every package the handler imports;
//   - binary: the handler itself, answering from an init of package main,
//     once every package init has run and before main: the whole start-up
//     but the handler's own main.
//
// A handler that used those libraries, those packages or that code could not
// start faster than the floor. faults and name-faults are the minor page
// faults of each process up to its answer (median); BenchmarkPageFault says
// what one costs on the machine.
//
//	go test -run '^$' -bench BenchmarkStartup -benchtime 1x ./handler/
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	type variant struct{ name, exe string }
	handler := variant{"", filepath.Join(dir, "handler")}
	minimal := variant{"minimal-", filepath.Join(dir, "minimalhandler")}
	floors := []variant{
		{"required-", filepath.Join(dir, "requiredfloor")},
		{"packages-", filepath.Join(dir, "packagesfloor")},
		{"binary-", filepath.Join(dir, "binaryfloor")},
	}
	shippedBuild(b, handler.exe, ".", "")
	shippedBuild(b, minimal.exe, "./testdata/minimalhandler", "")
	shippedBuild(b, floors[0].exe, floorPackage, floorOverlay(b, filepath.Join(dir, "required"), requiredLibraries()))
	shippedBuild(b, floors[1].exe, floorPackage, floorOverlay(b, filepath.Join(dir, "packages"), handlerImports(b)))
	shippedBuild(b, floors[2].exe, ".", binaryFloorOverlay(b, filepath.Join(dir, "binary")))
	all := append([]variant{handler, minimal}, floors...)
	for b.Loop() {
		// Interleaved, so that a change of load hits all alike.
		ready := make(map[string][]time.Duration)
		faults := make(map[string][]int)
		for range startupSamples {
			for _, v := range all {
				took, n := startOnce(b, v.exe)
				ready[v.name] = append(ready[v.name], took)
				if n >= 0 {
					faults[v.name] = append(faults[v.name], n)
				}
			}
		}
		base := median(ready[minimal.name])
		for _, v := range all {
			m := median(ready[v.name])
			if v == handler {
				b.ReportMetric(float64(m.Microseconds())/1000, "ready-ms")
			} else {
				b.ReportMetric(float64(m.Microseconds())/1000, v.name+"ms")
			}
			if v != minimal {
				b.ReportMetric(float64(m)/float64(base), v.name+"ratio")
			}
			if len(faults[v.name]) == startupSamples {
				b.ReportMetric(float64(median(faults[v.name])), v.name+"faults")
			}
		}
	}
}

// handlerImports lists the packages the handler's main package imports.
func handlerImports(b *testing.B) []string {
	b.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		b.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// floorOverlay writes the minimal handler with a blank import of each of
// imports, and an overlay that puts it at floorPackage (writeOverlay); it
// returns the overlay's path.
func floorOverlay(b *testing.B, name string, imports []string) string {
	b.Helper()
	src, err := os.ReadFile("testdata/minimalhandler/main.go")
	if err != nil {
		b.Fatal(err)
	}
	var blank strings.Builder
	for _, p := range imports {
		fmt.Fprintf(&blank, "import _ %q\n", p)
	}
	clause := []byte("\npackage main\n")
	i := bytes.Index(src, clause)
	if i < 0 {
		b.Fatal("testdata/minimalhandler/main.go: no package clause")
	}
	at := i + len(clause)
	floor := slices.Concat(src[:at], []byte("\n"+blank.String()), src[at:])
	return writeOverlay(b, name, filepath.Join(floorPackage, "main.go"), floor)
}

// binaryFloorOverlay writes an init for package main that answers every
// request with 200 on FUNCTIONS_CUSTOMHANDLER_PORT and never returns, and an
// overlay that adds it to the handler's package; it returns the overlay's
// path. Package main's inits run after every other package's, so the binary
// it builds answers the probe once the handler's start-up before main is
// done, with all of the handler's code linked in.
func binaryFloorOverlay(b *testing.B, name string) string {
	b.Helper()
	const src = `package main

import (
	"net"
	"net/http"
	"os"
)

func init() {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")))
	if err != nil {
		os.Exit(1)
	}
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	os.Exit(1)
}
`
	return writeOverlay(b, name, "zz_binaryfloor.go", []byte(src))
}

// writeOverlay writes src to name.go and an overlay (go help build,
// -overlay) that puts it at path (relative to this package) to name.json,
// and returns the overlay's path.
func writeOverlay(b *testing.B, name, path string, src []byte) string {
	b.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		b.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {abs: name + ".go"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(name+".go", src, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(name+".json", overlay, 0o644); err != nil {
		b.Fatal(err)
	}
	return name + ".json"
}

// shippedBuild builds the package pkg into out as the deployment package
// builds the handler (make package, internal/tools/mkzip): with the Makefile's
// PACKAGE_GOTOOLCHAIN, cgo off, -trimpath, symbols and DWARF stripped, for
// this machine. So the figure is the shipped binary's: a cgo build is
// dynamically linked, and the dynamic loader's fixed cost would hide part of
// the difference. overlay, when not empty, is passed to go build -overlay.
func shippedBuild(b *testing.B, out, pkg, overlay string) {
	b.Helper()
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		b.Fatal(err)
	}
	toolchain := regexp.MustCompile(`(?m)^PACKAGE_GOTOOLCHAIN := *(\S+)$`).FindSubmatch(makefile)
	if toolchain == nil {
		b.Fatal("no PACKAGE_GOTOOLCHAIN in the Makefile")
	}
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN="+string(toolchain[1]))
	if output, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, output)
	}
}

// median is the middle value of xs (the upper one of an even count).
func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// startOnce starts exe as the host would (managed identity settings, no
// Service Bus) and returns the time from exec to the first answer on GET /
// and the process's minor page faults by then (-1 where /proc cannot say).
func startOnce(b *testing.B, exe string) (time.Duration, int) {
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
	faults := minorFaults(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return took, faults
}

// minorFaults is the minor page faults of process pid so far: field 10 of
// /proc/pid/stat (proc_pid_stat(5)), counted after the command name, which
// is in parentheses and may hold spaces. It is -1 where /proc cannot say.
func minorFaults(pid int) int {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	_, rest, ok := bytes.Cut(stat, []byte(") "))
	fields := strings.Fields(string(rest))
	if !ok || len(fields) < 8 {
		return -1
	}
	n, err := strconv.Atoi(fields[7]) // fields from 3 (state): 10 is the 8th
	if err != nil {
		return -1
	}
	return n
}
