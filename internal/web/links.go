package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

type linksData struct {
	Queued        bool
	StatusHref    string
	AllAttributed bool
	Headline      string
	LinkAction    pal.LinkAction
	PartnerID     string
	// PreviousPartnerID is the partner ID the link held before (or the foreign one).
	PreviousPartnerID string
	Totals            []totalView
	Rows              []subscriptionRow
	DashboardHref     string
}

// LinksHTML turns the links function's JSON answer into the HTML page a
// browser asked for: the verdicts of res (when the answer carries them), the
// queued request of an async answer, or the error with each field named.
// The status code and the answer's Retry-After, Allow and Location headers
// are kept; key is the caller's ?code=, carried into the page's links only.
func LinksHTML(answer customhandler.HTTPResponse, res *pal.Result, key string) customhandler.HTTPResponse {
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
	d := linksData{DashboardHref: withKey(dashboardPath, url.Values{}, key)}
	if res == nil { // 202: queued
		var body struct {
			StatusURL string `json:"statusUrl"`
		}
		_ = json.Unmarshal([]byte(answer.Body), &body)
		d.Queued = true
		d.StatusHref = linkWithKey(body.StatusURL, key)
	} else {
		fillResult(&d, res)
	}
	out := customhandler.HTTPResponse{StatusCode: status, Headers: htmlHeaders()}
	copyHeaders(out, answer, "Location")
	var buf bytes.Buffer
	if err := page("links").Execute(&buf, d); err != nil {
		return errorPage(http.StatusInternalServerError, "the answer could not be rendered", nil, key, retryAfter)
	}
	out.Body = buf.String()
	return out
}

// fillResult puts the verdicts of res on the page.
func fillResult(d *linksData, res *pal.Result) {
	d.LinkAction = res.Link.Action
	d.PartnerID = res.Link.PartnerID
	d.PreviousPartnerID = res.Link.PreviousPartnerID
	attributed := 0
	for _, s := range pal.Statuses {
		d.Totals = append(d.Totals, totalView{Status: s, Count: res.Summary[s]})
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
