package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/json, text/plain, */*", false}, // axios
		{"text/html, application/json", false},       // a tie keeps JSON
		{"application/json;q=0.9, text/html", true},
		{"text/html", true},
		{"text/*", true},
		{"text/html;q=0", false},
		{"text/html;q=0.5, application/json", false},
		{"*/*;q=1, application/json;q=0.5", false}, // HTML must be named
		// Chrome, Firefox, Safari.
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"TEXT/HTML", true},
		{"text/html;q=bogus, application/json", false},
		{"garbage;;;", false},
	}
	for _, tt := range tests {
		if got := PrefersHTML(tt.accept); got != tt.want {
			t.Errorf("PrefersHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestLinksHTMLResult(t *testing.T) {
	res := &pal.Result{
		PartnerID: "1234567",
		Link:      pal.LinkResult{Action: pal.LinkCreated, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{
			{TenantID: tenantContoso, SubscriptionID: subAttributed, DisplayName: "Contoso prod", Status: pal.StatusAttributed, Roles: []string{"Contributor"}},
			{TenantID: tenantContoso, SubscriptionID: subReader, DisplayName: "<i>dev</i>", Status: pal.StatusIneligibleRole, Roles: []string{"Reader"}, Detail: "Reader is not PEC-eligible"},
		},
		Summary: map[pal.Status]int{pal.StatusAttributed: 1, pal.StatusIneligibleRole: 1},
	}
	json := customhandler.JSONResponse(http.StatusOK, res, nil)
	out := LinksHTML(json, res, "k1", http.MethodPost)
	if out.StatusCode != http.StatusOK || out.Headers["Content-Type"] != "text/html; charset=utf-8" || out.Headers["Referrer-Policy"] != "no-referrer" {
		t.Fatalf("got %d %v", out.StatusCode, out.Headers)
	}
	for _, want := range []string{
		"1 of 2 subscription(s) do not credit the partner",
		`Partner link: <strong id="link-outcome">created: linked to 1234567</strong>`,
		"Reader is not PEC-eligible",
		"&lt;i&gt;dev&lt;/i&gt;",
		`href="dashboard?code=k1"`,
	} {
		if !strings.Contains(out.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestLinksHTMLError(t *testing.T) {
	answer := customhandler.JSONResponse(http.StatusBadRequest, map[string]any{
		"error": "the form is not valid", "fields": map[string]string{"tenantId": "required", "subscriptionIds": "not a GUID: x"},
	}, nil)
	out := LinksHTML(answer, nil, "", http.MethodPost)
	if out.StatusCode != http.StatusBadRequest || out.Headers["Content-Type"] != "text/html; charset=utf-8" {
		t.Fatalf("got %d %v", out.StatusCode, out.Headers)
	}
	for _, want := range []string{"the form is not valid", "<strong>subscriptionIds</strong>: not a GUID: x", "<strong>tenantId</strong>: required", `href="dashboard"`} {
		if !strings.Contains(out.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	unavailable := customhandler.JSONResponse(http.StatusServiceUnavailable, map[string]any{"error": "try again"}, map[string]string{"Retry-After": "17"})
	if out := LinksHTML(unavailable, nil, "", http.MethodPost); out.StatusCode != 503 || out.Headers["Retry-After"] != "17" || !strings.Contains(out.Body, "Try again in 17 seconds") {
		t.Errorf("503: got %d Retry-After %q", out.StatusCode, out.Headers["Retry-After"])
	}
	notAllowed := customhandler.JSONResponse(http.StatusMethodNotAllowed, map[string]any{"error": "use GET or POST"}, map[string]string{"Allow": "GET, POST"})
	if out := LinksHTML(notAllowed, nil, "", http.MethodPost); out.Headers["Allow"] != "GET, POST" {
		t.Errorf("405 lost its Allow header: %v", out.Headers)
	}
}

func TestLinksHTMLQueued(t *testing.T) {
	answer := customhandler.JSONResponse(http.StatusAccepted, map[string]string{
		"status": "queued", "statusUrl": "/api/links?tenantId=" + tenantContoso,
	}, map[string]string{"Location": "/api/links?tenantId=" + tenantContoso})
	out := LinksHTML(answer, nil, "k", http.MethodPost)
	if out.StatusCode != http.StatusAccepted || out.Headers["Location"] == "" {
		t.Fatalf("got %d %v", out.StatusCode, out.Headers)
	}
	if !strings.Contains(out.Body, `href="links?code=k&amp;tenantId=`+tenantContoso+`"`) {
		t.Errorf("no status link with the key: %s", out.Body)
	}
}
