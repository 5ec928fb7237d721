package trigger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// fakeQueue records what the triggers sent.
type fakeQueue struct {
	mu        sync.Mutex
	sent      []QueueMessage
	scheduled []QueueMessage
	at        []time.Time
	err       error
}

func (q *fakeQueue) SendMessage(ctx context.Context, m QueueMessage) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, m)
	return nil
}

func (q *fakeQueue) ScheduleMessage(ctx context.Context, m QueueMessage, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.scheduled = append(q.scheduled, m)
	q.at = append(q.at, at)
	return nil
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// sbInvocation is a Service Bus delivery with metadata as the host sends it.
func sbInvocation(t *testing.T, body string, enqueued time.Time, props map[string]any) *customhandler.Invocation {
	inv := invocation(t, onboardingBinding, body)
	inv.Metadata["EnqueuedTimeUtc"] = json.RawMessage(`"` + enqueued.UTC().Format("2006-01-02T15:04:05") + `"`)
	inv.Metadata["CorrelationId"] = json.RawMessage(`"\"corr-1\""`)
	if props != nil {
		raw, _ := json.Marshal(props)
		inv.Metadata["ApplicationProperties"] = raw
	}
	return inv
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt  int
		jitter   float64
		min, max time.Duration
	}{
		{1, 0, 15 * time.Second, 15 * time.Second},
		{1, 0.999, 15 * time.Second, 30 * time.Second},
		{2, 0.5, 30 * time.Second, 60 * time.Second},
		{6, 1, 15 * time.Minute, 15 * time.Minute},
		{40, 1, 15 * time.Minute, 15 * time.Minute},
	}
	for _, tt := range tests {
		got := backoff(tt.attempt, tt.jitter)
		if got < tt.min || got > tt.max {
			t.Errorf("backoff(%d, %v) = %v, want %v..%v", tt.attempt, tt.jitter, got, tt.min, tt.max)
		}
	}
	if got := retryDelay(3, 7*time.Second, 0.5); got != 7*time.Second {
		t.Errorf("retryDelay with Retry-After 7s = %v, want 7s", got)
	}
	if got := retryDelay(3, time.Hour, 0.5); got != 15*time.Minute {
		t.Errorf("retryDelay with Retry-After 1h = %v, want the 15m cap", got)
	}
}

func TestScheduledRetry(t *testing.T) {
	good := `{"tenantId":"` + tenant + `"}`
	throttled := &pal.Error{Code: pal.CodeTransient, Message: "Azure answered 429", RetryAfter: 90 * time.Second}
	enqueued := now.Add(-time.Minute)
	tests := []struct {
		name        string
		props       map[string]any
		queueErr    error
		engineErr   error
		wantFail    bool
		wantAttempt int
		wantDelay   time.Duration
	}{
		{name: "first_failure_schedules", engineErr: throttled, wantAttempt: 2, wantDelay: 90 * time.Second},
		{name: "later_attempt_keeps_counting", props: map[string]any{propAttempt: 3, propOriginalID: "orig", propFirstEnqueued: enqueued.Format(time.RFC3339Nano)}, engineErr: throttled, wantAttempt: 4, wantDelay: 90 * time.Second},
		{name: "attempts_used_up_fails", props: map[string]any{propAttempt: "8"}, engineErr: throttled, wantFail: true},
		{name: "queue_down_fails", queueErr: errors.New("amqp: connection lost"), engineErr: throttled, wantFail: true},
		{name: "bad_input_never_scheduled", engineErr: &pal.Error{Code: pal.CodePartnerNotAllowed, Message: "no"}, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{err: tt.queueErr}
			f := &fakeEngine{err: tt.engineErr}
			h := must(Onboarding(f, withBounds(&Options{Queue: q, Now: func() time.Time { return now }, Jitter: func() float64 { return 0.5 }, DelegationWait: 30 * time.Minute})))
			got := h(context.Background(), sbInvocation(t, good, enqueued, tt.props))
			if tt.wantFail {
				if got.Failure == nil {
					t.Fatalf("result = %+v, want the invocation failed", got)
				}
				if len(q.scheduled) != 0 {
					t.Errorf("scheduled %d copies, want none", len(q.scheduled))
				}
				return
			}
			if got.Failure != nil {
				t.Fatalf("Failure = %+v, want the original completed", got.Failure)
			}
			if len(q.scheduled) != 1 {
				t.Fatalf("scheduled %d copies, want 1", len(q.scheduled))
			}
			m := q.scheduled[0]
			if m.Properties[propAttempt] != tt.wantAttempt {
				t.Errorf("%s = %v, want %d", propAttempt, m.Properties[propAttempt], tt.wantAttempt)
			}
			if string(m.Body) != good {
				t.Errorf("copy body = %q, want the original %q", m.Body, good)
			}
			if m.CorrelationID != "corr-1" {
				t.Errorf("copy CorrelationID = %q, want the original's", m.CorrelationID)
			}
			if !strings.HasSuffix(m.MessageID, "/attempt-"+itoa(tt.wantAttempt)) {
				t.Errorf("copy MessageID = %q, want a deterministic …/attempt-%d", m.MessageID, tt.wantAttempt)
			}
			if first, _ := m.Properties[propFirstEnqueued].(string); first != enqueued.Format(time.RFC3339Nano) {
				t.Errorf("%s = %q, want the first enqueue time %s", propFirstEnqueued, first, enqueued.Format(time.RFC3339Nano))
			}
			if d := q.at[0].Sub(now); d != tt.wantDelay {
				t.Errorf("scheduled in %v, want %v", d, tt.wantDelay)
			}
			// The same delivery again produces the same copy: duplicate detection drops it.
			h(context.Background(), sbInvocation(t, good, enqueued, tt.props))
			if len(q.scheduled) != 2 || q.scheduled[1].MessageID != m.MessageID {
				t.Errorf("redelivery scheduled %q, want the same MessageID %q", q.scheduled[1].MessageID, m.MessageID)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDelegationWait(t *testing.T) {
	good := `{"tenantId":"` + tenant + `","subscriptionIds":["51111111-0000-0000-0000-000000000001"]}`
	// Only the engine can mark a named subscription unreachable, so here the rule
	// is driven by a whole-tenant message that finds no subscription; named
	// unreachable subscriptions are covered end to end (handler/e2e_hardening_test.go).
	unreachable := &pal.Result{Results: []pal.SubscriptionResult{}, Summary: map[pal.Status]int{}}
	wholeTenant := `{"tenantId":"` + tenant + `"}`
	tests := []struct {
		name     string
		body     string
		age      time.Duration
		queue    bool
		wantFail bool
		wantSch  int
	}{
		{name: "young_whole_tenant_waits_with_queue", body: wholeTenant, age: 5 * time.Minute, queue: true, wantSch: 1},
		{name: "young_whole_tenant_fails_without_queue", body: wholeTenant, age: 5 * time.Minute, wantFail: true},
		{name: "old_message_completes", body: wholeTenant, age: 31 * time.Minute, queue: true},
		{name: "named_reachable_completes", body: good, age: time.Minute, queue: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q *fakeQueue
			opts := &Options{Now: func() time.Time { return now }, DelegationWait: 30 * time.Minute}
			if tt.queue {
				q = &fakeQueue{}
				opts.Queue = q
			}
			f := &fakeEngine{res: unreachable}
			got := must(Onboarding(f, withBounds(opts)))(context.Background(), sbInvocation(t, tt.body, now.Add(-tt.age), nil))
			if (got.Failure != nil) != tt.wantFail {
				t.Fatalf("Failure = %+v, want failed %v", got.Failure, tt.wantFail)
			}
			if q != nil && len(q.scheduled) != tt.wantSch {
				t.Errorf("scheduled = %d, want %d", len(q.scheduled), tt.wantSch)
			}
		})
	}
}

// slowEngine blocks until its context ends.
type slowEngine struct{ fakeEngine }

func (s *slowEngine) Onboard(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestInvocationTimeout(t *testing.T) {
	opts := &Options{InvocationTimeout: 50 * time.Millisecond}
	start := time.Now()
	got := must(Onboarding(&slowEngine{}, withBounds(opts)))(context.Background(), invocation(t, onboardingBinding, `{"tenantId":"`+tenant+`"}`))
	if got.Failure == nil || got.Failure.Status != http.StatusServiceUnavailable {
		t.Errorf("Failure = %+v, want 503 (transient)", got.Failure)
	}
	if !strings.Contains(got.Failure.Message, "PAL_INVOCATION_TIMEOUT") {
		t.Errorf("message = %q, want it to name PAL_INVOCATION_TIMEOUT", got.Failure.Message)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the invocation did not stop at its deadline")
	}
	status, out := response(t, must(Links(&slowEngine{}, withBounds(opts)))(context.Background(),
		invocation(t, httpBinding, httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`"}`))))
	if status != http.StatusServiceUnavailable || out.Headers["Retry-After"] == "" {
		t.Errorf("HTTP = %d %v, want 503 with Retry-After", status, out.Headers)
	}
}

func principal(claims ...[2]string) string {
	type claim struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	p := struct {
		AuthTyp string  `json:"auth_typ"`
		Claims  []claim `json:"claims"`
	}{AuthTyp: "aad"}
	for _, c := range claims {
		p.Claims = append(p.Claims, claim{c[0], c[1]})
	}
	b, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(b)
}

func TestHTTPHardening(t *testing.T) {
	body := `{"tenantId":"` + tenant + `"}`
	withHeader := func(r map[string]any, k, v string) map[string]any {
		r["Headers"].(map[string][]string)[k] = []string{v}
		return r
	}
	tests := []struct {
		name       string
		opts       Options
		req        map[string]any
		queueErr   error
		wantStatus int
		wantCall   string
		wantSent   int
		wantHeader [2]string
	}{
		{name: "role_required_no_principal", opts: Options{HTTPRole: "PAL.Operator"}, req: httpRequest("POST", "", "application/json", body), wantStatus: 401},
		{name: "role_required_wrong_role", opts: Options{HTTPRole: "PAL.Operator"}, req: withHeader(httpRequest("POST", "", "application/json", body), principalHeader, principal([2]string{"roles", "PAL.Reader"})), wantStatus: 403},
		{name: "role_required_garbage_principal", opts: Options{HTTPRole: "PAL.Operator"}, req: withHeader(httpRequest("GET", "tenantId="+tenant, "", ""), principalHeader, "%%%"), wantStatus: 401},
		{name: "role_present", opts: Options{HTTPRole: "PAL.Operator"}, req: withHeader(httpRequest("POST", "", "application/json", body), principalHeader, principal([2]string{"name", "x"}, [2]string{"roles", "PAL.Operator"})), wantStatus: 200, wantCall: "onboard"},
		{name: "body_too_large", req: httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`","requestedBy":"`+strings.Repeat("x", maxHTTPBody)+`"}`), wantStatus: 413},
		{name: "async_without_queue", req: httpRequest("POST", "async=true", "application/json", body), wantStatus: 400},
		{name: "async_queued", opts: Options{Queue: &fakeQueue{}}, req: httpRequest("POST", "async=true", "application/json", body), wantStatus: 202, wantSent: 1, wantHeader: [2]string{"Location", "/api/links?tenantId=" + tenant}},
		{name: "async_not_allowed_partner", opts: Options{Queue: &fakeQueue{}}, req: httpRequest("POST", "async=true", "application/json", `{"tenantId":"`+tenant+`","partnerId":"42"}`), wantStatus: 403},
		{name: "async_queue_down", opts: Options{Queue: &fakeQueue{err: errors.New("down")}}, req: httpRequest("POST", "async=true", "application/json", body), wantStatus: 503},
		{name: "get_ignores_async", req: httpRequest("GET", "tenantId="+tenant+"&async=true", "", ""), wantStatus: 200, wantCall: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{}
			if q, ok := tt.opts.Queue.(*fakeQueue); ok && tt.queueErr != nil {
				q.err = tt.queueErr
			}
			status, out := response(t, must(Links(f, withBounds(&tt.opts)))(context.Background(), invocation(t, httpBinding, tt.req)))
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", status, tt.wantStatus, out.Body)
			}
			if got := strings.Join(f.calls, ","); got != tt.wantCall {
				t.Errorf("engine calls = %q, want %q", got, tt.wantCall)
			}
			if q, ok := tt.opts.Queue.(*fakeQueue); ok && len(q.sent) != tt.wantSent {
				t.Errorf("sent = %d, want %d", len(q.sent), tt.wantSent)
			}
			if h := tt.wantHeader; h[0] != "" && out.Headers[h[0]] != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], out.Headers[h[0]], h[1])
			}
		})
	}
}
