package main

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/rs/zerolog"
)

// This file runs the onboarding function in-process — the real engine and
// Azure clients against the emulator — with a Service Bus queue double that
// feeds scheduled copies back, on a virtual clock. It proves the scheduled
// retry contract: every message ends completed with a verified result, or
// failed (for the host to redeliver and dead-letter) with its reason; nothing
// is reported attributed unless verified; no goroutine is left behind.

// loopQueue is the onboarding queue: scheduled copies wait for their time.
type loopQueue struct {
	mu        sync.Mutex
	scheduled []scheduledCopy
	failWith  error
}

type scheduledCopy struct {
	msg trigger.QueueMessage
	at  time.Time
}

func (q *loopQueue) SendMessage(ctx context.Context, m trigger.QueueMessage) error {
	return q.ScheduleMessage(ctx, m, time.Time{})
}

func (q *loopQueue) ScheduleMessage(ctx context.Context, m trigger.QueueMessage, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failWith != nil {
		return q.failWith
	}
	q.scheduled = append(q.scheduled, scheduledCopy{m, at})
	return nil
}

func (q *loopQueue) next() (scheduledCopy, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.scheduled) == 0 {
		return scheduledCopy{}, false
	}
	c := q.scheduled[0]
	q.scheduled = q.scheduled[1:]
	return c, true
}

// clock is a virtual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

type inProcess struct {
	emu     *emulator.Emulator
	queue   *loopQueue
	clock   *clock
	handler customhandler.HandlerFunc
}

// miClientID is a second client ID of the function's identity, used only by
// the test that goes through the managed-identity endpoint: MSAL caches
// managed-identity tokens process-wide by client ID.
const miClientID = "c1000000-0000-4000-8000-0000000000ff"

func newInProcess(t *testing.T, maxAttempts int, viaIdentityEndpoint bool) *inProcess {
	t.Helper()
	estate := testEstate()
	estate.Identities = append(estate.Identities, emulator.Identity{ClientID: miClientID, TenantID: managing, ObjectID: objectID})
	emu, err := emulator.New(estate, &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	cfg, err := azure.CloudConfig("AzurePublic", emu.ARMURL())
	if err != nil {
		t.Fatal(err)
	}
	// Short backoff, for ARM and the identity endpoint alike: azcore's own
	// (800 ms, doubling) would make a persistent fault wait seconds.
	retry := policy.RetryOptions{MaxRetries: 2, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 2 * time.Second}
	cred := emu.Credential(clientID)
	if viaIdentityEndpoint {
		t.Setenv("IDENTITY_ENDPOINT", emu.IdentityEndpoint())
		t.Setenv("IDENTITY_HEADER", emu.IdentityHeader())
		if cred, err = azure.NewCredential("managedidentity", miClientID, cfg, &azure.CredentialOptions{Retry: retry}); err != nil {
			t.Fatal(err)
		}
	}
	clients, err := azure.NewClients(cred, cfg, &azure.ClientsOptions{Transport: emu.HTTPClient(), Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := pal.NewEngine(partnerID, pal.Azure{Links: clients.Partner, Subscriptions: clients.Subscriptions,
		Delegations: clients.Delegations, Roles: clients.Roles, Principal: clients.Principal,
		Permissions: clients.Permissions, ResourceGroups: clients.ResourceGroups, BuiltInRoles: clients.Permissions}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &inProcess{emu: emu, queue: &loopQueue{}, clock: &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}}
	p.handler, err = trigger.Onboarding(engine, &trigger.Options{
		Queue: p.queue, MaxAttempts: maxAttempts, DelegationWait: 30 * time.Minute,
		OnboardingMaxDeliveryCount: 10, SweepMaxDeliveryCount: 10,
		InvocationTimeout: 5 * time.Second, SweepTimeout: time.Minute, Now: p.clock.Now, Jitter: func() float64 { return 0.5 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// messageEnd is how one message ended.
type messageEnd struct {
	completed *pal.Result
	failed    *customhandler.Failure
	attempts  int
	delays    []time.Duration
}

// run delivers a message as the host would, then every scheduled copy when
// its time comes, until no copy is left.
func (p *inProcess) run(t *testing.T, body string, between func(attempt int)) messageEnd {
	t.Helper()
	var out messageEnd
	deliver := func(props map[string]any, id string) customhandler.Result {
		out.attempts++
		raw, _ := json.Marshal(body)
		md := map[string]json.RawMessage{
			"MessageId":       json.RawMessage(`"\"` + id + `\""`),
			"DeliveryCount":   json.RawMessage(`"1"`),
			"EnqueuedTimeUtc": json.RawMessage(`"` + p.clock.Now().Format("2006-01-02T15:04:05") + `"`),
		}
		if props != nil {
			md["ApplicationProperties"], _ = json.Marshal(props)
		}
		inv := &customhandler.Invocation{ID: "inv", Function: "onboarding", Data: map[string]json.RawMessage{"message": raw}, Metadata: md, Log: zerolog.Nop()}
		return p.handler(context.Background(), inv)
	}
	r := deliver(nil, "m-1")
	for {
		if r.Failure != nil {
			out.failed = r.Failure
			return out
		}
		if res, ok := r.ReturnValue.(*pal.Result); ok {
			out.completed = res
			return out
		}
		c, ok := p.queue.next()
		if !ok {
			t.Fatalf("the invocation completed without a result and scheduled nothing: %+v", r)
		}
		out.delays = append(out.delays, c.at.Sub(p.clock.Now()))
		p.clock.Set(c.at)
		if between != nil {
			between(out.attempts)
		}
		r = deliver(c.msg.Properties, c.msg.MessageID)
	}
}

func TestFaultsScheduledRetries(t *testing.T) {
	before := runtime.NumGoroutine()
	body := onboardingMessage(tenantA, subA1, subA2)
	want := map[string]pal.Status{subA1: pal.StatusAttributed, subA2: pal.StatusIneligibleRole}

	t.Run("long_retry_after_then_recovers", func(t *testing.T) {
		p := newInProcess(t, 8, false)
		remove := p.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 429, RetryAfter: 120 * time.Second})
		out := p.run(t, body, func(attempt int) {
			if attempt == 2 {
				remove()
			}
		})
		if out.completed == nil {
			t.Fatalf("outcome = %+v, want completed", out)
		}
		if got := statusOf(out.completed); !equalStatuses(got, want) {
			t.Errorf("statuses = %v, want %v", got, want)
		}
		if out.attempts != 3 || out.delays[0] != 120*time.Second {
			t.Errorf("attempts = %d, delays = %v; want 3 attempts, the first retry after Retry-After 120s", out.attempts, out.delays)
		}
	})
	t.Run("server_errors_until_attempts_run_out", func(t *testing.T) {
		p := newInProcess(t, 4, false)
		p.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/providers/Microsoft.ManagementPartner", Status: 500})
		out := p.run(t, body, nil)
		if out.failed == nil || out.attempts != 4 {
			t.Fatalf("outcome = %+v, want failed after 4 attempts", out)
		}
		// Backoff from 30 s, doubling, with the fixed jitter 0.5: 22.5s, 45s, 90s.
		wantDelays := []time.Duration{22500 * time.Millisecond, 45 * time.Second, 90 * time.Second}
		if !equalDurations(out.delays, wantDelays) {
			t.Errorf("delays = %v, want %v", out.delays, wantDelays)
		}
		if len(p.emu.Writes()) != 0 {
			t.Errorf("writes = %d, want none while the link cannot be read", len(p.emu.Writes()))
		}
	})
	t.Run("identity_endpoint_flaps", func(t *testing.T) {
		p := newInProcess(t, 8, true)
		remove := p.emu.InjectFault(emulator.Fault{Target: emulator.TargetIdentity, Status: 503})
		out := p.run(t, body, func(int) { remove() })
		if out.completed == nil || !equalStatuses(statusOf(out.completed), want) || out.attempts != 2 {
			t.Fatalf("outcome = %+v, want completed with the true verdicts on the second attempt", out)
		}
		identityCalls := 0
		for _, r := range p.emu.Requests() {
			if r.Target == emulator.TargetIdentity {
				identityCalls++
			}
		}
		if identityCalls == 0 {
			t.Errorf("the identity endpoint was never called; the test does not test it")
		}
	})
	t.Run("sender_fails", func(t *testing.T) {
		p := newInProcess(t, 8, false)
		p.queue.failWith = errors.New("amqp: connection refused")
		p.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 503})
		out := p.run(t, body, nil)
		if out.failed == nil || out.failed.Status != 503 || out.attempts != 1 {
			t.Fatalf("outcome = %+v, want the invocation failed (503) so the host redelivers", out)
		}
	})
	t.Run("delegation_arrives_during_wait", func(t *testing.T) {
		p := newInProcess(t, 8, false)
		out := p.run(t, onboardingMessage(tenantB, subB1, subB3), func(attempt int) {
			if attempt == 2 {
				p.emu.SetDelegations(subB3, emulator.Delegation{ManagedByTenantID: managing,
					Authorizations: []emulator.Authorization{{PrincipalID: objectID, RoleDefinitionID: emulator.RoleContributor}}})
			}
		})
		if out.completed == nil || statusOf(out.completed)[subB3] != pal.StatusAttributed || out.attempts != 3 {
			t.Fatalf("outcome = %+v (attempts %d), want subB3 attributed on the third attempt", out, out.attempts)
		}
	})
	t.Run("delegation_never_arrives", func(t *testing.T) {
		p := newInProcess(t, 50, false)
		out := p.run(t, onboardingMessage(tenantB, subB1, subB3), nil)
		if out.completed == nil || statusOf(out.completed)[subB3] != pal.StatusNotDelegated {
			t.Fatalf("outcome = %+v, want completed with not-delegated once the wait is over", out)
		}
		var total time.Duration
		for _, d := range out.delays {
			total += d
		}
		if total < 30*time.Minute || total > 45*time.Minute {
			t.Errorf("waited %v in all, want just over PAL_DELEGATION_WAIT (30m)", total)
		}
	})

	// Every goroutine started above (HTTP connections, MSAL, retries) is gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines: %d before, %d after; leaked:\n%s", before, n, strings.TrimSpace(string(buf)))
	}
}

func equalStatuses(a, b map[string]pal.Status) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
