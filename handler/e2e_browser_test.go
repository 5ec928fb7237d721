package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pal-keeper/pal-keeper/internal/testenv/browser"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// load runs an action that loads a page and returns the page's status.
func load(t *testing.T, ctx context.Context, a chromedp.Action[chromedp.Void]) int64 {
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

func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// shot saves a full-page screenshot under the test's temp dir.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PAL_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), png, 0o600)
	}
	t.Logf("screenshot: %s", path)
}

// TestE2EBrowserDashboard: the real handler under the host simulator, its
// HTTP front end on a loopback port, after a sweep of the test estate. A
// headless browser opens the dashboard with the function key, reads the
// totals, follows a filter link, submits the onboarding form and reads the
// HTML result.
func TestE2EBrowserDashboard(t *testing.T) {
	t.Parallel()
	ctx := browser.Headless(t)
	a := startApp(t, appOptions{})
	front := httptest.NewServer(a.host)
	t.Cleanup(front.Close)
	a.onboard(onboardingMessage(tenantA, subA1)) // creates the link
	sweep := a.sweep()
	rep := a.report("")
	key := "?code=" + url.QueryEscape(a.host.FunctionKey())

	if status := load(t, ctx, chromedp.Navigate(front.URL+"/api/dashboard"+key)); status != 200 {
		t.Fatalf("dashboard: status %d", status)
	}
	total := 0
	for _, st := range pal.Statuses {
		total += sweep.Summary[st]
		if got, want := pageText(t, ctx, "#total-"+string(st)+" .n"), strconv.Itoa(rep.Summary[st]); got != want || rep.Summary[st] != sweep.Summary[st] {
			t.Errorf("%s: page %s, report %d, sweep %d", st, got, rep.Summary[st], sweep.Summary[st])
		}
	}
	if got := pageText(t, ctx, "#total-all .n"); got != strconv.Itoa(total) {
		t.Errorf("total: page %s, sweep %d", got, total)
	}
	if got := pageText(t, ctx, "#sweep-outcome"); got != "complete" {
		t.Errorf("sweep outcome %q, want complete", got)
	}
	if got := pageText(t, ctx, "#tenants"); got != "Tenants (3)" {
		t.Errorf("tenants %q, want Tenants (3)", got)
	}
	list := pageText(t, ctx, "#list-table")
	for _, r := range sweep.Results {
		if !strings.Contains(list, r.SubscriptionID) && !strings.Contains(list, r.DisplayName) {
			t.Errorf("the not-attributed list lacks %s:\n%s", r.SubscriptionID, list)
		}
	}
	// Who, why, what now, from the real handler's directory on the emulator.
	for sel, want := range map[string]string{
		"#partner-id":    partnerID,
		"#link-state":    "linked to " + partnerID + " (Partner " + partnerID + ")",
		"#identity-kind": "managed identity",
		"#chart":         "Attribution over time",
	} {
		if got := pageText(t, ctx, sel); got != want {
			t.Errorf("%s: got %q, want %q", sel, got, want)
		}
	}
	if tenants := pageText(t, ctx, "#tenant-table"); !strings.Contains(tenants, "b.onmicrosoft.com") || !strings.Contains(tenants, tenantB) {
		t.Errorf("the tenant table lacks tenant B's name or ID:\n%s", tenants)
	}
	if got := pageText(t, ctx, "#remedy-ineligible-role"); !strings.Contains(got, "PEC-eligible role such as Contributor") {
		t.Errorf("remedy %q", got)
	}
	for _, width := range []int64{400, 1400} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		if err != nil || !fits {
			t.Errorf("%d px: the page scrolls sideways (%v)", width, err)
		}
		shot(t, ctx, "e2e-dashboard-"+strconv.Itoa(int(width))+"px.png")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	// A filter link: tenant B from the tenant table; the key follows.
	if status := load(t, ctx, chromedp.Click(chromedp.CSS(`#tenant-table a[href*="tenantId=`+tenantB+`"]`))); status != 200 {
		t.Fatalf("filter link: status %d", status)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "tenantId="+tenantB) || !strings.Contains(loc, "code=") {
		t.Errorf("after the filter link the page is %s", loc)
	}
	if got := pageText(t, ctx, "#total-all .n"); got != "2" {
		t.Errorf("tenant B total %q, want 2", got)
	}

	// The onboarding form: tenant C's two Contributor subscriptions.
	load(t, ctx, chromedp.Click(chromedp.CSS("#clear")))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="tenantId"]`), tenantC),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="subscriptionIds"]`), subC1+"\n"+subC4),
	); err != nil {
		t.Fatal(err)
	}
	if status := load(t, ctx, chromedp.Click(chromedp.CSS(`#onboard-form button`))); status != 200 {
		t.Fatalf("form: status %d", status)
	}
	if got := pageText(t, ctx, "#outcome"); got != "1 of 2 subscription(s) do not credit the partner; see the reasons below." {
		t.Errorf("outcome %q", got)
	}
	if got := pageText(t, ctx, "#link-outcome"); got != "already linked to "+partnerID {
		t.Errorf("link outcome %q, want already linked (by the first onboarding)", got)
	}
	if table := pageText(t, ctx, "#result-table"); !strings.Contains(table, subC4) || !strings.Contains(table, string(pal.StatusIneligibleRole)) {
		t.Errorf("result table:\n%s", table)
	}
	shot(t, ctx, "e2e-links-result.png")
	// The form's verdicts are in the record: the dashboard still agrees.
	if status := load(t, ctx, chromedp.Click(chromedp.CSS("#back"))); status != 200 {
		t.Errorf("back link: status %d", status)
	}
	if got := pageText(t, ctx, "#total-all .n"); got != strconv.Itoa(total) {
		t.Errorf("total after the form %s, want still %d", got, total)
	}
}
