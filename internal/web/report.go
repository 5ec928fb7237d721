package web

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Report paging.
const (
	// MaxChanges is how many changes the report's first page carries, newest first.
	MaxChanges = 200
	// DefaultPageSize and MaxPageSize bound the report's JSON page
	// (pageSize): at most one query page of the record.
	DefaultPageSize = 500
	MaxPageSize     = record.MaxPageSize
	// DefaultCSVRows and MaxCSVRows bound one CSV answer: the custom-handler
	// protocol carries a whole body in one JSON answer, so the CSV is paged
	// too (a Link header to the next part).
	DefaultCSVRows = 10 * record.MaxPageSize
	MaxCSVRows     = DefaultCSVRows
	// DefaultRuns and MaxRuns bound view=runs (limit).
	DefaultRuns = 30
	MaxRuns     = record.MaxRuns
)

// changeWindow is how many of the newest changes are read when a status
// filter may drop some: one query page.
const changeWindow = record.MaxPageSize

// Report is the body of GET /api/report: one page.
type Report struct {
	GeneratedAt time.Time `json:"generatedAt"`
	LastSweep   *Sweep    `json:"lastSweep"`
	// Summary counts the filter's subscriptions by status; SummaryAt is when
	// those counts were taken (the last sweep's end for the whole estate).
	Summary       map[pal.Status]int `json:"summary"`
	SummaryAt     *time.Time         `json:"summaryAt"`
	Subscriptions []Subscription     `json:"subscriptions"`
	PageSize      int                `json:"pageSize"`
	// Continuation is the token of the next page (null after the last).
	Continuation *string `json:"continuation"`
	// Changes are on the first page only.
	Changes []Change `json:"changes"`
}

// Sweep is a sweep run as the report shows it.
type Sweep struct {
	RunID     string    `json:"runId"`
	StartedAt time.Time `json:"startedAt"`
	// FinishedAt is null while the sweep runs.
	FinishedAt *time.Time         `json:"finishedAt"`
	Outcome    string             `json:"outcome"`
	Summary    map[pal.Status]int `json:"summary"`
	// Detail says why a sweep is partial or failed.
	Detail string `json:"detail,omitempty"`
	// Work items of a distributed sweep (absent for an in-process sweep):
	// sent by the coordinator, judged, and failed (dead-lettered).
	ItemsSent   int `json:"itemsSent,omitempty"`
	ItemsDone   int `json:"itemsDone,omitempty"`
	ItemsFailed int `json:"itemsFailed,omitempty"`
	// SubscriptionsSent counts the subscriptions of the items sent.
	SubscriptionsSent int `json:"subscriptionsSent,omitempty"`
	// NotJudged, for a run closed other than by its last item (its
	// coordinator stopped, or its listing failed): the subscriptions of the
	// record it had not judged then.
	NotJudged int `json:"notJudged,omitempty"`
	// ClosedRunID is the earlier sweep this one closed because that sweep's
	// coordinator had stopped; ClosedNotJudged is how many subscriptions that
	// sweep did not judge.
	ClosedRunID     string `json:"closedRunId,omitempty"`
	ClosedNotJudged int    `json:"closedNotJudged,omitempty"`
}

// Runs is the body of GET /api/report?view=runs: the last runs, newest first.
type Runs struct {
	GeneratedAt time.Time `json:"generatedAt"`
	Runs        []Sweep   `json:"runs"`
}

// Subscription is one verdict as the report shows it.
type Subscription struct {
	TenantID       string     `json:"tenantId"`
	SubscriptionID string     `json:"subscriptionId"`
	DisplayName    string     `json:"displayName"`
	Status         pal.Status `json:"status"`
	Roles          []string   `json:"roles"`
	Detail         string     `json:"detail"`
	CheckedAt      time.Time  `json:"checkedAt"`
	Since          time.Time  `json:"since"`
}

// Change is one change of status as the report shows it. From is "" the
// first time a subscription was judged.
type Change struct {
	TenantID       string     `json:"tenantId"`
	SubscriptionID string     `json:"subscriptionId"`
	From           pal.Status `json:"from"`
	To             pal.Status `json:"to"`
	At             time.Time  `json:"at"`
	Detail         string     `json:"detail"`
}

// BuildReport reads one page of the report for v: the page of verdicts, the
// filter's summary, the last sweep and, on the first page, the newest
// changes (at most limit) of the filter. It reads a bounded number of rows.
func BuildReport(ctx context.Context, r Reader, v view, limit int, now time.Time) (*Report, error) {
	page, err := r.PageVerdicts(ctx, v.filter, record.Page{Size: v.pageSize, Token: v.token})
	if err != nil {
		return nil, fmt.Errorf("read the verdicts: %w", err)
	}
	run, err := r.LastRun(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the last sweep: %w", err)
	}
	sum, at, _, err := summaryOf(ctx, r, v.filter, now)
	if err != nil {
		return nil, err
	}
	rep := &Report{GeneratedAt: now.UTC(), LastSweep: sweepOf(run), Summary: sum, SummaryAt: at,
		Subscriptions: make([]Subscription, 0, len(page.Verdicts)), PageSize: v.pageSize, Changes: []Change{}}
	if page.Next != "" {
		rep.Continuation = &page.Next
	}
	for _, s := range page.Verdicts {
		if matches(v.filter, s.TenantID, s.Status) { // the store filters; this keeps a lax one honest
			rep.Subscriptions = append(rep.Subscriptions, subscriptionOf(s))
		}
	}
	if v.token == "" {
		if rep.Changes, err = changesOf(ctx, r, v.filter, limit); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// subscriptionOf is a verdict as the report shows it.
func subscriptionOf(v record.Verdict) Subscription {
	roles := v.Roles
	if roles == nil {
		roles = []string{}
	}
	return Subscription{TenantID: v.TenantID, SubscriptionID: v.SubscriptionID, DisplayName: v.DisplayName,
		Status: v.Status, Roles: roles, Detail: v.Detail, CheckedAt: v.CheckedAt.UTC(), Since: v.Since.UTC()}
}

// summaryOf counts f's subscriptions by status, and their tenants: for the
// whole estate the totals of the last sweep (record.Estate, at their time;
// summed from the tenant summaries before the first sweep), for a tenant
// filter those tenants' current summaries (at now). A status filter keeps
// its statuses.
func summaryOf(ctx context.Context, r Reader, f record.Filter, now time.Time) (map[pal.Status]int, *time.Time, int, error) {
	counts := pal.NewSummary()
	at := now.UTC()
	tenants := 0
	if len(f.TenantIDs) > 0 {
		sums, err := r.SummariesOf(ctx, f.TenantIDs)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("read the tenants' summaries: %w", err)
		}
		for _, s := range sums {
			for k, n := range s.Counts {
				counts[k] += n
			}
		}
		tenants = len(sums)
	} else {
		est, err := r.Estate(ctx)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("read the estate's totals: %w", err)
		}
		if est != nil {
			at, tenants = est.At.UTC(), est.Tenants
			for k, n := range est.Counts {
				counts[k] += n
			}
		} else if tenants, err = sumTenants(ctx, r, counts); err != nil {
			return nil, nil, 0, err
		}
	}
	if len(f.Statuses) > 0 {
		for k := range counts {
			if !slices.Contains(f.Statuses, k) {
				counts[k] = 0
			}
		}
	}
	return counts, &at, tenants, nil
}

// sumTenants adds every tenant summary to counts and returns the number of
// tenants: before the first sweep there are no estate totals yet.
func sumTenants(ctx context.Context, r Reader, counts map[pal.Status]int) (int, error) {
	p, tenants := record.Page{}, 0
	for {
		page, err := r.TenantSummaries(ctx, p)
		if err != nil {
			return 0, fmt.Errorf("read the tenants' summaries: %w", err)
		}
		for _, s := range page.Summaries {
			for k, n := range s.Counts {
				counts[k] += n
			}
		}
		tenants += len(page.Summaries)
		if page.Next == "" {
			return tenants, nil
		}
		p.Token = page.Next
	}
}

// changesOf returns the newest changes of f, at most limit: across tenants
// from the record's index (the newest changeWindow when a status filter may
// drop some), or the changes of each filtered tenant, merged.
func changesOf(ctx context.Context, r Reader, f record.Filter, limit int) ([]Change, error) {
	window := limit
	if len(f.Statuses) > 0 {
		window = max(limit, changeWindow)
	}
	var cs []record.Change
	if len(f.TenantIDs) == 0 {
		var err error
		if cs, err = r.Changes(ctx, window); err != nil {
			return nil, fmt.Errorf("read the changes: %w", err)
		}
	} else {
		for _, t := range f.TenantIDs {
			tc, err := r.TenantChanges(ctx, t, window)
			if err != nil {
				return nil, fmt.Errorf("read the changes of tenant %s: %w", t, err)
			}
			cs = append(cs, tc...)
		}
		slices.SortStableFunc(cs, func(a, b record.Change) int {
			return cmp.Or(b.At.Compare(a.At), strings.Compare(a.TenantID, b.TenantID))
		})
	}
	out := []Change{}
	for _, c := range cs {
		if len(out) == limit {
			break
		}
		if matches(f, c.TenantID, c.To) {
			out = append(out, Change{TenantID: c.TenantID, SubscriptionID: c.SubscriptionID, From: c.From, To: c.To, At: c.At.UTC(), Detail: c.Detail})
		}
	}
	return out, nil
}

// BuildRuns reads the last n runs.
func BuildRuns(ctx context.Context, r Reader, n int, now time.Time) (*Runs, error) {
	runs, err := r.Runs(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("read the runs: %w", err)
	}
	out := &Runs{GeneratedAt: now.UTC(), Runs: make([]Sweep, 0, len(runs))}
	for i := range runs {
		out.Runs = append(out.Runs, *sweepOf(&runs[i]))
	}
	return out, nil
}

// matches reports whether a subscription of tenant with status passes f.
func matches(f record.Filter, tenant string, status pal.Status) bool {
	if len(f.TenantIDs) > 0 && !slices.Contains(f.TenantIDs, tenant) {
		return false
	}
	return len(f.Statuses) == 0 || slices.Contains(f.Statuses, status)
}

// sweepOf converts a run; nil stays nil.
func sweepOf(r *record.Run) *Sweep {
	if r == nil {
		return nil
	}
	s := &Sweep{RunID: r.ID, StartedAt: r.StartedAt.UTC(), Outcome: r.Outcome, Summary: pal.NewSummary(), Detail: r.Detail,
		ItemsSent: r.ItemsSent, ItemsDone: r.ItemsDone, ItemsFailed: r.ItemsFailed,
		SubscriptionsSent: r.SubscriptionsSent, NotJudged: r.NotJudged,
		ClosedRunID: r.ClosedRunID, ClosedNotJudged: r.ClosedNotJudged}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt.UTC()
		s.FinishedAt = &t
	}
	for k, n := range r.Summary {
		s.Summary[k] = n
	}
	return s
}

// withKey returns a relative link to path with q and, when set, the caller's key.
func withKey(path string, q url.Values, key string) string {
	if key != "" {
		q.Set(paramCode, key)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
