// Package record is the compliance record of pal-keeper: the latest verdict on
// every judged subscription, the changes of status over time, and the sweep
// runs. Adapters keep it in memory (workstation, sandbox) or in Azure Table
// Storage (the function app's storage account).
package record

import (
	"context"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Verdict is the latest judgement of one subscription.
type Verdict struct {
	TenantID       string
	SubscriptionID string
	DisplayName    string
	Status         pal.Status
	Roles          []string
	Detail         string
	// LinkPartnerID and LinkAction describe the partner link at the time of
	// the judgement.
	LinkPartnerID string
	LinkAction    pal.LinkAction
	CheckedAt     time.Time
	// CheckedBy is the function (or CLI command) that judged it.
	CheckedBy string
	// Since is when the current status began; Save sets it.
	Since time.Time
}

// Change is one change of a subscription's status. From is "" the first time a
// subscription is judged.
type Change struct {
	TenantID       string
	SubscriptionID string
	From           pal.Status
	To             pal.Status
	At             time.Time
	Detail         string
}

// LostAttribution reports whether the change took a subscription out of
// attributed: the drift that must be alerted.
func (c Change) LostAttribution() bool {
	return c.From == pal.StatusAttributed && c.To != pal.StatusAttributed
}

// Run outcomes.
const (
	// OutcomeRunning: the sweep has not finished yet.
	OutcomeRunning = "running"
	// OutcomeComplete: every subscription (every work item) was accounted for.
	OutcomeComplete = "complete"
	// OutcomePartial: the sweep ended with subscriptions unjudged (its budget
	// ran out, or work items failed).
	OutcomePartial = "partial"
	// OutcomeFailed: the sweep could not run (no link, no subscription list).
	OutcomeFailed = "failed"
)

// Run is one sweep.
type Run struct {
	ID        string
	StartedAt time.Time
	// FinishedAt is zero while the run is running.
	FinishedAt time.Time
	Outcome    string
	Summary    map[pal.Status]int
	// Work items of a distributed sweep: sent by the coordinator, judged
	// (done) or dead-lettered (failed) by the workers.
	ItemsSent   int
	ItemsDone   int
	ItemsFailed int
	// SubscriptionsSent counts the subscriptions of the items sent. The
	// coordinator records both after each batched send.
	SubscriptionsSent int
	// Listed says the coordinator listed every subscription and sent every
	// item: ItemsSent is final, and the run can end when they are counted.
	Listed bool
	// NotJudged is set when a run is closed other than by its last item (its
	// coordinator stopped, or its listing failed): how many subscriptions of
	// the record this run had not judged then — never sent, or in items not
	// counted done.
	NotJudged int
	// ClosedRunID and ClosedNotJudged name the earlier run this run's
	// coordinator closed because its own coordinator had stopped, and that
	// run's NotJudged: the report shows them with this run.
	ClosedRunID     string
	ClosedNotJudged int
	// Detail says why a run is partial or failed (public text, no secret).
	Detail string
	// Counted is the bitmap of the work items counted in ItemsDone or
	// ItemsFailed (see CountItem).
	Counted []byte
}

// Filter selects verdicts; empty fields select everything.
type Filter struct {
	TenantIDs []string
	Statuses  []pal.Status
}

// Paging and filter bounds, the same for every store.
const (
	// MaxPageSize is the most verdicts (or tenant summaries) one page holds:
	// one Table Storage query page.
	MaxPageSize = 1000
	// MaxFilterTenants is the most tenants a [Filter] may name: a page of a
	// filtered view then costs at most a few queries of at most 15
	// comparisons each.
	MaxFilterTenants = 50
)

// Page asks for one page: at most Size rows (0 or more than MaxPageSize:
// MaxPageSize) after the page whose Next was Token ("" is the first page).
type Page struct {
	Size  int
	Token string
}

// VerdictPage is one page of verdicts, sorted by tenant, then subscription.
// Next is the token of the following page, "" after the last.
type VerdictPage struct {
	Verdicts []Verdict
	Next     string
}

// Summary counts the verdicts of one tenant, or of the estate, by status.
type Summary struct {
	// TenantID is "" for the estate.
	TenantID string
	Counts   map[pal.Status]int
	// Tenants is the estate's number of tenants (0 for a tenant).
	Tenants int
	// Version of a tenant's summary grows by one with every change of its
	// counts (0 for the estate).
	Version int
	// At is when a tenant's counts last changed, or when the estate's
	// totals were computed.
	At time.Time
}

// Total is the sum of the counts.
func (s Summary) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// SummaryPage is one page of tenant summaries, sorted by tenant. Next is the
// token of the following page, "" after the last.
type SummaryPage struct {
	Summaries []Summary
	Next      string
}

// Store is the compliance record.
type Store interface {
	// Save upserts v as the subscription's latest verdict. When its status
	// differs from the stored one (or none was stored) it sets v.Since to
	// v.CheckedAt, appends a change row and returns it; otherwise it keeps the
	// stored Since and returns nil. A verdict checked before the stored one is
	// not applied (nil, nil): the record keeps the latest judgement. Under
	// concurrent Saves of one subscription, each change of status is appended
	// exactly once. The tenant's summary changes with its verdicts.
	Save(ctx context.Context, v Verdict) (*Change, error)
	// SaveAll saves vs as Save saves each of them, in their order, and
	// returns the change of each (changes[i] belongs to vs[i], nil when its
	// status did not change or it was not applied). It writes the verdicts
	// of one tenant together: in Table Storage one transaction per 49
	// verdicts, all or nothing, with the tenant's summary. Every verdict is
	// checked before anything is written. On an error some chunks may have
	// been saved, never part of one; saving the same verdicts again is
	// harmless.
	SaveAll(ctx context.Context, vs []Verdict) ([]*Change, error)
	// Verdicts returns every verdict that matches f, sorted by tenant, then
	// subscription. It reads the whole estate: views use PageVerdicts.
	Verdicts(ctx context.Context, f Filter) ([]Verdict, error)
	// PageVerdicts returns one page of the verdicts that match f, in the
	// order of Verdicts. A token that is not one of this filter's is
	// CodeInvalidInput; a filter naming more than MaxFilterTenants tenants too.
	PageVerdicts(ctx context.Context, f Filter, p Page) (*VerdictPage, error)
	// TenantSummaries returns one page of the tenants' summaries, sorted by
	// tenant: the current counts of every tenant with a verdict.
	TenantSummaries(ctx context.Context, p Page) (*SummaryPage, error)
	// SummariesOf returns the summaries of tenants (at most
	// MaxFilterTenants), sorted by tenant; a tenant without verdicts has none.
	SummariesOf(ctx context.Context, tenants []string) ([]Summary, error)
	// Estate returns the estate's totals as last computed by RefreshEstate
	// (nil before the first): verdicts saved since are not in them.
	Estate(ctx context.Context) (*Summary, error)
	// RefreshEstate computes the estate's totals from the tenant summaries,
	// stores them marked with at and returns them.
	RefreshEstate(ctx context.Context, at time.Time) (*Summary, error)
	// Changes returns the newest changes first across tenants, at most limit
	// (limit < 1: all).
	Changes(ctx context.Context, limit int) ([]Change, error)
	// TenantChanges returns the newest changes of one tenant first, at most
	// limit (limit < 1: all).
	TenantChanges(ctx context.Context, tenant string, limit int) ([]Change, error)
	// StartRun stores a new run.
	StartRun(ctx context.Context, r Run) error
	// UpdateRun applies fn to the stored run id atomically (optimistic
	// concurrency; fn may be called more than once) and returns the result.
	UpdateRun(ctx context.Context, id string, fn func(*Run)) (*Run, error)
	// LastRun returns the most recently started run, or nil when there is none.
	LastRun(ctx context.Context) (*Run, error)
	// Runs returns the most recently started runs, newest first, at most n
	// (1 to MaxRuns; other values: MaxRuns).
	Runs(ctx context.Context, n int) ([]Run, error)
	// Prune removes the changes and runs older than before (in Table
	// Storage with their index rows), at most limit of them, oldest first,
	// and returns how many it removed. Verdicts and summaries are never
	// removed.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// MaxRuns is the most runs [Store.Runs] returns.
const MaxRuns = 100
