package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// The test estate: Contoso (managing) with the function's identity and three
// customers. Page size 3, so listing the 11 subscriptions takes four pages.
const (
	partnerID = "1234567"
	otherID   = "7654321"
	foreignID = "999999"

	managing = "c0000000-0000-4000-8000-00000000000a"
	clientID = "c1000000-0000-4000-8000-00000000000a"
	objectID = "c2000000-0000-4000-8000-00000000000a"
	otherOID = "c2000000-0000-4000-8000-00000000000b"

	tenantA = "a0000000-0000-4000-8000-000000000000"
	tenantB = "b0000000-0000-4000-8000-000000000000"
	tenantC = "cc000000-0000-4000-8000-000000000000"

	subA1 = "a0000000-0000-4000-8000-000000000001" // Contributor
	subA2 = "a0000000-0000-4000-8000-000000000002" // Reader only
	subA3 = "a0000000-0000-4000-8000-000000000003" // Reader, Contributor just-in-time
	subA4 = "a0000000-0000-4000-8000-000000000004" // Contributor just-in-time only
	subB1 = "b0000000-0000-4000-8000-000000000001" // Support Request Contributor
	subB2 = "b0000000-0000-4000-8000-000000000002" // Virtual Machine Contributor (looked up)
	subB3 = "b0000000-0000-4000-8000-000000000003" // delegated to another identity only
	subC1 = "cc000000-0000-4000-8000-000000000001" // Contributor
	subC2 = "cc000000-0000-4000-8000-000000000002" // Contributor
	subC3 = "cc000000-0000-4000-8000-000000000003" // Monitoring Reader + Support Request Contributor
	subC4 = "cc000000-0000-4000-8000-000000000004" // Security Reader
	subM1 = "c0000000-0000-4000-8000-0000000000f1" // the managing tenant's own
)

func testEstate() emulator.Estate {
	fn := func(roles ...string) []emulator.Authorization {
		var out []emulator.Authorization
		for _, r := range roles {
			out = append(out, emulator.Authorization{PrincipalID: objectID, PrincipalDisplayName: "pal-keeper", RoleDefinitionID: r})
		}
		return out
	}
	sub := func(id, tenant string, permanent, jit []emulator.Authorization) emulator.Subscription {
		return emulator.Subscription{ID: id, TenantID: tenant, DisplayName: "sub " + id[:2] + id[len(id)-1:],
			Delegations: []emulator.Delegation{{DefinitionName: "Contoso managed services", ManagedByTenantID: managing,
				Authorizations: permanent, EligibleAuthorizations: jit}}}
	}
	return emulator.Estate{
		Tenants: []emulator.Tenant{{ID: managing, Name: "Contoso"}, {ID: tenantA, Name: "A"}, {ID: tenantB, Name: "B"}, {ID: tenantC, Name: "C"}},
		Identities: []emulator.Identity{
			{ClientID: clientID, TenantID: managing, ObjectID: objectID, DisplayName: "pal-keeper"},
		},
		Subscriptions: []emulator.Subscription{
			sub(subA1, tenantA, fn(emulator.RoleContributor), nil),
			sub(subA2, tenantA, fn(emulator.RoleReader), nil),
			sub(subA3, tenantA, fn(emulator.RoleReader), fn(emulator.RoleContributor)),
			sub(subA4, tenantA, nil, fn(emulator.RoleContributor)),
			sub(subB1, tenantB, fn(emulator.RoleSupportRequestContributor), nil),
			sub(subB2, tenantB, fn(emulator.RoleVirtualMachineContributor), nil),
			sub(subB3, tenantB, []emulator.Authorization{{PrincipalID: otherOID, RoleDefinitionID: emulator.RoleContributor}}, nil),
			sub(subC1, tenantC, fn(emulator.RoleContributor), nil),
			sub(subC2, tenantC, fn(emulator.RoleContributor), nil),
			sub(subC3, tenantC, fn(emulator.RoleMonitoringReader, emulator.RoleSupportRequestContributor), nil),
			sub(subC4, tenantC, fn(emulator.RoleSecurityReader), nil),
			{ID: subM1, TenantID: managing, DisplayName: "Contoso shared", DirectAccess: []string{objectID}},
		},
		KnownPartnerIDs: []string{partnerID, otherID, foreignID},
		PageSize:        3,
	}
}

// syncBuffer is a bytes.Buffer safe for the handler's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// app is the real handler under the host simulator, against the emulator.
type app struct {
	t      *testing.T
	emu    *emulator.Emulator
	host   *hostsim.Host
	stdout *syncBuffer
	stderr *syncBuffer
	// answers collects every answer body, for the secrets check.
	answers *syncBuffer
}

type appOptions struct {
	settings         map[string]string
	estate           *emulator.Estate
	maxDeliveryCount int
	// throttle is the emulator's token bucket (none when nil).
	throttle *emulator.Throttle
	// maxConcurrentCalls overrides host.json's Service Bus concurrency.
	maxConcurrentCalls int
	// emuSettings are settings that name the running emulator (e.g.
	// PAL_AUTHORITY_HOST); they override settings.
	emuSettings func(emu *emulator.Emulator) map[string]string
}

// startApp starts the emulator and the handler. settings override the defaults.
func startApp(t *testing.T, opts appOptions) *app {
	t.Helper()
	estate := testEstate()
	if opts.estate != nil {
		estate = *opts.estate
	}
	emu, err := emulator.New(estate, &emulator.Options{Dir: t.TempDir(), Throttle: opts.throttle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	settings := map[string]string{
		"PAL_PARTNER_ID":          partnerID,
		"PAL_ALLOWED_PARTNER_IDS": otherID,
		"AZURE_CLIENT_ID":         clientID,
		"PAL_ONBOARDING_QUEUE":    "pal-onboarding",
		"PAL_SWEEP_QUEUE":         "pal-sweep",
		"PAL_SWEEP_SCHEDULE":      "0 0 3 * * *",
		// Most tests want an unreachable subscription reported at once; the
		// delegation wait has tests of its own.
		"PAL_DELEGATION_WAIT": "0s",
		// azcore's retries with a short backoff: three retries as in
		// production, without waiting seconds for a fault that persists. A
		// Retry-After from the emulator is still honoured up to 60 s.
		"PAL_AZURE_RETRY_DELAY": "10ms",
	}
	if opts.maxDeliveryCount == 0 {
		opts.maxDeliveryCount = 3
	}
	// The handler knows the simulated queues' max delivery count, as
	// Terraform tells it the real queues'.
	settings[envOnboardingMaxDelivery] = strconv.Itoa(opts.maxDeliveryCount)
	settings[envSweepMaxDelivery] = strconv.Itoa(opts.maxDeliveryCount)
	for k, v := range opts.settings {
		settings[k] = v
	}
	if opts.emuSettings != nil {
		for k, v := range opts.emuSettings(emu) {
			settings[k] = v
		}
	}
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, emu.Environ()...)
	for k, v := range settings {
		if v != "<unset>" {
			env = append(env, k+"="+v)
		}
	}
	a := &app{t: t, emu: emu, stdout: &syncBuffer{}, stderr: &syncBuffer{}, answers: &syncBuffer{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host, err := hostsim.Start(ctx, hostsim.Options{
		AppRoot: "..", Executable: handlerBinary, Args: []string{}, Env: env,
		Stdout: a.stdout, Stderr: a.stderr, MaxDeliveryCount: opts.maxDeliveryCount,
		MaxConcurrentCalls: opts.maxConcurrentCalls, InitTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("start handler: %v\nstderr: %s", err, a.stderr.String())
	}
	a.host = host
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if _, err := host.Stop(ctx); err != nil {
			t.Errorf("stop handler: %v", err)
		}
		a.checkNoSecrets()
		checkNoRace(t, "handler", a.stderr.String(), a.stdout.String())
		a.checkLogLines()
	})
	return a
}

// checkLogLines proves every stdout line is one JSON object with a level and
// a message and no key twice (App Insights and KQL parse_json keep only one).
func (a *app) checkLogLines() {
	a.t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(a.stdout.String()), "\n") {
		if line == "" {
			continue
		}
		keys, err := topLevelKeys(line)
		if err != nil {
			a.t.Errorf("log line is not a JSON object (%v): %.200s", err, line)
			continue
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				a.t.Errorf("log line has %q twice: %.300s", k, line)
			}
			seen[k] = true
		}
		if !seen["level"] || !seen["message"] {
			a.t.Errorf("log line without level or message: %.200s", line)
		}
	}
}

// topLevelKeys returns the keys of a JSON object in order, duplicates included.
func topLevelKeys(line string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func (a *app) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	a.t.Cleanup(cancel)
	return ctx
}

// deliver sends one message to the onboarding queue and drains it.
func (a *app) deliver(body string, opts *hostsim.MessageOptions) (completed, deadLettered []hostsim.SettledMessage) {
	a.t.Helper()
	q := a.host.Queue("pal-onboarding")
	doneBefore, deadBefore := len(q.Completed()), len(q.DeadLettered())
	q.Send([]byte(body), opts)
	if err := a.host.DrainQueue(a.ctx(), "pal-onboarding"); err != nil {
		a.t.Fatalf("drain: %v", err)
	}
	completed, deadLettered = q.Completed()[doneBefore:], q.DeadLettered()[deadBefore:]
	for _, m := range append(completed, deadLettered...) {
		if m.Result != nil {
			a.answers.Write(m.Result.Body)
			a.answers.Write([]byte(m.LastError()))
		}
	}
	return completed, deadLettered
}

// onboard delivers a message that must complete, and returns its result object.
func (a *app) onboard(body string) *pal.Result {
	a.t.Helper()
	done, dead := a.deliver(body, &hostsim.MessageOptions{ContentType: "application/json"})
	if len(dead) > 0 || len(done) != 1 {
		a.t.Fatalf("message %s: completed %d, dead-lettered %d (%s)\nlog: %s", body, len(done), len(dead), describeDead(dead), a.stdout.String())
	}
	return decodeResult(a.t, done[0].Result.ReturnValue)
}

func describeDead(ms []hostsim.SettledMessage) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s after %d: %s", m.Reason, m.DeliveryCount, m.LastError()))
	}
	return strings.Join(parts, "; ")
}

func decodeResult(t *testing.T, raw []byte) *pal.Result {
	t.Helper()
	var res pal.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result object %s: %v", raw, err)
	}
	return &res
}

// http calls the links function with the function key.
func (a *app) http(method, pathAndQuery, contentType, body string) *hostsim.HTTPResult {
	a.t.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("x-functions-key", a.host.FunctionKey())
	// A caller's credentials ride along in headers; none may reach a log or answer.
	h.Set("Authorization", "Bearer caller-secret-"+a.emu.TokenMarker())
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	ans, err := a.host.HTTP(a.ctx(), method, pathAndQuery, h, b)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, pathAndQuery, err)
	}
	a.answers.Write(ans.Body)
	if ans.Invocation != nil {
		a.answers.Write(ans.Invocation.Body) // the handler's raw answer, Logs included
	}
	return ans
}

// waitStdout waits for the handler to have written substr to stdout (its
// output is copied asynchronously).
func (a *app) waitStdout(substr string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(a.stdout.String(), substr) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (a *app) writes() []string {
	var out []string
	for _, w := range a.emu.Writes() {
		out = append(out, w.Method+" "+w.Path)
	}
	return out
}

// checkNoSecrets proves no token, identity header or function key reached any
// output or answer.
func (a *app) checkNoSecrets() {
	a.t.Helper()
	secrets := map[string]string{
		"token marker":    a.emu.TokenMarker(),
		"identity header": a.emu.IdentityHeader(),
		"function key":    a.host.FunctionKey(),
	}
	for name, s := range secrets {
		if s == "" {
			continue
		}
		for where, text := range map[string]string{"stdout": a.stdout.String(), "stderr": a.stderr.String(), "answers": a.answers.String()} {
			if strings.Contains(text, s) {
				a.t.Errorf("the %s appears in %s", name, where)
			}
		}
	}
}

func statusOf(res *pal.Result) map[string]pal.Status {
	m := map[string]pal.Status{}
	for _, r := range res.Results {
		m[r.SubscriptionID] = r.Status
	}
	return m
}

func resultFor(t *testing.T, res *pal.Result, sub string) pal.SubscriptionResult {
	t.Helper()
	for _, r := range res.Results {
		if r.SubscriptionID == sub {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", sub, res.Results)
	return pal.SubscriptionResult{}
}

func onboardingMessage(tenant string, subs ...string) string {
	b, _ := json.Marshal(map[string]any{"tenantId": tenant, "subscriptionIds": subs})
	if len(subs) == 0 {
		b, _ = json.Marshal(map[string]any{"tenantId": tenant})
	}
	return string(b)
}

// azuriteCertDir is a directory holding only srv's certificate, for the
// handler's SSL_CERT_DIR: it trusts Azurite through the system trust store.
func azuriteCertDir(t *testing.T, srv *azurite.Server) string {
	t.Helper()
	dir := t.TempDir()
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "azurite.pem"), pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
