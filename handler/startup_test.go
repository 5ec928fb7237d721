package main

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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

// TestBinaryKeepsNoReflectMethods links the handler with -dumpdep and fails
// when a reachable function is marked <ReflectMethod>: a call of
// reflect.Value.Method or MethodByName with a name the linker cannot know,
// which makes it keep every exported method of every type in the binary
// (docs/reliability.md, "Start-up"). It failed while the pages were
// html/template (text/template's evalField), whose binary was 14.4 MB
// against 11.6 MB, with ~40 page faults more at every start.
func TestBinaryKeepsNoReflectMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("links the handler")
	}
	args := append(append([]string{"build"}, buildFlags()...), "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), "handler"), ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, out)
	}
	// text/template.(*state).evalField <ReflectMethod> -> reflect.Value.MethodByName
	marked := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		if from, _, ok := strings.Cut(line, " -> "); ok && strings.HasSuffix(from, " <ReflectMethod>") {
			marked[strings.TrimSuffix(from, " <ReflectMethod>")] = true
		}
	}
	if !strings.Contains(string(out), "main.main ->") {
		t.Fatalf("no dependency dump in the linker's output:\n%.2000s", out)
	}
	for _, fn := range slices.Sorted(maps.Keys(marked)) {
		t.Errorf("%s calls a reflect method lookup: the linker keeps every exported method", fn)
	}
}
