package main

import (
	"context"
	"sync"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/rs/zerolog"
)

// lazyEngine is a Lighthouse engine built on its first use, so that starting
// the handler builds none of its six ARM clients (~0.8 ms of CPU: azcore
// compiles a version regexp per client) before the host's readiness probe
// (docs/reliability.md, "Fast start"). Every setting the engine takes is
// checked with the settings at start; what building it can still refuse is
// the error of every call.
type lazyEngine struct {
	get func() (*pal.Engine, error)
}

var (
	_ trigger.Engine = lazyEngine{}
	_ distributable  = lazyEngine{}
)

// newLazyEngine returns an engine that calls build once, on its first use.
func newLazyEngine(build func() (*pal.Engine, error)) lazyEngine {
	return lazyEngine{get: sync.OnceValues(build)}
}

// Onboard implements trigger.Engine.
func (l lazyEngine) Onboard(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.Onboard(ctx, log, req)
}

// Status implements trigger.Engine.
func (l lazyEngine) Status(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.Status(ctx, log, req)
}

// Sweep implements trigger.Engine.
func (l lazyEngine) Sweep(ctx context.Context, log *zerolog.Logger, options *pal.SweepOptions) (*pal.Result, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.Sweep(ctx, log, options)
}

// Allowed implements trigger.Engine. When the engine cannot be built it
// answers true, so that the call that follows reports why.
func (l lazyEngine) Allowed(partnerID string) bool {
	e, err := l.get()
	if err != nil {
		return true
	}
	return e.Allowed(partnerID)
}

// StartSweep implements distributable.
func (l lazyEngine) StartSweep(ctx context.Context, log *zerolog.Logger, options *pal.SweepOptions) (*pal.SweepRun, error) {
	e, err := l.get()
	if err != nil {
		return nil, err
	}
	return e.StartSweep(ctx, log, options)
}

// JudgeBatch implements distributable.
func (l lazyEngine) JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, lr pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error {
	e, err := l.get()
	if err != nil {
		return err
	}
	return e.JudgeBatch(ctx, log, p, lr, b, emit)
}

// ConfirmGone implements distributable (and the in-process sweep's
// confirmation of the subscriptions no longer listed). When the engine
// cannot be built, each is an error verdict, which the record never keeps.
func (l lazyEngine) ConfirmGone(ctx context.Context, log *zerolog.Logger, lr pal.LinkResult, gone []pal.Subscription) []pal.SubscriptionResult {
	e, err := l.get()
	if err != nil {
		out := make([]pal.SubscriptionResult, 0, len(gone))
		for _, s := range gone {
			out = append(out, pal.SubscriptionResult{TenantID: s.TenantID, SubscriptionID: s.ID, DisplayName: s.DisplayName,
				Status: pal.StatusError, Roles: []string{}, Detail: "confirming a subscription no longer listed failed: " + outcome.PublicMessage(err)})
		}
		return out
	}
	return e.ConfirmGone(ctx, log, lr, gone)
}
