package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// handlerBinary is the real handler, built once by TestMain: with -race when
// the tests run with -race, so that a data race in the server fails the test
// whose handler printed it (see checkNoRace). handlerRESTBinary is the
// handler of the tests that need it to send to the simulated queues: this
// test binary, run as the handler (envRunAsHandler).
var handlerBinary, handlerRESTBinary string

// envRunAsHandler makes this test binary the handler, its queue messages
// sent through the host simulator's Service Bus REST endpoint
// (queue_rest_test.go); everything else is the product's wiring (run).
const envRunAsHandler = "PAL_TEST_RUN_AS_HANDLER"

// e2eParallel is how many tests marked parallel run at once when -parallel
// is not given. The end-to-end tests spend most of their time waiting
// (process start, injected latency, retries, Retry-After), each against its
// own emulator and handler process, so more of them than the default
// (GOMAXPROCS, 2 on the build machine) fit at once.
const e2eParallel = 4

func TestMain(m *testing.M) {
	if os.Getenv(envRunAsHandler) == "1" {
		os.Exit(runAsHandler())
	}
	flag.Parse()
	setDefaultParallel(e2eParallel)
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "pal-keeper-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Under its own name, so that its processes are told apart from the
	// test process (the fan-out benchmark's cpu-handler-sbrest-s).
	handlerRESTBinary = filepath.Join(dir, "handler-sbrest")
	if err := os.Symlink(self, handlerRESTBinary); err != nil {
		handlerRESTBinary = self
	}
	handlerBinary = filepath.Join(dir, "handler")
	if out, err := exec.Command("go", append(append([]string{"build"}, buildFlags()...), "-o", handlerBinary, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build handler: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runAsHandler is main with the tests' queue sender: the same run, the same
// wiring (functions), only openQueues differs.
func runAsHandler() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, restQueues(os.Getenv))
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
