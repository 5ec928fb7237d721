package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxInitAllocs is the most allocations the init of one of the product's
// packages may make. Compiling one small regexp takes more than this (the
// queue-name check took ~2,900), as do the role tables built as maps.
const maxInitAllocs = 16

// TestNoEagerPackageInit runs the handler with GODEBUG=inittrace=1 and fails
// when the init of any of the product's packages allocates more than
// maxInitAllocs times: a regexp compiled, a template parsed or a table built
// at package init slows every start (docs/reliability.md, "Fast start"). It
// failed before the role tables and the Entra, table-batch and coordinator
// run-ID regexps were made lazy.
func TestNoEagerPackageInit(t *testing.T) {
	cmd := exec.Command(handlerBinary, "help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("handler help: %v\n%s", err, out)
	}
	// init github.com/pal-keeper/pal-keeper/internal/pal @1.2 ms, 0.03 ms clock, 1384 bytes, 8 allocs
	line := regexp.MustCompile(`(?m)^init (\S+) @.*, ([0-9]+) bytes, ([0-9]+) allocs$`)
	seen := 0
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		pkg := m[1]
		if pkg != "main" && !strings.HasPrefix(pkg, "github.com/pal-keeper/pal-keeper/") {
			continue
		}
		seen++
		if n, _ := strconv.Atoi(m[3]); n > maxInitAllocs {
			t.Errorf("init of %s: %d allocations (%s bytes), want at most %d: move the work to first use (sync.OnceValue)", pkg, n, m[2], maxInitAllocs)
		}
	}
	if !strings.Contains(string(out), "init runtime @") {
		t.Fatalf("no init trace in the handler's output:\n%s", out)
	}
	t.Logf("%d product packages have an init", seen)
}
