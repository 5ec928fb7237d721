package trigger

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// scheduleTimeout bounds the call that schedules a retry; it runs on a fresh
// context, since the invocation's own may have run out.
const scheduleTimeout = 30 * time.Second

// Onboarding handles the Service Bus trigger: decode the message, run the
// engine, and report the result. What becomes of the invocation is Decide's:
// bad input fails it (400 with the reason; Service Bus redelivers, then
// dead-letters it intact). Transient trouble — including subscriptions not
// reachable yet while the message is younger than the delegation wait, and
// the invocation's own deadline — schedules a delayed copy of the message and
// completes the original when a queue is configured; otherwise, after
// MaxAttempts, or when the chain is older than 24 h, the invocation
// fails so the host redelivers and finally dead-letters it. A cancelled
// invocation fails (499) without scheduling anything.
func Onboarding(engine Engine, options *Options) (customhandler.HandlerFunc, error) {
	opts, err := options.checked()
	if err != nil {
		return nil, err
	}
	rec := opts.recorder(OnboardingFunction)
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		st := readMessageState(inv.Metadata)
		log := inv.Log.With().Str("message_id", st.messageID).Int("attempt", st.attempt).Logger()
		deliveries, n, ok := deliveryCount(inv.Metadata)
		if ok {
			log = log.With().Str("delivery_count", n).Logger()
		}
		body, req, err := decodeDelivery(inv.Data)
		if err != nil {
			return failWith(&log, whatOnboarding, outcome.Decide(ctx, nil, err))
		}
		// The record's lines (the drift line) carry each subscription's own
		// tenant_id, so their logger has the request's context but its tenant.
		recLog := log.With().Str("correlation_id", req.CorrelationID).Str("requested_by", req.RequestedBy).Logger()
		log = log.With().Str("tenant_id", req.TenantID).Str("correlation_id", req.CorrelationID).
			Str("requested_by", req.RequestedBy).Logger()
		if st.correlationID == "" {
			st.correlationID = req.CorrelationID
		}

		workCtx, cancel := workContext(ctx, opts.InvocationTimeout)
		defer cancel()
		res, err := engine.Onboard(workCtx, &log, req)
		if err == nil {
			err = rec.Save(workCtx, &recLog, res)
		}
		out := outcome.Decide(workCtx, res, err)
		if out.Kind == outcome.KindDone {
			if pending := opts.delegationPending(req, res, st); pending != nil {
				out = outcome.Decide(workCtx, res, pending)
			}
		}
		logResult(&log, res, out)
		switch {
		case out.Kind == outcome.KindDone:
			return customhandler.Result{Outputs: map[string]any{}, ReturnValue: res}
		case out.Kind == outcome.KindRetry && opts.Queue != nil:
			return opts.retryOrFail(ctx, &log, body, st, deliveries, out)
		default:
			return failWith(&log, whatOnboarding, out)
		}
	}, nil
}

// decodeDelivery reads the message body of a Service Bus delivery and decodes
// it. Every problem is the sender's — a missing, null, non-string or
// undecodable value — so every error is invalid input with its reason.
func decodeDelivery(data map[string]json.RawMessage) ([]byte, pal.Request, error) {
	raw, ok := data[onboardingBinding]
	if !ok {
		return nil, pal.Request{}, &pal.Error{Code: pal.CodeInvalidInput,
			Message: "the invocation carries no Data." + onboardingBinding + " (the message body)",
			Fields:  map[string]string{"body": "missing"}}
	}
	body, err := customhandler.DecodeString(raw)
	if err != nil {
		return nil, pal.Request{}, &pal.Error{Code: pal.CodeInvalidInput,
			Message: "the message body could not be read: " + err.Error(),
			Fields:  map[string]string{"body": err.Error()}, Err: err}
	}
	req, err := message.Decode(body)
	return body, req, err
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
		Message: fmt.Sprintf("not reachable yet: %s; waiting for the delegation or admin consent (message is %v old, PAL_DELEGATION_WAIT is %v)",
			strings.Join(missing, ", "), age.Round(time.Second), o.DelegationWait),
	}
}

// retryOrFail schedules the next attempt of a message and completes this
// delivery. When the chain gives up (giveUp: attempts used up, older than
// maxChainAge) or the queue fails, the invocation fails instead, so the host
// redelivers the message and finally dead-letters it.
func (o Options) retryOrFail(ctx context.Context, log *zerolog.Logger, body []byte, st messageState, deliveries int, out outcome.Outcome) customhandler.Result {
	now := o.Now()
	if final, why := o.giveUp(st, deliveries, o.OnboardingMaxDeliveryCount, out); final {
		log.Error().Str("why", why).Int("max_attempts", o.MaxAttempts).Dur("max_chain_age", maxChainAge).Str("reason", out.Reason).
			Msg("retries given up; failing the invocation so Service Bus dead-letters the message")
		out.Reason = why + ": " + withoutRetryAdvice(out.Reason) + "; not retried again: Service Bus dead-letters the message after its last delivery"
		return failWith(log, whatOnboarding, out)
	}
	delay := retryDelay(st.attempt, out.RetryAfter, o.Jitter())
	next := st.nextCopy(body, now)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scheduleTimeout)
	defer cancel()
	if err := o.Queue.ScheduleMessage(sctx, next, now.Add(delay)); err != nil {
		msg := "could not schedule a retry; failing the invocation so the host redelivers"
		if lastDelivery(deliveries, o.OnboardingMaxDeliveryCount) {
			msg = "could not schedule a retry on the queue's last delivery; Service Bus dead-letters the message"
		}
		log.Error().Str("error", err.Error()).Msg(msg)
		return failWith(log, whatOnboarding, out)
	}
	log.Warn().Str("reason", out.Reason).Int("next_attempt", st.attempt+1).Dur("delay", delay).Str("delay_from", out.Why()).
		Str("retry_message_id", next.MessageID).Msg("transient trouble; retry scheduled, this delivery completes")
	return customhandler.Result{Outputs: map[string]any{}, ReturnValue: map[string]any{
		"retry": map[string]any{"attempt": st.attempt + 1, "messageId": next.MessageID,
			"scheduledFor": now.Add(delay).UTC().Format(time.RFC3339), "reason": out.Reason},
	}}
}

// Names of the queue messages in failure lines: "<what> failed; Service Bus
// will redeliver it or dead-letter it".
const (
	whatOnboarding = "onboarding message"
	whatWorkItem   = "work item"
)

// failWith logs an outcome that is not done and fails the invocation with
// its status and reason; what names the message (whatOnboarding, whatWorkItem).
func failWith(log *zerolog.Logger, what string, out outcome.Outcome) customhandler.Result {
	ev := log.Error()
	if out.Kind == outcome.KindRetry || out.Cancelled() {
		ev = log.Warn()
	}
	ev.Str("outcome", string(out.Kind)).Int("status", out.Status).Str("error_code", string(out.Code)).
		Interface("fields", nonNil(out.Fields)).Str("reason", out.Reason).
		Msg(what + " failed; Service Bus will redeliver it or dead-letter it")
	return fail(out.Status, out.Reason)
}

// nonNil returns m, or an empty map for nil (logged as {}).
func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func fail(status int, msg string) customhandler.Result {
	return customhandler.Result{Failure: &customhandler.Failure{Status: status, Message: msg}}
}
