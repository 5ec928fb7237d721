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

// Store is the compliance record.
type Store interface {
	// Save upserts v as the subscription's latest verdict. When its status
	// differs from the stored one (or none was stored) it sets v.Since to
	// v.CheckedAt, appends a change row and returns it; otherwise it keeps the
	// stored Since and returns nil. A verdict checked before the stored one is
	// not applied (nil, nil): the record keeps the latest judgement. Under
	// concurrent Saves of one subscription, each change of status is appended
	// exactly once.
	Save(ctx context.Context, v Verdict) (*Change, error)
	// SaveAll saves vs as Save saves each of them, in their order, and
	// returns the change of each (changes[i] belongs to vs[i], nil when its
	// status did not change or it was not applied). It writes the verdicts
	// of one tenant together: in Table Storage one transaction per 50
	// verdicts, all or nothing. Every verdict is checked before anything is
	// written. On an error some chunks may have been saved, never part of
	// one; saving the same verdicts again is harmless.
	SaveAll(ctx context.Context, vs []Verdict) ([]*Change, error)
	// Verdicts returns the verdicts that match f, sorted by tenant, then subscription.
	Verdicts(ctx context.Context, f Filter) ([]Verdict, error)
	// Changes returns the newest changes first, at most limit (limit < 1: all).
	Changes(ctx context.Context, limit int) ([]Change, error)
	// StartRun stores a new run.
	StartRun(ctx context.Context, r Run) error
	// UpdateRun applies fn to the stored run id atomically (optimistic
	// concurrency; fn may be called more than once) and returns the result.
	UpdateRun(ctx context.Context, id string, fn func(*Run)) (*Run, error)
	// LastRun returns the most recently started run, or nil when there is none.
	LastRun(ctx context.Context) (*Run, error)
}
