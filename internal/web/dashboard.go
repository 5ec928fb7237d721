package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Dashboard paging: it stays small and fast whatever the estate's size.
const (
	// TenantsPerPage is the number of tenant rows on one page.
	TenantsPerPage = 50
	// SubscriptionsPerPage is the number of listed subscriptions on one page.
	SubscriptionsPerPage = 100
	// DashboardChanges is the number of recent changes shown.
	DashboardChanges = 20
)

// Relative paths of the function app's HTTP functions, as seen from the
// dashboard (they resolve under the host's route prefix).
const (
	dashboardPath = "dashboard"
	reportPath    = "report"
	linksPath     = "links"
)

// dashboardData is what the dashboard template renders.
type dashboardData struct {
	Generated string
	Sweep     *sweepView
	Filters   []filterView
	ClearHref string
	CSVHref   string
	JSONHref  string
	Total     int
	Totals    []totalView
	Statuses  []pal.Status

	TenantCount int
	Tenants     []tenantRow
	TenantPager pager

	ListTitle string
	ListTotal int
	List      []subscriptionRow
	ListPager pager

	Changes []changeRow

	FormAction string

	presentation
}

type sweepView struct {
	Started, Finished, Outcome, Detail, Class string
	Running                                   bool
	// Items is the work-item progress of a distributed sweep ("" in one process).
	Items string
}

type filterView struct{ Label, Href string }

type totalView struct {
	Status pal.Status
	Count  int
	Href   string
	Active bool
}

type countCell struct {
	Count int
	Href  string
}

type tenantRow struct {
	TenantID string
	Tenant   tenantView
	Href     string
	Total    int
	Counts   []countCell
}

type subscriptionRow struct {
	TenantID, SubscriptionID, DisplayName, Detail, Since, Roles string
	Status                                                      pal.Status
	TenantHref                                                  string
	Tenant                                                      tenantView
}

type changeRow struct {
	At, TenantID, SubscriptionID, Detail string
	From, To                             pal.Status
	Tenant                               tenantView
	// DisplayName is the subscription's name when a row of the list has it.
	DisplayName string
}

type pager struct {
	Page, Pages           int
	PrevHref, NextHref    string
	FirstShown, LastShown int
}

// ServeDashboard answers GET /api/dashboard for query q with the HTML page;
// dir names the tenants and the identity (nil: IDs only, see [Directory]).
// A bad query is a 400 page naming the field; no record (r nil) or a record
// that cannot be read is a 503 page. The error, when not nil, is for the log.
func ServeDashboard(ctx context.Context, r Reader, dir Directory, q url.Values, now time.Time) (customhandler.HTTPResponse, error) {
	v, err := parseView(q, paramPage, paramTenantPage)
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		return ErrorPage(http.StatusBadRequest, "The dashboard's address is not valid", fe.Fields, q.Get(paramCode)), err
	}
	if r == nil {
		return ErrorPage(http.StatusServiceUnavailable, msgNotConfigured, nil, v.key), errors.New(msgNotConfigured)
	}
	rep, err := BuildReport(ctx, r, v.filter, DashboardChanges, now)
	if err != nil {
		return ErrorPage(http.StatusServiceUnavailable, msgUnavailable, nil, v.key), err
	}
	d := dashboardModel(rep, v)
	if err := present(ctx, d, r, dir); err != nil {
		return ErrorPage(http.StatusServiceUnavailable, msgUnavailable, nil, v.key), err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := page("dashboard").Execute(&buf, d); err != nil {
		return ErrorPage(http.StatusInternalServerError, "the dashboard could not be rendered", nil, v.key),
			fmt.Errorf("render the dashboard: %w", err)
	}
	return customhandler.HTTPResponse{StatusCode: http.StatusOK, Headers: htmlHeaders(), Body: buf.String()}, nil
}

// linker builds the dashboard's links from the current view.
type linker struct{ v view }

// dashboard links to the dashboard with tenants and statuses (nil keeps the
// current ones) and the given pages.
func (l linker) dashboard(tenants []string, statuses []pal.Status, page, tenantPage int) string {
	if tenants == nil {
		tenants = l.v.filter.TenantIDs
	}
	if statuses == nil {
		statuses = l.v.filter.Statuses
	}
	q := filterQuery(tenants, statuses)
	if page > 1 {
		q.Set(paramPage, fmt.Sprint(page))
	}
	if tenantPage > 1 {
		q.Set(paramTenantPage, fmt.Sprint(tenantPage))
	}
	return withKey(dashboardPath, q, l.v.key)
}

func (l linker) report(format string) string {
	q := filterQuery(l.v.filter.TenantIDs, l.v.filter.Statuses)
	q.Set(paramFormat, format)
	return withKey(reportPath, q, l.v.key)
}

func filterQuery(tenants []string, statuses []pal.Status) url.Values {
	q := url.Values{}
	for _, t := range tenants {
		q.Add(paramTenantID, t)
	}
	for _, s := range statuses {
		q.Add(paramStatus, string(s))
	}
	return q
}

// dashboardModel turns the report into the page: totals, a tenant page, a
// page of the listed subscriptions (those not attributed, or those of the
// status filter) and the recent changes.
func dashboardModel(rep *Report, v view) *dashboardData {
	l := linker{v}
	d := &dashboardData{
		Generated:  formatTime(rep.GeneratedAt),
		Sweep:      sweepViewOf(rep.LastSweep),
		ClearHref:  withKey(dashboardPath, url.Values{}, v.key),
		CSVHref:    l.report("csv"),
		JSONHref:   l.report("json"),
		Statuses:   pal.Statuses,
		FormAction: withKey(linksPath, url.Values{}, v.key),
	}
	for _, t := range v.filter.TenantIDs {
		rest := slices.DeleteFunc(slices.Clone(v.filter.TenantIDs), func(s string) bool { return s == t })
		d.Filters = append(d.Filters, filterView{Label: "tenant " + t, Href: l.dashboard(nonNil(rest), nil, 1, 1)})
	}
	for _, s := range v.filter.Statuses {
		rest := slices.DeleteFunc(slices.Clone(v.filter.Statuses), func(x pal.Status) bool { return x == s })
		d.Filters = append(d.Filters, filterView{Label: "status " + string(s), Href: l.dashboard(nil, nonNil(rest), 1, 1)})
	}
	for _, s := range pal.Statuses {
		n := rep.Summary[s]
		d.Total += n
		d.Totals = append(d.Totals, totalView{Status: s, Count: n, Href: l.dashboard(nil, []pal.Status{s}, 1, 1),
			Active: len(v.filter.Statuses) == 1 && v.filter.Statuses[0] == s})
	}

	// Tenants, with their counts, one page of them.
	counts := map[string][]int{}
	var tenants []string
	for _, s := range rep.Subscriptions {
		c, ok := counts[s.TenantID]
		if !ok {
			c = make([]int, len(pal.Statuses))
			counts[s.TenantID] = c
			tenants = append(tenants, s.TenantID) // rep is sorted by tenant
		}
		if i := slices.Index(pal.Statuses, s.Status); i >= 0 {
			c[i]++
		}
	}
	d.TenantCount = len(tenants)
	var lo, hi int
	d.TenantPager, lo, hi = paginate(len(tenants), TenantsPerPage, v.tenantPage, func(p int) string {
		return l.dashboard(nil, nil, v.page, p)
	})
	for _, t := range tenants[lo:hi] {
		row := tenantRow{TenantID: t, Href: l.dashboard([]string{t}, nil, 1, 1)}
		for i, n := range counts[t] {
			cell := countCell{Count: n}
			if n > 0 {
				cell.Href = l.dashboard([]string{t}, []pal.Status{pal.Statuses[i]}, 1, 1)
			}
			row.Total += n
			row.Counts = append(row.Counts, cell)
		}
		d.Tenants = append(d.Tenants, row)
	}

	// The listed subscriptions: not attributed, unless the status filter asks for attributed.
	listAttributed := slices.Contains(v.filter.Statuses, pal.StatusAttributed)
	d.ListTitle = "Not attributed"
	if len(v.filter.Statuses) > 0 {
		d.ListTitle = "Subscriptions"
	}
	var listed []Subscription
	for _, s := range rep.Subscriptions {
		if s.Status != pal.StatusAttributed || listAttributed {
			listed = append(listed, s)
		}
	}
	d.ListTotal = len(listed)
	d.ListPager, lo, hi = paginate(len(listed), SubscriptionsPerPage, v.page, func(p int) string {
		return l.dashboard(nil, nil, p, v.tenantPage)
	})
	for _, s := range listed[lo:hi] {
		d.List = append(d.List, subscriptionRow{
			TenantID: s.TenantID, SubscriptionID: s.SubscriptionID, DisplayName: s.DisplayName, Status: s.Status,
			Detail: s.Detail, Since: formatTime(s.Since), Roles: joinRoles(s.Roles),
			TenantHref: l.dashboard([]string{s.TenantID}, nil, 1, 1),
		})
	}
	for _, c := range rep.Changes {
		d.Changes = append(d.Changes, changeRow{At: formatTime(c.At), TenantID: c.TenantID, SubscriptionID: c.SubscriptionID,
			From: c.From, To: c.To, Detail: c.Detail})
	}
	return d
}

// nonNil returns s, or an empty non-nil slice (an empty filter, not "keep").
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// paginate clamps page to [1, pages] and returns the pager and the slice bounds.
func paginate(n, per, page int, href func(int) string) (pager, int, int) {
	pages := max(1, (n+per-1)/per)
	page = min(max(page, 1), pages)
	lo := (page - 1) * per
	hi := min(lo+per, n)
	p := pager{Page: page, Pages: pages, FirstShown: lo + 1, LastShown: hi}
	if n == 0 {
		p.FirstShown = 0
	}
	if page > 1 {
		p.PrevHref = href(page - 1)
	}
	if page < pages {
		p.NextHref = href(page + 1)
	}
	return p, lo, hi
}

func sweepViewOf(s *Sweep) *sweepView {
	if s == nil {
		return nil
	}
	v := &sweepView{Started: formatTime(s.StartedAt), Outcome: s.Outcome, Detail: s.Detail, Running: s.FinishedAt == nil}
	if s.ItemsSent > 0 {
		v.Items = fmt.Sprintf("work items: %d sent, %d done, %d failed", s.ItemsSent, s.ItemsDone, s.ItemsFailed)
	}
	if s.NotJudged > 0 {
		v.Items = strings.TrimPrefix(v.Items+"; ", "; ") + fmt.Sprintf("%d subscription(s) not judged by this sweep", s.NotJudged)
	}
	if s.ClosedRunID != "" {
		v.Items = strings.TrimPrefix(v.Items+"; ", "; ") + fmt.Sprintf("closed the earlier sweep %s, whose coordinator had stopped: %d subscription(s) not judged by it",
			s.ClosedRunID, s.ClosedNotJudged)
	}
	if s.FinishedAt != nil {
		v.Finished = formatTime(*s.FinishedAt)
	}
	switch s.Outcome {
	case record.OutcomeComplete:
		v.Class = "ok"
	case record.OutcomeFailed:
		v.Class = "bad"
	default:
		v.Class = "warn"
	}
	return v
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func joinRoles(roles []string) string {
	out := ""
	for i, r := range roles {
		if i > 0 {
			out += ", "
		}
		out += r
	}
	return out
}
