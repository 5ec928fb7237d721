package pal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxBatch is the most subscriptions a [SweepBatch] holds when the
// caller names no bound.
const DefaultMaxBatch = 50

// sweepQueuedBatches bounds the batches listed but not yet handed to the
// judges in an in-process sweep: the listing runs ahead of the judging by at
// most this many batches (each at most maxBatch subscriptions), so memory
// stays bounded whatever the size of the estate.
const sweepQueuedBatches = 64

// SweepBatch is a bounded share of one customer tenant's subscriptions: the
// unit of work of a sweep, judged in this process or sent to a worker.
type SweepBatch struct {
	TenantID      string
	Subscriptions []Subscription
}

// SubscriptionPager is implemented by a [SubscriptionReader] that can list the
// reachable subscriptions page by page, calling fn as each page arrives. A
// reader without it is listed in one go.
type SubscriptionPager interface {
	ListSubscriptionPages(ctx context.Context, fn func(page []Subscription) error) error
}

// SweepOptions holds the optional settings of [Engine.StartSweep] and [Engine.Sweep].
type SweepOptions struct {
	// ReadOnly reports without repairing the link.
	ReadOnly bool
	// Emit, when set, receives every verdict of [Engine.Sweep] as soon as it is
	// judged (calls are serialized). An error stops the sweep.
	Emit func(SubscriptionResult) error
	// EmitBatch, when set, receives the verdicts of each batch of one tenant
	// (at most MaxBatch) once all of them were judged, after Emit had each;
	// verdicts left unjudged when the sweep stops are not in it. Calls for
	// different batches may run at once (it must be safe for that), each in
	// one of the judging slots, so they are bounded by the engine's
	// concurrency. An error stops the sweep. The recording sweep saves each
	// batch with it, in one write.
	EmitBatch func([]SubscriptionResult) error
	// Linked, when set, receives the link of [Engine.Sweep] once, before the
	// first verdict goes to Emit: every verdict of the sweep is judged under it.
	// A direct-mode sweep ([DirectEngine.Sweep]) calls it once per tenant,
	// before that tenant's verdicts.
	Linked func(LinkResult)
	// Listed, when set, receives the number of subscriptions of each batch as
	// it is listed, before they are judged (for a progress display: the total
	// grows while the sweep lists). It may run concurrently with Emit. A
	// direct-mode sweep calls it once per tenant, before that tenant's verdicts.
	Listed func(n int)
	// MaxBatch bounds the subscriptions per batch; zero means [DefaultMaxBatch].
	MaxBatch int
}

// SweepRun is a started sweep: the principal and the link, resolved once.
// Everything a worker needs to judge a batch is in its exported fields.
type SweepRun struct {
	Principal Principal
	Link      LinkResult

	engine *Engine
}

// IncompleteSweep is wrapped in the CodeTransient [*Error] that [Engine.Sweep]
// returns when its context ends (the sweep's budget ran out) before every
// subscription was judged. The verdicts judged so far were emitted.
type IncompleteSweep struct {
	// Result holds what was judged: its Summary counts the verdicts emitted.
	Result *Result
	// Unjudged counts the subscriptions listed but not judged.
	Unjudged int
	// ListingComplete is false when the listing itself was cut short, so more
	// subscriptions than Unjudged were left out.
	ListingComplete bool
}

// Error implements error.
func (s *IncompleteSweep) Error() string {
	more := ""
	if !s.ListingComplete {
		more = " (the listing was cut short too)"
	}
	return fmt.Sprintf("sweep incomplete: %d subscription(s) left unjudged%s", s.Unjudged, more)
}

// StartSweep resolves the principal and repairs the link once (or, ReadOnly,
// only reads it). Only ReadOnly of options is used.
func (e *Engine) StartSweep(ctx context.Context, log *zerolog.Logger, options *SweepOptions) (*SweepRun, error) {
	if options == nil {
		options = &SweepOptions{}
	}
	principal, err := e.az.Principal.Principal(ctx)
	if err != nil {
		return nil, err
	}
	link, err := e.policy.ensure(ctx, log, e.link, linkRequest{target: e.policy.partnerID, write: !options.ReadOnly})
	if err != nil {
		return nil, err
	}
	return &SweepRun{Principal: principal, Link: link.result, engine: e}, nil
}

// Batches lists the reachable subscriptions page by page and calls fn, as each
// page arrives, with that page's subscriptions grouped by tenant in batches of
// at most maxBatch (zero: [DefaultMaxBatch]). The managing tenant's own
// subscriptions are skipped. A tenant spanning pages gives more than one batch.
// An error of fn stops the listing and is returned.
func (r *SweepRun) Batches(ctx context.Context, maxBatch int, fn func(SweepBatch) error) error {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	return r.engine.listPages(ctx, func(page []Subscription) error {
		for _, b := range groupBatches(page, r.Principal.TenantID, maxBatch) {
			if err := fn(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// listPages lists the subscriptions page by page when the reader can.
func (e *Engine) listPages(ctx context.Context, fn func([]Subscription) error) error {
	if p, ok := e.az.Subscriptions.(SubscriptionPager); ok {
		return p.ListSubscriptionPages(ctx, fn)
	}
	all, err := e.az.Subscriptions.ListSubscriptions(ctx)
	if err != nil {
		return err
	}
	return fn(all)
}

// groupBatches groups a page by tenant (in order of first appearance), cut in
// batches of at most maxBatch, leaving out the managing tenant's subscriptions.
func groupBatches(page []Subscription, managing string, maxBatch int) []SweepBatch {
	var order []string
	groups := map[string][]Subscription{}
	for _, s := range page {
		if strings.EqualFold(s.TenantID, managing) {
			continue // the managing tenant's own subscriptions need no PAL
		}
		if _, ok := groups[s.TenantID]; !ok {
			order = append(order, s.TenantID)
		}
		groups[s.TenantID] = append(groups[s.TenantID], s)
	}
	var out []SweepBatch
	for _, t := range order {
		subs := groups[t]
		for len(subs) > 0 {
			n := min(len(subs), maxBatch)
			out = append(out, SweepBatch{TenantID: t, Subscriptions: subs[:n:n]})
			subs = subs[n:]
		}
	}
	return out
}

// JudgeBatch judges each subscription of b, at most the engine's concurrency
// at a time, and calls emit with each verdict as soon as it is ready (calls
// are serialized). It needs no Azure request for the link: principal and link
// are what [Engine.StartSweep] found, possibly in another process.
//
// When ctx ends first, the verdicts judged so far have been emitted and the
// error is CodeTransient, saying how many were left unjudged. An error of emit
// stops the batch and is returned.
func (e *Engine) JudgeBatch(ctx context.Context, log *zerolog.Logger, principal Principal, link LinkResult, b SweepBatch, emit func(SubscriptionResult) error) error {
	j := newJudges(ctx, e, log, principal, e.policy.stateOf(link), e.concurrency, emit)
	j.batch(b, nil)
	judged, unjudged, err := j.wait()
	if err != nil {
		return err
	}
	if unjudged > 0 {
		return &Error{Code: CodeTransient, Err: ctx.Err(),
			Message: fmt.Sprintf("stopped before the batch was judged: %d of %d subscription(s) of tenant %s left unjudged",
				unjudged, judged+unjudged, b.TenantID)}
	}
	return nil
}

// judges is a bounded pool judging subscriptions and emitting their verdicts.
type judges struct {
	ctx       context.Context
	cancel    context.CancelCauseFunc
	parent    context.Context
	engine    *Engine
	log       *zerolog.Logger
	principal Principal
	link      linkState
	emit      func(SubscriptionResult) error
	g         errgroup.Group

	mu       sync.Mutex // serializes emit
	judged   atomic.Int64
	unjudged atomic.Int64
}

func newJudges(ctx context.Context, e *Engine, log *zerolog.Logger, p Principal, link linkState, limit int, emit func(SubscriptionResult) error) *judges {
	jctx, cancel := context.WithCancelCause(ctx)
	j := &judges{ctx: jctx, cancel: cancel, parent: ctx, engine: e, log: log, principal: p, link: link, emit: emit}
	j.g.SetLimit(max(1, limit))
	return j
}

// batch schedules every subscription of b; it blocks while the pool is full.
// done, when not nil, receives the batch's verdicts once every subscription
// of b was judged or left unjudged, outside the lock that serializes emit
// (the batches' done calls may run at once); it is not called when none was
// judged.
func (j *judges) batch(b SweepBatch, done func([]SubscriptionResult) error) {
	var (
		results []SubscriptionResult
		left    = len(b.Subscriptions)
	)
	// settle counts one subscription of b as finished (r nil: unjudged) and
	// returns the batch's verdicts when it was the last; j.mu is held.
	settle := func(r *SubscriptionResult) []SubscriptionResult {
		if r != nil && done != nil {
			results = append(results, *r)
		}
		if left--; left > 0 || done == nil || len(results) == 0 {
			return nil
		}
		return results
	}
	finish := func(rs []SubscriptionResult) error {
		if rs == nil {
			return nil
		}
		if err := done(rs); err != nil {
			j.cancel(err)
			return err
		}
		return nil
	}
	for i := range b.Subscriptions {
		if j.ctx.Err() != nil {
			j.unjudged.Add(1)
			j.mu.Lock()
			rs := settle(nil)
			j.mu.Unlock()
			if rs != nil {
				j.g.Go(func() error { return finish(rs) })
			}
			continue
		}
		s := b.Subscriptions[i]
		j.g.Go(func() error {
			ref := subscriptionRef{id: strings.ToLower(s.ID), tenantID: b.TenantID, sub: &s}
			r := j.engine.evaluate(j.ctx, j.principal, j.link, ref)
			j.mu.Lock()
			if r.Status == StatusError && j.ctx.Err() != nil {
				// Stopped, not judged: an error verdict here would overwrite a
				// good one in the record and raise a false alarm.
				j.unjudged.Add(1)
				rs := settle(nil)
				j.mu.Unlock()
				return finish(rs)
			}
			if r.Status == StatusError {
				j.log.Warn().Str("subscription_id", ref.id).Str("detail", r.Detail).Msg("subscription could not be judged")
			}
			if err := j.emit(r); err != nil {
				j.mu.Unlock()
				j.cancel(err)
				return err
			}
			j.judged.Add(1)
			rs := settle(&r)
			j.mu.Unlock()
			return finish(rs)
		})
	}
}

// wait waits for the scheduled judgements. err is an error of emit.
func (j *judges) wait() (judged, unjudged int, err error) {
	err = j.g.Wait()
	j.cancel(nil)
	return int(j.judged.Load()), int(j.unjudged.Load()), err
}

// Sweep repairs the link (unless ReadOnly) and judges every subscription the
// identity can reach outside its own tenant, judging while it lists (at most
// the engine's concurrency of ARM requests at once, the listing included).
// Every verdict goes to options.Emit as it is judged; Results lists only the
// subscriptions that are not attributed, Summary counts them all.
//
// When ctx ends before every subscription was judged, the error is a
// CodeTransient [*Error] wrapping an [*IncompleteSweep] with what was judged.
func (e *Engine) Sweep(ctx context.Context, log *zerolog.Logger, options *SweepOptions) (*Result, error) {
	if options == nil {
		options = &SweepOptions{}
	}
	run, err := e.StartSweep(ctx, log, options)
	if err != nil {
		return nil, err
	}
	if options.Linked != nil {
		options.Linked(run.Link)
	}
	res := &Result{PartnerID: e.policy.partnerID, Principal: run.Principal, Link: run.Link, Results: []SubscriptionResult{}, Summary: NewSummary()}
	collect := func(r SubscriptionResult) error {
		res.addSwept(r)
		if options.Emit != nil {
			return options.Emit(r)
		}
		return nil
	}
	// One slot of the concurrency is the listing's.
	j := newJudges(ctx, e, log, run.Principal, e.policy.stateOf(run.Link), e.concurrency-1, collect)
	queue := make(chan SweepBatch, sweepQueuedBatches)
	var listErr error
	go func() {
		defer close(queue)
		listErr = run.Batches(j.ctx, options.MaxBatch, func(b SweepBatch) error {
			if options.Listed != nil {
				options.Listed(len(b.Subscriptions))
			}
			select {
			case queue <- b:
				return nil
			case <-j.ctx.Done():
				return context.Cause(j.ctx)
			}
		})
	}()
	var done func([]SubscriptionResult) error
	if options.EmitBatch != nil {
		done = options.EmitBatch
	}
	for b := range queue {
		j.batch(b, done)
	}
	judged, unjudged, emitErr := j.wait()
	sortResults(res.Results)
	log.Debug().Int("subscriptions", judged).Int("unjudged", unjudged).Str("link_action", string(res.Link.Action)).
		Interface("summary", res.Summary).Msg("sweep finished")
	switch {
	case emitErr != nil:
		return nil, emitErr
	case ctx.Err() != nil && (unjudged > 0 || listErr != nil):
		inc := &IncompleteSweep{Result: res, Unjudged: unjudged, ListingComplete: listErr == nil}
		more := ""
		if !inc.ListingComplete {
			more = "; the subscription listing was cut short too"
		}
		return nil, &Error{Code: CodeTransient, Err: inc,
			Message: fmt.Sprintf("the sweep ran out of time: %d subscription(s) judged, %d left unjudged%s", judged, unjudged, more)}
	case listErr != nil:
		return nil, listErr
	}
	return res, nil
}

// IncompleteSweepOf returns the [*IncompleteSweep] in err's chain, or nil.
func IncompleteSweepOf(err error) *IncompleteSweep {
	var inc *IncompleteSweep
	if errors.As(err, &inc) {
		return inc
	}
	return nil
}
