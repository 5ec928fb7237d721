package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pal-keeper/pal-keeper/internal/testenv/browser"
	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// functionKey is the key the front end demands, as the Functions host does.
const functionKey = "k3y/with+chars=="

// frontEnd plays the Functions host's HTTP front end for the handler functions
// (the host simulator runs the built handler, whose record is not wired yet):
// /api/<name> needs the function key (?code= or x-functions-key), and the
// request reaches the function as the host's HTTP trigger object.
func frontEnd(t *testing.T, functions map[string]customhandler.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/api/")
		fn := functions[name]
		if !ok || fn == nil {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("code") != functionKey && r.Header.Get("x-functions-key") != functionKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		query := map[string]string{}
		for k, v := range r.URL.Query() {
			query[k] = strings.Join(v, ",")
		}
		raw, _ := json.Marshal(map[string]any{
			"Url": "http://" + r.Host + r.URL.RequestURI(), "Method": r.Method, "Query": query,
			"Headers": r.Header, "Params": map[string]string{}, "Body": string(body),
		})
		res := fn(r.Context(), &customhandler.Invocation{ID: "inv", Function: name,
			Data: map[string]json.RawMessage{"req": raw}, Log: zerolog.Nop()})
		out, ok := res.Outputs["res"].(customhandler.HTTPResponse)
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		for k, v := range out.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(out.StatusCode)
		_, _ = io.WriteString(w, out.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// formEngine answers onboarding like the engine would for the test estate:
// the named subscriptions, the first attributed, the others Reader only.
type formEngine struct{ got []pal.Request }

func (e *formEngine) Onboard(_ context.Context, _ *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	e.got = append(e.got, req)
	res := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkCreated, PartnerID: "1234567"},
		Summary: map[pal.Status]int{}}
	for i, id := range req.SubscriptionIDs {
		r := pal.SubscriptionResult{TenantID: req.TenantID, SubscriptionID: id, DisplayName: "Contoso " + id[:4],
			Status: pal.StatusAttributed, Roles: []string{"Contributor"}}
		if i > 0 {
			r.Status, r.Roles, r.Detail = pal.StatusIneligibleRole, []string{"Reader"}, "Reader is not PEC-eligible"
		}
		res.Results = append(res.Results, r)
		res.Summary[r.Status]++
	}
	return res, nil
}

func (e *formEngine) Status(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	return e.Onboard(ctx, log, req)
}

func (e *formEngine) Sweep(context.Context, *zerolog.Logger, *pal.SweepOptions) (*pal.Result, error) {
	return &pal.Result{}, nil
}

func (e *formEngine) Allowed(id string) bool { return id == "" || id == "1234567" }

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// navigate follows an action that loads a page and returns its status.
func navigate(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil {
		t.Fatal("no response")
	}
	return resp.Status
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(sel))))
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	save(t, name, run(t, ctx, chromedp.FullScreenshot(100)))
}

// save writes a screenshot under the test's temp dir (and PAL_SCREENSHOT_DIR
// when set, to keep it) and logs its path.
func save(t *testing.T, name string, png []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PAL_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), png, 0o600)
	}
	t.Logf("screenshot: %s", path)
}

func TestBrowserDashboard(t *testing.T) {
	ctx := browser.Headless(t)
	engine := &formEngine{}
	links, err := trigger.Links(engine, &trigger.Options{MaxAttempts: 8, OnboardingMaxDeliveryCount: 10, SweepMaxDeliveryCount: 10,
		InvocationTimeout: 2 * time.Minute, SweepTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := frontEnd(t, map[string]customhandler.HandlerFunc{
		trigger.DashboardFunction: trigger.Dashboard(web.EstateRecord(), &trigger.ViewOptions{Directory: web.EstateDirectory()}),
		trigger.ReportFunction:    trigger.Report(web.EstateRecord(), nil),
		trigger.LinksFunction:     trigger.LinksForBrowsers(links),
	})
	key := "?code=" + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(functionKey)

	// The page: totals, tenants, the subscriptions not attributed, the sweep.
	if status := navigate(t, ctx, chromedp.Navigate(srv.URL+"/api/dashboard"+key)); status != 200 {
		t.Fatalf("dashboard: status %d", status)
	}
	for sel, want := range map[string]string{
		"#total-all .n":             "5",
		"#total-attributed .n":      "2",
		"#total-ineligible-role .n": "1",
		"#total-not-delegated .n":   "1",
		"#total-unlinked .n":        "1",
		"#total-error .n":           "0",
		"#sweep-outcome":            "complete",
		"#tenants":                  "Tenants (2)",
		"#list":                     "Not attributed (3)",
	} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("%s: got %q, want %q", sel, got, want)
		}
	}
	list := text(t, ctx, "#list-table")
	for _, want := range []string{web.SubReader, "Reader is not PEC-eligible", "the identity cannot reach it", "2026-03-02 08:00 UTC"} {
		if !strings.Contains(list, want) {
			t.Errorf("the not-attributed list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, web.SubAttributed) {
		t.Error("an attributed subscription is listed as not attributed")
	}
	if changes := text(t, ctx, "#change-table"); !strings.Contains(changes, "attributed → ineligible-role") {
		t.Errorf("the recent changes lack the lost attribution:\n%s", changes)
	}
	// Who, why, what now: the names, the header, the remedies, the chart.
	for sel, want := range map[string]string{
		"#partner-id":    "1234567",
		"#link-state":    "linked to 1234567 (Contoso MSP)",
		"#identity-kind": "managed identity",
	} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("%s: got %q, want %q", sel, got, want)
		}
	}
	if got := text(t, ctx, "#identity"); !strings.Contains(got, "object ID 0b1ec700-0000-4000-8000-000000000001") {
		t.Errorf("the identity: %q", got)
	}
	tenants := text(t, ctx, "#tenant-table")
	for _, want := range []string{"Contoso Ltd", "contoso.onmicrosoft.com", web.TenantContoso, web.TenantFabrikam} {
		if !strings.Contains(tenants, want) {
			t.Errorf("the tenant table lacks %q:\n%s", want, tenants)
		}
	}
	for _, st := range []pal.Status{pal.StatusIneligibleRole, pal.StatusNotDelegated, pal.StatusUnlinked} {
		if got := text(t, ctx, "#remedy-"+string(st)); !strings.Contains(got, web.Remedy(st)) {
			t.Errorf("remedy of %s: %q", st, got)
		}
	}
	if n := len(run(t, ctx, chromedp.Nodes(chromedp.CSSAll("#chart-svg g.run")))); n != 14 {
		t.Errorf("the chart draws %d runs, want 14", n)
	}
	if got := text(t, ctx, "#chart"); got != "Attribution over time" {
		t.Errorf("the chart is titled %q", got)
	}
	screenshot(t, ctx, "dashboard.png")

	// A filter link: the tenant Fabrikam, from the tenant table; the key follows.
	if status := navigate(t, ctx, chromedp.Click(chromedp.CSS(`#tenant-table a[href*="tenantId=`+web.TenantFabrikam+`"]`))); status != 200 {
		t.Fatalf("filter link: status %d", status)
	}
	loc := run(t, ctx, chromedp.Location())
	if !strings.Contains(loc, "tenantId="+web.TenantFabrikam) || !strings.Contains(loc, key[1:]) {
		t.Errorf("after the filter link the page is %s", loc)
	}
	if got := text(t, ctx, "#total-all .n"); got != "2" {
		t.Errorf("filtered total: got %q, want 2", got)
	}
	// Then a status link within the filter.
	navigate(t, ctx, chromedp.Click(chromedp.CSS("#total-unlinked")))
	if got, list := text(t, ctx, "#total-all .n"), text(t, ctx, "#list-table"); got != "1" || !strings.Contains(list, "HYPERLINK") {
		t.Errorf("tenant and status filter: total %q, list %q", got, list)
	}
	// The CSV link of the current filter answers CSV with the key.
	href := run(t, ctx, chromedp.AttributeValue(chromedp.CSS("#csv"), "href"))
	if !href.Exists || !strings.Contains(href.Value, "format=csv") || !strings.Contains(href.Value, "status=unlinked") {
		t.Errorf("CSV link %+v", href)
	}
	resp, err := http.Get(srv.URL + "/api/" + href.Value)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(csv), "tenantId,subscriptionId,") || strings.Count(string(csv), "\r\n") != 2 ||
		!strings.Contains(string(csv), `"'=HYPERLINK(""http://evil"")"`) {
		t.Errorf("CSV: %d %q", resp.StatusCode, csv)
	}

	// The onboarding form: a browser posts it and reads an HTML answer.
	navigate(t, ctx, chromedp.Click(chromedp.CSS("#clear")))
	const tenant = "33333333-3333-4333-8333-333333333333"
	const subs = "cccccccc-0000-4000-8000-000000000001\ncccccccc-0000-4000-8000-000000000002"
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="tenantId"]`), tenant),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="subscriptionIds"]`), subs),
	)
	if status := navigate(t, ctx, chromedp.Click(chromedp.CSS(`#onboard-form button`))); status != 200 {
		t.Fatalf("form: status %d", status)
	}
	if got := text(t, ctx, "#outcome"); got != "1 of 2 subscription(s) do not credit the partner; see the reasons below." {
		t.Errorf("outcome %q", got)
	}
	if got := text(t, ctx, "#link-outcome"); got != "created: linked to 1234567" {
		t.Errorf("link outcome %q", got)
	}
	if got := text(t, ctx, "h1"); got != "Onboarding result" {
		t.Errorf("the form's answer is titled %q", got)
	}
	if got := text(t, ctx, "#remedy-ineligible-role"); !strings.Contains(got, "permanent PEC-eligible role such as Contributor") {
		t.Errorf("the result's remedy: %q", got)
	}
	if table := text(t, ctx, "#result-table"); !strings.Contains(table, "Reader is not PEC-eligible") || !strings.Contains(table, "cccccccc-0000-4000-8000-000000000002") {
		t.Errorf("result table:\n%s", table)
	}
	if len(engine.got) != 1 || engine.got[0].TenantID != tenant || len(engine.got[0].SubscriptionIDs) != 2 {
		t.Errorf("the engine got %+v", engine.got)
	}
	screenshot(t, ctx, "links-result.png")
	do(t, ctx, chromedp.EmulateViewport(400, 900))
	if fits := run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !fits {
		t.Error("400 px: the links page scrolls sideways")
	}
	screenshot(t, ctx, "links-result-400px.png")
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	// Back to the dashboard, with the key.
	if status := navigate(t, ctx, chromedp.Click(chromedp.CSS("#back"))); status != 200 {
		t.Errorf("back link: status %d", status)
	}

	// A form the server rejects: the error names the field.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="tenantId"]`), tenant),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="subscriptionIds"]`), "not-a-subscription"),
	)
	if status := navigate(t, ctx, chromedp.Click(chromedp.CSS(`#onboard-form button`))); status != 400 {
		t.Errorf("bad form: status %d, want 400", status)
	}
	if got := text(t, ctx, "#error"); !strings.Contains(got, "subscriptionIds") {
		t.Errorf("the error does not name the field: %q", got)
	}
	screenshot(t, ctx, "links-error.png")
	if len(engine.got) != 1 {
		t.Error("a rejected form reached the engine")
	}
}

func TestBrowserDashboard10k(t *testing.T) {
	ctx := browser.Headless(t)
	srv := frontEnd(t, map[string]customhandler.HandlerFunc{
		trigger.DashboardFunction: trigger.Dashboard(web.BigRecord(10_000), nil),
	})
	start := time.Now()
	if status := navigate(t, ctx, chromedp.Navigate(srv.URL+"/api/dashboard?code=k3y%2Fwith%2Bchars%3D%3D")); status != 200 {
		t.Fatalf("status %d", status)
	}
	took := time.Since(start)
	t.Logf("10,000 subscriptions: the page loaded in %v", took)
	if took > 10*time.Second {
		t.Errorf("the page took %v to load", took)
	}
	for sel, want := range map[string]string{
		"#total-all .n":        "10000",
		"#total-attributed .n": "8000",
		"#total-error .n":      "500",
		"#tenants":             "Tenants (500)",
		"#list":                "Not attributed (2000)",
	} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("%s: got %q, want %q", sel, got, want)
		}
	}
	rows := run(t, ctx, chromedp.Nodes(chromedp.CSSAll("#list-table tbody tr")))
	if len(rows) != web.SubscriptionsPerPage {
		t.Errorf("%d listed rows, want a page of %d", len(rows), web.SubscriptionsPerPage)
	}
	screenshot(t, ctx, "dashboard-10k.png")
	save(t, "dashboard-10k-top.png", run(t, ctx, chromedp.CaptureScreenshot())) // what a person sees first
	// The next page of the list.
	if status := navigate(t, ctx, chromedp.Click(chromedp.CSS(`#list ~ .pager a[rel="next"]`))); status != 200 {
		t.Fatalf("next page: status %d", status)
	}
	if got := text(t, ctx, "#list ~ .pager"); !strings.Contains(got, "page 2 of 20") {
		t.Errorf("after next: %q", got)
	}
}

// TestBrowserDashboardFits loads the dashboard at a phone's width (400 px)
// and a desktop's (1400 px): the page never scrolls sideways (its
// scrollWidth is at most the viewport's), and every cell of the tables is
// inside the viewport. The screenshots are kept (see save).
func TestBrowserDashboardFits(t *testing.T) {
	ctx := browser.Headless(t)
	srv := frontEnd(t, map[string]customhandler.HandlerFunc{
		trigger.DashboardFunction: trigger.Dashboard(web.EstateRecord(), &trigger.ViewOptions{Directory: web.EstateDirectory()}),
	})
	for _, width := range []int64{400, 1400} {
		do(t, ctx, chromedp.EmulateViewport(width, 900))
		if status := navigate(t, ctx, chromedp.Navigate(srv.URL+"/api/dashboard?code=k3y%2Fwith%2Bchars%3D%3D")); status != 200 {
			t.Fatalf("%d px: status %d", width, status)
		}
		got := run(t, ctx, chromedp.Evaluate[[]int64](`[document.documentElement.scrollWidth, window.innerWidth,
			Math.ceil(Math.max(...[...document.querySelectorAll("td, th")].filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right)))]`))
		scroll, inner, right := got[0], got[1], got[2]
		if scroll > inner {
			t.Errorf("%d px: the page scrolls sideways: scrollWidth %d > viewport %d", width, scroll, inner)
		}
		if right > inner {
			t.Errorf("%d px: a table cell ends at %d px, beyond the viewport's %d", width, right, inner)
		}
		screenshot(t, ctx, fmt.Sprintf("dashboard-%dpx.png", width))
		for _, part := range []string{"who", "remedies", "tenant-table", "list-table", "change-table"} {
			save(t, fmt.Sprintf("dashboard-%dpx-%s.png", width, part), run(t, ctx, chromedp.Screenshot(chromedp.CSS("#"+part))))
		}
	}
}
