package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

func TestE2EDelegationWait(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{settings: map[string]string{"PAL_DELEGATION_WAIT": "30m"}, maxDeliveryCount: 2})
	body := onboardingMessage(tenantB, subB1, subB3) // subB3 is not delegated to the identity (yet)

	// A young message: the missing delegation may still be on its way. Without
	// Service Bus configured the invocation fails, so the host redelivers it.
	done, dead := a.deliver(body, &hostsim.MessageOptions{EnqueuedTime: time.Now().Add(-time.Minute)})
	if len(done) != 0 || len(dead) != 1 {
		t.Fatalf("young message: completed %d, dead-lettered %d; want it failed", len(done), len(dead))
	}
	if got := string(dead[0].Result.Body); !strings.Contains(got, "not reachable yet: "+subB3) {
		t.Errorf("answer = %s, want it to name the unreachable subscription", got)
	}

	// An old message: the wait is over, it completes with not-delegated.
	done, dead = a.deliver(body, &hostsim.MessageOptions{EnqueuedTime: time.Now().Add(-31 * time.Minute)})
	if len(done) != 1 || len(dead) != 0 {
		t.Fatalf("old message: completed %d, dead-lettered %d; want it completed", len(done), len(dead))
	}
	res := decodeResult(t, done[0].Result.ReturnValue)
	if got := statusOf(res)[subB3]; got != pal.StatusNotDelegated {
		t.Errorf("status = %q, want not-delegated after the wait", got)
	}
}

func TestE2EInvocationTimeout(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{settings: map[string]string{"PAL_INVOCATION_TIMEOUT": "1s"}, maxDeliveryCount: 1})
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Latency: 3 * time.Second})
	start := time.Now()
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusServiceUnavailable || ans.Header.Get("Retry-After") == "" {
		t.Errorf("HTTP = %d %s, want 503 with Retry-After", ans.StatusCode, ans.Body)
	}
	if took := time.Since(start); took > 2800*time.Millisecond {
		t.Errorf("answered after %v, want about the 1s deadline, well before the slow Azure call ends", took)
	}
	_, dead := a.deliver(onboardingMessage(tenantA, subA1), nil)
	if len(dead) != 1 || dead[0].Result.Status != http.StatusServiceUnavailable {
		t.Errorf("message = %+v, want it failed as transient (503)", dead)
	}
}

func TestE2ELongRetryAfterAndFlakyConnections(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{maxDeliveryCount: 1})

	// A Retry-After beyond azcore's maximum delay is not waited for: 503 at once,
	// passing the delay on to the caller.
	remove := a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 429, RetryAfter: 120 * time.Second})
	start := time.Now()
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusServiceUnavailable || ans.Header.Get("Retry-After") != "120" {
		t.Errorf("HTTP = %d Retry-After %q, want 503 with Retry-After 120", ans.StatusCode, ans.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v; a long Retry-After must not be slept through", took)
	}
	// Without Service Bus to schedule a copy, the message fails with its reason.
	_, dead := a.deliver(onboardingMessage(tenantA, subA1), nil)
	if len(dead) != 1 || dead[0].Result.Status != http.StatusServiceUnavailable || !strings.Contains(string(dead[0].Result.Body), "429") {
		t.Errorf("message = %+v, want it failed with 503 naming the 429", dead)
	}
	remove()

	// A dropped connection and a slow answer are retried or waited out.
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Drop: true, Times: 1})
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/subscriptions/", Latency: 300 * time.Millisecond, Times: 2})
	res := a.onboard(onboardingMessage(tenantA, subA1, subA2))
	want := map[string]pal.Status{subA1: pal.StatusAttributed, subA2: pal.StatusIneligibleRole}
	for id, st := range want {
		if got := statusOf(res)[id]; got != st {
			t.Errorf("%s = %q, want %q", id, got, st)
		}
	}
}

func TestE2ECallerRoleAndLimits(t *testing.T) {
	t.Parallel()
	// The role gate needs App Service Authentication (the platform sets WEBSITE_AUTH_ENABLED).
	a := startApp(t, appOptions{settings: map[string]string{"PAL_HTTP_ROLE": "PAL.Operator", "WEBSITE_AUTH_ENABLED": "true"}})
	body := onboardingMessage(tenantA, subA1)
	if ans := a.http("POST", "/api/links", "application/json", body); ans.StatusCode != http.StatusUnauthorized {
		t.Errorf("no principal = %d, want 401", ans.StatusCode)
	}
	principal := func(role string) string {
		return base64.StdEncoding.EncodeToString([]byte(`{"auth_typ":"aad","claims":[{"typ":"roles","val":"` + role + `"}]}`))
	}
	call := func(role, body string) *hostsim.HTTPResult {
		h := http.Header{"Content-Type": {"application/json"}, "X-Functions-Key": {a.host.FunctionKey()}, "X-Ms-Client-Principal": {principal(role)}}
		ans, err := a.host.HTTP(a.ctx(), "POST", "/api/links", h, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	if ans := call("PAL.Reader", body); ans.StatusCode != http.StatusForbidden {
		t.Errorf("other role = %d, want 403", ans.StatusCode)
	}
	if ans := call("PAL.Operator", body); ans.StatusCode != http.StatusOK {
		t.Errorf("right role = %d %s, want 200", ans.StatusCode, ans.Body)
	}
	big := `{"tenantId":"` + tenantA + `","requestedBy":"` + strings.Repeat("x", 70<<10) + `"}`
	if ans := call("PAL.Operator", big); ans.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body = %d, want 413", ans.StatusCode)
	}
	// The host passes no body without Content-Length (a chunked POST): 411 saying so.
	if ans := call("PAL.Operator", ""); ans.StatusCode != http.StatusLengthRequired || !strings.Contains(string(ans.Body), "Content-Length") {
		t.Errorf("POST without a body or Content-Length = %d %s, want 411 naming Content-Length", ans.StatusCode, ans.Body)
	}
	if ans := a.http("POST", "/api/links?async=true", "application/json", body); ans.StatusCode != http.StatusUnauthorized {
		t.Errorf("async without principal = %d, want 401", ans.StatusCode)
	}
}

func TestE2EAsyncWithoutServiceBus(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	ans := a.http("POST", "/api/links?async=true", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusBadRequest || !strings.Contains(string(ans.Body), "Service Bus") {
		t.Errorf("async without Service Bus = %d %s, want 400 saying why", ans.StatusCode, ans.Body)
	}
	if len(a.writes()) != 0 {
		t.Errorf("writes = %v, want none", a.writes())
	}
}

func TestE2EWithServiceBusConfigured(t *testing.T) {
	t.Parallel()
	// The namespace is never contacted unless something must be sent: the
	// azservicebus client connects lazily. Synchronous work is unchanged, and
	// SIGTERM closes the client and exits 0.
	a := startApp(t, appOptions{settings: map[string]string{
		"ServiceBusConnection__fullyQualifiedNamespace": "pal-keeper-test.servicebus.windows.net",
	}})
	if !a.waitStdout(`"service_bus":true`) {
		t.Errorf("the handler did not report Service Bus configured")
	}
	res := a.onboard(onboardingMessage(tenantA, subA1))
	if got := statusOf(res)[subA1]; got != pal.StatusAttributed {
		t.Errorf("status = %q, want attributed", got)
	}
	code, err := a.host.Stop(a.ctx())
	if err != nil || code != 0 {
		t.Errorf("Stop = %d, %v; want exit code 0", code, err)
	}
}
