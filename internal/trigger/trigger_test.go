package trigger

import (
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

const tenant = "22222222-2222-2222-2222-222222222222"

// fakeEngine records what the triggers asked for.
type fakeEngine struct {
	calls []string
	reqs  []pal.Request
	res   *pal.Result
	err   error
}

func (f *fakeEngine) result() (*pal.Result, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.res != nil {
		return f.res, nil
	}
	return &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{}, Summary: map[pal.Status]int{}}, nil
}

func (f *fakeEngine) Onboard(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	f.calls = append(f.calls, "onboard")
	f.reqs = append(f.reqs, req)
	return f.result()
}

func (f *fakeEngine) Status(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	f.calls = append(f.calls, "status")
	f.reqs = append(f.reqs, req)
	return f.result()
}

func (f *fakeEngine) Allowed(id string) bool { return id == "" || id == "1234567" }

func (f *fakeEngine) Sweep(ctx context.Context, log *zerolog.Logger, _ *pal.SweepOptions) (*pal.Result, error) {
	f.calls = append(f.calls, "sweep")
	return f.result()
}

func invocation(t *testing.T, binding string, value any) *customhandler.Invocation {
	t.Helper()
	raw, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	return &customhandler.Invocation{
		ID: "inv-1", Function: "test",
		Data:     map[string]json.RawMessage{binding: raw},
		Metadata: map[string]json.RawMessage{"MessageId": json.RawMessage(`"\"m-1\""`), "DeliveryCount": json.RawMessage(`"1"`)},
		Log:      zerolog.Nop(),
	}
}

// doubleEncoded is how the host passes a Service Bus JSON body.
func doubleEncoded(t *testing.T, body string) string {
	t.Helper()
	b, _ := json.Marshal(body)
	return string(b)
}

func TestOnboarding(t *testing.T) {
	good := `{"tenantId":"` + tenant + `"}`
	throttled := &pal.Error{Code: pal.CodeTransient, Message: "throttled", RetryAfter: 7 * time.Second}
	tests := []struct {
		name        string
		body        string
		err         error
		res         *pal.Result
		wantStatus  int // 0 = success
		wantEngine  bool
		wantMessage string
	}{
		{name: "double_encoded_ok", body: doubleEncoded(t, good), wantEngine: true},
		{name: "plain_string_ok", body: good, wantEngine: true},
		{name: "malformed", body: `{"tenantId":`, wantStatus: 400},
		{name: "unknown_field", body: `{"tenantId":"` + tenant + `","x":1}`, wantStatus: 400},
		{name: "not_allowed", body: good, err: &pal.Error{Code: pal.CodePartnerNotAllowed, Message: "partner ID 1 is not allowed"}, wantStatus: 403, wantEngine: true, wantMessage: "not allowed"},
		{name: "transient", body: good, err: throttled, wantStatus: 503, wantEngine: true},
		{name: "internal_hides_detail", body: good, err: &pal.Error{Code: pal.CodeInternal, Message: "secret-ish detail"}, wantStatus: 500, wantEngine: true, wantMessage: "internal error"},
		{name: "error_verdicts_fail", body: good, res: &pal.Result{Results: []pal.SubscriptionResult{{SubscriptionID: "s", Status: pal.StatusError, Detail: "boom"}}, Summary: map[pal.Status]int{}}, wantStatus: 500, wantEngine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{err: tt.err, res: tt.res}
			got := must(Onboarding(f, withBounds(nil)))(context.Background(), invocation(t, onboardingBinding, tt.body))
			if (len(f.calls) > 0) != tt.wantEngine {
				t.Errorf("engine calls = %v, want called %v", f.calls, tt.wantEngine)
			}
			if tt.wantStatus == 0 {
				if got.Failure != nil {
					t.Fatalf("Failure = %+v, want success", got.Failure)
				}
				if got.ReturnValue == nil {
					t.Errorf("ReturnValue = nil, want the result object")
				}
				if f.reqs[0].TenantID != tenant {
					t.Errorf("tenant = %q, want %q", f.reqs[0].TenantID, tenant)
				}
				return
			}
			if got.Failure == nil || got.Failure.Status != tt.wantStatus {
				t.Fatalf("Failure = %+v, want status %d", got.Failure, tt.wantStatus)
			}
			if tt.wantMessage != "" && !strings.Contains(got.Failure.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", got.Failure.Message, tt.wantMessage)
			}
			if strings.Contains(got.Failure.Message, "secret-ish") {
				t.Errorf("message leaks an internal error: %q", got.Failure.Message)
			}
		})
	}
}

// httpRequest is the host's HTTP request object (docs/reference.md, "HTTP trigger request").
func httpRequest(method, query, contentType, body string) map[string]any {
	q := map[string]string{}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			q[k] = v
		}
	}
	headers := map[string][]string{"Content-Type": {contentType}}
	if method == "POST" {
		// A client that sends a body (even an empty one) with a known length.
		headers["Content-Length"] = []string{fmt.Sprint(len(body))}
	}
	r := map[string]any{
		"Url": "http://localhost:7071/api/links?" + query, "Method": method, "Query": q,
		"Headers": headers, "Params": map[string]string{},
	}
	if body != "" {
		r["Body"] = body
	}
	return r
}

type httpOut struct {
	StatusCode any               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func response(t *testing.T, r customhandler.Result) (int, httpOut) {
	t.Helper()
	if r.Failure != nil {
		t.Fatalf("HTTP invocation failed: %+v; an HTTP function always answers through res", r.Failure)
	}
	raw, err := json.Marshal(r.Outputs[httpOutput])
	if err != nil {
		t.Fatal(err)
	}
	var out httpOut
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("res = %s: %v", raw, err)
	}
	var status int
	switch v := out.StatusCode.(type) {
	case float64:
		status = int(v)
	case string:
		json.Unmarshal([]byte(v), &status)
	}
	return status, out
}

func TestLinks(t *testing.T) {
	throttled := &pal.Error{Code: pal.CodeTransient, Message: "throttled", RetryAfter: 7 * time.Second}
	sub := "51111111-0000-0000-0000-000000000001"
	tests := []struct {
		name       string
		req        map[string]any
		err        error
		wantStatus int
		wantCall   string
		wantField  string
		wantHeader [2]string
	}{
		{name: "get_status", req: httpRequest("GET", "tenantId="+tenant+"&subscriptionId="+sub, "", ""), wantStatus: 200, wantCall: "status"},
		{name: "post_json", req: httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`","subscriptionIds":["`+sub+`"]}`), wantStatus: 200, wantCall: "onboard"},
		{name: "post_form", req: httpRequest("POST", "", "application/x-www-form-urlencoded", "tenantId="+tenant+"&subscriptionIds="+sub+"%0A"+strings.Replace(sub, "1", "2", 1)), wantStatus: 200, wantCall: "onboard"},
		{name: "post_bad_guid", req: httpRequest("POST", "", "application/json", `{"tenantId":"nope"}`), wantStatus: 400, wantField: "tenantId"},
		{name: "post_empty", req: httpRequest("POST", "", "application/json", ""), wantStatus: 400, wantField: "body"},
		{name: "post_xml", req: httpRequest("POST", "", "application/xml", "<x/>"), wantStatus: 400},
		{name: "get_without_tenant", req: httpRequest("GET", "", "", ""), wantStatus: 400, wantField: "tenantId"},
		{name: "forbidden_partner", req: httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`","partnerId":"42"}`), err: &pal.Error{Code: pal.CodePartnerNotAllowed, Message: "no", Fields: map[string]string{"partnerId": "not in the allowed set"}}, wantStatus: 403, wantCall: "onboard", wantField: "partnerId"},
		{name: "throttled", req: httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`"}`), err: throttled, wantStatus: 503, wantCall: "onboard", wantHeader: [2]string{"Retry-After", "7"}},
		{name: "azure_forbids_the_link", req: httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`"}`), err: &pal.Error{Code: pal.CodeForbidden, Message: "PUT partner link: Azure answered 403 AuthorizationFailed"}, wantStatus: 502, wantCall: "onboard"},
		{name: "put_not_allowed", req: httpRequest("PUT", "", "application/json", `{}`), wantStatus: 405, wantHeader: [2]string{"Allow", "GET, POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{err: tt.err}
			status, out := response(t, must(Links(f, withBounds(nil)))(context.Background(), invocation(t, httpBinding, tt.req)))
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", status, tt.wantStatus, out.Body)
			}
			if got := strings.Join(f.calls, ","); got != tt.wantCall {
				t.Errorf("engine calls = %q, want %q", got, tt.wantCall)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(out.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %q", out.Body)
			}
			if status != 200 {
				fields, _ := body["fields"].(map[string]any)
				if body["error"] == "" || fields == nil {
					t.Errorf("error body = %s, want {error, fields}", out.Body)
				}
				if tt.wantField != "" {
					if _, ok := fields[tt.wantField]; !ok {
						t.Errorf("fields = %v, want a %q entry", fields, tt.wantField)
					}
				}
			}
			if h := tt.wantHeader; h[0] != "" && out.Headers[h[0]] != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], out.Headers[h[0]], h[1])
			}
			if !strings.HasPrefix(out.Headers["Content-Type"], "application/json") {
				t.Errorf("Content-Type = %q, want application/json", out.Headers["Content-Type"])
			}
		})
	}
}

func TestSweep(t *testing.T) {
	f := &fakeEngine{}
	got := must(Sweep(f, withBounds(nil)))(context.Background(), invocation(t, "timer", map[string]any{"IsPastDue": false}))
	if got.Failure != nil || got.ReturnValue == nil {
		t.Errorf("sweep result = %+v, want success with a ReturnValue", got)
	}
	f = &fakeEngine{err: &pal.Error{Code: pal.CodeTransient, Message: "down"}}
	got = must(Sweep(f, withBounds(nil)))(context.Background(), invocation(t, "timer", map[string]any{}))
	if got.Failure == nil || got.Failure.Status != http.StatusServiceUnavailable {
		t.Errorf("Failure = %+v, want 503", got.Failure)
	}
}
