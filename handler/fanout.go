package main

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/rs/zerolog"
)

// distributable is an engine whose sweep can be distributed over the sweep
// queue: one that starts a sweep once and judges its batches anywhere (the
// Lighthouse engine, *pal.Engine).
type distributable interface {
	StartSweep(ctx context.Context, log *zerolog.Logger, options *pal.SweepOptions) (*pal.SweepRun, error)
	JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, l pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error
	ConfirmGone(ctx context.Context, log *zerolog.Logger, l pal.LinkResult, gone []pal.Subscription) []pal.SubscriptionResult
}

var _ distributable = (*pal.Engine)(nil)

// fanoutEngine adapts the engine's sweep API to the distributed sweep.
type fanoutEngine struct{ engine distributable }

var _ trigger.FanoutEngine = fanoutEngine{}

// StartSweep repairs the link once and returns the run's listing.
func (f fanoutEngine) StartSweep(ctx context.Context, log *zerolog.Logger) (pal.Principal, pal.LinkResult, trigger.SweepListing, error) {
	run, err := f.engine.StartSweep(ctx, log, nil)
	if err != nil {
		return pal.Principal{}, pal.LinkResult{}, nil, err
	}
	return run.Principal, run.Link, run, nil
}

// JudgeBatch judges one work item's batch.
func (f fanoutEngine) JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, l pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error {
	return f.engine.JudgeBatch(ctx, log, p, l, b, emit)
}

// ConfirmGone confirms the subscriptions a complete listing no longer held
// (the coordinator's reads, see trigger.SweepFanout).
func (f fanoutEngine) ConfirmGone(ctx context.Context, log *zerolog.Logger, l pal.LinkResult, gone []pal.Subscription) []pal.SubscriptionResult {
	return f.engine.ConfirmGone(ctx, log, l, gone)
}

// sweepQueue adapts the sweep queue's Service Bus sender to the triggers.
type sweepQueue struct{ serviceBusQueue }

var _ trigger.SweepQueue = sweepQueue{}

// SendMessages enqueues ms now, in batches.
func (q sweepQueue) SendMessages(ctx context.Context, ms []trigger.QueueMessage) error {
	out := make([]servicebus.OutgoingMessage, len(ms))
	for i, m := range ms {
		out[i] = outgoing(m)
	}
	return q.sender.SendMessages(ctx, out)
}
