// Command sandbox runs the whole pal-keeper flow with no Azure account: it
// builds the handler, starts the Azure emulator with a demo estate and the
// Functions-host simulator, and drives an onboarding message, a portal form, a
// bad message, the timer sweep and read-only status queries through them, then
// reads the compliance record the handler kept (GET /api/report) and prints
// the dashboard's URL on a loopback port; --serve keeps it open until Ctrl-C.
//
//	go run ./cmd/sandbox [-v] [--serve] [--identity managedidentity|app|direct] [--app DIR] [--handler PATH]
//
// --identity chooses PAL_IDENTITY and the demo estate: managedidentity (the
// default) and app run the Lighthouse flow, as the function's managed identity
// or as the app registration trusting it (emulator.DemoAppEstate); direct
// onboards customer tenants without Lighthouse (emulator.DemoDirectEstate).
// --serve keeps the dashboard open after the run, until Ctrl-C.
//
// It is test machinery: it lives outside the production binary on purpose.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// sandboxMaxDeliveries is the simulated queues' max delivery count: a bad
// message dead-letters after 3 deliveries, quickly.
const sandboxMaxDeliveries = 3

func main() {
	// A closed stdout (sandbox | head) is a write error, not death by
	// SIGPIPE: run sees it, stops the handler and returns (stopOnWriteError).
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitBrokenPipe is the exit code when stdout was closed before the end (128 + SIGPIPE, as a shell reports it).
const exitBrokenPipe = 141

// run is main without the process: it returns the exit code. Every way it
// ends — done, an error, a signal, stdout closed — stops the handler first.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &stopOnWriteError{w: stdout, cancel: cancel}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	verbose := fs.Bool("v", false, "also print the handler's JSON log lines")
	appRoot := fs.String("app", ".", "the function app root: the directory holding host.json and functions/")
	handlerPath := fs.String("handler", "", "a built handler executable (default: build ./handler with the go command)")
	serveFlag := fs.Bool("serve", false, "after the run, keep serving the dashboard and the API until Ctrl-C")
	identity := fs.String("identity", identityManaged, "PAL_IDENTITY: managedidentity, app or direct (each with its demo estate)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: go run ./cmd/sandbox [flags]\n\nThe whole pal-keeper flow against the built-in Azure emulator: no Azure account needed.\n\nflags:\n")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "sandbox: see go run ./cmd/sandbox --help")
		return 2
	}
	switch *identity {
	case identityManaged, identityApp, identityDirect:
	default:
		fmt.Fprintf(stderr, "sandbox: --identity %q: want managedidentity, app or direct\n", *identity)
		return 2
	}
	err := runSandbox(ctx, *appRoot, *handlerPath, *identity, *verbose, *serveFlag, out)
	switch {
	case out.broken():
		return exitBrokenPipe // nobody reads the rest; the handler was stopped
	case err != nil:
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	return 0
}

// stopOnWriteError is the sandbox's stdout (and, with -v, the handler's log
// sink): the first failed write (a closed pipe) cancels the run, and every
// later write is dropped, so the handler's output never blocks its exit.
type stopOnWriteError struct {
	w      io.Writer
	cancel context.CancelFunc

	mu     sync.Mutex
	failed bool
}

// Write implements io.Writer; it never fails.
func (s *stopOnWriteError) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.failed {
		if _, err := s.w.Write(p); err != nil {
			s.failed = true
			s.cancel()
		}
	}
	return len(p), nil
}

func (s *stopOnWriteError) broken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// PAL_IDENTITY values.
const (
	identityManaged = "managedidentity"
	identityApp     = "app"
	identityDirect  = "direct"
)

func runSandbox(ctx context.Context, appRoot, exe, identity string, verbose, serve bool, out io.Writer) error {
	if _, err := os.Stat(filepath.Join(appRoot, "host.json")); err != nil {
		return fmt.Errorf("no host.json in %s: run the sandbox from the repository root, or pass --app", appRoot)
	}
	dir, err := os.MkdirTemp("", "pal-keeper-sandbox-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if exe == "" {
		exe = filepath.Join(dir, "handler")
		build := exec.CommandContext(ctx, "go", "build", "-o", exe, "./handler")
		build.Dir = appRoot
		if msg, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build the handler (go build ./handler in %s): %w\n%s", appRoot, err, msg)
		}
	}

	estate := emulator.DemoEstate()
	switch identity {
	case identityApp:
		estate = emulator.DemoAppEstate()
	case identityDirect:
		estate = emulator.DemoDirectEstate()
	}
	emu, err := emulator.New(estate, &emulator.Options{Dir: dir})
	if err != nil {
		return fmt.Errorf("start the Azure emulator: %w", err)
	}
	defer emu.Close()

	var handlerLog bytes.Buffer
	logSink := io.Writer(&handlerLog)
	if verbose {
		logSink = out
	}
	// cliEnv is what handler link and handler sweep need to act in the
	// emulator as the function does: printed as export lines by --serve.
	cliEnv := append([]string{
		"PAL_PARTNER_ID=" + emulator.DemoPartnerID,
		"PAL_ALLOWED_PARTNER_IDS=" + emulator.DemoOtherPartnerID,
		"AZURE_CLIENT_ID=" + emulator.DemoClientID,
	}, emu.Environ()...)
	if identity != identityManaged {
		cliEnv = append(cliEnv, "PAL_IDENTITY="+identity, "PAL_APP_CLIENT_ID="+emulator.DemoAppClientID,
			"PAL_AUTHORITY_HOST="+emu.AuthorityURL())
	}
	if identity == identityDirect {
		cliEnv = append(cliEnv, "PAL_DIRECT_TENANTS="+strings.Join([]string{emulator.DemoDirectAdatumTenantID,
			emulator.DemoDirectBellowsTenantID, emulator.DemoDirectCohoTenantID}, ","))
	}
	env := append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"PAL_ONBOARDING_QUEUE=pal-onboarding",
		"PAL_SWEEP_QUEUE=pal-sweep",
		"PAL_SWEEP_SCHEDULE=0 0 3 * * *",
		// The simulated queues' max delivery count (MaxDeliveryCount below),
		// as Terraform passes the real queues'.
		"PAL_ONBOARDING_MAX_DELIVERY_COUNT=" + strconv.Itoa(sandboxMaxDeliveries),
		"PAL_SWEEP_MAX_DELIVERY_COUNT=" + strconv.Itoa(sandboxMaxDeliveries),
	}, cliEnv...)
	started := time.Now()
	host, err := hostsim.Start(ctx, hostsim.Options{
		AppRoot: appRoot, Executable: exe, Args: []string{}, Env: env,
		Stdout: logSink, Stderr: logSink, MaxDeliveryCount: sandboxMaxDeliveries,
	})
	if err != nil {
		return fmt.Errorf("start the handler under the host simulator: %w\n%s", err, handlerLog.String())
	}
	stopped := false
	defer func() {
		if !stopped {
			host.Stop(context.Background())
		}
	}()

	names := map[string]string{}
	for _, t := range estate.Tenants {
		names[t.ID] = t.Name
	}
	fmt.Fprintf(out, "pal-keeper sandbox: Azure emulator at %s, handler ready in %v under the host simulator\n",
		emu.ARMURL(), time.Since(started).Round(time.Millisecond))
	steps := 0
	if identity == identityDirect {
		err = directFlow(ctx, emu, host, names, out, &steps)
	} else {
		err = lighthouseFlow(ctx, emu, host, identity, names, out, &steps)
	}
	if err != nil {
		return err
	}

	// The compliance record the handler kept of every verdict above.
	key := url.QueryEscape(host.FunctionKey())
	rep, err := sandboxReport(ctx, host, key)
	if err != nil {
		return err
	}
	lastSweep := "no sweep recorded"
	if rep.LastSweep != nil {
		lastSweep = "last sweep " + rep.LastSweep.Outcome
	}
	first := 0
	for _, c := range rep.Changes {
		if c.From == "" {
			first++
		}
	}
	fmt.Fprintf(out, "\n%d. The compliance record: GET /api/report → %d subscriptions (%s); %d first judgement(s), %d change(s) of status; %s\n",
		steps+1, len(rep.Subscriptions), summaryText(rep.Summary), first, len(rep.Changes)-first, lastSweep)

	fmt.Fprintf(out, "\nWhat was changed in Azure:\n")
	for _, w := range emu.Writes() {
		fmt.Fprintf(out, "  %s %s %s -> HTTP %d (as %s in %s)\n", w.At.Format("15:04:05.000"), w.Method, w.Path, w.Status,
			w.ObjectID, names[w.TenantID])
	}
	for _, l := range emu.Estate().Links {
		fmt.Fprintf(out, "  principal %s in tenant %s (%s) is now linked to partner ID %s (%s)\n",
			l.ObjectID, l.TenantID, names[l.TenantID], l.PartnerID, l.State)
	}

	// The function app's HTTP front end on a loopback port: the dashboard.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the dashboard: %w", err)
	}
	front := &http.Server{Handler: host, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = front.Serve(ln) }()
	defer front.Close()
	base := "http://" + ln.Addr().String() + "/api/"
	fmt.Fprintf(out, "\nThe dashboard, on the function app's HTTP front end (loopback, function key in ?code=):\n")
	fmt.Fprintf(out, "   dashboard: %sdashboard?code=%s\n", base, key)
	fmt.Fprintf(out, "   report:    %sreport?code=%s (add &format=csv for CSV)\n", base, key)
	if serve {
		printCLIExports(out, cliEnv, names)
		fmt.Fprintf(out, "\n   serving until Ctrl-C: open the dashboard in a browser; its form onboards against the emulator\n")
		<-ctx.Done()
		fmt.Fprintf(out, "\n")
	} else {
		fmt.Fprintf(out, "   (run with --serve to keep it open in a browser)\n")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = front.Shutdown(sctx)

	code, err := host.Stop(sctx)
	stopped = true
	if err != nil {
		return fmt.Errorf("stop the handler: %w", err)
	}
	fmt.Fprintf(out, "\nhandler stopped with SIGTERM, exit code %d. Run with -v to see its JSON log lines.\n", code)
	return nil
}

// printCLIExports prints the export lines that point handler link and
// handler sweep (built from the same checkout) at this emulator, and two
// commands to try.
func printCLIExports(out io.Writer, cliEnv []string, names map[string]string) {
	fmt.Fprintf(out, "\nThe command line against this emulator, in another shell from the repository root:\n")
	for _, kv := range cliEnv {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(out, "   export %s=%s\n", k, shellQuote(v))
	}
	example := ""
	for id, n := range names {
		if strings.HasPrefix(n, "Fabrikam") || strings.HasPrefix(n, "Adatum") {
			example = id
		}
	}
	fmt.Fprintf(out, "   go build -o bin/handler ./handler\n")
	if example != "" {
		fmt.Fprintf(out, "   bin/handler link --tenant %s -o table\n", example)
	}
	fmt.Fprintf(out, "   bin/handler sweep -o table\n")
}

// shellQuote quotes v for a POSIX shell when it needs it.
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=+@%") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// lighthouseFlow is the Lighthouse demo (PAL_IDENTITY managedidentity or app):
// onboarding message, portal form, bad message, sweep, read-only estate.
func lighthouseFlow(ctx context.Context, emu *emulator.Emulator, host *hostsim.Host, identity string, names map[string]string, out io.Writer, steps *int) error {
	tenantOf := func(name string) string {
		for id, n := range names {
			if strings.HasPrefix(n, name) {
				return id
			}
		}
		return ""
	}
	fabrikam, northwind, tailspin, woodgrove := tenantOf("Fabrikam"), tenantOf("Northwind"), tenantOf("Tailspin"), tenantOf("Woodgrove")

	if identity == identityApp {
		fmt.Fprintf(out, "managing tenant Contoso MSP, PAL_IDENTITY=app: app %s (service principal %s) trusting identity pal-keeper-func, PAL_PARTNER_ID=%s, no link yet\n\n",
			emulator.DemoAppClientID, emulator.DemoAppObjectID, emulator.DemoPartnerID)
	} else {
		fmt.Fprintf(out, "managing tenant Contoso MSP, identity pal-keeper-func (object %s), PAL_PARTNER_ID=%s, no link yet\n\n",
			emulator.DemoObjectID, emulator.DemoPartnerID)
	}

	// 1. An onboarding message on the Service Bus queue.
	msg := fmt.Sprintf(`{"tenantId":%q,"subscriptionIds":["fab00001-0000-4000-8000-000000000001","fab00002-0000-4000-8000-000000000001","fab00003-0000-4000-8000-000000000001"],"requestedBy":"sandbox","correlationId":"sandbox-1"}`, fabrikam)
	fmt.Fprintf(out, "1. Service Bus message on pal-onboarding for Fabrikam (3 subscriptions)\n")
	q := host.Queue("pal-onboarding")
	q.Send([]byte(msg), &hostsim.MessageOptions{ContentType: "application/json", CorrelationID: "sandbox-1"})
	if err := host.DrainQueue(ctx, "pal-onboarding"); err != nil {
		return fmt.Errorf("deliver the onboarding message: %w", err)
	}
	if done := q.Completed(); len(done) == 1 {
		var res pal.Result
		if err := json.Unmarshal(done[0].Result.ReturnValue, &res); err != nil {
			return fmt.Errorf("onboarding ReturnValue: %w", err)
		}
		fmt.Fprintf(out, "   completed after %d delivery; link %s; %s\n\n", done[0].DeliveryCount, linkText(res.Link), summaryText(res.Summary))
	} else {
		return fmt.Errorf("the onboarding message was not completed: %+v", q.DeadLettered())
	}

	// 2. A portal form post for a whole tenant.
	key := url.QueryEscape(host.FunctionKey())
	form := url.Values{"tenantId": {northwind}, "requestedBy": {"portal:alice@contoso.com"}}
	fmt.Fprintf(out, "2. Portal form POST /api/links for Northwind Traders (whole tenant)\n")
	res, status, err := sandboxHTTP(ctx, host, http.MethodPost, "/api/links?code="+key,
		"application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   HTTP %d; link %s; %s\n\n", status, linkText(res.Link), summaryText(res.Summary))

	// 3. A bad message: it fails every delivery and is dead-lettered intact.
	fmt.Fprintf(out, "3. A malformed onboarding message (tenantId is not a GUID)\n")
	q.Send([]byte(`{"tenantId":"fabrikam.onmicrosoft.com"}`), nil)
	if err := host.DrainQueue(ctx, "pal-onboarding"); err != nil {
		return fmt.Errorf("deliver the bad message: %w", err)
	}
	if dl := q.DeadLettered(); len(dl) == 1 {
		fmt.Fprintf(out, "   dead-lettered after %d deliveries (%s); the handler answered: %s\n\n", dl[0].DeliveryCount, dl[0].Reason, firstLine(dl[0].LastError()))
	}

	// 4. The timer sweep.
	fmt.Fprintf(out, "4. Timer sweep over every reachable customer subscription\n")
	inv, err := host.Timer(ctx, "sweep", false)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if inv.Failed {
		return fmt.Errorf("sweep invocation failed: %v", inv.Err)
	}
	var sweep pal.Result
	if err := json.Unmarshal(inv.ReturnValue, &sweep); err != nil {
		return fmt.Errorf("sweep ReturnValue: %w", err)
	}
	fmt.Fprintf(out, "   judged %s: every subscription the identity can reach\n\n", countsText(sweep.Summary))

	// 5. Read-only status of every customer tenant: the estate's attribution.
	writesBefore := len(emu.Writes())
	var all []pal.SubscriptionResult
	for _, t := range []string{fabrikam, northwind, tailspin, woodgrove} {
		res, status, err := sandboxHTTP(ctx, host, http.MethodGet, "/api/links?code="+key+"&tenantId="+t, "", nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("GET /api/links for %s: HTTP %d", t, status)
		}
		all = append(all, res.Results...)
	}
	// Subscriptions the identity cannot reach are invisible to a whole-tenant query;
	// name the demo's one explicitly.
	res, _, err = sandboxHTTP(ctx, host, http.MethodGet,
		"/api/links?code="+key+"&tenantId="+northwind+"&subscriptionId=0a700003-0000-4000-8000-000000000001", "", nil)
	if err != nil {
		return err
	}
	all = append(all, res.Results...)
	fmt.Fprintf(out, "5. The estate, by read-only GET /api/links per tenant (%d writes made by these queries)\n\n",
		len(emu.Writes())-writesBefore)
	counts := printEstate(out, names, all)
	if unseen := total(counts) - total(sweep.Summary); unseen > 0 {
		// The table names a subscription no delegation reaches: invisible to
		// a sweep, so step 4 could not count it.
		fmt.Fprintf(out, "  (%d more than step 4: the sweep cannot see a subscription no delegation reaches; asked by ID, it is %s)\n",
			unseen, pal.StatusNotDelegated)
	}
	*steps = 5
	return nil
}

// sandboxReport reads GET /api/report.
func sandboxReport(ctx context.Context, host *hostsim.Host, key string) (*web.Report, error) {
	ans, err := host.HTTP(ctx, http.MethodGet, "/api/report?code="+key, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("GET /api/report: %w", err)
	}
	if ans.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/report: HTTP %d: %s", ans.StatusCode, ans.Body)
	}
	var rep web.Report
	if err := json.Unmarshal(ans.Body, &rep); err != nil {
		return nil, fmt.Errorf("GET /api/report: %w", err)
	}
	return &rep, nil
}

// sandboxHTTP calls the links function and decodes a result object.
func sandboxHTTP(ctx context.Context, host *hostsim.Host, method, path, contentType string, body []byte) (*pal.Result, int, error) {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	ans, err := host.HTTP(ctx, method, path, h, body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, strings.Split(path, "?")[0], err)
	}
	var res pal.Result
	if ans.StatusCode == http.StatusOK {
		if err := json.Unmarshal(ans.Body, &res); err != nil {
			return nil, ans.StatusCode, fmt.Errorf("%s %s: answer is not a result object: %w", method, strings.Split(path, "?")[0], err)
		}
	} else {
		return nil, ans.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, strings.Split(path, "?")[0], ans.StatusCode, ans.Body)
	}
	return &res, ans.StatusCode, nil
}

// printEstate prints the table of rs and its counts, and returns the counts.
func printEstate(w io.Writer, names map[string]string, rs []pal.SubscriptionResult) map[pal.Status]int {
	sort.SliceStable(rs, func(i, j int) bool {
		if names[rs[i].TenantID] != names[rs[j].TenantID] {
			return names[rs[i].TenantID] < names[rs[j].TenantID]
		}
		return rs[i].SubscriptionID < rs[j].SubscriptionID
	})
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CUSTOMER\tSUBSCRIPTION\tSTATUS\tROLES\tWHY")
	counts := map[pal.Status]int{}
	for _, r := range rs {
		counts[r.Status]++
		name := r.DisplayName
		if name == "" {
			name = r.SubscriptionID
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", names[r.TenantID], name, r.Status, dash(strings.Join(r.Roles, ", ")), dash(r.Detail))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n  %s\n", countsText(counts))
	return counts
}

func linkText(l pal.LinkResult) string {
	switch l.Action {
	case pal.LinkCreated:
		return "created (" + l.PartnerID + ")"
	case pal.LinkRelinked:
		return "relinked " + l.PreviousPartnerID + " -> " + l.PartnerID
	case pal.LinkForeign:
		return "foreign (" + l.PartnerID + ")"
	default:
		if l.PartnerID == "" {
			return "missing"
		}
		return "unchanged (" + l.PartnerID + ")"
	}
}

func summaryText(m map[pal.Status]int) string {
	var parts []string
	for _, s := range pal.Statuses {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
		}
	}
	if len(parts) == 0 {
		return "no subscriptions"
	}
	return strings.Join(parts, ", ")
}

// countsText is "8 subscriptions: 5 attributed, 2 ineligible-role, 1
// not-delegated; 3 not attributed", the one summary of a step and a table.
func countsText(m map[pal.Status]int) string {
	n := total(m)
	return fmt.Sprintf("%d subscription(s): %s; %d not attributed", n, summaryText(m), n-m[pal.StatusAttributed])
}

// total counts the subscriptions of a summary.
func total(m map[pal.Status]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// dash shows an empty cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
