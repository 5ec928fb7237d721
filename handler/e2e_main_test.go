package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sync/errgroup"
)

// handlerBinary is the real handler, built once by TestMain: with -race when
// the tests run with -race, so that a data race in the server fails the test
// whose handler printed it (see checkNoRace). handlerRESTBinary is its
// palkeeper_sbrest test build (Service Bus sends through the host simulator).
var handlerBinary, handlerRESTBinary string

// e2eParallel is how many tests marked parallel run at once when -parallel
// is not given. The end-to-end tests spend most of their time waiting
// (process start, injected latency, retries, Retry-After), each against its
// own emulator and handler process, so more of them than the default
// (GOMAXPROCS, 2 on the build machine) fit at once.
const e2eParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	setDefaultParallel(e2eParallel)
	dir, err := os.MkdirTemp("", "pal-keeper-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handlerBinary = filepath.Join(dir, "handler")
	// The test build that sends queue messages through the host simulator's
	// Service Bus REST endpoint (queue_rest.go); the production build has no
	// such path.
	handlerRESTBinary = filepath.Join(dir, "handler-sbrest")
	if err := buildHandlers(handlerBinary, handlerRESTBinary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHandlers builds the handler (buildFlags) and its palkeeper_sbrest
// test build at once: each is a link at least, and a long compile on a cold
// cache, that the other need not wait for.
func buildHandlers(handler, rest string) error {
	var g errgroup.Group
	for _, b := range []struct {
		what string
		args []string
	}{
		{"build handler", append(append([]string{"build"}, buildFlags()...), "-o", handler, ".")},
		{"build handler (palkeeper_sbrest)", append(append([]string{"build", "-tags", "palkeeper_sbrest"}, buildFlags()...), "-o", rest, ".")},
	} {
		g.Go(func() error {
			out, err := exec.Command("go", b.args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", b.what, err, out)
			}
			return nil
		})
	}
	return g.Wait()
}

// setDefaultParallel sets -test.parallel to n (at least GOMAXPROCS) unless
// the command line gave -parallel.
func setDefaultParallel(n int) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(max(n, runtime.GOMAXPROCS(0))))
	}
}
