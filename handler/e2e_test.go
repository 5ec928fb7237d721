package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

func TestE2EOnboardingCreatesLinkThenNoWrite(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	res := a.onboard(onboardingMessage(tenantA, subA1, subA2, subA3, subA4))
	if got, want := res.Link, (pal.LinkResult{Action: pal.LinkCreated, PartnerID: partnerID}); got != want {
		t.Errorf("link = %+v, want %+v", got, want)
	}
	want := map[string]pal.Status{subA1: pal.StatusAttributed, subA2: pal.StatusIneligibleRole, subA3: pal.StatusIneligibleRole, subA4: pal.StatusIneligibleRole}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if got := resultFor(t, res, subA3).Detail; !strings.Contains(got, "just-in-time") {
		t.Errorf("JIT detail = %q, want it to say just-in-time", got)
	}
	if got := resultFor(t, res, subA2).Roles; !reflect.DeepEqual(got, []string{"Reader"}) {
		t.Errorf("Reader-only roles = %v, want [Reader]", got)
	}
	if res.Principal != (pal.Principal{TenantID: managing, ObjectID: objectID}) {
		t.Errorf("principal = %+v, want the managed identity", res.Principal)
	}
	if got, want := a.writes(), []string{"PUT /providers/Microsoft.ManagementPartner/partners/" + partnerID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("writes = %v, want %v", got, want)
	}
	if l, ok := a.emu.Link(managing, objectID); !ok || l.PartnerID != partnerID {
		t.Errorf("emulator link = %+v, %v; want %s", l, ok, partnerID)
	}

	// The same message again: nothing to write.
	res = a.onboard(onboardingMessage(tenantA, subA1, subA2, subA3, subA4))
	if res.Link.Action != pal.LinkNone || res.Link.PartnerID != partnerID {
		t.Errorf("second link = %+v, want none/%s", res.Link, partnerID)
	}
	if got := len(a.writes()); got != 1 {
		t.Errorf("writes after the repeat = %d, want still 1", got)
	}
	// Every line of an invocation carries its invocation ID on stdout, the one
	// path by which lines reach the host.
	if !a.waitStdout(`"invocation_id"`) {
		t.Errorf("stdout has no invocation_id: %s", a.stdout.String())
	}
}

func TestE2EForeignLink(t *testing.T) {
	t.Parallel()
	for _, relink := range []bool{false, true} {
		t.Run(map[bool]string{false: "reported", true: "relinked"}[relink], func(t *testing.T) {
			t.Parallel()
			estate := testEstate()
			estate.Links = []emulator.Link{{TenantID: managing, ObjectID: objectID, PartnerID: foreignID}}
			a := startApp(t, appOptions{estate: &estate, settings: map[string]string{"PAL_RELINK_FOREIGN": map[bool]string{false: "false", true: "true"}[relink]}})
			res := a.onboard(onboardingMessage(tenantA, subA1))
			if !relink {
				if got, want := res.Link, (pal.LinkResult{Action: pal.LinkForeign, PartnerID: foreignID, PreviousPartnerID: foreignID}); got != want {
					t.Errorf("link = %+v, want %+v", got, want)
				}
				if got := statusOf(res)[subA1]; got != pal.StatusUnlinked {
					t.Errorf("status = %q, want unlinked", got)
				}
				if len(a.writes()) != 0 {
					t.Errorf("writes = %v, want none", a.writes())
				}
				return
			}
			if got, want := res.Link, (pal.LinkResult{Action: pal.LinkRelinked, PartnerID: partnerID, PreviousPartnerID: foreignID}); got != want {
				t.Errorf("link = %+v, want %+v", got, want)
			}
			if got := statusOf(res)[subA1]; got != pal.StatusAttributed {
				t.Errorf("status = %q, want attributed", got)
			}
			if got, want := a.writes(), []string{"PATCH /providers/Microsoft.ManagementPartner/partners/" + partnerID}; !reflect.DeepEqual(got, want) {
				t.Errorf("writes = %v, want %v", got, want)
			}
		})
	}
}

func TestE2ENotDelegated(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	res := a.onboard(onboardingMessage(tenantB, subB1, subB2, subB3, subA1))
	want := map[string]pal.Status{
		subB1: pal.StatusAttributed,   // Support Request Contributor
		subB2: pal.StatusAttributed,   // Virtual Machine Contributor, judged after a role lookup
		subB3: pal.StatusNotDelegated, // unreachable
		subA1: pal.StatusNotDelegated, // in tenant A, not the B the message names
	}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if got := resultFor(t, res, subA1).Detail; !strings.Contains(got, tenantA) {
		t.Errorf("tenant mismatch detail = %q, want it to name %s", got, tenantA)
	}
	if got := resultFor(t, res, subB3).Detail; !strings.Contains(got, "cannot reach") {
		t.Errorf("unreachable detail = %q", got)
	}
}

func TestE2EWholeTenantAndCloudEvents(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	res := a.onboard(onboardingMessage(tenantC))
	want := map[string]pal.Status{subC1: pal.StatusAttributed, subC2: pal.StatusAttributed, subC3: pal.StatusAttributed, subC4: pal.StatusIneligibleRole}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("whole tenant statuses = %v, want %v", got, want)
	}

	data := `{"tenantId":"` + tenantB + `","subscriptionIds":["` + subB1 + `"],"requestedBy":"portal:alice@contoso.com","correlationId":"ce-corr-1"}`
	envelope := `{"specversion":"1.0","type":"com.contoso.pal.onboard","source":"/portal","id":"ce-1","datacontenttype":"application/json","data":` + data + `}`
	res = a.onboard(envelope)
	if got := statusOf(res)[subB1]; got != pal.StatusAttributed {
		t.Errorf("CloudEvents status = %q, want attributed", got)
	}
	if !a.waitStdout(`"correlation_id":"ce-corr-1","requested_by":"portal:alice@contoso.com"`) {
		t.Errorf("the message's correlationId and requestedBy are not in the log")
	}
	// base64 of the message, as a producer with a binary body might send it.
	res = a.onboard(base64.StdEncoding.EncodeToString([]byte(onboardingMessage(tenantA, subA1))))
	if got := statusOf(res)[subA1]; got != pal.StatusAttributed {
		t.Errorf("base64 status = %q, want attributed", got)
	}
}

func TestE2EBadInputDeadLetters(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	many := make([]string, 1001)
	for i := range many {
		many[i] = strings.Replace("a0000000-0000-4000-8000-00000000xxxx", "xxxx", strings.Repeat("0", 4-len(itoa(i)))+itoa(i), 1)
	}
	tests := []struct{ name, body, reason string }{
		{"malformed_json", `{"tenantId": "` + tenantA, "invalid onboarding message"},
		{"bad_guid", `{"tenantId":"not-a-guid"}`, "tenantId"},
		{"bad_subscription_guid", `{"tenantId":"` + tenantA + `","subscriptionIds":["x"]}`, "subscriptionIds"},
		{"unknown_field", `{"tenantId":"` + tenantA + `","tenant":"x"}`, "tenant"},
		{"partner_not_allowed", `{"tenantId":"` + tenantA + `","partnerId":"5555555"}`, "not allowed"},
		{"too_many_ids", onboardingMessage(tenantA, many...), "1000"},
		{"empty", ``, "invalid onboarding message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done, dead := a.deliver(tt.body, nil)
			if len(done) != 0 || len(dead) != 1 {
				t.Fatalf("completed %d, dead-lettered %d; want it dead-lettered", len(done), len(dead))
			}
			m := dead[0]
			if m.DeliveryCount != 3 || m.Reason != hostsim.ReasonMaxDeliveryCountExceeded {
				t.Errorf("dead-lettered after %d deliveries (%s), want 3 and MaxDeliveryCountExceeded", m.DeliveryCount, m.Reason)
			}
			if string(m.Body) != tt.body {
				t.Errorf("dead-lettered body changed: %q", m.Body)
			}
			if !strings.Contains(string(m.Result.Body), tt.reason) {
				t.Errorf("answer = %s, want the reason to mention %q", m.Result.Body, tt.reason)
			}
		})
	}
	if len(a.writes()) != 0 {
		t.Errorf("writes = %v, want none for bad input", a.writes())
	}
	if !a.waitStdout("Service Bus will redeliver") {
		t.Errorf("the failure reason is not in the log")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestE2EHTTP(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})

	// JSON post.
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1, subA2))
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("POST JSON = %d %s", ans.StatusCode, ans.Body)
	}
	res := decodeResult(t, ans.Body)
	if res.Link.Action != pal.LinkCreated || statusOf(res)[subA1] != pal.StatusAttributed {
		t.Errorf("POST JSON result = %+v", res)
	}
	if ct := ans.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}

	// HTML form post: IDs separated by new lines and commas, plus a repeated field.
	form := url.Values{"tenantId": {tenantC}, "subscriptionIds": {subC1 + "\r\n" + subC2 + ", " + subC3}, "subscriptionId": {subC4}}
	ans = a.http("POST", "/api/links", "application/x-www-form-urlencoded", form.Encode())
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("POST form = %d %s", ans.StatusCode, ans.Body)
	}
	res = decodeResult(t, ans.Body)
	if got := len(res.Results); got != 4 || res.Summary[pal.StatusAttributed] != 3 {
		t.Errorf("form results = %d, summary %v; want 4 with 3 attributed", got, res.Summary)
	}

	// Bad input: 400 with per-field errors.
	ans = a.http("POST", "/api/links", "application/json", `{"tenantId":"nope","subscriptionIds":["x"]}`)
	var bad struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(ans.Body, &bad); err != nil || ans.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad POST = %d %s", ans.StatusCode, ans.Body)
	}
	if bad.Fields["tenantId"] == "" || bad.Fields["subscriptionIds[0]"] == "" {
		t.Errorf("fields = %v, want tenantId and subscriptionIds[0]", bad.Fields)
	}
	// Partner ID outside the allowed set: 403.
	ans = a.http("POST", "/api/links", "application/json", `{"tenantId":"`+tenantA+`","partnerId":"5555555"}`)
	if ans.StatusCode != http.StatusForbidden {
		t.Errorf("not-allowed partner = %d %s, want 403", ans.StatusCode, ans.Body)
	}
	// No function key: the host answers 401 without invoking.
	raw, err := a.host.HTTP(a.ctx(), "GET", "/api/links?tenantId="+tenantA, http.Header{}, nil)
	if err != nil || raw.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key = %v %v, want 401", raw, err)
	}

	// GET is read-only: it reports and never writes, even with a foreign link.
	if err := a.emu.SetLink(emulator.Link{TenantID: managing, ObjectID: objectID, PartnerID: foreignID}); err != nil {
		t.Fatal(err)
	}
	a.emu.ResetRequests()
	ans = a.http("GET", "/api/links?tenantId="+tenantA+"&subscriptionId="+subA1, "", "")
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d %s", ans.StatusCode, ans.Body)
	}
	res = decodeResult(t, ans.Body)
	if res.Link.Action != pal.LinkForeign || statusOf(res)[subA1] != pal.StatusUnlinked {
		t.Errorf("GET result = %+v, want foreign link and unlinked", res)
	}
	if w := a.writes(); len(w) != 0 {
		t.Errorf("GET wrote %v", w)
	}
}

func TestE2ESweep(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil || inv.Failed {
		t.Fatalf("sweep: %v %v\n%s", err, inv.Err, a.stdout.String())
	}
	res := decodeResult(t, inv.ReturnValue)
	if res.Link.Action != pal.LinkCreated {
		t.Errorf("sweep link = %+v, want created", res.Link)
	}
	want := map[pal.Status]int{pal.StatusAttributed: 6, pal.StatusIneligibleRole: 4, pal.StatusNotDelegated: 0, pal.StatusUnlinked: 0, pal.StatusUnverifiable: 0, pal.StatusError: 0}
	if !reflect.DeepEqual(res.Summary, want) {
		t.Errorf("summary = %v, want %v (10 customer subscriptions in 3 tenants; the managing tenant's own skipped)", res.Summary, want)
	}
	wantNot := map[string]pal.Status{subA2: pal.StatusIneligibleRole, subA3: pal.StatusIneligibleRole, subA4: pal.StatusIneligibleRole, subC4: pal.StatusIneligibleRole}
	if got := statusOf(res); !reflect.DeepEqual(got, wantNot) {
		t.Errorf("sweep results = %v, want only the non-attributed %v", got, wantNot)
	}
	pages := 0
	for _, r := range a.emu.Requests() {
		if r.Path == "/subscriptions" {
			pages++
		}
	}
	if pages != 4 {
		t.Errorf("subscription list pages read = %d, want 4 (page size 3, 11 subscriptions)", pages)
	}
	// What the host ingests of this invocation: its stdout lines.
	lines := ingestedFor(t, a.host, inv.InvocationID, "invocation succeeded")
	if n := countMessages(lines, "subscription not attributed"); n != 4 {
		t.Errorf("ingested lines name %d non-attributed subscriptions, want 4", n)
	}
}

func TestE2EThrottledThenSuccess(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 429, RetryAfter: time.Second, Times: 1})
	res := a.onboard(onboardingMessage(tenantA, subA1))
	if got := statusOf(res)[subA1]; got != pal.StatusAttributed {
		t.Errorf("status = %q, want attributed after azcore retried the 429", got)
	}
	throttled := 0
	for _, r := range a.emu.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("429 answers = %d, want 1", throttled)
	}
}

// tries counts the emulator's answers with status to requests whose path
// holds pathPart, waiting up to a second for want of them: the emulator
// records a request just after answering it.
func (a *app) tries(pathPart string, status, want int) int {
	deadline := time.Now().Add(time.Second)
	for {
		n := 0
		for _, r := range a.emu.Requests() {
			if strings.Contains(r.Path, pathPart) && r.Status == status {
				n++
			}
		}
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestE2EPersistentServerErrors(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{maxDeliveryCount: 2})
	// No Retry-After: azcore backs off on its own (PAL_AZURE_RETRY_DELAY).
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 503})
	done, dead := a.deliver(onboardingMessage(tenantA, subA1), nil)
	if len(done) != 0 || len(dead) != 1 {
		t.Fatalf("completed %d, dead-lettered %d; want the message failed on every delivery", len(done), len(dead))
	}
	if dead[0].Result.Status != http.StatusServiceUnavailable {
		t.Errorf("invocation answer = %d, want 503", dead[0].Result.Status)
	}
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusServiceUnavailable || ans.Header.Get("Retry-After") == "" {
		t.Errorf("HTTP = %d Retry-After %q, want 503 with Retry-After", ans.StatusCode, ans.Header.Get("Retry-After"))
	}
	if strings.Contains(string(ans.Body), `"attributed"`) {
		t.Errorf("a 503 answer carries a result: %s", ans.Body)
	}
	// Two deliveries and one HTTP call, each a first try and azcore's 3 retries.
	if got := a.tries("registrationAssignments", http.StatusServiceUnavailable, 3*4); got != 3*4 {
		t.Errorf("503 answers = %d, want 12: 4 tries for each of the 3 invocations", got)
	}
}

func TestE2EServerErrorBurst(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	// Two 503s in a row, then Azure recovers: azcore's retries absorb the burst.
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 503, Times: 2})
	res := a.onboard(onboardingMessage(tenantA, subA1))
	if got := statusOf(res)[subA1]; got != pal.StatusAttributed {
		t.Errorf("status = %q, want attributed after the burst", got)
	}
	if got := a.tries("registrationAssignments", http.StatusServiceUnavailable, 2); got != 2 {
		t.Errorf("503 answers = %d, want the burst of 2", got)
	}
}

func TestE2EIdentityEndpointDown(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{maxDeliveryCount: 1})
	a.emu.InjectFault(emulator.Fault{Target: emulator.TargetIdentity, Status: 500})
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusServiceUnavailable || ans.Header.Get("Retry-After") == "" {
		t.Errorf("HTTP = %d %s, want 503 with Retry-After", ans.StatusCode, ans.Body)
	}
	done, dead := a.deliver(onboardingMessage(tenantA, subA1), nil)
	if len(done) != 0 || len(dead) != 1 {
		t.Errorf("completed %d, dead-lettered %d; want the message failed", len(done), len(dead))
	}
	if len(a.writes()) != 0 {
		t.Errorf("writes = %v, want none", a.writes())
	}
}

func TestE2EBadSettingAtStart(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, key, value string }{
		{"missing_partner", "PAL_PARTNER_ID", "<unset>"},
		{"bad_relink", "PAL_RELINK_FOREIGN", "sometimes"},
		{"bad_cloud", "PAL_CLOUD", "Moon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"PATH=" + os.Getenv("PATH"), "FUNCTIONS_CUSTOMHANDLER_PORT=65000", "PAL_PARTNER_ID=" + partnerID}
			if tt.value == "<unset>" {
				env = env[:2]
			} else {
				env = append(env, tt.key+"="+tt.value)
			}
			cmd := exec.Command(handlerBinary)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			checkNoRace(t, "handler", stderr.String())
			exit, ok := err.(*exec.ExitError)
			if !ok || exit.ExitCode() != 1 {
				t.Fatalf("run = %v, want exit code 1", err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.key+":") {
				t.Errorf("stderr = %q, want one line naming %s", stderr.String(), tt.key)
			}
		})
	}
}

func TestE2ESIGTERMFinishesInFlight(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Latency: 1500 * time.Millisecond, Times: 1})
	type answer struct {
		status int
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		h := http.Header{"Content-Type": {"application/json"}, "X-Functions-Key": {a.host.FunctionKey()}}
		ans, err := a.host.HTTP(context.Background(), "POST", "/api/links", h, []byte(onboardingMessage(tenantA, subA1)))
		if err != nil {
			got <- answer{err: err}
			return
		}
		got <- answer{status: ans.StatusCode}
	}()
	// Wait until the invocation is inside Azure, then stop the handler.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		inFlight := false
		for _, r := range a.emu.Requests() {
			inFlight = inFlight || strings.Contains(r.Path, "partners")
		}
		if inFlight {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, err := a.host.Stop(context.Background())
	if err != nil || code != 0 {
		t.Errorf("Stop = %d, %v; want exit code 0", code, err)
	}
	ans := <-got
	if ans.err != nil || ans.status != http.StatusOK {
		t.Errorf("in-flight request = %d, %v; want it finished with 200", ans.status, ans.err)
	}
}
