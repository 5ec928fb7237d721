package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// raceMarker starts every report of Go's race detector.
const raceMarker = "WARNING: DATA RACE"

// buildFlags are the go build flags of the binaries the end-to-end tests run:
// -race when the tests themselves run with it.
func buildFlags() []string {
	if raceEnabled {
		return []string{"-race"}
	}
	return nil
}

// raceReports returns the race detector's reports in a process's output, each
// from its WARNING line to the closing line of '=' signs, or nil.
func raceReports(output string) []string {
	var reports []string
	for {
		i := strings.Index(output, raceMarker)
		if i < 0 {
			return reports
		}
		output = output[i:]
		end := len(output)
		if j := strings.Index(output, "\n=================="); j >= 0 {
			end = j + len("\n==================")
		}
		reports = append(reports, output[:end])
		output = output[end:]
	}
}

// checkNoRace fails t with every race report found in a handler's output.
func checkNoRace(t testing.TB, what string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, r := range raceReports(out) {
			t.Errorf("%s: the race detector reported a data race:\n%s", what, r)
		}
	}
}

func TestRaceReports(t *testing.T) {
	report := "==================\n" + raceMarker + "\nWrite at 0x00c000012345 by goroutine 7:\n  main.main.func1()\n==================\n"
	tests := []struct {
		name   string
		output string
		want   int
	}{
		{"clean", `{"level":"info","message":"pal-keeper starting"}` + "\n", 0},
		{"empty", "", 0},
		{"one", `{"level":"info"}` + "\n" + report + "Found 1 data race(s)\n", 1},
		{"two", report + report, 2},
		{"cut_short", "==================\n" + raceMarker + "\nWrite at", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := raceReports(tt.output)
			if len(got) != tt.want {
				t.Fatalf("reports = %d %q, want %d", len(got), got, tt.want)
			}
			for _, r := range got {
				if !strings.HasPrefix(r, raceMarker) {
					t.Errorf("report %q does not start with %q", r, raceMarker)
				}
			}
		})
	}
}

// TestRaceDetectorReachesChildProcesses proves that, under -race, a program
// built the way TestMain builds the handler reports a deliberate race, and
// that checkNoRace flags it.
func TestRaceDetectorReachesChildProcesses(t *testing.T) {
	t.Parallel()
	if !raceEnabled {
		t.Skip("the handler is built with -race only when the tests run with -race")
	}
	exe := filepath.Join(t.TempDir(), "racy")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags()...), "-o", exe, "./testdata/racy")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/racy: %v\n%s", err, out)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 66 {
		t.Errorf("racy exit = %v, want exit status 66 (the race detector's)", err)
	}
	if !strings.Contains(string(out), "racy ran") {
		t.Errorf("racy did not run to its end: %s", out)
	}
	rec := &recordingTB{TB: t}
	checkNoRace(rec, "racy", string(out))
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], raceMarker) || !strings.Contains(rec.errors[0], "main.main") {
		t.Errorf("checkNoRace reported %q, want one error carrying the race report", rec.errors)
	}
}

// recordingTB records Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
