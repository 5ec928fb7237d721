package trigger

import (
	"context"
	"net/http"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Sweep handles the timer trigger: repair the link, judge every reachable
// customer subscription and report each one that is not attributed. The
// invocation fails when something could not be judged, after logging the report.
func Sweep(engine Engine, options *Options) customhandler.HandlerFunc {
	opts := options.withDefaults()
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		ctx, cancel := context.WithTimeout(ctx, opts.SweepTimeout)
		defer cancel()
		res, err := engine.Sweep(ctx, &log, nil)
		if inc := pal.IncompleteSweepOf(err); inc != nil {
			// The verdicts judged within PAL_SWEEP_TIMEOUT were emitted; say what was left.
			logResult(&log, inc.Result)
			log.Warn().Interface("summary", inc.Result.Summary).Int("unjudged", inc.Unjudged).
				Bool("listing_complete", inc.ListingComplete).Msg("sweep budget spent")
		}
		if err == nil {
			logResult(&log, res)
			err = resultError(res)
		}
		if err != nil {
			log.Error().Str("error_code", string(pal.ErrorCodeOf(err))).Str("reason", publicMessage(err)).Msg("sweep failed")
			status := httpStatusOf(err)
			if status < 500 {
				status = http.StatusInternalServerError
			}
			return fail(status, publicMessage(err))
		}
		log.Info().Interface("summary", res.Summary).Str("link_action", string(res.Link.Action)).
			Int("not_attributed", len(res.Results)).Msg("sweep report")
		return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
	}
}
