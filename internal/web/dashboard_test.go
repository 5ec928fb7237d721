package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func getDashboard(t testing.TB, r Reader, query string) (int, map[string]string, string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := ServeDashboard(context.Background(), r, estateDirectory(), q, now)
	return res.StatusCode, res.Headers, res.Body
}

// hrefs returns the unescaped href and action values of page.
func hrefs(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?:href|action)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestDashboardHeaders(t *testing.T) {
	for _, tt := range []struct {
		name   string
		r      Reader
		query  string
		status int
	}{
		{"page", estateRecord(), "", http.StatusOK},
		{"bad query", estateRecord(), "status=nope", http.StatusBadRequest},
		{"no record", nil, "", http.StatusServiceUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := getDashboard(t, tt.r, tt.query)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			want := map[string]string{
				"Content-Type":           "text/html; charset=utf-8",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
			}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("%s: got %q, want %q", k, h[k], v)
				}
			}
			csp := h["Content-Security-Policy"]
			for _, d := range []string{"default-src 'none'", "style-src '" + styleHash + "'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
				}
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "src=") || strings.Contains(body, "<link") ||
				strings.Contains(body, "style=\"") {
				t.Error("the page has a script, an external asset or a style attribute the CSP would block")
			}
		})
	}
}

func TestStyleHash(t *testing.T) {
	sum := sha256.Sum256([]byte(css))
	if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); styleHash != want {
		t.Errorf("styleHash is %s, want %s (css changed)", styleHash, want)
	}
	_, _, body := getDashboard(t, estateRecord(), "")
	if !strings.Contains(body, "<style>"+css+"</style>") {
		t.Error("the page's style block is not css verbatim, so its hash does not match")
	}
}

func TestDashboardContent(t *testing.T) {
	status, _, body := getDashboard(t, estateRecord(), "code=key%2Fwith%2Bchars")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`id="total-all"><span class="n">5</span>`,
		`id="total-attributed"><span class="n">2</span>`,
		`id="total-ineligible-role"><span class="n">1</span>`,
		`id="total-error"><span class="n">0</span>`,
		"Tenants (2)",
		"Not attributed (3)",
		"Reader is not PEC-eligible",
		"finished 2026-03-02 08:00 UTC",
		`id="sweep-outcome">complete<`,
		`<form method="post" action="links?code=key%2Fwith%2Bchars"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, _, fabrikam := getDashboard(t, estateRecord(), "status=attributed")
	if !strings.Contains(fabrikam, "Fabrikam &lt;b&gt;main&lt;/b&gt;") || strings.Contains(fabrikam, "<b>main</b>") {
		t.Error("a display name is rendered as markup")
	}
	// Every link carries the caller's key, and nothing else secret-looking.
	links := hrefs(body)
	if len(links) < 15 {
		t.Fatalf("only %d links", len(links))
	}
	for _, l := range links {
		if strings.HasPrefix(l, "#") {
			continue
		}
		u, err := url.Parse(l)
		if err != nil || u.IsAbs() || strings.HasPrefix(u.Path, "/") {
			t.Errorf("link %q is not relative", l)
			continue
		}
		if got := u.Query().Get("code"); got != "key/with+chars" {
			t.Errorf("link %q carries code %q, want the caller's key", l, got)
		}
	}
	// The filter links: a tenant, a status, the CSV of the current filter.
	for _, want := range []string{
		"dashboard?code=key%2Fwith%2Bchars&status=not-delegated",
		"dashboard?code=key%2Fwith%2Bchars&tenantId=" + tenantFabrikam,
		"dashboard?code=key%2Fwith%2Bchars&status=unlinked&tenantId=" + tenantFabrikam,
		"report?code=key%2Fwith%2Bchars&format=csv",
	} {
		found := false
		for _, l := range links {
			found = found || l == want
		}
		if !found {
			t.Errorf("no link %q", want)
		}
	}
}

func TestDashboardWithoutKey(t *testing.T) {
	_, _, body := getDashboard(t, estateRecord(), "")
	for _, l := range hrefs(body) {
		if strings.Contains(l, "code=") {
			t.Errorf("link %q carries a key the request had none of", l)
		}
	}
}

func TestDashboardFiltered(t *testing.T) {
	_, _, body := getDashboard(t, estateRecord(), "tenantId="+tenantContoso+"&status=attributed")
	for _, want := range []string{
		`id="total-all"><span class="n">1</span>`,
		"Tenants (1)",
		"Subscriptions (1)", // a status filter lists its subscriptions, attributed included
		"Contoso prod",
		"tenant " + tenantContoso,
		"status attributed",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the filtered page lacks %q", want)
		}
	}
	if strings.Contains(body, "Fabrikam") {
		t.Error("the tenant filter shows another tenant")
	}
	// Removing the tenant filter keeps the status filter.
	found := false
	for _, l := range hrefs(body) {
		found = found || l == "dashboard?status=attributed"
	}
	if !found {
		t.Error("no link removing the tenant filter alone")
	}
}

func TestDashboardEmptyRecord(t *testing.T) {
	status, _, body := getDashboard(t, &fakeRecord{}, "")
	if status != http.StatusOK || !strings.Contains(body, "No sweep has run yet.") || !strings.Contains(body, "No subscription has been judged") {
		t.Errorf("got %d, want a page saying nothing was judged yet", status)
	}
}

func TestDashboardBadQuery(t *testing.T) {
	status, _, body := getDashboard(t, estateRecord(), "tenantId=nope&code=k")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d", status)
	}
	if !strings.Contains(body, "<strong>tenantId</strong>: not a tenant ID") {
		t.Error("the error page does not name the field")
	}
	if !strings.Contains(body, `href="dashboard?code=k"`) {
		t.Error("the error page has no way back carrying the key")
	}
}

func TestDashboardUnavailable(t *testing.T) {
	status, h, body := getDashboard(t, &fakeRecord{err: errStore}, "")
	if status != http.StatusServiceUnavailable || h["Retry-After"] == "" || strings.Contains(body, "secret-ish") {
		t.Errorf("got %d Retry-After %q, want 503 with Retry-After and no store detail", status, h["Retry-After"])
	}
}

func TestDashboardPaging(t *testing.T) {
	r := bigRecord(10_000)
	_, _, body := getDashboard(t, r, "code=k")
	for _, want := range []string{
		`id="total-all"><span class="n">10000</span>`,
		`id="total-attributed"><span class="n">8000</span>`,
		`id="total-ineligible-role"><span class="n">500</span>`,
		"Tenants (500)",
		"page 1 of 10 (rows 1–50)",
		"Not attributed (2000)",
		"page 1 of 20 (rows 1–100)",
		`finished 2026-03-01 08:01 UTC: <strong class="warn" id="sweep-outcome">partial</strong> — 3 work items failed`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(body, "<tr>"); n > 1+TenantsPerPage+1+SubscriptionsPerPage+1+DashboardChanges {
		t.Errorf("%d table rows: the page is not paged", n)
	}
	if len(body) > 200<<10 {
		t.Errorf("the page is %d bytes", len(body))
	}
	// Follow the next links to the last page of each: tenants, then the
	// list (those not attributed, then the attributed ones).
	follow := func(body string, pager, times int) string {
		for range times {
			var next string
			if ms := regexp.MustCompile(`<p class="pager">.*?</p>`).FindAllString(body, -1); len(ms) > pager {
				if h := regexp.MustCompile(`href="([^"]*)" rel="next"`).FindStringSubmatch(ms[pager]); h != nil {
					next = html.UnescapeString(h[1])
				}
			}
			if next == "" {
				t.Fatalf("no next link in pager %d", pager)
			}
			u, _ := url.Parse(next)
			_, _, body = getDashboard(t, r, u.RawQuery)
		}
		return body
	}
	last := follow(body, 0, 9)
	if !strings.Contains(last, "page 10 of 10 (rows 451–500)") || !strings.Contains(last, `rel="first"`) {
		t.Errorf("the last tenant page lacks page 10 of 10 (rows 451–500) and a first-page link")
	}
	list := follow(body, 1, 19)
	if !strings.Contains(list, "page 20 of 20 (rows 1901–2000)") || !strings.Contains(list, `id="list-attributed"`) {
		t.Errorf("the last page of the list lacks page 20 of 20 (rows 1901–2000) and the link to the attributed ones")
	}
	h := regexp.MustCompile(`href="([^"]*)" id="list-attributed"`).FindStringSubmatch(list)
	u, _ := url.Parse(html.UnescapeString(h[1]))
	_, _, attributed := getDashboard(t, r, u.RawQuery)
	if !strings.Contains(attributed, "Attributed (8000)") || !strings.Contains(attributed, "page 1 of 80 (rows 1–100)") {
		t.Errorf("the attributed list lacks Attributed (8000), page 1 of 80")
	}
	// A page token the dashboard did not write is a 400 naming it.
	for _, q := range []string{"page=999", "tenantPage=x:1", "page=n:0:bogus"} {
		if status, _, _ := getDashboard(t, r, q); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, status)
		}
	}
}

// BenchmarkDashboard10k renders the dashboard of 10,000 subscriptions (500
// tenants) from an in-memory record: the budget is 100 ms.
func BenchmarkDashboard10k(b *testing.B) {
	r := bigRecord(10_000)
	q := url.Values{"code": {"k"}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := ServeDashboard(context.Background(), r, estateDirectory(), q, now)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatal(res.StatusCode, err)
		}
	}
}
