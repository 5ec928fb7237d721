package trigger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// viewRecord is a one-verdict record for the view handlers; reads counts
// the reads.
type viewRecord struct {
	reads int
	m     *record.Memory
}

func (r *viewRecord) mem() *record.Memory {
	r.reads++
	if r.m == nil {
		r.m = record.NewMemory()
		_, _ = r.m.Save(context.Background(), record.Verdict{TenantID: "11111111-1111-1111-1111-111111111111",
			SubscriptionID: "aaaaaaaa-0000-0000-0000-000000000001", DisplayName: "Contoso", Status: pal.StatusUnlinked,
			Detail: "the link is foreign", CheckedAt: time.Now()})
	}
	return r.m
}

func (r *viewRecord) PageVerdicts(ctx context.Context, f record.Filter, p record.Page) (*record.VerdictPage, error) {
	return r.mem().PageVerdicts(ctx, f, p)
}
func (r *viewRecord) TenantSummaries(ctx context.Context, p record.Page) (*record.SummaryPage, error) {
	return r.mem().TenantSummaries(ctx, p)
}
func (r *viewRecord) SummariesOf(ctx context.Context, ts []string) ([]record.Summary, error) {
	return r.mem().SummariesOf(ctx, ts)
}
func (r *viewRecord) Estate(ctx context.Context) (*record.Summary, error) { return r.mem().Estate(ctx) }
func (r *viewRecord) Changes(ctx context.Context, n int) ([]record.Change, error) {
	return r.mem().Changes(ctx, n)
}
func (r *viewRecord) TenantChanges(ctx context.Context, t string, n int) ([]record.Change, error) {
	return r.mem().TenantChanges(ctx, t, n)
}
func (r *viewRecord) LastRun(ctx context.Context) (*record.Run, error) { return r.mem().LastRun(ctx) }
func (r *viewRecord) Runs(ctx context.Context, n int) ([]record.Run, error) {
	return r.mem().Runs(ctx, n)
}

// viewInvocation is an HTTP trigger invocation of method on url with headers.
func viewInvocation(t *testing.T, method, rawURL string, headers map[string]string, body string) *customhandler.Invocation {
	t.Helper()
	h := map[string][]string{}
	for k, v := range headers {
		h[k] = []string{v}
	}
	raw, err := json.Marshal(map[string]any{"Url": rawURL, "Method": method, "Headers": h, "Query": map[string]string{}, "Body": body})
	if err != nil {
		t.Fatal(err)
	}
	return &customhandler.Invocation{ID: "inv-v", Data: map[string]json.RawMessage{httpBinding: raw}, Log: zerolog.Nop()}
}

func viewResponse(t *testing.T, r customhandler.Result) customhandler.HTTPResponse {
	t.Helper()
	out, ok := r.Outputs[httpOutput].(customhandler.HTTPResponse)
	if !ok || r.Failure != nil {
		t.Fatalf("no HTTP answer: %+v", r)
	}
	return out
}

func viewPrincipal(roles ...string) string {
	type claim struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	p := struct {
		Claims []claim `json:"claims"`
	}{}
	for _, r := range roles {
		p.Claims = append(p.Claims, claim{"roles", r})
	}
	b, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(b)
}

func TestViews(t *testing.T) {
	const base = "https://app.azurewebsites.net/api/"
	fixed := func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name        string
		handler     func(*viewRecord, *ViewOptions) customhandler.HandlerFunc
		nilRecord   bool
		role        string
		method, url string
		headers     map[string]string
		status      int
		contentType string
		contains    string
		reads       bool
	}{
		{"report", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "", "GET", base + "report?code=k",
			nil, 200, "application/json; charset=utf-8", `"status":"unlinked"`, true},
		{"report csv", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "", "GET", base + "report?format=csv",
			nil, 200, "text/csv; charset=utf-8; header=present", "the link is foreign", true},
		{"report bad status", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "", "GET", base + "report?status=x",
			nil, 400, "application/json; charset=utf-8", `"status":"unknown status`, false},
		{"report POST", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "", "POST", base + "report",
			nil, 405, "application/json; charset=utf-8", "use GET", false},
		{"report no record", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(nil, o) }, true, "", "GET", base + "report",
			nil, 503, "application/json; charset=utf-8", "the compliance record is not configured", false},
		{"report role missing", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "PAL.Reader", "GET", base + "report",
			nil, 401, "application/json; charset=utf-8", "sign in", false},
		{"report role wrong", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "PAL.Reader", "GET", base + "report",
			map[string]string{"X-MS-CLIENT-PRINCIPAL": viewPrincipal("Other")}, 403, "application/json; charset=utf-8", "lacks the role", false},
		{"report role held", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Report(r, o) }, false, "PAL.Reader", "GET", base + "report",
			map[string]string{"X-MS-CLIENT-PRINCIPAL": viewPrincipal("PAL.Reader")}, 200, "application/json; charset=utf-8", `"generatedAt":"2026-03-01T00:00:00Z"`, true},
		{"dashboard", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Dashboard(r, o) }, false, "", "GET", base + "dashboard?code=k",
			nil, 200, "text/html; charset=utf-8", `action="links?code=k"`, true},
		{"dashboard no record", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Dashboard(nil, o) }, true, "", "GET", base + "dashboard?code=k",
			nil, 503, "text/html; charset=utf-8", "the compliance record is not configured", false},
		{"dashboard role wrong", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Dashboard(r, o) }, false, "PAL.Reader", "GET", base + "dashboard",
			map[string]string{"X-MS-CLIENT-PRINCIPAL": viewPrincipal("Other")}, 403, "text/html; charset=utf-8", "lacks the role", false},
		{"dashboard bad tenant", func(r *viewRecord, o *ViewOptions) customhandler.HandlerFunc { return Dashboard(r, o) }, false, "", "GET", base + "dashboard?tenantId=x",
			nil, 400, "text/html; charset=utf-8", "<strong>tenantId</strong>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &viewRecord{}
			h := tt.handler(rec, &ViewOptions{HTTPRole: tt.role, now: fixed})
			out := viewResponse(t, h(context.Background(), viewInvocation(t, tt.method, tt.url, tt.headers, "")))
			if out.StatusCode != tt.status || out.Headers["Content-Type"] != tt.contentType {
				t.Fatalf("got %d %q, want %d %q: %s", out.StatusCode, out.Headers["Content-Type"], tt.status, tt.contentType, out.Body)
			}
			if !strings.Contains(out.Body, tt.contains) {
				t.Errorf("body lacks %q: %s", tt.contains, out.Body)
			}
			if got := rec.reads > 0; got != tt.reads {
				t.Errorf("read the record: %v, want %v", got, tt.reads)
			}
			if tt.status == http.StatusServiceUnavailable && out.Headers["Retry-After"] == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestLinksForBrowsers(t *testing.T) {
	res := &pal.Result{Link: pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{{TenantID: "t", SubscriptionID: "s", Status: pal.StatusAttributed}},
		Summary: map[pal.Status]int{pal.StatusAttributed: 1}}
	jsonAnswer := customhandler.JSONResponse(http.StatusOK, res, nil)
	next := func(context.Context, *customhandler.Invocation) customhandler.Result {
		return customhandler.Result{ReturnValue: res, Outputs: map[string]any{httpOutput: jsonAnswer}}
	}
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		accept      string
		contentType string
	}{
		{"", "application/json; charset=utf-8"},
		{"*/*", "application/json; charset=utf-8"},
		{"application/json", "application/json; charset=utf-8"},
		{browser, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		r := LinksForBrowsers(next)(context.Background(),
			viewInvocation(t, "POST", "https://app/api/links?code=secret-key", map[string]string{"Accept": tt.accept}, "tenantId=x"))
		out := viewResponse(t, r)
		if out.Headers["Content-Type"] != tt.contentType {
			t.Errorf("Accept %q: got %q, want %q", tt.accept, out.Headers["Content-Type"], tt.contentType)
		}
		if r.ReturnValue != res {
			t.Errorf("Accept %q: the invocation's ReturnValue changed", tt.accept)
		}
		if tt.contentType == "application/json; charset=utf-8" && out.Body != jsonAnswer.Body {
			t.Errorf("Accept %q: the JSON answer changed", tt.accept)
		}
		if strings.HasPrefix(tt.contentType, "text/html") && !strings.Contains(out.Body, `href="dashboard?code=secret-key"`) {
			t.Errorf("the HTML answer has no way back with the key")
		}
	}
}
