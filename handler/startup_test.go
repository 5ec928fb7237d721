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
// failed before the role tables, the Entra and table-batch regexps and the
// schedule's TimeSpan check were made lazy or regexp-free.
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

// TestIsScheduleTimeSpan checks the TimeSpan form of a timer schedule
// against the pattern it replaces, ^([0-9]+\.)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$.
func TestIsScheduleTimeSpan(t *testing.T) {
	pattern := regexp.MustCompile(`^([0-9]+\.)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$`)
	for _, v := range []string{
		"00:05:00", "1:00:00", "23:59:59", "1.00:00:00", "12.01:02:03", "99:99:99",
		"", ":", "::", "1:2:3", "00:5:00", "00:05:0", "000:05:00", "00:05:00:00", ".00:05:00",
		"1..00:05:00", "a.00:05:00", "00:05:00.5", "0 */5 * * * *", "-1.00:00:00", "00:05:0a", "1.2.00:00:00",
	} {
		if got, want := isScheduleTimeSpan(v), pattern.MatchString(v); got != want {
			t.Errorf("isScheduleTimeSpan(%q) = %v, want %v", v, got, want)
		}
	}
}
