package trigger

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Sweep handles the timer trigger: repair the link, judge every reachable
// customer subscription and report each one that is not attributed. What
// becomes of the invocation is Decide's: it fails when something could not be
// judged, after logging the report.
func Sweep(engine Engine, options *Options) customhandler.HandlerFunc {
	opts := options.withDefaults()
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		// The sweep has its own budget (PAL_SWEEP_TIMEOUT), not PAL_INVOCATION_TIMEOUT.
		workCtx, cancel := WorkContext(ctx, opts.SweepTimeout, budgetSweep)
		defer cancel()
		res, err := engine.Sweep(workCtx, &log, nil)
		if inc := pal.IncompleteSweepOf(err); inc != nil {
			// The verdicts judged within the budget were emitted; say what was left.
			if res == nil {
				res = inc.Result
			}
			log.Warn().Int("unjudged", inc.Unjudged).Bool("listing_complete", inc.ListingComplete).
				Msg("sweep budget spent")
		}
		out := Decide(workCtx, res, err)
		logResult(&log, res, out)
		if out.Kind != KindDone {
			ev := log.Error()
			if out.Kind == KindRetry || out.Cancelled() {
				ev = log.Warn()
			}
			ev.Str("outcome", string(out.Kind)).Int("status", out.Status).Str("error_code", string(out.Code)).
				Str("reason", out.Reason).Msg("sweep failed")
			return fail(out.Status, out.Reason)
		}
		return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
	}
}
