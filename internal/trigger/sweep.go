package trigger

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
)

// Sweep handles the timer trigger: repair the link, judge every reachable
// customer subscription and report each one that is not attributed. What
// becomes of the invocation is Decide's: it fails when something could not be
// judged, after logging the report.
func Sweep(engine Engine, options *Options) customhandler.HandlerFunc {
	opts := options.withDefaults()
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		workCtx, cancel := workContext(ctx, opts.InvocationTimeout)
		defer cancel()
		res, err := engine.Sweep(workCtx, &log, nil)
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
