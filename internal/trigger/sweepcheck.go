package trigger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// maxRunDetail bounds the failure reasons a run's Detail collects.
const maxRunDetail = 2000

// itemReport is the ReturnValue of a worker invocation.
type itemReport struct {
	RunID   string             `json:"runId"`
	Item    int                `json:"item"`
	Summary map[pal.Status]int `json:"summary"`
	// Counted is false when a duplicate delivery found the item already counted.
	Counted bool `json:"counted"`
}

// SweepCheck handles the sweep queue's trigger: it judges the subscriptions
// of one work item with the coordinator's principal and link, saves every
// verdict to the record (logging drift), and counts the item in its run.
//
// It needs Options.Record and Options.SweepQueue (without them it returns
// an error).
//
// Transient trouble is retried the way onboarding retries: a scheduled copy
// on the sweep queue, this delivery completed. When the chain gives up (giveUp:
// its attempts used up or too old) or this delivery is the queue's last
// (DeliveryCount at SweepMaxDeliveryCount, PAL_SWEEP_MAX_DELIVERY_COUNT), the item is first counted as failed in
// the run, with its reason in the run's Detail, and the invocation then fails
// so Service Bus dead-letters it.
//
// Idempotency: Service Bus delivers at least once, and a retry may follow a
// delivery whose answer was lost. Verdicts are upserts, so judging twice is
// harmless; the run counts an item only when its bit in Run.Counted is not set
// yet, in the same optimistic-concurrency update, so no duplicate changes
// ItemsDone, ItemsFailed or the summary twice. An item of a run that has
// already ended is still judged and saved.
func SweepCheck(engine FanoutEngine, options *Options) (customhandler.HandlerFunc, error) {
	opts, err := options.checkedDistributed()
	if err != nil {
		return nil, err
	}
	rec, queue := opts.Record, opts.SweepQueue
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		st := readMessageState(inv.Metadata)
		log := inv.Log.With().Str("message_id", st.messageID).Int("attempt", st.attempt).Logger()
		deliveries, n, ok := deliveryCount(inv.Metadata)
		if ok {
			log = log.With().Str("delivery_count", n).Logger()
		}
		raw, ok := inv.Data[sweepCheckBinding]
		if !ok {
			return failWith(&log, whatWorkItem, outcome.Decide(ctx, nil, &pal.Error{Code: pal.CodeInvalidInput,
				Message: "the invocation carries no Data." + sweepCheckBinding + " (the message body)"}))
		}
		body, err := customhandler.DecodeString(raw)
		if err != nil {
			return failWith(&log, whatWorkItem, outcome.Decide(ctx, nil, &pal.Error{Code: pal.CodeInvalidInput,
				Message: "the message body could not be read: " + err.Error(), Err: err}))
		}
		item, err := decodeWorkItem(body)
		if err != nil {
			return failWith(&log, whatWorkItem, outcome.Decide(ctx, nil, err))
		}
		log = log.With().Str("run_id", item.RunID).Int("item", item.Item).Str("item_tenant_id", item.TenantID).Logger()

		workCtx, cancel := workContext(ctx, opts.InvocationTimeout)
		defer cancel()
		res, err := judgeItem(workCtx, &log, engine, rec, item, opts.Now)
		out := outcome.Decide(workCtx, res, err)
		if out.Kind == outcome.KindDone {
			counted, closed, err := countItem(ctx, rec, item, res.Summary, "", opts.Now)
			if closed {
				maintainRecord(ctx, &log, rec, opts.Now(), opts.RecordRetention)
			}
			if err != nil {
				out = outcome.Decide(workCtx, nil, err)
			} else {
				logItemResult(&log, res, out, counted)
				return customhandler.Result{Outputs: map[string]any{}, ReturnValue: itemReport{
					RunID: item.RunID, Item: item.Item, Summary: res.Summary, Counted: counted}}
			}
		}
		logItemResult(&log, res, out, false)
		final, why := opts.giveUp(st, deliveries, opts.SweepMaxDeliveryCount, out)
		if !final && out.Kind != outcome.KindRetry {
			// Cancelled before the queue's last delivery: nothing is
			// scheduled, the host redelivers (giveUp, rule 1).
			return failWith(&log, whatWorkItem, out)
		}
		if !final {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scheduleTimeout)
			defer cancel()
			delay := retryDelay(st.attempt, out.RetryAfter, opts.Jitter())
			next := st.nextCopy(body, opts.Now())
			if err := queue.ScheduleMessage(sctx, next, opts.Now().Add(delay)); err == nil {
				log.Warn().Str("reason", out.Reason).Int("next_attempt", st.attempt+1).Dur("delay", delay).
					Str("retry_message_id", next.MessageID).Msg("transient trouble; retry scheduled, this delivery completes")
				return customhandler.Result{Outputs: map[string]any{}, ReturnValue: map[string]any{
					"retry": map[string]any{"attempt": st.attempt + 1, "messageId": next.MessageID, "reason": out.Reason}}}
			} else if !lastDelivery(deliveries, opts.SweepMaxDeliveryCount) {
				log.Error().Str("error", err.Error()).Msg("could not schedule a retry; failing the invocation so the host redelivers")
				return failWith(&log, whatWorkItem, out)
			}
			why = "the retry could not be scheduled on the last delivery"
		}
		reason := fmt.Sprintf("work item %d (tenant %s) failed: %s: %s; counted as failed in its run: Service Bus "+
			"dead-letters it after its last delivery, and its subscriptions keep their last verdicts until the next sweep",
			item.Item, item.TenantID, why, withoutRetryAdvice(out.Reason))
		if _, closed, err := countItem(ctx, rec, item, nil, reason, opts.Now); err != nil {
			// Not counted: fail without settling, so a redelivery tries again.
			log.Error().Str("error", outcome.PublicMessage(err)).Msg("could not count the failed work item in its run")
		} else if closed {
			maintainRecord(ctx, &log, rec, opts.Now(), opts.RecordRetention)
		}
		out.Reason = reason
		return failWith(&log, whatWorkItem, out)
	}, nil
}

// judgeItem judges the item's subscriptions and saves their verdicts
// together (saveVerdicts: the same rule as every other function, in one
// SaveAll instead of a read and a write per subscription). The verdicts judged before ctx ended are saved too, on a
// context of their own. The result holds the summary and the error verdicts
// (for Decide).
func judgeItem(ctx context.Context, log *zerolog.Logger, engine FanoutEngine, rec runRecord, item workItem, now func() time.Time) (*pal.Result, error) {
	res := &pal.Result{Principal: item.Principal, Link: item.Link, Results: []pal.SubscriptionResult{}, Summary: pal.NewSummary()}
	var judged []pal.SubscriptionResult
	jerr := engine.JudgeBatch(ctx, log, item.Principal, item.Link, item.Batch(), func(r pal.SubscriptionResult) error {
		judged = append(judged, r)
		return nil
	})
	if len(judged) == 0 {
		return res, jerr
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := saveVerdicts(sctx, log, rec, SweepCheckFunction, now(), item.Link, judged); err != nil {
		return res, err
	}
	for _, r := range judged {
		res.Count(r)
		if r.Status != pal.StatusAttributed {
			res.Results = append(res.Results, r)
		}
	}
	return res, jerr
}

// transientRecord makes a record error that is not a *pal.Error transient:
// a record write that fails is trouble to retry, never a silent loss.
func transientRecord(err error) error {
	var pe *pal.Error
	if errors.As(err, &pe) {
		return err
	}
	return &pal.Error{Code: pal.CodeTransient, Message: "the compliance record could not be written", Err: err}
}

// countItem counts the item in its run once: done with its summary, or
// failed (reason set) with the reason added to the run's Detail. It reports
// whether this call counted it, and whether counting it closed the run.
func countItem(ctx context.Context, rec runRecord, item workItem, summary map[pal.Status]int, reason string, now func() time.Time) (bool, bool, error) {
	counted, closed := false, false
	_, err := updateRun(ctx, rec, item.RunID, func(r *record.Run) {
		wasRunning := r.Outcome == record.OutcomeRunning
		closed = false
		counted = r.CountItem(item.Item)
		if !counted {
			return
		}
		if reason != "" {
			r.ItemsFailed++
			r.Detail = appendDetail(r.Detail, reason)
		} else {
			r.ItemsDone++
			if r.Summary == nil {
				r.Summary = map[pal.Status]int{}
			}
			for s, n := range summary {
				r.Summary[s] += n
			}
		}
		finishIfAccounted(r, now())
		closed = wasRunning && r.Outcome != record.OutcomeRunning
	})
	if err != nil {
		return false, false, transientRecord(err)
	}
	return counted, closed, nil
}

// appendDetail adds a reason to a run's Detail, keeping it bounded.
func appendDetail(detail, reason string) string {
	const more = "; more items failed (see the log)"
	switch {
	case detail == "":
		return reason
	case len(detail)+len(reason)+2 > maxRunDetail:
		if len(detail) >= len(more) && detail[len(detail)-len(more):] == more {
			return detail
		}
		return detail + more
	default:
		return detail + "; " + reason
	}
}

// logItemResult writes the one result line of a worker invocation (after
// one line per subscription not attributed).
func logItemResult(log *zerolog.Logger, res *pal.Result, out outcome.Outcome, counted bool) {
	logResult(log, res, out)
	if out.Kind == outcome.KindDone && !counted {
		log.Info().Msg("work item already counted in its run (a duplicate delivery)")
	}
}
