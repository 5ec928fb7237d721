package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// testdata/stdlib-reachable.json is govulncheck v1.9.0's JSON for this
// repository on go1.26.8, cut down to three vulnerabilities: one reachable
// in the standard library, one only imported, and one in a required
// third-party module that is not imported. third-party-reachable.json is the
// same with golang.org/x/net findings added by hand, up to a reachable one.

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		want     int
		contains []string
		lacks    []string
	}{
		{
			// Issue 15 item 10: a reachable standard-library vulnerability fails
			// CI like any other (before, it was an advisory and CI passed).
			name: "stdlib_reachable_fails",
			file: "testdata/stdlib-reachable.json",
			want: 1,
			contains: []string{
				"CALLED   GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9) [BLOCKING: reachable",
				"internal/testenv/hostsim/http.go:75:19: hostsim.(*Host).HTTP → hostsim.(*Host).forward → hostsim.(*Host).roundTrip → hostsim.forward$1 → net/http.CanonicalHeaderKey",
				"IMPORTED GO-2026-6604 stdlib@v1.26.8 (fixed in v1.26.9) [not reachable",
				"REQUIRED GO-2026-5932 golang.org/x/crypto@v0.58.0",
				"The golang.org/x/crypto/openpgp package is unmaintained",
				"3 vulnerabilities: 1 reachable, 2 not reachable",
				"FAIL: 1 reachable vulnerabilities",
				"a newer Go release (PACKAGE_GOTOOLCHAIN in the Makefile)",
			},
			lacks: []string{"advisory"},
		},
		{
			name: "third_party_reachable_fails",
			file: "testdata/third-party-reachable.json",
			want: 1,
			contains: []string{
				"CALLED   GO-2026-6612 golang.org/x/net@v0.62.0 (fixed in v0.63.0) [BLOCKING",
				"golang.org/x/net/http2.(*serverConn).processData",
				"CALLED   GO-2026-6612 stdlib@v1.26.8 (fixed in v1.26.9) [BLOCKING",
				"4 vulnerabilities: 2 reachable, 2 not reachable",
				"FAIL: 2 reachable vulnerabilities",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			got, err := run(bytes.NewReader(in), &out, options{maxTraces: 3})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if got != tt.want {
				t.Errorf("exit status = %d, want %d; output:\n%s", got, tt.want, &out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q; output:\n%s", s, &out)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(out.String(), s) {
					t.Errorf("output has %q; output:\n%s", s, &out)
				}
			}
		})
	}
}

// TestRunTraceLimit checks that -traces bounds the traces printed per
// vulnerability and says how many were left out.
func TestRunTraceLimit(t *testing.T) {
	in, err := os.ReadFile("testdata/stdlib-reachable.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		max, traces int
		more        bool
	}{{1, 1, true}, {0, 4, false}, {10, 4, false}} {
		var out bytes.Buffer
		if _, err := run(bytes.NewReader(in), &out, options{maxTraces: tt.max}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(out.String(), " → "+"net/http."); got != tt.traces {
			t.Errorf("-traces %d: %d traces printed, want %d; output:\n%s", tt.max, got, tt.traces, &out)
		}
		if got := strings.Contains(out.String(), "more call traces"); got != tt.more {
			t.Errorf("-traces %d: \"more call traces\" printed = %v, want %v", tt.max, got, tt.more)
		}
	}
}

func TestRunEveryModule(t *testing.T) {
	const head = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","go_version":"go1.26.8","scan_level":"symbol"}}`
	const caller = `{"module":"github.com/pal-keeper/pal-keeper","package":"github.com/pal-keeper/pal-keeper/cmd/pal-keeper","function":"main","position":{"filename":"cmd/pal-keeper/main.go","line":10,"column":2}}`
	tests := []struct {
		name, finding string
		want          int
	}{
		{"toolchain_blocks", `{"finding":{"osv":"GO-1","trace":[{"module":"toolchain","version":"v1.26.8","package":"cmd/go","function":"Run"},` + caller + `]}}`, 1},
		{"stdlib_blocks", `{"finding":{"osv":"GO-2","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Get"},` + caller + `]}}`, 1},
		{"stdlib_package_level_is_informational", `{"finding":{"osv":"GO-6","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}`, 0},
		{"unknown_module_blocks", `{"finding":{"osv":"GO-3","trace":[{"package":"x","function":"F"},` + caller + `]}}`, 1},
		{"third_party_package_level_is_informational", `{"finding":{"osv":"GO-4","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p"}]}}`, 0},
		{"third_party_symbol_in_own_module_blocks", `{"finding":{"osv":"GO-5","trace":[{"module":"example.com/m","version":"v1.0.0","package":"example.com/m/p","function":"F"}]}}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := run(strings.NewReader(head+"\n"+tt.finding), &out, options{maxTraces: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("exit status = %d, want %d; output:\n%s", got, tt.want, &out)
			}
		})
	}
}

func TestRunBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"empty":              "",
		"not_json":           "govulncheck: loading packages: exit status 1",
		"truncated":          `{"config":{"protocol_version":"v1.0.0"}}{"finding":{"osv":"GO-1","trace":[`,
		"no_config":          `{"finding":{"osv":"GO-1","trace":[{"module":"stdlib"}]}}`,
		"finding_no_trace":   `{"config":{"protocol_version":"v1.0.0"}}{"finding":{"osv":"GO-1","trace":[]}}`,
		"text_not_json_mode": "No vulnerabilities found.\n",
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := run(strings.NewReader(in), &out, options{maxTraces: 3})
			if got != 2 || err == nil {
				t.Errorf("run = %d, %v; want 2 and an error", got, err)
			}
		})
	}
}

// TestRunGoVersion: with -go the scan must have used that Go release (the
// package's toolchain), or the report is not about the shipped binary.
func TestRunGoVersion(t *testing.T) {
	const head = `{"config":{"protocol_version":"v1.0.0","scanner_version":"v1.9.0","go_version":"go1.27.3","scan_level":"symbol"}}`
	for _, tt := range []struct {
		want string
		code int
	}{{"", 0}, {"go1.27.3", 0}, {"go1.26.8", 2}} {
		var out bytes.Buffer
		got, err := run(strings.NewReader(head), &out, options{maxTraces: 3, goVersion: tt.want})
		if got != tt.code || (tt.code == 2) != (err != nil) {
			t.Errorf("-go %q: run = %d, %v; want %d", tt.want, got, err, tt.code)
		}
	}
}
