package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// hostile is text from outside (a tenant's name, a subscription's name, an
// ARM error's detail) that would run a script if a page wrote it as HTML.
const hostile = `"'><script>alert(1)</script><img src=x onerror=alert(2)>`

// TestPagesEscapeUntrustedText puts hostile text in every field of every page
// that comes from outside (the record, the directory, the links function's
// answer, an error's fields) and a javascript: URL where a link is taken
// from an answer, and parses each page as a browser would: no script
// element, no event handler attribute, no javascript: URL, and the text
// shown as text.
func TestPagesEscapeUntrustedText(t *testing.T) {
	rec := estateRecord()
	for i := range rec.verdicts {
		rec.verdicts[i].DisplayName, rec.verdicts[i].Detail, rec.verdicts[i].Roles = hostile, hostile, []string{hostile}
	}
	for i := range rec.changes {
		rec.changes[i].Detail = hostile
	}
	dir := estateDirectory()
	dir.names[tenantContoso] = TenantName{DisplayName: hostile, DefaultDomain: hostile}
	dir.id.Link, dir.id.LinkProblem = nil, hostile
	dashboard, err := ServeDashboard(context.Background(), rec, dir, url.Values{}, now)
	if err != nil {
		t.Fatal(err)
	}

	res := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{{TenantID: tenantContoso, SubscriptionID: subReader, DisplayName: hostile,
			Status: pal.StatusIneligibleRole, Roles: []string{hostile}, Detail: hostile}},
		Summary: map[pal.Status]int{pal.StatusIneligibleRole: 1}}
	queued := customhandler.JSONResponse(http.StatusAccepted, map[string]string{"status": "queued", "statusUrl": "javascript:alert(3)"}, nil)

	for name, page := range map[string]string{
		"dashboard": dashboard.Body,
		"links":     LinksHTML(customhandler.JSONResponse(http.StatusOK, res, nil), res, "", http.MethodPost).Body,
		"queued":    LinksHTML(queued, nil, "", http.MethodPost).Body,
		"error":     ErrorPage(http.StatusBadRequest, hostile, map[string]string{hostile: hostile}, "").Body,
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			shown := false
			for n := range doc.Descendants() {
				switch n.Type {
				case html.TextNode:
					shown = shown || strings.Contains(n.Data, "<script>alert(1)</script>")
				case html.ElementNode:
					if n.Data == "script" || n.Data == "img" {
						t.Errorf("the page has a <%s> element", n.Data)
					}
					for _, a := range n.Attr {
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("<%s> has an event handler %s=%q", n.Data, a.Key, a.Val)
						}
						if strings.Contains(strings.ToLower(a.Val), "javascript:") {
							t.Errorf("<%s %s=%q> is a javascript: URL", n.Data, a.Key, a.Val)
						}
					}
				}
			}
			if name != "queued" && !shown {
				t.Error("the hostile text is not shown as text")
			}
		})
	}
}
