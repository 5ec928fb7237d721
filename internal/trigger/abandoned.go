package trigger

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// No run of a distributed sweep stays running for ever. The coordinator
// records its progress after each batched send (recordProgress), writes the
// end of its listing with a retry of its own (persistRun), and the next
// coordinator closes a run whose coordinator stopped before it had listed
// everything (closeAbandoned). Timer invocations of one function never
// overlap (docs/reference.md, "Timer trigger"), so a run still unlisted when
// the next timer fires has lost its coordinator.

// coordinatorRunID matches the run IDs the coordinator gives (newRunID):
// runs of the in-process sweep and of `handler sweep` are never closed here.
// Compiled on first use: no regexp is compiled at package init.
var coordinatorRunID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$`)
})

// Bounds of the run writes made outside the SDK's short retry.
const (
	// progressTimeout bounds one progress write (the SDK's own retry inside).
	progressTimeout = 10 * time.Second
	// persistFirstDelay and persistMaxDelay space the attempts of a run write
	// that must not be lost, within recordTimeout.
	persistFirstDelay = time.Second
	persistMaxDelay   = 5 * time.Second
)

// persistRun applies fn to run id like updateRun, but retries transient
// failures on its own context for recordTimeout (30 s) — far longer than
// the record's SDK retry (about 1.5 s): the write that ends a coordinator's
// listing, or fails its run, survives a short storage outage.
func persistRun(ctx context.Context, log *zerolog.Logger, rec runRecord, id string, fn func(*record.Run)) (*record.Run, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	delay := persistFirstDelay
	for attempt := 1; ; attempt++ {
		run, err := rec.UpdateRun(rctx, id, fn)
		if err == nil || pal.ErrorCodeOf(err) != pal.CodeTransient {
			return run, err
		}
		log.Warn().Str("error", outcome.PublicMessage(err)).Int("attempt", attempt).Dur("delay", delay).
			Msg("the run could not be written; trying again")
		t := time.NewTimer(delay)
		select {
		case <-rctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		delay = min(2*delay, persistMaxDelay)
	}
}

// recordProgress writes what the coordinator has sent so far. A failure is
// logged, not fatal: the next progress write or the final one (persistRun)
// carries the counts, and the work items already sent are judged and counted
// meanwhile.
func recordProgress(ctx context.Context, log *zerolog.Logger, rec runRecord, id string, items, subs int) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressTimeout)
	defer cancel()
	if _, err := rec.UpdateRun(pctx, id, func(r *record.Run) {
		r.ItemsSent, r.SubscriptionsSent = max(r.ItemsSent, items), max(r.SubscriptionsSent, subs)
	}); err != nil {
		log.Warn().Str("error", outcome.PublicMessage(err)).Int("items_sent", items).
			Msg("the sweep's progress could not be recorded; the final write will carry it")
	}
}

// abandoned reports whether prev, the last run before this coordinator's,
// lost its coordinator: a distributed run still running and not listed
// (its coordinator stopped mid-listing), or listed but still not accounted
// for after maxAge (its items can no longer be counted: their retry chains
// have given up).
func abandoned(prev *record.Run, now time.Time, maxAge time.Duration) bool {
	if prev == nil || prev.Outcome != record.OutcomeRunning || !coordinatorRunID().MatchString(prev.ID) {
		return false
	}
	return !prev.Listed || now.Sub(prev.StartedAt) > maxAge
}

// closeAbandoned ends run id, whose coordinator stopped, once this
// coordinator has listed the estate (listed subscriptions): partial when
// some of its items were judged, failed when none, with the reason, and
// NotJudged = the listed subscriptions it did not judge (never sent, or in
// items not counted done) — and notes it in this coordinator's run (by):
// ClosedRunID and ClosedNotJudged, which the report shows with the last
// sweep. A run that ended meanwhile is left as it is.
func closeAbandoned(ctx context.Context, log *zerolog.Logger, rec runRecord, id, by string, listed int, now time.Time) {
	noteClosed(ctx, log, rec, by, closeRun(ctx, log, rec, id, by, listed, now))
}

// closeRun is closeAbandoned's write to the abandoned run; it returns the
// run when this call closed it.
func closeRun(ctx context.Context, log *zerolog.Logger, rec runRecord, id, by string, listed int, now time.Time) *record.Run {
	var closed bool
	run, err := persistRun(ctx, log, rec, id, func(r *record.Run) {
		closed = false
		if r.Outcome != record.OutcomeRunning {
			return
		}
		closed = true
		judged := 0
		for s, n := range r.Summary {
			if s != pal.StatusError {
				judged += n
			}
		}
		r.NotJudged = max(0, listed-judged)
		r.Outcome = record.OutcomePartial
		if r.ItemsDone == 0 {
			r.Outcome = record.OutcomeFailed
		}
		why := fmt.Sprintf("its coordinator stopped after sending %d work item(s) (%d subscription(s))", r.ItemsSent, r.SubscriptionsSent)
		if r.Listed {
			why = fmt.Sprintf("%d of its %d work item(s) were never accounted for", r.ItemsSent-r.ItemsDone-r.ItemsFailed, r.ItemsSent)
		}
		r.Detail = appendDetail(r.Detail, fmt.Sprintf("closed by run %s: %s; %d of the %d subscription(s) that run listed were not judged",
			by, why, r.NotJudged, listed))
		r.FinishedAt = now
	})
	if err != nil {
		log.Error().Str("abandoned_run_id", id).Str("error", outcome.PublicMessage(err)).Msg("could not close the abandoned run; the next sweep will")
		return nil
	}
	if !closed {
		return nil
	}
	log.Warn().Str("abandoned_run_id", id).Str("abandoned_outcome", run.Outcome).Int("not_judged", run.NotJudged).
		Str("reason", run.Detail).Msg("closed a run whose coordinator stopped")
	return run
}
