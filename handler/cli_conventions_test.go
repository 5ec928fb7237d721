package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/fakeaz"
)

// TestCLISignInErrors: without a usable Azure CLI login, handler link and
// handler sweep exit 1 with one line that names the cause and the fix; an
// outage of the sign-in stays 75 (try again later).
func TestCLISignInErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state fakeaz.State
		code  int
		want  string
	}{
		{fakeaz.Missing, 1, "the Azure CLI (az) is not installed or not on PATH: install it"},
		{fakeaz.LoggedOut, 1, "the Azure CLI is not logged in: run az login --tenant <managing tenant>"},
		{fakeaz.Expired, 1, "the Azure CLI's login has expired: run az login --tenant <managing tenant> again"},
		{fakeaz.Offline, 75, "try again later"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"link", "sweep"} {
			t.Run(string(tt.state)+"/"+cmd, func(t *testing.T) {
				t.Parallel()
				path, err := fakeaz.Install(t.TempDir(), tt.state)
				if err != nil {
					t.Fatal(err)
				}
				c := exec.Command(handlerBinary, cmd)
				c.Env = []string{"PATH=" + path, "HOME=" + t.TempDir(), "PAL_PARTNER_ID=" + partnerID}
				var out, errb bytes.Buffer
				c.Stdout, c.Stderr = &out, &errb
				err = c.Run()
				checkNoRace(t, "handler "+cmd, errb.String())
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				stderr := strings.TrimSpace(errb.String())
				if code != tt.code || !strings.Contains(stderr, tt.want) {
					t.Errorf("got exit %d, stderr %q; want exit %d containing %q", code, stderr, tt.code, tt.want)
				}
				if strings.Contains(stderr, "\n") {
					t.Errorf("stderr is more than one line:\n%s", stderr)
				}
				if tt.code == 1 && !strings.Contains(stderr, "PAL_CREDENTIAL") {
					t.Errorf("stderr %q does not offer PAL_CREDENTIAL", stderr)
				}
			})
		}
	}
}

// TestCLIConventions: -o formats, --require-attributed, a partner ID outside
// the allowed set, help and usage errors that name the flag, and no progress
// line when stderr is not a terminal.
func TestCLIConventions(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(testEstate(), &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()

	// json is the default when stdout is not a terminal.
	out, errOut, code := runCLI(t, emu, "link", "--tenant", tenantA, "--subscription", subA1+","+subA2)
	var res pal.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Results) != 2 {
		t.Fatalf("link (default output) = %d %q %q, want 0 and a result object with 2 results", code, out, errOut)
	}
	// jsonc is the same JSON, coloured.
	out, _, _ = runCLI(t, emu, "link", "--tenant", tenantA, "--subscription", subA1, "-o", "jsonc")
	if plain := stripANSI(out); !strings.Contains(out, "\x1b[") || json.Unmarshal([]byte(plain), &res) != nil {
		t.Errorf("-o jsonc = %q, want coloured JSON", out)
	}

	// A read-only sweep: csv (header, one row a subscription) and tsv (no header).
	out, errOut, code = runCLI(t, emu, "sweep", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "tenantId,subscriptionId,displayName,status,roles,detail" {
		t.Fatalf("sweep -o csv = %d %q %q (%v)", code, out, errOut, err)
	}
	if strings.Contains(errOut, "judged ") {
		t.Errorf("progress on a stderr that is not a terminal: %q", errOut)
	}
	tsv, _, _ := runCLI(t, emu, "sweep", "--output=tsv")
	lines := strings.Split(strings.TrimSpace(tsv), "\n")
	if len(lines) != len(rows)-1 || len(strings.Split(lines[0], "\t")) != 6 || strings.HasPrefix(lines[0], "tenantId") {
		t.Errorf("sweep -o tsv = %q, want %d rows of 6 tab-separated cells, no header", tsv, len(rows)-1)
	}

	// --require-attributed: 3 when a judged subscription is not attributed, 0 when all are.
	if _, errOut, code = runCLI(t, emu, "sweep", "--require-attributed"); code != 3 || !strings.Contains(errOut, "not attributed (--require-attributed)") {
		t.Errorf("sweep --require-attributed = %d %q, want 3", code, errOut)
	}
	if _, errOut, code = runCLI(t, emu, "link", "--tenant", tenantA, "--subscription", subA1, "--require-attributed"); code != 0 {
		t.Errorf("link of an attributed subscription --require-attributed = %d %q, want 0", code, errOut)
	}

	// A partner ID outside the allowed set: refused like POST /api/links (403), exit 1, no write.
	writes := len(emu.Writes())
	if _, errOut, code = runCLI(t, emu, "link", "--partner-id", foreignID); code != 1 || !strings.Contains(errOut, "not allowed") {
		t.Errorf("link --partner-id %s = %d %q, want 1: not allowed", foreignID, code, errOut)
	}
	if n := len(emu.Writes()) - writes; n != 0 {
		t.Errorf("a refused partner ID made %d writes", n)
	}
}

// stripANSI removes the colour escapes of -o jsonc.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestCLIHelpAndUsageErrors runs the commands in-process: help exits 0 on
// stdout; a usage error is one line on stderr, exit 2, naming the flag as
// typed and what is wrong with its value.
func TestCLIHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	env := func(k string) string {
		if k == envPartnerID {
			return partnerID
		}
		return ""
	}
	tests := []struct {
		args []string
		code int
		// wantOut is in stdout, wantErr in stderr (one line).
		wantOut, wantErr string
	}{
		{args: []string{"link", "--help"}, wantOut: "usage: handler link"},
		{args: []string{"link", "-h"}, wantOut: "-o, --output"},
		{args: []string{"sweep", "--help"}, wantOut: "--require-attributed"},
		{args: []string{"serve", "--help"}, wantOut: "usage: handler"},
		{args: []string{"help", "sweep"}, wantOut: "usage: handler sweep"},
		{args: []string{"--help"}, wantOut: "commands:"},
		{args: []string{"link", "--partner-id", "abc"}, code: 2, wantErr: `--partner-id "abc" is not a partner ID: digits only`},
		{args: []string{"link", "--partner-id", "12345678901"}, code: 2, wantErr: "11 digits, at most 10"},
		{args: []string{"sweep", "--partner-id", "12a"}, code: 2, wantErr: "--partner-id"},
		{args: []string{"link", "--tenant", "fabrikam.onmicrosoft.com"}, code: 2, wantErr: `--tenant "fabrikam.onmicrosoft.com" is not a tenant ID`},
		{args: []string{"link", "--tenant", tenantA, "--subscription", "x"}, code: 2, wantErr: `--subscription "x" is not a subscription ID`},
		{args: []string{"link", "--subscription", subA1}, code: 2, wantErr: "--subscription needs --tenant"},
		{args: []string{"link", "--output", "yaml"}, code: 2, wantErr: `invalid value "yaml" for flag --output: want table, json, jsonc, tsv or csv`},
		{args: []string{"sweep", "--bogus"}, code: 2, wantErr: "flag provided but not defined: --bogus"},
		{args: []string{"sweep", "extra"}, code: 2, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, env, &stdout, &stderr, openAMQPQueues)
		errLine := strings.TrimSpace(stderr.String())
		if code != tt.code || !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(errLine, tt.wantErr) {
			t.Errorf("handler %s: got exit %d, stdout %.80q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, stdout.String(), errLine, tt.code, tt.wantOut, tt.wantErr)
		}
		if strings.Contains(errLine, "\n") || strings.Contains(errLine, "PAL_PARTNER_ID") {
			t.Errorf("handler %s: stderr %q: want one line naming the flag, not the setting", strings.Join(tt.args, " "), errLine)
		}
	}
}

// TestCLIProgress: the progress line counts judged / listed, shows the rate
// and the ETA, is redrawn at most every progressInterval and cleared at the end.
func TestCLIProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		judged, total int
		elapsed       time.Duration
		want          string
	}{
		{0, 0, 0, "judged 0/0 subscriptions"},
		{10, 50, 500 * time.Millisecond, "judged 10/50 subscriptions"},
		{100, 400, 4 * time.Second, "judged 100/400 subscriptions · 25.0/s · ETA 12s"},
		{400, 400, 8 * time.Second, "judged 400/400 subscriptions · 50.0/s"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.judged, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("progressLine(%d, %d, %v) = %q, want %q", tt.judged, tt.total, tt.elapsed, got, tt.want)
		}
	}

	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &buf, now: func() time.Time { return now }, start: now}
	p.listed(3)
	p.judgedOne() // within progressInterval of the first draw: not drawn
	now = now.Add(progressInterval)
	p.judgedOne()
	fmt.Fprint(p.around(&buf), "a log line\n") // clears the line, then draws it again
	p.done()
	fmt.Fprint(p.around(&buf), "after\n") // no line to clear or draw
	want := "\r\x1b[Kjudged 0/3 subscriptions\r\x1b[Kjudged 2/3 subscriptions" +
		"\r\x1b[Ka log line\njudged 2/3 subscriptions\r\x1b[Kafter\n"
	if got := buf.String(); got != want {
		t.Errorf("progress wrote %q, want %q", got, want)
	}
	var nilProgress *progress
	if w := nilProgress.around(&buf); w != io.Writer(&buf) {
		t.Errorf("no progress: the log writer is wrapped")
	}
	if newProgress(&buf, time.Now) != nil {
		t.Errorf("newProgress for a buffer (not a terminal) is not nil")
	}
}
