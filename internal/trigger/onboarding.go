package trigger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// scheduleTimeout bounds the call that schedules a retry; it runs on a fresh
// context, since the invocation's own may have run out.
const scheduleTimeout = 30 * time.Second

// Onboarding handles the Service Bus trigger: decode the message, run the
// engine, and report the result. Bad input fails the invocation (Service Bus
// redelivers, then dead-letters it intact). Transient trouble — including
// subscriptions not reachable yet while the message is younger than the
// delegation wait — schedules a delayed copy of the message and completes the
// original when a queue is configured; otherwise, or after MaxAttempts, the
// invocation fails so the host redelivers.
func Onboarding(engine Engine, options *Options) customhandler.HandlerFunc {
	opts := options.withDefaults()
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		st := readMessageState(inv.Metadata)
		log := inv.Log.With().Str("message_id", st.messageID).Int("attempt", st.attempt).Logger()
		if n, ok := customhandler.MetadataString(inv.Metadata, "DeliveryCount"); ok {
			log = log.With().Str("delivery_count", n).Logger()
		}
		raw, ok := inv.Data[onboardingBinding]
		if !ok {
			log.Error().Msg("invocation has no Data." + onboardingBinding)
			return fail(http.StatusBadRequest, "the invocation carries no Data."+onboardingBinding)
		}
		body, err := customhandler.DecodeString(raw)
		var req pal.Request
		if err == nil {
			req, err = message.Decode(body)
		}
		if err != nil {
			return failWith(&log, err)
		}
		log = log.With().Str("tenant_id", req.TenantID).Str("correlation_id", req.CorrelationID).
			Str("requested_by", req.RequestedBy).Logger()
		if st.correlationID == "" {
			st.correlationID = req.CorrelationID
		}

		workCtx, cancel := context.WithTimeout(ctx, opts.InvocationTimeout)
		res, err := engine.Onboard(workCtx, &log, req)
		cancel()
		if err == nil {
			err = resultError(res)
		}
		if err == nil {
			err = opts.delegationPending(req, res, st)
		}
		if err == nil {
			log.Info().Interface("summary", res.Summary).Str("link_action", string(res.Link.Action)).Msg("onboarding message processed")
			logResult(&log, res)
			return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
		}
		if errors.Is(workCtx.Err(), context.DeadlineExceeded) && !pal.IsTransient(err) {
			err = &pal.Error{Code: pal.CodeTransient, Message: "the invocation ran out of time (PAL_INVOCATION_TIMEOUT)", Err: err}
		}
		logResult(&log, res)
		if pal.IsTransient(err) && opts.Queue != nil {
			if r, ok := opts.scheduleRetry(ctx, &log, body, st, err); ok {
				return r
			}
		}
		return failWith(&log, err)
	}
}

// delegationPending turns unreachable subscriptions into a transient error
// while the message is younger than the delegation wait: Lighthouse
// delegations take minutes to appear.
func (o Options) delegationPending(req pal.Request, res *pal.Result, st messageState) error {
	if o.DelegationWait <= 0 || st.firstEnqueued.IsZero() {
		return nil
	}
	age := o.Now().Sub(st.firstEnqueued)
	if age >= o.DelegationWait {
		return nil
	}
	missing := res.Unreachable()
	if len(req.SubscriptionIDs) == 0 && len(res.Results) == 0 {
		missing = []string{"any subscription of tenant " + req.TenantID}
	}
	if len(missing) == 0 {
		return nil
	}
	return &pal.Error{
		Code: pal.CodeTransient,
		Message: fmt.Sprintf("not reachable yet: %s; waiting for the Lighthouse delegation (message is %v old, PAL_DELEGATION_WAIT is %v)",
			strings.Join(missing, ", "), age.Round(time.Second), o.DelegationWait),
	}
}

// scheduleRetry schedules the next attempt of a message and completes this one.
// It reports false when the attempts are used up or the queue failed: then the
// invocation must fail so the host redelivers the message.
func (o Options) scheduleRetry(ctx context.Context, log *zerolog.Logger, body []byte, st messageState, cause error) (customhandler.Result, bool) {
	if st.attempt >= o.MaxAttempts {
		log.Error().Int("max_attempts", o.MaxAttempts).Str("reason", publicMessage(cause)).
			Msg("attempts used up; failing the invocation so Service Bus dead-letters the message")
		return customhandler.Result{}, false
	}
	now := o.Now()
	delay := retryDelay(st.attempt, pal.RetryAfterOf(cause), o.Jitter())
	next := st.nextCopy(body, now)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scheduleTimeout)
	defer cancel()
	if err := o.Queue.ScheduleMessage(sctx, next, now.Add(delay)); err != nil {
		log.Error().Str("error", err.Error()).Msg("could not schedule a retry; failing the invocation so the host redelivers")
		return customhandler.Result{}, false
	}
	log.Warn().Str("reason", publicMessage(cause)).Int("next_attempt", st.attempt+1).Dur("delay", delay).
		Str("retry_message_id", next.MessageID).Msg("transient trouble; retry scheduled, this delivery completes")
	return customhandler.Result{Outputs: map[string]any{}, ReturnValue: map[string]any{
		"retry": map[string]any{"attempt": st.attempt + 1, "messageId": next.MessageID,
			"scheduledFor": now.Add(delay).UTC().Format(time.RFC3339), "reason": publicMessage(cause)},
	}}, true
}

// failWith logs err and fails the invocation with its HTTP-like status.
func failWith(log *zerolog.Logger, err error) customhandler.Result {
	status := httpStatusOf(err)
	ev := log.Error()
	if status == http.StatusServiceUnavailable {
		ev = log.Warn()
	}
	ev.Str("error_code", string(pal.ErrorCodeOf(err))).Interface("fields", fieldsOf(err)).
		Str("reason", publicMessage(err)).Msg("onboarding message failed; Service Bus will redeliver it or dead-letter it")
	return fail(status, publicMessage(err))
}

func fail(status int, msg string) customhandler.Result {
	return customhandler.Result{Failure: &customhandler.Failure{Status: status, Message: msg}}
}
