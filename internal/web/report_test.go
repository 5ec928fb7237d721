package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

var now = t0.Add(25 * time.Hour)

func getReport(t *testing.T, r Reader, query string) (int, map[string]string, string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := ServeReport(context.Background(), r, q, now)
	return res.StatusCode, res.Headers, res.Body
}

func TestReportJSON(t *testing.T) {
	status, headers, body := getReport(t, estateRecord(), "code=the-key")
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", status, body)
	}
	if got := headers["Content-Type"]; got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	var rep struct {
		GeneratedAt string         `json:"generatedAt"`
		LastSweep   map[string]any `json:"lastSweep"`
		Summary     map[string]int `json:"summary"`
		Subs        []struct {
			TenantID, SubscriptionID, DisplayName, Status, Detail, CheckedAt, Since string
			Roles                                                                   []string
		} `json:"subscriptions"`
		Changes []struct{ TenantID, SubscriptionID, From, To, At, Detail string } `json:"changes"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.GeneratedAt != "2026-03-02T09:00:00Z" {
		t.Errorf("generatedAt %q", rep.GeneratedAt)
	}
	if rep.LastSweep["runId"] != "run-2" || rep.LastSweep["outcome"] != "complete" || rep.LastSweep["finishedAt"] != "2026-03-02T08:00:05Z" {
		t.Errorf("lastSweep %v", rep.LastSweep)
	}
	wantSummary := map[string]int{"attributed": 2, "ineligible-role": 1, "not-delegated": 1, "unlinked": 1, "error": 0, "unverifiable": 0}
	if !reflect.DeepEqual(rep.Summary, wantSummary) {
		t.Errorf("summary %v, want %v", rep.Summary, wantSummary)
	}
	var order []string
	for _, s := range rep.Subs {
		order = append(order, s.SubscriptionID)
	}
	wantOrder := []string{subAttributed, subReader, subGone, subFabrikam, subFormula}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("subscriptions in order %v, want %v", order, wantOrder)
	}
	if s := rep.Subs[1]; s.Since != "2026-03-02T08:00:00Z" || s.CheckedAt != "2026-03-02T08:00:00Z" || s.Status != "ineligible-role" ||
		!reflect.DeepEqual(s.Roles, []string{"Reader"}) {
		t.Errorf("reader subscription %+v", s)
	}
	if rep.Subs[2].Roles == nil {
		t.Error("roles of a subscription without roles: null, want []")
	}
	if len(rep.Changes) != 5 || rep.Changes[0].From != "attributed" || rep.Changes[0].To != "ineligible-role" || rep.Changes[4].From != "" {
		t.Errorf("changes %+v", rep.Changes)
	}
	if strings.Contains(body, "the-key") {
		t.Error("the report echoes the function key")
	}
}

func TestReportFilters(t *testing.T) {
	tests := []struct {
		query       string
		wantSubs    []string
		wantChanges int
	}{
		{"tenantId=" + tenantFabrikam, []string{subFabrikam, subFormula}, 2},
		{"tenantId=" + strings.ToUpper(tenantFabrikam), []string{subFabrikam, subFormula}, 2},
		{"status=attributed", []string{subAttributed, subFabrikam}, 3},
		{"status=unlinked&status=not-delegated", []string{subGone, subFormula}, 1},
		{"status=unlinked,not-delegated", []string{subGone, subFormula}, 1},
		{"tenantId=" + tenantContoso + "&status=attributed", []string{subAttributed}, 2},
		{"tenantId=" + tenantContoso + "&tenantId=" + tenantFabrikam + "&status=error", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, _, body := getReport(t, estateRecord(), tt.query)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			var rep Report
			if err := json.Unmarshal([]byte(body), &rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			total := 0
			for _, s := range rep.Subscriptions {
				got = append(got, s.SubscriptionID)
			}
			for _, n := range rep.Summary {
				total += n
			}
			if !reflect.DeepEqual(got, tt.wantSubs) || total != len(tt.wantSubs) {
				t.Errorf("got %v (summary total %d), want %v", got, total, tt.wantSubs)
			}
			if len(rep.Changes) != tt.wantChanges {
				t.Errorf("got %d changes, want %d", len(rep.Changes), tt.wantChanges)
			}
		})
	}
}

func TestReportBadQuery(t *testing.T) {
	tests := []struct{ query, field string }{
		{"tenantId=not-a-guid", "tenantId"},
		{"tenantId=" + tenantContoso + ",x", "tenantId"},
		{"status=lost", "status"},
		{"status=Attributed", "status"},
		{"format=xml", "format"},
		{"format=csv&format=json", "format"},
		{"tenantid=" + tenantContoso, "tenantid"},
		{"page=2", "page"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			f := estateRecord()
			status, _, body := getReport(t, f, tt.query)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			var e struct {
				Error  string            `json:"error"`
				Fields map[string]string `json:"fields"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatal(err)
			}
			if e.Fields[tt.field] == "" || !strings.Contains(e.Error, tt.field) {
				t.Errorf("got %s, want field %s named", body, tt.field)
			}
			if f.calls != 0 {
				t.Errorf("a bad query read the record %d times", f.calls)
			}
		})
	}
}

func TestReportUnavailable(t *testing.T) {
	for name, r := range map[string]Reader{"nil record": nil, "failing record": &fakeRecord{err: errStore}} {
		t.Run(name, func(t *testing.T) {
			for _, q := range []string{"", "format=csv"} {
				status, headers, body := getReport(t, r, q)
				if status != http.StatusServiceUnavailable || headers["Retry-After"] == "" {
					t.Errorf("%q: status %d, Retry-After %q; want 503 with Retry-After", q, status, headers["Retry-After"])
				}
				if strings.Contains(body, "secret-ish") {
					t.Errorf("the answer leaks the store's error: %s", body)
				}
			}
		})
	}
	_, _, body := getReport(t, nil, "")
	if !strings.Contains(body, "the compliance record is not configured") {
		t.Errorf("nil record: %s", body)
	}
}

func TestReportEmptyRecord(t *testing.T) {
	status, _, body := getReport(t, &fakeRecord{}, "")
	want := `{"generatedAt":"2026-03-02T09:00:00Z","lastSweep":null,"summary":{"attributed":0,"error":0,"ineligible-role":0,"not-delegated":0,"unlinked":0,"unverifiable":0},"summaryAt":"2026-03-02T09:00:00Z","subscriptions":[],"pageSize":500,"continuation":null,"changes":[]}`
	if status != http.StatusOK || body != want {
		t.Errorf("got %d %s, want 200 %s", status, body, want)
	}
}

func TestReportChangesCapped(t *testing.T) {
	status, _, body := getReport(t, bigRecord(1000), "")
	var rep Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil || status != http.StatusOK {
		t.Fatal(status, err)
	}
	if len(rep.Changes) != MaxChanges {
		t.Errorf("got %d changes, want %d", len(rep.Changes), MaxChanges)
	}
	for i := 1; i < len(rep.Changes); i++ {
		if rep.Changes[i].At.After(rep.Changes[i-1].At) {
			t.Fatalf("change %d is newer than change %d", i, i-1)
		}
	}
}

func TestReportCSV(t *testing.T) {
	status, headers, body := getReport(t, estateRecord(), "format=csv&code=k")
	if status != http.StatusOK || !strings.HasPrefix(headers["Content-Type"], "text/csv") {
		t.Fatalf("status %d Content-Type %q", status, headers["Content-Type"])
	}
	if !strings.Contains(headers["Content-Disposition"], "attachment") {
		t.Errorf("Content-Disposition %q", headers["Content-Disposition"])
	}
	if !strings.HasPrefix(body, "tenantId,subscriptionId,displayName,status,roles,detail,checkedAt,since\r\n") {
		t.Errorf("header row: %q", body[:min(len(body), 100)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("got %d rows, want header + 5", len(rows))
	}
	want := map[string][]string{
		subReader: {tenantContoso, subReader, `Contoso, "dev"`, "ineligible-role", "Reader", "Reader is not PEC-eligible",
			"2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z"},
		subFabrikam: {tenantFabrikam, subFabrikam, "Fabrikam <b>main</b>", "attributed", "Owner;Contributor", "",
			"2026-03-02T08:00:00Z", "2026-03-01T08:00:00Z"},
		// Formula injection: the cells a spreadsheet would evaluate start with a quote.
		subFormula: {tenantFabrikam, subFormula, `'=HYPERLINK("http://evil")`, "unlinked", "Contributor", "'+the link is foreign",
			"2026-03-02T08:00:00Z", "2026-03-01T08:00:00Z"},
	}
	for _, row := range rows[1:] {
		if w, ok := want[row[1]]; ok && !reflect.DeepEqual(row, w) {
			t.Errorf("got row %q, want %q", row, w)
		}
	}
	// RFC 4180: a field with a comma or quote is quoted, quotes doubled.
	if !strings.Contains(body, `"Contoso, ""dev"""`) {
		t.Error(`the display name Contoso, "dev" is not quoted as RFC 4180 says`)
	}
}

func TestDefuse(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"plain", "plain"}, {"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"}, {"\rx", "'\nx"}, {"\nx", "'\nx"}, {"\n=1", "'\n'=1"}, {"a\r\n+1", "a\n'+1"}, {"a=b", "a=b"}, {"2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z"},
		{" =1", "' =1"}, {"\u200b=1", "'\u200b=1"}, {"＝1+1", "'＝1+1"}, {"|cmd", "'|cmd"}, {"  plain", "  plain"},
		{"Contributor;Reader", "Contributor;Reader"}, {"a;=1", "a;'=1"}, {"a; +1;b", "a;' +1;b"}, {"=a;-b", "'=a;'-b"},
	}
	for _, tt := range tests {
		if got := SafeCSVCell(tt.in); got != tt.want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReportStatusNamesMatchEngine(t *testing.T) {
	// The filter accepts exactly the engine's statuses.
	for _, s := range pal.Statuses {
		if status, _, _ := getReport(t, estateRecord(), "status="+string(s)); status != http.StatusOK {
			t.Errorf("status=%s: %d", s, status)
		}
	}
}

// TestSweepProgress: a distributed sweep's work-item counts reach the report
// (lastSweep) and the dashboard.
func TestSweepProgress(t *testing.T) {
	r := estateRecord()
	r.run.ItemsSent, r.run.ItemsDone, r.run.ItemsFailed = 12, 10, 1
	r.run.FinishedAt = time.Time{}
	r.run.Outcome = "running"
	_, _, body := getReport(t, r, "")
	var rep struct {
		LastSweep struct{ ItemsSent, ItemsDone, ItemsFailed int } `json:"lastSweep"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if got := rep.LastSweep; got.ItemsSent != 12 || got.ItemsDone != 10 || got.ItemsFailed != 1 {
		t.Errorf("lastSweep items = %+v, want 12 sent, 10 done, 1 failed", got)
	}
	_, _, page := getDashboard(t, r, "")
	if want := "work items: 12 sent, 10 done, 1 failed"; !strings.Contains(page, want) {
		t.Errorf("dashboard lacks %q", want)
	}
}

// spreadsheetCells parses body as a spreadsheet would, with sep as the list
// separator, and returns every cell.
func spreadsheetCells(t *testing.T, body string, sep rune) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(body))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = sep, true, -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse with %q: %v", sep, err)
	}
	return rows
}

// evaluated reports whether a spreadsheet would evaluate cell: after the
// blanks it skips, a formula character (a leading ' makes it text).
func evaluated(cell string) bool {
	for _, r := range cell {
		switch {
		case r == '\'':
			return false
		case blank(r):
			continue
		}
		return strings.ContainsRune("=+-@|＝＋－＠｜", r)
	}
	return false
}

// TestCSVFormulaGuard: the CSV written for hostile names and details, parsed
// as a spreadsheet parses it (comma lists, and ";" lists as some locales
// use), holds no cell a spreadsheet would evaluate. "\n=1+1" was written as
// "\r\n=1+1" unguarded before.
func TestCSVFormulaGuard(t *testing.T) {
	hostile := []string{"\n=1+1", "\r=1+1", "\t=1+1", " =1+1", "\r\n=HYPERLINK(\"x\")", "＝1+1", "|cmd /c calc", "@SUM(A1)",
		"-2+3", "+1", "a;=1+1", "safe; @x", "a,=1", "\u200b=1", "\ufeff=1", "x\n=1", `"=1"`}
	var subs []Subscription
	for i, h := range hostile {
		subs = append(subs, Subscription{TenantID: tenantContoso, SubscriptionID: fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i),
			DisplayName: h, Status: pal.StatusUnlinked, Roles: []string{"Contributor", h}, Detail: h, CheckedAt: t0, Since: t0})
	}
	var buf strings.Builder
	if err := WriteCSV(&buf, subs); err != nil {
		t.Fatal(err)
	}
	for _, sep := range []rune{',', ';'} {
		rows := spreadsheetCells(t, buf.String(), sep)
		for i, row := range rows {
			for j, cell := range row {
				if evaluated(cell) {
					t.Errorf("separator %q: row %d cell %d %q would be evaluated", sep, i, j, cell)
				}
				// Each line of a quoted cell too (a naive reader's rows).
				for _, line := range strings.Split(cell, "\n")[1:] {
					if evaluated(line) {
						t.Errorf("separator %q: row %d cell %d: a line %q would be evaluated", sep, i, j, line)
					}
				}
			}
		}
	}
	rows := spreadsheetCells(t, buf.String(), ',')
	if len(rows) != len(hostile)+1 || rows[1][2] != "'\n'=1+1" {
		t.Errorf("got %d rows, name %q; want %d rows and '\\n'=1+1", len(rows), rows[1][2], len(hostile)+1)
	}
}

// TestReportPages: the report answers a page at a time; following the
// continuation gives every subscription once, the changes on the first page.
func TestReportPages(t *testing.T) {
	r := bigRecord(2500)
	seen := map[string]bool{}
	query, pages := "pageSize=1000", 0
	for {
		pages++
		status, _, body := getReport(t, r, query)
		var rep Report
		if err := json.Unmarshal([]byte(body), &rep); err != nil || status != http.StatusOK {
			t.Fatalf("page %d: %d %v", pages, status, err)
		}
		if rep.PageSize != 1000 || len(rep.Subscriptions) > 1000 {
			t.Fatalf("page %d: pageSize %d, %d subscriptions", pages, rep.PageSize, len(rep.Subscriptions))
		}
		if (pages == 1) != (len(rep.Changes) > 0) {
			t.Errorf("page %d: %d changes, want them on the first page only", pages, len(rep.Changes))
		}
		if rep.Summary[pal.StatusAttributed] != 2000 {
			t.Errorf("page %d: summary %v, want the estate's", pages, rep.Summary)
		}
		for _, s := range rep.Subscriptions {
			if seen[s.SubscriptionID] {
				t.Fatalf("%s on two pages", s.SubscriptionID)
			}
			seen[s.SubscriptionID] = true
		}
		if rep.Continuation == nil {
			break
		}
		query = "pageSize=1000&continuation=" + url.QueryEscape(*rep.Continuation)
	}
	if pages != 3 || len(seen) != 2500 {
		t.Errorf("got %d pages, %d subscriptions; want 3 and 2500", pages, len(seen))
	}
	for _, q := range []string{"pageSize=0", "pageSize=1001", "pageSize=x", "continuation=a%20b", "continuation=o99999"} {
		if status, _, _ := getReport(t, r, q); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, status)
		}
	}
}

// TestReportTenantFilterBounded: the tenant filter names at most
// record.MaxFilterTenants tenants; more is a 400 naming the limit (400
// tenants were answered 503 by Table Storage's refusal before).
func TestReportTenantFilterBounded(t *testing.T) {
	ids := func(n int) string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
		}
		return strings.Join(out, ",")
	}
	if status, _, body := getReport(t, bigRecord(500), "tenantId="+ids(50)); status != http.StatusOK {
		t.Errorf("50 tenants: %d %s, want 200", status, body)
	}
	for _, n := range []int{51, 400} {
		f := bigRecord(500)
		status, _, body := getReport(t, f, "tenantId="+ids(n))
		if status != http.StatusBadRequest || !strings.Contains(body, "at most 50") || !strings.Contains(body, "tenantId") || f.calls != 0 {
			t.Errorf("%d tenants: %d %s (%d reads), want 400 naming tenantId and at most 50, nothing read", n, status, body, f.calls)
		}
		if status, _, _ := getDashboard(t, f, "tenantId="+ids(n)); status != http.StatusBadRequest {
			t.Errorf("dashboard with %d tenants: %d, want 400", n, status)
		}
	}
}

// TestReportRuns: view=runs returns the last runs with their summaries.
func TestReportRuns(t *testing.T) {
	status, _, body := getReport(t, estateRecord(), "view=runs&limit=5")
	var runs Runs
	if err := json.Unmarshal([]byte(body), &runs); err != nil || status != http.StatusOK {
		t.Fatalf("%d %v", status, err)
	}
	if len(runs.Runs) != 5 || runs.Runs[0].RunID != "run-2" || runs.Runs[0].Summary[pal.StatusAttributed] != 2 {
		t.Errorf("runs %+v, want 5, run-2 first with its summary", runs.Runs)
	}
	for _, q := range []string{"view=trend", "view=runs&limit=0", "view=runs&limit=101", "limit=5"} {
		if status, _, _ := getReport(t, estateRecord(), q); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, status)
		}
	}
}

// TestReportCSVParts: the CSV comes in parts of pageSize rows, each a CSV
// file with its header, linked with rel="next".
func TestReportCSVParts(t *testing.T) {
	r := bigRecord(25)
	query, parts, rows := "format=csv&pageSize=10", 0, 0
	for {
		parts++
		status, headers, body := getReport(t, r, query)
		if status != http.StatusOK {
			t.Fatalf("part %d: %d %s", parts, status, body)
		}
		got := spreadsheetCells(t, body, ',')
		if got[0][0] != "tenantId" {
			t.Errorf("part %d has no header row", parts)
		}
		rows += len(got) - 1
		link := headers["Link"]
		if link == "" {
			break
		}
		m := regexp.MustCompile(`^<report\?([^>]*)>; rel="next"$`).FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("Link %q", link)
		}
		query = m[1]
	}
	if parts != 3 || rows != 25 {
		t.Errorf("got %d parts of %d rows, want 3 and 25", parts, rows)
	}
}
