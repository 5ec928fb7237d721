package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
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
	want := `{"generatedAt":"2026-03-02T09:00:00Z","lastSweep":null,"summary":{"attributed":0,"error":0,"ineligible-role":0,"not-delegated":0,"unlinked":0,"unverifiable":0},"subscriptions":[],"changes":[]}`
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
		{"\tx", "'\tx"}, {"\rx", "'\rx"}, {"a=b", "a=b"}, {"2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z"},
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
