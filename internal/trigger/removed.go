package trigger

import (
	"context"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// goneConfirmer is an Engine that can confirm the subscriptions a complete
// sweep no longer listed ([pal.Engine.ConfirmGone], [pal.DirectEngine.ConfirmGone]).
type goneConfirmer interface {
	ConfirmGone(ctx context.Context, log *zerolog.Logger, link pal.LinkResult, gone []pal.Subscription) []pal.SubscriptionResult
}

// confirmedStatuses are the recorded statuses a subscription missing from a
// complete listing is confirmed from: not-delegated is already as lost as it
// gets (and error verdicts are never recorded).
func confirmedStatuses() []pal.Status {
	return []pal.Status{pal.StatusAttributed, pal.StatusIneligibleRole, pal.StatusUnlinked, pal.StatusUnverifiable}
}

// verdictLister reads the record's verdicts (record.Store does).
type verdictLister interface {
	Verdicts(ctx context.Context, f record.Filter) ([]record.Verdict, error)
}

// goneSubscriptions returns the subscriptions of the record (outside the
// managing tenant, not already not-delegated) that are not in listed.
func goneSubscriptions(ctx context.Context, store verdictLister, managing string, listed func(id string) bool) ([]pal.Subscription, error) {
	vs, err := store.Verdicts(ctx, record.Filter{Statuses: confirmedStatuses()})
	if err != nil {
		return nil, err
	}
	var gone []pal.Subscription
	for _, v := range vs {
		if listed(strings.ToLower(v.SubscriptionID)) || (managing != "" && strings.EqualFold(v.TenantID, managing)) {
			continue
		}
		gone = append(gone, pal.Subscription{ID: v.SubscriptionID, TenantID: v.TenantID, DisplayName: v.DisplayName})
	}
	return gone, nil
}

// confirmGone runs after a sweep whose listing completed and whose every
// subscription was judged (err nil): the record's subscriptions it did not
// list are read once each and recorded as the engine judges them (a drift
// line for each that leaves attributed), and res counts them. An engine that
// cannot confirm, or a recording without a store, does nothing. A record
// that cannot be read confirms nothing (logged; the next sweep does it); a
// failed write is returned, as any verdict's.
func (s *sweepRecording) confirmGone(ctx context.Context, engine Engine, res *pal.Result) error {
	c, ok := engine.(goneConfirmer)
	if !ok || s.rec == nil || s.rec.store == nil || res == nil {
		return nil
	}
	gone, err := goneSubscriptions(ctx, s.rec.store, res.Principal.TenantID, func(id string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.seen[id]
	})
	if err != nil {
		logUnconfirmed(s.log, err)
		return nil
	}
	if len(gone) == 0 {
		return nil
	}
	results := c.ConfirmGone(ctx, s.log, res.Link, gone)
	// Saved as the sweep saves its verdicts: one SaveAll per tenant, under
	// that tenant's link (direct mode has one each).
	byTenant := map[string][]pal.SubscriptionResult{}
	var tenants []string
	lost := 0
	for _, v := range results {
		if v.Status == pal.StatusNotDelegated {
			lost++
		}
		t := strings.ToLower(v.TenantID)
		if _, ok := byTenant[t]; !ok {
			tenants = append(tenants, t)
		}
		byTenant[t] = append(byTenant[t], v)
	}
	for _, t := range tenants {
		if err := saveVerdicts(ctx, s.log, s.rec.store, s.rec.by, s.rec.now(), linkOf(res, t), byTenant[t]); err != nil {
			return err
		}
	}
	s.mu.Lock()
	for _, v := range results {
		s.counts[v.Status]++
	}
	s.mu.Unlock()
	res.AddSwept(results)
	s.log.Info().Int("not_listed", len(gone)).Int("no_longer_visible", lost).Msg("subscriptions no longer listed were confirmed")
	return nil
}

// linkOf is the link res judged tenantID's subscriptions under: the tenant's
// own in direct mode, else the one link.
func linkOf(res *pal.Result, tenantID string) pal.LinkResult {
	for _, l := range res.Links {
		if strings.EqualFold(l.TenantID, tenantID) {
			return l.LinkResult
		}
	}
	return res.Link
}

// confirmGoneFanout is the coordinator's confirmation after it listed the
// whole estate and sent every work item: the record's subscriptions the
// listing did not hold are read here, in the coordinator (they are few: only
// what disappeared since the last sweep; at most the engine's concurrency at
// once, within the coordinator's budget), saved by the one rule
// (saveVerdicts, CheckedBy sweep) and counted into the run's summary by the
// returned tally. A read cut short by the budget is an error verdict, not
// recorded: the next sweep confirms it. An engine or record that cannot
// confirm does nothing, and a record that fails to be read or written
// confirms nothing (logged): the coordinator does not fail for it.
func confirmGoneFanout(ctx context.Context, log *zerolog.Logger, engine FanoutEngine, rec runRecord, now time.Time,
	principal pal.Principal, link pal.LinkResult, listed map[string]bool) map[pal.Status]int {
	c, ok := engine.(goneConfirmer)
	store, canList := rec.(verdictLister)
	if !ok || !canList {
		return nil
	}
	gone, err := goneSubscriptions(ctx, store, principal.TenantID, func(id string) bool { return listed[id] })
	if err != nil {
		logUnconfirmed(log, err)
		return nil
	}
	if len(gone) == 0 {
		return nil
	}
	results := c.ConfirmGone(ctx, log, link, gone)
	if err := saveVerdicts(ctx, log, rec, SweepFunction, now, link, results); err != nil {
		// The work items are out and will be judged: the coordinator does not
		// fail for what the next sweep confirms again.
		logUnconfirmed(log, err)
		return nil
	}
	tally := map[pal.Status]int{}
	for _, v := range results {
		tally[v.Status]++
	}
	log.Info().Int("not_listed", len(gone)).Int("no_longer_visible", tally[pal.StatusNotDelegated]).
		Msg("subscriptions no longer listed were confirmed")
	return tally
}

// logUnconfirmed says that the subscriptions no longer listed were left for
// the next sweep because the record failed.
func logUnconfirmed(log *zerolog.Logger, err error) {
	log.Warn().Str("error", outcome.PublicMessage(err)).
		Msg("the subscriptions no longer listed could not be confirmed (the compliance record failed); the next sweep confirms them")
}
