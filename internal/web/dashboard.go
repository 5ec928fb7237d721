package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// dashboardData is what the dashboard page (dashboardPage) renders.
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
	// AttributedHref lists the attributed subscriptions after the others;
	// NotAttributedHref goes back.
	AttributedHref, NotAttributedHref string
	// TotalsAt is when the estate's totals were computed (the last sweep),
	// "" when they are current.
	TotalsAt string

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
	FirstHref, NextHref   string
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
	d, err := loadDashboard(ctx, r, v, now)
	if err != nil {
		status, msg := http.StatusServiceUnavailable, msgUnavailable
		switch recordCode(err) {
		case pal.CodeInvalidInput:
			return ErrorPage(http.StatusBadRequest, "The dashboard's address is not valid",
				map[string]string{paramPage: "not a continuation token of this view"}, v.key), err
		case pal.CodeInternal:
			status, msg = http.StatusInternalServerError, msgRefused
		}
		return ErrorPage(status, msg, nil, v.key), err
	}
	if err := present(ctx, d, r, dir); err != nil {
		return ErrorPage(http.StatusServiceUnavailable, msgUnavailable, nil, v.key), err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := dashboardPage(d).Render(ctx, &buf); err != nil {
		return ErrorPage(http.StatusInternalServerError, "the dashboard could not be rendered", nil, v.key),
			fmt.Errorf("render the dashboard: %w", err)
	}
	return customhandler.HTTPResponse{StatusCode: http.StatusOK, Headers: htmlHeaders(), Body: buf.String()}, nil
}

// linker builds the dashboard's links from the current view.
type linker struct{ v view }

// dashboard links to the dashboard with tenants and statuses (nil keeps the
// current ones) and the given page tokens.
func (l linker) dashboard(tenants []string, statuses []pal.Status, page, tenantPage string) string {
	if tenants == nil {
		tenants = l.v.filter.TenantIDs
	}
	if statuses == nil {
		statuses = l.v.filter.Statuses
	}
	q := filterQuery(tenants, statuses)
	if page != "" {
		q.Set(paramPage, page)
	}
	if tenantPage != "" {
		q.Set(paramTenantPage, tenantPage)
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

// A dashboard page token is "<offset>:<record token>" (the tenant table),
// or "<phase>:<offset>:<record token>" (the list): phase n lists the
// subscriptions that are not attributed, then phase a the attributed ones;
// with a status filter phase s lists those statuses.
const (
	phaseNot      = "n"
	phaseAttrib   = "a"
	phaseFiltered = "s"
)

// cursor is a decoded page token.
type cursor struct {
	phase  string
	offset int
	token  string
}

func (c cursor) String() string {
	s := strconv.Itoa(c.offset) + ":" + c.token
	if c.phase != "" {
		s = c.phase + ":" + s
	}
	return s
}

// parseCursor reads a page token; withPhase for the list's.
func parseCursor(s string, withPhase bool) (cursor, bool) {
	var c cursor
	if s == "" {
		return c, true
	}
	parts := strings.SplitN(s, ":", 3)
	if withPhase {
		if len(parts) != 3 || (parts[0] != phaseNot && parts[0] != phaseAttrib && parts[0] != phaseFiltered) {
			return c, false
		}
		c.phase, parts = parts[0], parts[1:]
	} else if len(parts) != 2 {
		return c, false
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 0 || n > 100_000_000 {
		return c, false
	}
	c.offset, c.token = n, parts[1]
	return c, true
}

// badCursor is the error of a page token the dashboard did not write.
func badCursor(param string) error {
	return &pal.Error{Code: pal.CodeInvalidInput, Message: "dashboard: " + param + ": not a continuation token of this view"}
}

// loadDashboard reads what the page shows, a bounded number of rows: the
// filter's totals (record.Estate for the whole estate), one page of tenant
// summaries, one page of the list, the last sweep and the newest changes.
func loadDashboard(ctx context.Context, r Reader, v view, now time.Time) (*dashboardData, error) {
	l := linker{v}
	d := &dashboardData{
		Generated:  formatTime(now),
		ClearHref:  withKey(dashboardPath, url.Values{}, v.key),
		CSVHref:    l.report("csv"),
		JSONHref:   l.report("json"),
		Statuses:   pal.Statuses,
		FormAction: withKey(linksPath, url.Values{}, v.key),
	}
	run, err := r.LastRun(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the last sweep: %w", err)
	}
	d.Sweep = sweepViewOf(sweepOf(run))
	counts, at, tenants, err := summaryOf(ctx, r, v.filter, now)
	if err != nil {
		return nil, err
	}
	d.TenantCount = tenants
	if len(v.filter.TenantIDs) == 0 && at != nil && !at.Equal(now.UTC()) {
		d.TotalsAt = formatTime(*at)
	}
	for _, t := range v.filter.TenantIDs {
		rest := slices.DeleteFunc(slices.Clone(v.filter.TenantIDs), func(s string) bool { return s == t })
		d.Filters = append(d.Filters, filterView{Label: "tenant " + t, Href: l.dashboard(nonNil(rest), nil, "", "")})
	}
	for _, s := range v.filter.Statuses {
		rest := slices.DeleteFunc(slices.Clone(v.filter.Statuses), func(x pal.Status) bool { return x == s })
		d.Filters = append(d.Filters, filterView{Label: "status " + string(s), Href: l.dashboard(nil, nonNil(rest), "", "")})
	}
	for _, s := range pal.Statuses {
		n := counts[s]
		d.Total += n
		d.Totals = append(d.Totals, totalView{Status: s, Count: n, Href: l.dashboard(nil, []pal.Status{s}, "", ""),
			Active: len(v.filter.Statuses) == 1 && v.filter.Statuses[0] == s})
	}
	if err := loadTenants(ctx, r, v, l, d); err != nil {
		return nil, err
	}
	if err := loadList(ctx, r, v, l, counts, d); err != nil {
		return nil, err
	}
	changes, err := changesOf(ctx, r, v.filter, DashboardChanges)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		d.Changes = append(d.Changes, changeRow{At: formatTime(c.At), TenantID: c.TenantID, SubscriptionID: c.SubscriptionID,
			From: c.From, To: c.To, Detail: c.Detail})
	}
	return d, nil
}

// loadTenants fills the tenant table: the filtered tenants' summaries, or
// one page of every tenant's (TenantsPerPage).
func loadTenants(ctx context.Context, r Reader, v view, l linker, d *dashboardData) error {
	cur, ok := parseCursor(v.tenantPage, false)
	if !ok {
		return badCursor(paramTenantPage)
	}
	var sums []record.Summary
	next := ""
	if len(v.filter.TenantIDs) > 0 {
		var err error
		if sums, err = r.SummariesOf(ctx, v.filter.TenantIDs); err != nil {
			return fmt.Errorf("read the tenants' summaries: %w", err)
		}
		d.TenantCount, cur = len(sums), cursor{}
	} else {
		page, err := r.TenantSummaries(ctx, record.Page{Size: TenantsPerPage, Token: cur.token})
		if err != nil {
			return fmt.Errorf("read the tenants' summaries: %w", err)
		}
		sums, next = page.Summaries, page.Next
		d.TenantCount = max(d.TenantCount, cur.offset+len(sums))
	}
	for _, s := range sums {
		row := tenantRow{TenantID: s.TenantID, Href: l.dashboard([]string{s.TenantID}, nil, "", "")}
		for _, st := range pal.Statuses {
			n := s.Counts[st]
			if len(v.filter.Statuses) > 0 && !slices.Contains(v.filter.Statuses, st) {
				n = 0
			}
			cell := countCell{Count: n}
			if n > 0 {
				cell.Href = l.dashboard([]string{s.TenantID}, []pal.Status{st}, "", "")
			}
			row.Total += n
			row.Counts = append(row.Counts, cell)
		}
		d.Tenants = append(d.Tenants, row)
	}
	d.TenantPager = pagerOf(cur.offset, len(sums), d.TenantCount, TenantsPerPage)
	if cur.offset > 0 {
		d.TenantPager.FirstHref = l.dashboard(nil, nil, v.page, "")
	}
	if next != "" {
		d.TenantPager.NextHref = l.dashboard(nil, nil, v.page, cursor{offset: cur.offset + len(sums), token: next}.String())
	}
	return nil
}

// notAttributed are the statuses the dashboard lists first.
func notAttributed() []pal.Status {
	return slices.DeleteFunc(slices.Clone(pal.Statuses), func(s pal.Status) bool { return s == pal.StatusAttributed })
}

// loadList fills the list: one page (SubscriptionsPerPage) of the
// subscriptions of the status filter, or of those not attributed and then
// of the attributed ones.
func loadList(ctx context.Context, r Reader, v view, l linker, counts map[pal.Status]int, d *dashboardData) error {
	cur, ok := parseCursor(v.page, true)
	if !ok {
		return badCursor(paramPage)
	}
	filtered := len(v.filter.Statuses) > 0
	switch {
	case cur.phase == "" && filtered:
		cur.phase = phaseFiltered
	case cur.phase == "":
		cur.phase = phaseNot
	case (cur.phase == phaseFiltered) != filtered:
		return badCursor(paramPage)
	}
	f := record.Filter{TenantIDs: v.filter.TenantIDs, Statuses: v.filter.Statuses}
	d.ListTitle = "Subscriptions"
	switch cur.phase {
	case phaseNot:
		f.Statuses, d.ListTitle = notAttributed(), "Not attributed"
	case phaseAttrib:
		f.Statuses, d.ListTitle = []pal.Status{pal.StatusAttributed}, "Attributed"
	}
	for _, s := range f.Statuses {
		d.ListTotal += counts[s]
	}
	page, err := r.PageVerdicts(ctx, f, record.Page{Size: SubscriptionsPerPage, Token: cur.token})
	if err != nil {
		return fmt.Errorf("read the verdicts: %w", err)
	}
	for _, vd := range page.Verdicts {
		s := subscriptionOf(vd)
		d.List = append(d.List, subscriptionRow{
			TenantID: s.TenantID, SubscriptionID: s.SubscriptionID, DisplayName: s.DisplayName, Status: s.Status,
			Detail: s.Detail, Since: formatTime(s.Since), Roles: joinRoles(s.Roles),
			TenantHref: l.dashboard([]string{s.TenantID}, nil, "", ""),
		})
	}
	d.ListTotal = max(d.ListTotal, cur.offset+len(page.Verdicts))
	d.ListPager = pagerOf(cur.offset, len(page.Verdicts), d.ListTotal, SubscriptionsPerPage)
	if cur.offset > 0 {
		d.ListPager.FirstHref = l.dashboard(nil, nil, cursor{phase: cur.phase}.String(), v.tenantPage)
	}
	switch {
	case page.Next != "":
		d.ListPager.NextHref = l.dashboard(nil, nil, cursor{phase: cur.phase, offset: cur.offset + len(page.Verdicts), token: page.Next}.String(), v.tenantPage)
	case cur.phase == phaseNot && counts[pal.StatusAttributed] > 0:
		d.AttributedHref = l.dashboard(nil, nil, cursor{phase: phaseAttrib}.String(), v.tenantPage)
	}
	if cur.phase == phaseAttrib {
		d.NotAttributedHref = l.dashboard(nil, nil, "", v.tenantPage)
	}
	return nil
}

// pagerOf describes rows offset+1 … offset+n of total, per to a page.
func pagerOf(offset, n, total, per int) pager {
	p := pager{Page: offset/per + 1, Pages: max(1, (total+per-1)/per), FirstShown: offset + 1, LastShown: offset + n}
	if n == 0 {
		p.FirstShown = 0
	}
	p.Pages = max(p.Pages, p.Page)
	return p
}

// nonNil returns s, or an empty non-nil slice (an empty filter, not "keep").
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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
