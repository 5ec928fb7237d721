package trigger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// SweepCheckFunction is the queue-triggered function that judges the work
// items of a distributed sweep (functions/sweep-check).
const SweepCheckFunction = "sweep-check"

// sweepCheckBinding is the trigger binding of functions/sweep-check/function.json.
const sweepCheckBinding = "item"

// sendChunk is how many work items the coordinator sends in one batched send.
const sendChunk = 50

// SweepQueue is the sweep queue (PAL_SWEEP_QUEUE): the coordinator sends the
// work items in batches; the workers schedule their retry copies on it.
type SweepQueue interface {
	Queue
	// SendMessages enqueues ms now, in as few sends as the queue allows.
	SendMessages(ctx context.Context, ms []QueueMessage) error
}

// SweepListing is a started sweep that lists its batches (*pal.SweepRun).
type SweepListing interface {
	Batches(ctx context.Context, maxBatch int, fn func(pal.SweepBatch) error) error
}

// FanoutEngine is what the coordinator and the workers need of the engine.
type FanoutEngine interface {
	// StartSweep repairs the link once and returns who judges, the link and the listing.
	StartSweep(ctx context.Context, log *zerolog.Logger) (pal.Principal, pal.LinkResult, SweepListing, error)
	// JudgeBatch judges a batch with the coordinator's principal and link.
	JudgeBatch(ctx context.Context, log *zerolog.Logger, principal pal.Principal, link pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error
}

// runRecord is what the distributed sweep needs of the compliance record.
type runRecord interface {
	SaveAll(ctx context.Context, vs []record.Verdict) ([]*record.Change, error)
	StartRun(ctx context.Context, r record.Run) error
	UpdateRun(ctx context.Context, id string, fn func(*record.Run)) (*record.Run, error)
	LastRun(ctx context.Context) (*record.Run, error)
}

// fanoutReport is the ReturnValue of a coordinator invocation.
type fanoutReport struct {
	RunID     string         `json:"runId"`
	ItemsSent int            `json:"itemsSent"`
	Link      pal.LinkResult `json:"link"`
	Outcome   string         `json:"outcome"`
}

// SweepFanout handles the timer trigger when Service Bus is configured: it
// is the coordinator of a distributed sweep. It starts a run in the record,
// repairs the link once, lists the subscriptions page by page and sends one
// work item per batch (a tenant's subscriptions, at most
// maxWorkItemSubscriptions) to the sweep queue, recording the items and
// subscriptions sent after each batched send; then it marks the run listed
// (a write retried for 30 s), and the run stays running until the workers
// have accounted for every item. It judges nothing itself, so the
// invocation ends in seconds. A previous run whose coordinator stopped
// before it had listed everything is closed once this one has listed the
// estate (closeAbandoned). It needs Options.Record and Options.SweepQueue
// (without them it returns an error).
func SweepFanout(engine FanoutEngine, options *Options) (customhandler.HandlerFunc, error) {
	opts, err := options.checkedDistributed()
	if err != nil {
		return nil, err
	}
	rec, queue := opts.Record, opts.SweepQueue
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		now := opts.Now().UTC()
		runID := newRunID(now, inv.ID)
		log := inv.Log.With().Str("run_id", runID).Logger()
		workCtx, cancel := workContext(ctx, opts.InvocationTimeout)
		defer cancel()

		prev, err := rec.LastRun(workCtx)
		if err != nil {
			log.Warn().Str("error", outcome.PublicMessage(err)).Msg("could not read the last run; an abandoned one stays open until the next sweep")
		}
		stale := abandoned(prev, now, maxChainAge+opts.InvocationTimeout)
		if err := rec.StartRun(workCtx, record.Run{ID: runID, StartedAt: now, Outcome: record.OutcomeRunning}); err != nil {
			return sweepFailed(&log, outcome.Decide(workCtx, nil, err), runID)
		}
		principal, link, listing, err := engine.StartSweep(workCtx, &log)
		if err != nil {
			out := outcome.Decide(workCtx, nil, err)
			failRun(ctx, &log, rec, runID, opts.Now, 0, 0, "the sweep could not start: "+out.Reason)
			return sweepFailed(&log, out, runID)
		}
		listed := map[string]bool{}
		sent, subs, err := sendWorkItems(workCtx, &log, rec, queue, listing, runID, principal, link, listed)
		if err != nil {
			out := outcome.Decide(workCtx, nil, err)
			failRun(ctx, &log, rec, runID, opts.Now, sent, subs,
				fmt.Sprintf("the sweep stopped after sending %d work item(s) (%d subscription(s)): %s", sent, subs, out.Reason))
			return sweepFailed(&log, out, runID)
		}
		// The listing completed and every item was sent: the record's
		// subscriptions it no longer held are confirmed here.
		gone := confirmGoneFanout(workCtx, &log, engine, rec, opts.Now().UTC(), principal, link, listed)
		run, err := persistRun(ctx, &log, rec, runID, func(r *record.Run) {
			r.ItemsSent, r.SubscriptionsSent, r.Listed = sent, subs, true
			if len(gone) > 0 && r.Summary == nil {
				r.Summary = map[pal.Status]int{}
			}
			for st, n := range gone {
				r.Summary[st] += n
			}
			finishIfAccounted(r, opts.Now())
		})
		if err != nil {
			return sweepFailed(&log, outcome.Decide(workCtx, nil, err), runID)
		}
		if stale {
			closeAbandoned(ctx, &log, rec, prev.ID, runID, subs, opts.Now())
		}
		if run.Outcome != record.OutcomeRunning { // no item, or every item counted already
			maintainRecord(ctx, &log, rec, opts.Now(), opts.RecordRetention)
		}
		log.Info().Str("outcome", string(outcome.KindDone)).Int("items_sent", sent).Str("run_outcome", run.Outcome).
			Str("link_action", string(link.Action)).Str("link_partner_id", link.PartnerID).Msg("result")
		return customhandler.Result{Outputs: map[string]any{}, ReturnValue: fanoutReport{
			RunID: runID, ItemsSent: sent, Link: link, Outcome: run.Outcome}}
	}, nil
}

// sendWorkItems lists the batches and sends a work item for each, sendChunk
// at a time, recording the progress in the run after each send, and noting
// every listed subscription (lower-case ID) in listed. It returns how many
// items, and subscriptions in them, were sent.
func sendWorkItems(ctx context.Context, log *zerolog.Logger, rec runRecord, queue SweepQueue, listing SweepListing, runID string, principal pal.Principal, link pal.LinkResult, listed map[string]bool) (int, int, error) {
	var (
		pending     []QueueMessage
		pendingSubs int
		sent, subs  int
		next        int
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := queue.SendMessages(ctx, pending); err != nil {
			return &pal.Error{Code: pal.CodeTransient, Message: "the sweep queue refused the work items", Err: err}
		}
		sent, subs = sent+len(pending), subs+pendingSubs
		pending, pendingSubs = pending[:0], 0
		recordProgress(ctx, log, rec, runID, sent, subs)
		return nil
	}
	err := listing.Batches(ctx, maxWorkItemSubscriptions, func(b pal.SweepBatch) error {
		if next >= record.MaxItems {
			return &pal.Error{Code: pal.CodeInternal, Message: fmt.Sprintf("more than %d work items in one run", record.MaxItems)}
		}
		for _, sub := range b.Subscriptions {
			listed[strings.ToLower(sub.ID)] = true
		}
		m, err := newWorkItem(runID, next, principal, link, b).Message()
		if err != nil {
			return err
		}
		next++
		pending, pendingSubs = append(pending, m), pendingSubs+len(b.Subscriptions)
		if len(pending) >= sendChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return sent, subs, err
}

// newRunID names a run after its start time and the invocation: sortable,
// unique, at most 34 characters.
func newRunID(now time.Time, invocationID string) string {
	h := sha256.Sum256([]byte(invocationID + "\x00" + now.Format(time.RFC3339Nano)))
	return now.Format("20060102T150405Z") + "-" + hex.EncodeToString(h[:6])
}

// finishIfAccounted ends a running run whose coordinator has finished
// listing (Listed: ItemsSent is final) and whose items are all done or
// failed: complete, or partial when any failed. A run without items is
// complete at once.
func finishIfAccounted(r *record.Run, now time.Time) {
	if r.Outcome != record.OutcomeRunning || !r.Listed || r.ItemsDone+r.ItemsFailed < r.ItemsSent {
		return
	}
	r.Outcome = record.OutcomeComplete
	if r.ItemsFailed > 0 {
		r.Outcome = record.OutcomePartial
	}
	r.FinishedAt = now
}

// recordTimeout bounds a record write made after the invocation's own work
// context may have ended.
const recordTimeout = 30 * time.Second

// updateRun updates the run on a context that outlives the invocation's work
// context: the progress of work already done must not be lost.
func updateRun(ctx context.Context, rec runRecord, id string, fn func(*record.Run)) (*record.Run, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return rec.UpdateRun(rctx, id, fn)
}

// failRun ends a run as failed with a public reason (a write retried like
// the end of a listing).
func failRun(ctx context.Context, log *zerolog.Logger, rec runRecord, id string, now func() time.Time, sent, subs int, detail string) {
	if _, err := persistRun(ctx, log, rec, id, func(r *record.Run) {
		r.ItemsSent, r.SubscriptionsSent = max(r.ItemsSent, sent), max(r.SubscriptionsSent, subs)
		r.Outcome, r.FinishedAt, r.Detail = record.OutcomeFailed, now(), detail
	}); err != nil {
		log.Error().Str("error", outcome.PublicMessage(err)).Msg("could not record the failed run")
	}
}

// sweepFailed logs the one result line of a failed coordinator and fails the invocation.
func sweepFailed(log *zerolog.Logger, out outcome.Outcome, runID string) customhandler.Result {
	ev := log.Error()
	if out.Kind == outcome.KindRetry || out.Cancelled() {
		ev = log.Warn()
	}
	ev.Str("outcome", string(out.Kind)).Int("status", out.Status).Str("error_code", string(out.Code)).
		Str("reason", out.Reason).Msg("result")
	return fail(out.Status, out.Reason)
}
