package main

import (
	"encoding/csv"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// report reads GET /api/report (JSON) through the host.
func (a *app) report(query string) *web.Report {
	a.t.Helper()
	ans := a.http(http.MethodGet, "/api/report"+query, "", "")
	if ans.StatusCode != http.StatusOK {
		a.t.Fatalf("GET /api/report%s: %d %s", query, ans.StatusCode, ans.Body)
	}
	var rep web.Report
	if err := json.Unmarshal(ans.Body, &rep); err != nil {
		a.t.Fatalf("report %s: %v", ans.Body, err)
	}
	return &rep
}

// sweep runs the timer sweep, which must succeed, and returns its result.
func (a *app) sweep() *pal.Result {
	a.t.Helper()
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil {
		a.t.Fatal(err)
	}
	a.answers.Write(inv.Body)
	if inv.Failed {
		a.t.Fatalf("sweep failed: %v\n%s", inv.Err, inv.Body)
	}
	return decodeResult(a.t, inv.ReturnValue)
}

// driftLines returns the `attribution lost` lines among lines the host ingested.
func driftLines(lines []hostsim.IngestedLine) []hostsim.IngestedLine {
	var out []hostsim.IngestedLine
	for _, l := range lines {
		if strings.Contains(l.Message, `"message":"`+record.DriftMessage+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// totalsRE reads a status card of the dashboard: id="total-<status>"…<span class="n">N</span>.
var totalsRE = regexp.MustCompile(`id="total-([a-z-]+)"><span class="n">([0-9]+)</span>`)

// judgeEstate onboards tenant A by message, tenant B by POST /api/links and
// reads tenant C by GET /api/links, and returns every verdict by subscription.
func judgeEstate(t *testing.T, a *app) map[string]pal.SubscriptionResult {
	t.Helper()
	want := map[string]pal.SubscriptionResult{}
	add := func(res *pal.Result) {
		for _, r := range res.Results {
			want[r.SubscriptionID] = r
		}
	}
	add(a.onboard(onboardingMessage(tenantA)))
	ans := a.http(http.MethodPost, "/api/links", "application/json", `{"tenantId":"`+tenantB+`"}`)
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/links: %d %s", ans.StatusCode, ans.Body)
	}
	add(decodeResult(t, ans.Body))
	ans = a.http(http.MethodGet, "/api/links?tenantId="+tenantC, "", "")
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/links: %d %s", ans.StatusCode, ans.Body)
	}
	add(decodeResult(t, ans.Body))
	return want
}

// checkReportAgrees proves the report JSON, its CSV and the dashboard say the
// same as the verdicts want (every judged subscription, by ID).
func checkReportAgrees(t *testing.T, a *app, want map[string]pal.SubscriptionResult) *web.Report {
	t.Helper()
	rep := a.report("")
	if len(rep.Subscriptions) != len(want) {
		t.Errorf("report has %d subscriptions, want %d", len(rep.Subscriptions), len(want))
	}
	summary := map[pal.Status]int{}
	for i, s := range rep.Subscriptions {
		summary[s.Status]++
		w, ok := want[s.SubscriptionID]
		if !ok {
			t.Errorf("report has %s, which was never judged", s.SubscriptionID)
			continue
		}
		if s.TenantID != w.TenantID || s.Status != w.Status || s.Detail != w.Detail || s.DisplayName != w.DisplayName ||
			strings.Join(s.Roles, ";") != strings.Join(w.Roles, ";") {
			t.Errorf("report row %+v, want the verdict %+v", s, w)
		}
		if i > 0 {
			p := rep.Subscriptions[i-1]
			if p.TenantID > s.TenantID || p.TenantID == s.TenantID && p.SubscriptionID >= s.SubscriptionID {
				t.Errorf("report rows out of order: %s/%s before %s/%s", p.TenantID, p.SubscriptionID, s.TenantID, s.SubscriptionID)
			}
		}
	}
	for _, st := range pal.Statuses {
		if rep.Summary[st] != summary[st] {
			t.Errorf("report summary %v, its rows count %v", rep.Summary, summary)
			break
		}
	}

	// The CSV: the same rows, in the same order.
	ans := a.http(http.MethodGet, "/api/report?format=csv", "", "")
	if ans.StatusCode != http.StatusOK || !strings.HasPrefix(ans.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", ans.StatusCode, ans.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(ans.Body))).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", ans.Body, err)
	}
	if len(rows) != len(rep.Subscriptions)+1 || strings.Join(rows[0], ",") != "tenantId,subscriptionId,displayName,status,roles,detail,checkedAt,since" {
		t.Fatalf("CSV has %d rows (header %v), want a header and %d", len(rows), rows[0], len(rep.Subscriptions))
	}
	for i, s := range rep.Subscriptions {
		r := rows[i+1]
		if r[0] != s.TenantID || r[1] != s.SubscriptionID || r[3] != string(s.Status) || r[4] != strings.Join(s.Roles, ";") || r[5] != s.Detail {
			t.Errorf("CSV row %v, JSON %+v", r, s)
		}
	}

	// The dashboard: the same totals.
	ans = a.http(http.MethodGet, "/api/dashboard", "", "")
	if ans.StatusCode != http.StatusOK || ans.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("dashboard: %d %s", ans.StatusCode, ans.Header.Get("Content-Type"))
	}
	page := string(ans.Body)
	got := map[string]int{}
	for _, m := range totalsRE.FindAllStringSubmatch(page, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	if got["all"] != len(rep.Subscriptions) {
		t.Errorf("dashboard total %d, report %d", got["all"], len(rep.Subscriptions))
	}
	for _, st := range pal.Statuses {
		if n, ok := got[string(st)]; ok && n != rep.Summary[st] {
			t.Errorf("dashboard %s = %d, report %d", st, n, rep.Summary[st])
		}
	}
	for _, s := range rep.Subscriptions {
		if s.Status != pal.StatusAttributed && !strings.Contains(page, s.SubscriptionID) {
			t.Errorf("the dashboard does not list %s (%s)", s.SubscriptionID, s.Status)
		}
	}
	return rep
}

// TestE2ERecord: onboarding, links and the sweep fill the record; the report
// JSON, CSV and dashboard agree with each other and with the verdicts; a
// delegation changed between two sweeps yields one change row and one
// `attribution lost` line, whatever the sweeps after.
func TestE2ERecord(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	want := judgeEstate(t, a)
	if len(want) != 10 {
		t.Fatalf("judged %d subscriptions, want the 10 reachable ones", len(want))
	}
	sweep := a.sweep()
	rep := checkReportAgrees(t, a, want)
	if rep.LastSweep == nil || rep.LastSweep.Outcome != record.OutcomeComplete || rep.LastSweep.FinishedAt == nil {
		t.Fatalf("last sweep = %+v, want a complete one", rep.LastSweep)
	}
	for _, st := range pal.Statuses {
		if rep.LastSweep.Summary[st] != sweep.Summary[st] {
			t.Errorf("last sweep summary %v, the sweep's %v", rep.LastSweep.Summary, sweep.Summary)
			break
		}
	}
	for _, c := range rep.Changes {
		if c.From != "" {
			t.Errorf("change %+v before any delegation changed; want only first judgements", c)
		}
	}
	if n := len(driftLines(a.host.Ingested())); n != 0 {
		t.Errorf("%d drift lines before any drift", n)
	}

	// subA1 loses its Contributor authorization: only Reader is left.
	err := a.emu.SetDelegations(subA1, emulator.Delegation{DefinitionName: "Contoso managed services", ManagedByTenantID: managing,
		Authorizations: []emulator.Authorization{{PrincipalID: objectID, PrincipalDisplayName: "pal-keeper", RoleDefinitionID: emulator.RoleReader}}})
	if err != nil {
		t.Fatal(err)
	}
	a.sweep()
	a.sweep() // the same status again: no second change, no second line
	rep = a.report("")
	var changed []web.Change
	for _, c := range rep.Changes {
		if c.From != "" {
			changed = append(changed, c)
		}
	}
	if len(changed) != 1 || changed[0].SubscriptionID != subA1 || changed[0].From != pal.StatusAttributed || changed[0].To != pal.StatusIneligibleRole {
		t.Errorf("changes after the drift = %+v, want one: %s attributed → ineligible-role", changed, subA1)
	}
	if rep.Changes[0].SubscriptionID != subA1 || rep.Changes[0].From != pal.StatusAttributed {
		t.Errorf("newest change = %+v, want the drift first", rep.Changes[0])
	}
	// Process output reaches the host asynchronously.
	if _, err := a.host.WaitIngested(a.ctx(), func(ls []hostsim.IngestedLine) bool { return len(driftLines(ls)) > 0 }); err != nil {
		t.Fatalf("no drift line ingested: %v", err)
	}
	drift := driftLines(a.host.Ingested())
	if len(drift) != 1 || !strings.Contains(drift[0].Message, `"subscription_id":"`+subA1+`"`) ||
		!strings.Contains(drift[0].Message, `"status":"ineligible-role"`) || !strings.Contains(drift[0].Message, `"level":"warn"`) {
		t.Errorf("ingested drift lines = %+v, want exactly one warning for %s", drift, subA1)
	}
	want[subA1] = pal.SubscriptionResult{TenantID: tenantA, SubscriptionID: subA1, DisplayName: want[subA1].DisplayName,
		Status: pal.StatusIneligibleRole, Roles: []string{"Reader"}, Detail: rowDetail(rep, subA1)}
	checkReportAgrees(t, a, want)

	// Filters: one tenant, one status.
	if got := a.report("?tenantId=" + tenantB); len(got.Subscriptions) != 2 {
		t.Errorf("tenant filter: %d subscriptions, want tenant B's 2", len(got.Subscriptions))
	}
	for _, s := range a.report("?status=ineligible-role").Subscriptions {
		if s.Status != pal.StatusIneligibleRole {
			t.Errorf("status filter let %+v through", s)
		}
	}
}

// rowDetail is the detail of sub in the report.
func rowDetail(rep *web.Report, sub string) string {
	for _, s := range rep.Subscriptions {
		if s.SubscriptionID == sub {
			return s.Detail
		}
	}
	return ""
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestE2ERecordWriteFails: with a record that cannot be written, no
// invocation reports success: the onboarding message is not completed, links
// answers 503, the sweep fails, the report cannot be read.
func TestE2ERecordWriteFails(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{maxDeliveryCount: 1, settings: map[string]string{
		"PAL_RECORD_TABLE_URL": "https://" + closedPort(t) + "/devstoreaccount1",
	}})
	checkRecordDown(t, a)
}

// checkRecordDown proves a record that cannot be reached fails every
// invocation that judges, as transient trouble.
func checkRecordDown(t *testing.T, a *app) {
	t.Helper()
	done, dead := a.deliver(onboardingMessage(tenantA, subA1), &hostsim.MessageOptions{ContentType: "application/json"})
	if len(done) != 0 || len(dead) != 1 || !strings.Contains(dead[0].LastError(), "503") {
		t.Errorf("onboarding: completed %d, dead-lettered %d (%s); want it not completed, failed with 503", len(done), len(dead), describeDead(dead))
	}
	ans := a.http(http.MethodGet, "/api/links?tenantId="+tenantA+"&subscriptionId="+subA1, "", "")
	if ans.StatusCode != http.StatusServiceUnavailable || ans.Header.Get("Retry-After") == "" || strings.Contains(string(ans.Body), `"results"`) {
		t.Errorf("GET /api/links: %d %s, want 503 with Retry-After and no result", ans.StatusCode, ans.Body)
	}
	if !strings.Contains(string(ans.Body), "record") {
		t.Errorf("GET /api/links: %s, want the reason to name the record", ans.Body)
	}
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Failed {
		t.Errorf("the sweep succeeded with the record down: %s", inv.Body)
	}
	if ans := a.http(http.MethodGet, "/api/report", "", ""); ans.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /api/report: %d, want 503", ans.StatusCode)
	}
	if !a.waitStdout("the compliance record could not be written") {
		t.Errorf("no log line says the record could not be written")
	}
}

// TestE2ERecordInAzurite: the same flow with the record in Table Storage
// (Azurite over HTTPS, OAuth): the handler gets a storage token from the
// managed identity endpoint, as in Azure; then Azurite stops and every
// judging invocation fails as transient.
func TestE2ERecordInAzurite(t *testing.T) {
	t.Parallel()
	srv := azurite.Start(t)
	// The handler trusts the emulator's certificate (SSL_CERT_FILE) and
	// Azurite's (SSL_CERT_DIR), through the system trust store only.
	certDir := azuriteCertDir(t, srv)
	a := startApp(t, appOptions{maxDeliveryCount: 1, settings: map[string]string{
		"PAL_RECORD_TABLE_URL": srv.URL, "SSL_CERT_DIR": certDir,
	}})
	want := judgeEstate(t, a)
	a.sweep()
	rep := checkReportAgrees(t, a, want)
	if rep.LastSweep == nil || rep.LastSweep.Outcome != record.OutcomeComplete {
		t.Errorf("last sweep = %+v, want complete", rep.LastSweep)
	}
	if !a.waitStdout(`"record":"` + srv.URL + `"`) {
		t.Errorf("the start line does not name the record's table service")
	}

	srv.Stop()
	checkRecordDown(t, a)
}
