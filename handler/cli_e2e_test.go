package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// runCLI runs the built handler with args against the emulator, as a developer
// would from a workstation (here with the emulator's managed-identity endpoint
// standing in for az login).
func runCLI(t *testing.T, emu *emulator.Emulator, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(handlerBinary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PAL_PARTNER_ID=" + partnerID, "AZURE_CLIENT_ID=" + clientID}, emu.Environ()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	checkNoRace(t, "handler "+strings.Join(args, " "), errb.String(), out.String())
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestCLILinkAndSweep(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(testEstate(), &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()

	// A read-only sweep first: no link yet, so eligible subscriptions are unlinked.
	out, errOut, code := runCLI(t, emu, "sweep", "-o", "table")
	if code != 0 {
		t.Fatalf("sweep exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "unlinked") || !strings.Contains(out, subA2) {
		t.Errorf("sweep report = %s, want unlinked subscriptions and the Reader-only %s", out, subA2)
	}
	if n := len(emu.Writes()); n != 0 {
		t.Errorf("read-only sweep wrote %d times", n)
	}

	// link with --json: creates the link and reports the named subscriptions.
	out, errOut, code = runCLI(t, emu, "link", "--tenant", tenantA, "--subscription", subA1, "--subscription", subA2, "--json")
	if code != 0 {
		t.Fatalf("link exit %d: %s", code, errOut)
	}
	var res pal.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("link --json output %q: %v", out, err)
	}
	if res.Link.Action != pal.LinkCreated || statusOf(&res)[subA1] != pal.StatusAttributed || statusOf(&res)[subA2] != pal.StatusIneligibleRole {
		t.Errorf("link result = %+v", res)
	}

	// link without --tenant only makes sure the identity is linked.
	out, errOut, code = runCLI(t, emu, "link", "--output", "table")
	if code != 0 || !strings.Contains(out, "unchanged, linked to "+partnerID) {
		t.Errorf("link = %d %q %q", code, out, errOut)
	}

	// Usage errors exit 2.
	if _, _, code = runCLI(t, emu, "link", "--subscription", subA1); code != 2 {
		t.Errorf("link --subscription without --tenant exit = %d, want 2", code)
	}
	if _, errOut, code = runCLI(t, emu, "link", "--tenant", "nope"); code != 2 || !strings.Contains(errOut, "--tenant") {
		t.Errorf("link --tenant nope = %d %q, want 2 naming --tenant", code, errOut)
	}
	if _, _, code = runCLI(t, emu, "frobnicate"); code != 2 {
		t.Errorf("unknown command exit = %d, want 2", code)
	}
	for _, s := range []string{emu.TokenMarker(), emu.IdentityHeader()} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("a secret reached the CLI output")
		}
	}
}

func TestSandbox(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole sandbox")
	}
	// -v passes the handler's output through, for the race check; under -race
	// the sandbox (emulator and host simulator) is built with it too.
	cmd := exec.Command("go", append(append([]string{"run"}, buildFlags()...), "./cmd/sandbox", "-v", "--handler", handlerBinary)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	checkNoRace(t, "sandbox", string(out))
	if err != nil {
		t.Fatalf("sandbox: %v\n%s", err, out)
	}
	for _, want := range []string{
		"completed after 1 delivery; link created (1234567)",
		"dead-lettered after 3 deliveries",
		"(0 writes made by these queries)",
		"PUT /providers/Microsoft.ManagementPartner/partners/1234567",
		"exit code 0",
		"6 attributed, 2 ineligible-role, 1 not-delegated",
		// Step 4 and the table agree, and say why they differ by one.
		"judged 8 subscription(s): 6 attributed, 2 ineligible-role; 2 not attributed: every subscription the identity can reach",
		"9 subscription(s): 6 attributed, 2 ineligible-role, 1 not-delegated; 3 not attributed",
		"(1 more than step 4: the sweep cannot see a subscription no delegation reaches",
		"6. The compliance record: GET /api/report → 8 subscriptions (6 attributed, 2 ineligible-role); 8 first judgement(s), 0 change(s) of status; last sweep complete",
		"Woodgrove Payments                    attributed       Contributor                                                        through group Contoso MSP pal-keeper (c3000000-0000-4000-8000-000000000002)",
		"dashboard: http://127.0.0.1:",
		"/api/dashboard?code=",
		"run with --serve",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, out)
		}
	}

	// PAL_IDENTITY=direct: a link per consenting tenant, the consent URL of
	// the one without, its later consent, and the sweep over every tenant.
	cmd = exec.Command("go", "run", "./cmd/sandbox", "--handler", handlerBinary, "--identity", "direct")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sandbox --identity direct: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Adatum Corporation: service principal a2000000-0000-4000-8000-000000000002, link created (1234567)",
		"Bellows College: service principal a2000000-0000-4000-8000-000000000003, link created (1234567)",
		"Coho Winery: no service principal (no admin consent); link none; admin consent at https://127.0.0.1:",
		"/c0c00000-0000-4000-8000-000000000001/adminconsent?client_id=a1000000-0000-4000-8000-000000000001",
		"Contributor inherited from /providers/Microsoft.Management/managementGroups/adatum-root",
		"3 attributed, 1 ineligible-role; 1 not attributed",
		"Bellows Reporting                     ineligible-role  Reader",
		"exit code 0",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sandbox --identity direct output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(string(out), "is now linked to partner ID 1234567"); n != 3 {
		t.Errorf("sandbox --identity direct: %d principals linked, want 3 (one per consenting tenant):\n%s", n, out)
	}
}

// TestSandboxServe: with --serve the sandbox keeps its dashboard open until
// it is interrupted, then stops the handler and exits 0; meanwhile the
// quickstart's commands run against it (runQuickstart).
func TestSandboxServe(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole sandbox")
	}
	exe := buildSandbox(t)
	cmd := exec.Command(exe, "--serve", "--handler", handlerBinary)
	cmd.Dir = ".."
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var dashboard string
	var seen []string
	timeout := time.After(2 * time.Minute)
	for dashboard == "" || !strings.Contains(strings.Join(seen, "\n"), "serving until Ctrl-C") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the sandbox ended before serving:\n%s\n%s", strings.Join(seen, "\n"), stderr.String())
			}
			seen = append(seen, l)
			if u, ok := strings.CutPrefix(strings.TrimSpace(l), "dashboard: "); ok {
				dashboard = u
			}
		case <-timeout:
			t.Fatalf("no dashboard URL:\n%s", strings.Join(seen, "\n"))
		}
	}
	runQuickstart(t, seen)
	resp, err := http.Get(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="total-all"`) {
		t.Errorf("GET %s: %d %.300s", dashboard, resp.StatusCode, page)
	}
	// The demo's customers by name (the emulator's GET /tenants), the partner ID and the link.
	for _, want := range []string{
		`<strong>Fabrikam</strong> <small class="meta">fabrikam.onmicrosoft.com</small>`,
		`<strong>Northwind Traders</strong>`, `<strong>Tailspin Toys</strong>`,
		`<dd id="partner-id">1234567</dd>`, `<dd id="link-state" class="ok">linked to 1234567`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the sandbox's dashboard lacks %s", want)
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		seen = append(seen, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("sandbox after Ctrl-C: %v\n%s", err, stderr.String())
	}
	if all := strings.Join(seen, "\n"); !strings.Contains(all, "exit code 0") {
		t.Errorf("the handler did not stop cleanly:\n%s", all)
	}
}

// runQuickstart runs every bin/handler command of docs/quickstart.md's
// section 2 ("The command line against the sandbox") in a shell with the
// export lines the sandbox printed (in its output lines), as a reader
// pasting them would, and expects exit 0 or the "exits N" of its comment.
func runQuickstart(t *testing.T, sandboxOutput []string) {
	t.Helper()
	var exports []string
	for _, l := range sandboxOutput {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "export ") {
			exports = append(exports, l)
		}
	}
	if len(exports) == 0 {
		t.Fatalf("the sandbox printed no export lines:\n%s", strings.Join(sandboxOutput, "\n"))
	}
	doc, err := os.ReadFile("../docs/quickstart.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## 2. The command line against the sandbox")
	section, _, _ = strings.Cut(section, "\n## ")
	var commands []string
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "bin/handler ") {
			commands = append(commands, l)
		}
	}
	if len(commands) < 3 {
		t.Fatalf("quickstart section 2 has %d bin/handler commands, want the link and sweep examples", len(commands))
	}
	// bin/handler in a directory of its own: the binary the tests built.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(handlerBinary, filepath.Join(dir, "bin", "handler")); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		want := 0
		if _, comment, ok := strings.Cut(c, "# exits "); ok {
			fmt.Sscanf(comment, "%d", &want)
		}
		sh := exec.Command("sh", "-c", strings.Join(exports, "\n")+"\n"+c)
		sh.Dir = dir
		sh.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		out, err := sh.CombinedOutput()
		checkNoRace(t, c, string(out))
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if code != want {
			t.Errorf("quickstart: %s\nexit %d, want %d:\n%s", c, code, want, out)
		}
	}
}
