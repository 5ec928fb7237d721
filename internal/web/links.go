package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

type linksData struct {
	// Title is the page's: a status page for a read-only GET, the result of
	// onboarding for a POST.
	Title         string
	Queued        bool
	StatusHref    string
	AllAttributed bool
	Headline      string
	// Link says what happened to the link ("already linked to 1234567").
	Link          string
	LinkAction    pal.LinkAction
	Totals        []totalView
	Remedies      []remedyView
	Rows          []subscriptionRow
	DashboardHref string
}

// Titles of the links page.
const (
	titleStatus     = "Attribution status"
	titleOnboarding = "Onboarding result"
)

// LinksHTML turns the links function's JSON answer into the HTML page a
// browser asked for: the verdicts of res (when the answer carries them), the
// queued request of an async answer, or the error with each field named.
// The status code and the answer's Retry-After, Allow and Location headers
// are kept; key is the caller's ?code=, carried into the page's links only.
// method is the request's: a GET is the read-only status query, titled so.
func LinksHTML(answer customhandler.HTTPResponse, res *pal.Result, key, method string) customhandler.HTTPResponse {
	key = validKey(key)
	status := answer.StatusCode
	if status >= 400 || (res == nil && status != http.StatusAccepted) {
		var body struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
		}
		if err := json.Unmarshal([]byte(answer.Body), &body); err != nil || body.Error == "" {
			body.Error = http.StatusText(status)
		}
		out := errorPage(status, body.Error, body.Fields, key, header(answer, "Retry-After"))
		copyHeaders(out, answer, "Allow", "WWW-Authenticate")
		return out
	}
	readOnly := strings.EqualFold(method, http.MethodGet)
	d := linksData{Title: titleOnboarding, DashboardHref: withKey(dashboardPath, url.Values{}, key)}
	if readOnly {
		d.Title = titleStatus
	}
	if res == nil { // 202: queued
		var body struct {
			StatusURL string `json:"statusUrl"`
		}
		_ = json.Unmarshal([]byte(answer.Body), &body)
		d.Queued = true
		d.StatusHref = linkWithKey(body.StatusURL, key)
	} else {
		fillResult(&d, res, readOnly)
	}
	out := customhandler.HTTPResponse{StatusCode: status, Headers: htmlHeaders()}
	copyHeaders(out, answer, "Location")
	var buf bytes.Buffer
	if err := linksPage(&d).Render(context.Background(), &buf); err != nil {
		return errorPage(http.StatusInternalServerError, "the answer could not be rendered", nil, key, retryAfter)
	}
	out.Body = buf.String()
	return out
}

// fillResult puts the verdicts of res on the page.
func fillResult(d *linksData, res *pal.Result, readOnly bool) {
	d.LinkAction = res.Link.Action
	d.Link = linkOutcome(res.Link, readOnly)
	attributed := 0
	for _, s := range pal.Statuses {
		n := res.Summary[s]
		d.Totals = append(d.Totals, totalView{Status: s, Count: n})
		if n > 0 && s != pal.StatusAttributed {
			d.Remedies = append(d.Remedies, remedyView{Status: s, Count: n, Text: Remedy(s)})
		}
	}
	for _, r := range res.Results {
		if r.Status == pal.StatusAttributed {
			attributed++
		}
		d.Rows = append(d.Rows, subscriptionRow{TenantID: r.TenantID, SubscriptionID: r.SubscriptionID,
			DisplayName: r.DisplayName, Status: r.Status, Detail: r.Detail, Roles: joinRoles(r.Roles)})
	}
	d.AllAttributed = len(res.Results) > 0 && attributed == len(res.Results)
	switch {
	case len(res.Results) == 0:
		d.Headline = "No subscription was found for this request."
	case d.AllAttributed:
		d.Headline = fmt.Sprintf("All %d subscription(s) credit the partner.", attributed)
	default:
		d.Headline = fmt.Sprintf("%d of %d subscription(s) do not credit the partner; see the reasons below.",
			len(res.Results)-attributed, len(res.Results))
	}
}

// linkWithKey makes an absolute-path link of the API relative to the page
// (so it survives a route prefix) and adds key.
func linkWithKey(link, key string) string {
	u, err := url.Parse(link)
	if err != nil || u.IsAbs() || u.Host != "" {
		return withKey(dashboardPath, url.Values{}, key)
	}
	path := strings.TrimPrefix(u.Path, "/api/")
	return withKey(path, u.Query(), key)
}

// header returns the answer's header name, matched case-insensitively.
func header(answer customhandler.HTTPResponse, name string) string {
	for k, v := range answer.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// copyHeaders copies the named headers of from that are set into to.
func copyHeaders(to, from customhandler.HTTPResponse, names ...string) {
	for _, n := range names {
		if v := header(from, n); v != "" {
			to.Headers[n] = v
		}
	}
}
