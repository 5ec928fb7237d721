package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// MaxChanges is how many changes the report carries, newest first.
const MaxChanges = 200

// changeWindow is how many changes are read when a filter may drop some.
const changeWindow = 5000

// Report is the body of GET /api/report.
type Report struct {
	GeneratedAt   time.Time          `json:"generatedAt"`
	LastSweep     *Sweep             `json:"lastSweep"`
	Summary       map[pal.Status]int `json:"summary"`
	Subscriptions []Subscription     `json:"subscriptions"`
	Changes       []Change           `json:"changes"`
}

// Sweep is the last sweep run as the report shows it.
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

// BuildReport reads the record through r and assembles the report for f:
// the matching verdicts, their summary, the last sweep and the newest
// changes (at most limit) of the matching tenants whose new status matches.
func BuildReport(ctx context.Context, r Reader, f record.Filter, limit int, now time.Time) (*Report, error) {
	verdicts, err := r.Verdicts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("read the verdicts: %w", err)
	}
	window := limit
	if len(f.TenantIDs) > 0 || len(f.Statuses) > 0 {
		window = max(limit, changeWindow)
	}
	changes, err := r.Changes(ctx, window)
	if err != nil {
		return nil, fmt.Errorf("read the changes: %w", err)
	}
	run, err := r.LastRun(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the last sweep: %w", err)
	}
	rep := &Report{
		GeneratedAt:   now.UTC(),
		LastSweep:     sweepOf(run),
		Summary:       pal.NewSummary(),
		Subscriptions: make([]Subscription, 0, len(verdicts)),
		Changes:       []Change{},
	}
	for _, v := range verdicts {
		if !matches(f, v.TenantID, v.Status) {
			continue // the store filters; this keeps a lax one honest
		}
		roles := v.Roles
		if roles == nil {
			roles = []string{}
		}
		rep.Subscriptions = append(rep.Subscriptions, Subscription{
			TenantID: v.TenantID, SubscriptionID: v.SubscriptionID, DisplayName: v.DisplayName,
			Status: v.Status, Roles: roles, Detail: v.Detail, CheckedAt: v.CheckedAt.UTC(), Since: v.Since.UTC(),
		})
		rep.Summary[v.Status]++
	}
	slices.SortStableFunc(rep.Subscriptions, func(a, b Subscription) int {
		if a.TenantID != b.TenantID {
			return strings.Compare(a.TenantID, b.TenantID)
		}
		return strings.Compare(a.SubscriptionID, b.SubscriptionID)
	})
	for _, c := range changes {
		if len(rep.Changes) == limit {
			break
		}
		if !matches(f, c.TenantID, c.To) {
			continue
		}
		rep.Changes = append(rep.Changes, Change{
			TenantID: c.TenantID, SubscriptionID: c.SubscriptionID, From: c.From, To: c.To, At: c.At.UTC(), Detail: c.Detail,
		})
	}
	return rep, nil
}

// matches reports whether a subscription of tenant with status passes f.
func matches(f record.Filter, tenant string, status pal.Status) bool {
	if len(f.TenantIDs) > 0 && !slices.Contains(f.TenantIDs, tenant) {
		return false
	}
	return len(f.Statuses) == 0 || slices.Contains(f.Statuses, status)
}

// sweepOf converts the last run; nil stays nil.
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
