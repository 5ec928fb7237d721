package trigger

import (
	"context"
	"net/http"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Onboarding handles the Service Bus trigger: decode the message, run the
// engine, and fail the invocation (so Service Bus redelivers, then
// dead-letters) on bad input and on anything that could not be verified.
func Onboarding(engine Engine) customhandler.HandlerFunc {
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log.With().Logger()
		if id, ok := customhandler.MetadataString(inv.Metadata, "MessageId"); ok {
			log = log.With().Str("message_id", id).Logger()
		}
		if n, ok := customhandler.MetadataString(inv.Metadata, "DeliveryCount"); ok {
			log = log.With().Str("delivery_count", n).Logger()
		}
		raw, ok := inv.Data[onboardingBinding]
		if !ok {
			log.Error().Msg("invocation has no Data." + onboardingBinding)
			return fail(http.StatusBadRequest, "the invocation carries no Data."+onboardingBinding)
		}
		body, err := customhandler.DecodeString(raw)
		if err == nil {
			var req pal.Request
			req, err = message.Decode(body)
			if err == nil {
				log = log.With().Str("tenant_id", req.TenantID).Str("correlation_id", req.CorrelationID).Logger()
				var res *pal.Result
				res, err = engine.Onboard(ctx, &log, req)
				if err == nil {
					err = resultError(res)
				}
				if err == nil {
					log.Info().Interface("summary", res.Summary).Str("link_action", string(res.Link.Action)).Msg("onboarding message processed")
					return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
				}
				logResult(&log, res)
			}
		}
		status := httpStatusOf(err)
		ev := log.Error()
		if status == http.StatusServiceUnavailable {
			ev = log.Warn()
		}
		ev.Str("error_code", string(pal.ErrorCodeOf(err))).Interface("fields", fieldsOf(err)).
			Str("reason", publicMessage(err)).Msg("onboarding message failed; Service Bus will redeliver it or dead-letter it")
		return fail(status, publicMessage(err))
	}
}

func fail(status int, msg string) customhandler.Result {
	return customhandler.Result{Failure: &customhandler.Failure{Status: status, Message: msg}}
}
