package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

func TestBadDeliveryIsBadInput(t *testing.T) {
	tests := []struct {
		name       string
		data       map[string]json.RawMessage
		wantReason string
	}{
		{name: "null", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(`null`)}, wantReason: "could not be read"},
		{name: "empty_value", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(` `)}, wantReason: "could not be read"},
		{name: "not_json", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(`{oops`)}, wantReason: "not JSON"},
		{name: "number", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(`42`)}, wantReason: "expected a JSON object"},
		{name: "boolean", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(`true`)}, wantReason: "expected a JSON object"},
		{name: "empty_string", data: map[string]json.RawMessage{onboardingBinding: json.RawMessage(`""`)}, wantReason: "empty"},
		{name: "no_data", data: map[string]json.RawMessage{}, wantReason: "no Data.message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := invocation(t, onboardingBinding, "")
			inv.Data = tt.data
			f := &fakeEngine{}
			got := must(Onboarding(f, withBounds(&Options{Queue: &fakeQueue{}})))(context.Background(), inv)
			if got.Failure == nil || got.Failure.Status != http.StatusBadRequest {
				t.Fatalf("Failure = %+v, want 400", got.Failure)
			}
			if !strings.Contains(got.Failure.Message, tt.wantReason) || strings.Contains(got.Failure.Message, "internal") {
				t.Errorf("message = %q, want the reason %q", got.Failure.Message, tt.wantReason)
			}
			if len(f.calls) != 0 {
				t.Errorf("engine called %v for bad input", f.calls)
			}
		})
	}
}

func TestLengthRequired(t *testing.T) {
	body := `{"tenantId":"` + tenant + `"}`
	post := func(headers map[string]string, body string) map[string]any {
		r := httpRequest("POST", "", "application/json", body)
		h := r["Headers"].(map[string][]string)
		delete(h, "Content-Length")
		for k, v := range headers {
			h[k] = []string{v}
		}
		return r
	}
	tests := []struct {
		name       string
		req        map[string]any
		wantStatus int
		wantField  string
	}{
		{name: "chunked_arrives_empty", req: post(map[string]string{"Transfer-Encoding": "chunked"}, ""), wantStatus: 411, wantField: "Content-Length"},
		{name: "no_length_no_body", req: post(nil, ""), wantStatus: 411, wantField: "Content-Length"},
		{name: "chunked_with_length_zero", req: post(map[string]string{"Transfer-Encoding": "gzip, chunked", "Content-Length": "0"}, ""), wantStatus: 411, wantField: "Content-Length"},
		{name: "length_zero_is_empty_body", req: post(map[string]string{"Content-Length": "0"}, ""), wantStatus: 400, wantField: "body"},
		{name: "body_without_length_header_works", req: post(nil, body), wantStatus: 200},
		{name: "get_needs_no_length", req: httpRequest("GET", "tenantId="+tenant, "", ""), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := response(t, must(Links(&fakeEngine{}, withBounds(nil)))(context.Background(), invocation(t, httpBinding, tt.req)))
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", status, tt.wantStatus, out.Body)
			}
			var eb errorBody
			_ = json.Unmarshal([]byte(out.Body), &eb)
			if tt.wantField != "" {
				if _, ok := eb.Fields[tt.wantField]; !ok {
					t.Errorf("fields = %v, want a %q entry", eb.Fields, tt.wantField)
				}
			}
			if status == 411 && !strings.Contains(eb.Error, "Content-Length") {
				t.Errorf("error = %q, want it to say to send Content-Length", eb.Error)
			}
		})
	}
}

// cancellingEngine cancels the caller's context mid-call, then returns what an
// Azure adapter returns for a cancelled request.
type cancellingEngine struct {
	fakeEngine
	cancel  context.CancelFunc
	wrapped bool
}

func (c *cancellingEngine) stop(ctx context.Context) (*pal.Result, error) {
	c.cancel()
	<-ctx.Done()
	if c.wrapped {
		return nil, &pal.Error{Code: pal.CodeTransient, Message: "GET subscriptions: request cancelled", Err: ctx.Err()}
	}
	return nil, ctx.Err()
}

func (c *cancellingEngine) Onboard(ctx context.Context, _ *zerolog.Logger, _ pal.Request) (*pal.Result, error) {
	return c.stop(ctx)
}

func (c *cancellingEngine) Sweep(ctx context.Context, _ *zerolog.Logger, _ *pal.SweepOptions) (*pal.Result, error) {
	return c.stop(ctx)
}

// TestContextErrorsAlike: a caller that cancels is not "ran out of time" on
// any path, and only the invocation's own deadline is.
func TestContextErrorsAlike(t *testing.T) {
	body := `{"tenantId":"` + tenant + `"}`
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprint("wrapped=", wrapped), func(t *testing.T) {
			run := func(h func(Engine, *Options) (customhandler.HandlerFunc, error), inv *customhandler.Invocation, q *fakeQueue) customhandler.Result {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				opts := &Options{InvocationTimeout: time.Hour}
				if q != nil {
					opts.Queue = q
				}
				return must(h(&cancellingEngine{cancel: cancel, wrapped: wrapped}, withBounds(opts)))(ctx, inv)
			}
			q := &fakeQueue{}
			got := run(Onboarding, invocation(t, onboardingBinding, body), q)
			if got.Failure == nil || got.Failure.Status != 499 || strings.Contains(got.Failure.Message, "PAL_INVOCATION_TIMEOUT") {
				t.Errorf("onboarding Failure = %+v, want 499 cancelled, not a timeout", got.Failure)
			}
			if len(q.scheduled) != 0 {
				t.Errorf("onboarding scheduled %d retries of a cancelled invocation, want none", len(q.scheduled))
			}
			status, out := response(t, run(Links, invocation(t, httpBinding, httpRequest("POST", "", "application/json", body)), nil))
			if status != 499 || strings.Contains(out.Body, "PAL_INVOCATION_TIMEOUT") || out.Headers["Retry-After"] != "" {
				t.Errorf("links = %d %v %s, want 499 cancelled without Retry-After", status, out.Headers, out.Body)
			}
			got = run(Sweep, invocation(t, "timer", map[string]any{}), nil)
			if got.Failure == nil || got.Failure.Status != 499 {
				t.Errorf("sweep Failure = %+v, want 499", got.Failure)
			}
		})
	}
	// The own deadline: a retry on every path, named as a timeout.
	opts := &Options{InvocationTimeout: 20 * time.Millisecond, SweepTimeout: 20 * time.Millisecond, Queue: &fakeQueue{}, Now: func() time.Time { return now }}
	got := must(Onboarding(&slowEngine{}, withBounds(opts)))(context.Background(), sbInvocation(t, body, now.Add(-time.Minute), nil))
	if q := opts.Queue.(*fakeQueue); got.Failure != nil || len(q.scheduled) != 1 {
		t.Errorf("onboarding at its deadline = %+v, scheduled %d; want a retry scheduled", got.Failure, len(q.scheduled))
	}
	// The sweep's own deadline is PAL_SWEEP_TIMEOUT (default 9m30s: set short).
	opts.SweepTimeout = 20 * time.Millisecond
	got = must(Sweep(&slowSweep{}, withBounds(opts)))(context.Background(), invocation(t, "timer", map[string]any{}))
	if got.Failure == nil || got.Failure.Status != 503 || !strings.Contains(got.Failure.Message, "PAL_SWEEP_TIMEOUT") {
		t.Errorf("sweep at its deadline = %+v, want 503 naming PAL_SWEEP_TIMEOUT (its own budget)", got.Failure)
	}
}

// slowSweep blocks until its context ends.
type slowSweep struct{ fakeEngine }

func (s *slowSweep) Sweep(ctx context.Context, _ *zerolog.Logger, _ *pal.SweepOptions) (*pal.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// logLines runs h with a logger that writes into a buffer and returns the lines.
func logLines(t *testing.T, h customhandler.HandlerFunc, inv *customhandler.Invocation) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	inv.Log = zerolog.New(&buf).With().Str("invocation_id", inv.ID).Logger()
	h(context.Background(), inv)
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.Token()
		seen := map[string]bool{}
		for dec.More() {
			tok, _ := dec.Token()
			k, _ := tok.(string)
			if seen[k] {
				t.Errorf("log line has %q twice: %s", k, line)
			}
			seen[k] = true
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestResultLogLine(t *testing.T) {
	body := `{"tenantId":"` + tenant + `","correlationId":"c-1"}`
	mixed := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkCreated, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{
			{TenantID: tenant, SubscriptionID: "s1", Status: pal.StatusAttributed},
			{TenantID: tenant, SubscriptionID: "s2", Status: pal.StatusIneligibleRole, Roles: []string{"Reader"}, Detail: "Reader only"},
			{TenantID: tenant, SubscriptionID: "s3", Status: pal.StatusNotDelegated, Detail: "no delegation"}},
		Summary: map[pal.Status]int{pal.StatusAttributed: 1, pal.StatusIneligibleRole: 1, pal.StatusNotDelegated: 1}}
	failing := &pal.Result{Link: pal.LinkResult{Action: pal.LinkNone}, Results: []pal.SubscriptionResult{
		{TenantID: tenant, SubscriptionID: "s4", Status: pal.StatusError, Detail: "boom"}}, Summary: map[pal.Status]int{pal.StatusError: 1}}
	post := httpRequest("POST", "", "application/json", body)
	tests := []struct {
		name         string
		h            customhandler.HandlerFunc
		inv          func() *customhandler.Invocation
		wantResult   int
		wantOutcome  string
		wantNotAttr  int
		wantLinkAct  string
		wantSubLines int
	}{
		{name: "onboarding_done", h: must(Onboarding(&fakeEngine{res: mixed}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, onboardingBinding, body) }, wantResult: 1, wantOutcome: "done", wantNotAttr: 2, wantLinkAct: "created", wantSubLines: 2},
		{name: "links_done", h: must(Links(&fakeEngine{res: mixed}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, httpBinding, post) }, wantResult: 1, wantOutcome: "done", wantNotAttr: 2, wantLinkAct: "created", wantSubLines: 2},
		{name: "sweep_done", h: must(Sweep(&fakeEngine{res: mixed}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, "timer", map[string]any{}) }, wantResult: 1, wantOutcome: "done", wantNotAttr: 2, wantLinkAct: "created", wantSubLines: 2},
		{name: "onboarding_failed_with_result", h: must(Onboarding(&fakeEngine{res: failing}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, onboardingBinding, body) }, wantResult: 1, wantOutcome: "failed", wantNotAttr: 1, wantLinkAct: "none", wantSubLines: 1},
		{name: "links_failed_with_result", h: must(Links(&fakeEngine{res: failing}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, httpBinding, post) }, wantResult: 1, wantOutcome: "failed", wantNotAttr: 1, wantLinkAct: "none", wantSubLines: 1},
		{name: "sweep_failed_with_result", h: must(Sweep(&fakeEngine{res: failing}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, "timer", map[string]any{}) }, wantResult: 1, wantOutcome: "failed", wantNotAttr: 1, wantLinkAct: "none", wantSubLines: 1},
		{name: "failed_without_result", h: must(Onboarding(&fakeEngine{err: &pal.Error{Code: pal.CodeForbidden, Message: "no"}}, withBounds(nil))), inv: func() *customhandler.Invocation { return invocation(t, onboardingBinding, body) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := logLines(t, tt.h, tt.inv())
			var results, subs []map[string]any
			for _, l := range lines {
				switch l["message"] {
				case "result":
					results = append(results, l)
				case "subscription not attributed":
					subs = append(subs, l)
				case "onboarding message processed", "links request answered", "sweep report":
					t.Errorf("old summary line %q still logged", l["message"])
				}
			}
			if len(results) != tt.wantResult {
				t.Fatalf("result lines = %d, want %d: %v", len(results), tt.wantResult, lines)
			}
			if len(subs) != tt.wantSubLines {
				t.Errorf("subscription lines = %d, want %d", len(subs), tt.wantSubLines)
			}
			for _, s := range subs {
				if s["subscription_tenant_id"] != tenant || s["status"] == "" {
					t.Errorf("subscription line = %v, want subscription_tenant_id and status", s)
				}
			}
			if tt.wantResult == 0 {
				return
			}
			r := results[0]
			if r["outcome"] != tt.wantOutcome || r["link_action"] != tt.wantLinkAct || r["not_attributed"] != float64(tt.wantNotAttr) {
				t.Errorf("result line = %v, want outcome %s, link_action %s, not_attributed %d", r, tt.wantOutcome, tt.wantLinkAct, tt.wantNotAttr)
			}
			if _, ok := r["summary"].(map[string]any); !ok {
				t.Errorf("result line = %v, want a summary object", r)
			}
			if (tt.wantOutcome != "done") != (r["reason"] != nil) {
				t.Errorf("result line reason = %v, want one exactly when not done", r["reason"])
			}
		})
	}
}

// TestQueuedLineKeysOnce: the async answer's log line does not repeat the
// correlation ID the logger already carries.
func TestQueuedLineKeysOnce(t *testing.T) {
	body := `{"tenantId":"` + tenant + `"}`
	lines := logLines(t, must(Links(&fakeEngine{}, withBounds(&Options{Queue: &fakeQueue{}}))), invocation(t, httpBinding, httpRequest("POST", "async=true", "application/json", body)))
	found := false
	for _, l := range lines {
		if l["message"] == "request queued" {
			found = true
			if l["correlation_id"] != "inv-1" {
				t.Errorf("queued line correlation_id = %v, want the invocation ID inv-1", l["correlation_id"])
			}
		}
	}
	if !found {
		t.Errorf("no request queued line in %v", lines)
	}
}

// TestLinksErrorVerdicts: subscriptions that could not be judged fail the
// request (the invocation is not done) and the answer carries no partial result.
func TestLinksErrorVerdicts(t *testing.T) {
	res := &pal.Result{Link: pal.LinkResult{Action: pal.LinkNone}, Results: []pal.SubscriptionResult{
		{TenantID: tenant, SubscriptionID: "s1", Status: pal.StatusAttributed},
		{TenantID: tenant, SubscriptionID: "s2", Status: pal.StatusError, Detail: "reading a role definition failed"}},
		Summary: map[pal.Status]int{pal.StatusAttributed: 1, pal.StatusError: 1}}
	status, out := response(t, must(Links(&fakeEngine{res: res}, withBounds(nil)))(context.Background(),
		invocation(t, httpBinding, httpRequest("GET", "tenantId="+tenant, "", ""))))
	if status != http.StatusInternalServerError || !strings.Contains(out.Body, "1 subscription(s) could not be judged, e.g. s2") {
		t.Errorf("answer = %d %s, want 500 naming s2", status, out.Body)
	}
	if strings.Contains(out.Body, `"summary"`) || strings.Contains(out.Body, `"attributed"`) {
		t.Errorf("error answer carries a result: %s", out.Body)
	}
}
