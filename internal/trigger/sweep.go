package trigger

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// Sweep handles the timer trigger: repair the link, judge every reachable
// customer subscription and report each one that is not attributed. With a
// record (Options.Record) it writes the sweep's run row (its ID is the
// invocation ID) and every verdict as it is judged. What becomes of the
// invocation is Decide's: it fails when something could not be judged or
// recorded, after logging the report.
func Sweep(engine Engine, options *Options) (customhandler.HandlerFunc, error) {
	opts, err := options.checked()
	if err != nil {
		return nil, err
	}
	rec := opts.recorder(SweepFunction)
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		// The sweep has its own budget (PAL_SWEEP_TIMEOUT), not PAL_INVOCATION_TIMEOUT.
		workCtx, cancel := outcome.WorkContext(ctx, opts.SweepTimeout, budgetSweep)
		defer cancel()
		closed := closeDeadSweep(workCtx, &log, opts.Record, inv.ID, opts.Now())
		res, out, _ := RecordedSweep(workCtx, &log, engine, rec, inv.ID, false)
		noteClosed(ctx, &log, opts.Record, inv.ID, closed)
		logResult(&log, res, out)
		if out.Kind != outcome.KindDone {
			ev := log.Error()
			if out.Kind == outcome.KindRetry || out.Cancelled() {
				ev = log.Warn()
			}
			ev.Str("outcome", string(out.Kind)).Int("status", out.Status).Str("error_code", string(out.Code)).
				Str("reason", out.Reason).Msg("sweep failed")
			return fail(out.Status, out.Reason)
		}
		return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
	}, nil
}

// RecordedSweep runs one sweep with the run row runID and every verdict
// recorded by rec, and returns its result, Decide's outcome and the error
// behind it (nil when done). A record write that fails makes the outcome a
// retry (transient) or a failure, never done. The timer trigger and
// `handler sweep` share it.
func RecordedSweep(ctx context.Context, log *zerolog.Logger, engine Engine, rec *Recorder, runID string, readOnly bool) (*pal.Result, outcome.Outcome, error) {
	run, err := rec.startSweep(ctx, log, runID)
	if err != nil {
		return nil, outcome.Decide(ctx, nil, err), err
	}
	res, err := engine.Sweep(ctx, log, run.sweepOptions(ctx, readOnly))
	if err == nil {
		// The listing completed and every subscription was judged: what the
		// record holds and the listing no longer did is confirmed now.
		err = run.confirmGone(ctx, engine, res)
	}
	if inc := pal.IncompleteSweepOf(err); inc != nil {
		// The budget ran out: the verdicts judged so far were emitted (and
		// recorded); say what was left.
		if res == nil {
			res = inc.Result
		}
		log.Warn().Int("unjudged", inc.Unjudged).Bool("listing_complete", inc.ListingComplete).
			Msg("sweep budget spent")
	}
	out := outcome.Decide(ctx, res, err)
	if ferr := run.finish(ctx, res, out); ferr != nil && out.Kind == outcome.KindDone {
		return res, outcome.Decide(ctx, nil, ferr), ferr
	}
	return res, out, err
}
