package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// identityRequests counts the token requests the emulator's managed-identity
// endpoint received.
func identityRequests(e *emulator.Emulator) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Target == emulator.TargetIdentity {
			n++
		}
	}
	return n
}

// TestE2EWrongClientIDFailsNamingIt (issue 15 item 8, issue 16 D8): an
// AZURE_CLIENT_ID no identity of the app has gets the identity endpoint's
// 400; the invocation fails (502, not 503 "try again") with a reason that
// names AZURE_CLIENT_ID and the client ID used.
func TestE2EWrongClientIDFailsNamingIt(t *testing.T) {
	t.Parallel()
	const wrong = "0bad0000-0000-4000-8000-00000000c1d0"
	a := startApp(t, appOptions{settings: map[string]string{"AZURE_CLIENT_ID": wrong}})
	ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenantA, subA1))
	if ans.StatusCode != http.StatusBadGateway {
		t.Errorf("HTTP = %d %s, want 502 (permanent)", ans.StatusCode, ans.Body)
	}
	for _, want := range []string{"AZURE_CLIENT_ID", wrong} {
		if !strings.Contains(string(ans.Body), want) {
			t.Errorf("answer %s does not name %s", ans.Body, want)
		}
	}
	if ans.Header.Get("Retry-After") != "" {
		t.Errorf("Retry-After %q on a permanent failure", ans.Header.Get("Retry-After"))
	}
}

// TestE2EColdStartOneTokenRequest (issue 16 D9): 32 concurrent invocations
// on a freshly started handler share one token request to the identity
// endpoint (before: 6-13).
func TestE2EColdStartOneTokenRequest(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	before := identityRequests(a.emu)
	const callers = 32
	var wg sync.WaitGroup
	codes := make(chan int, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans := a.http("GET", "/api/links?tenantId="+tenantA+"&subscriptionId="+subA1, "", "")
			codes <- ans.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("GET /api/links = %d, want 200", c)
		}
	}
	if got := identityRequests(a.emu) - before; got > 1 {
		t.Errorf("%d token requests for %d concurrent invocations on a cold start, want 1", got, callers)
	}
}
