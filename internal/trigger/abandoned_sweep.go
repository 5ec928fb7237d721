package trigger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// cliRunPrefix starts the run IDs of `handler sweep`, which may run beside
// the timer and is never closed by it.
const cliRunPrefix = "cli-"

// closeDeadSweep is the in-process timer's half of "no run stays running":
// before it starts, it closes the previous run when that is a run of the
// timer's sweep in one process (its ID is the invocation ID: neither a
// coordinator's nor a command's) still running — its invocation ended
// without closing it (the process was killed, the host timed it out), since
// timer invocations never overlap. The verdicts that run recorded are those
// checked since it started (read before this sweep writes any): partial
// when there are some, failed when none, NotJudged = the record's other
// verdicts. It returns the closed run, or nil.
func closeDeadSweep(ctx context.Context, log *zerolog.Logger, store record.Store, by string, now time.Time) *record.Run {
	if store == nil {
		return nil
	}
	prev, err := store.LastRun(ctx)
	if err != nil || prev == nil || prev.Outcome != record.OutcomeRunning || prev.ID == by ||
		coordinatorRunID().MatchString(prev.ID) || strings.HasPrefix(prev.ID, cliRunPrefix) {
		return nil
	}
	vs, err := store.Verdicts(ctx, record.Filter{})
	if err != nil {
		log.Warn().Str("error", outcome.PublicMessage(err)).Str("abandoned_run_id", prev.ID).
			Msg("could not read the record to close the previous sweep; the next sweep will")
		return nil
	}
	judged := pal.NewSummary()
	n := 0
	for _, v := range vs {
		if !v.CheckedAt.Before(prev.StartedAt) {
			judged[v.Status]++
			n++
		}
	}
	var closed bool
	run, err := persistRun(ctx, log, store, prev.ID, func(r *record.Run) {
		closed = r.Outcome == record.OutcomeRunning
		if !closed {
			return
		}
		r.Outcome = record.OutcomeFailed
		if n > 0 {
			r.Outcome = record.OutcomePartial
		}
		r.Summary, r.NotJudged, r.FinishedAt = judged, len(vs)-n, now
		r.Detail = appendDetail(r.Detail, fmt.Sprintf("closed by run %s: the sweep's invocation ended before it closed its run; "+
			"%d of the %d subscription(s) in the record were not judged by it", by, len(vs)-n, len(vs)))
	})
	if err != nil || !closed {
		if err != nil {
			log.Error().Str("abandoned_run_id", prev.ID).Str("error", outcome.PublicMessage(err)).Msg("could not close the abandoned run; the next sweep will")
		}
		return nil
	}
	log.Warn().Str("abandoned_run_id", prev.ID).Str("abandoned_outcome", run.Outcome).Int("not_judged", run.NotJudged).
		Str("reason", run.Detail).Msg("closed a run whose sweep stopped")
	return run
}

// noteClosed records in run id the earlier run its sweep closed.
func noteClosed(ctx context.Context, log *zerolog.Logger, store runRecord, id string, closed *record.Run) {
	if closed == nil {
		return
	}
	if _, err := persistRun(ctx, log, store, id, func(r *record.Run) {
		r.ClosedRunID, r.ClosedNotJudged = closed.ID, closed.NotJudged
	}); err != nil {
		log.Warn().Str("error", outcome.PublicMessage(err)).Msg("could not note the closed run in this run")
	}
}
