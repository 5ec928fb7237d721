package trigger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// finishTimeout bounds the write that closes a sweep's run row; it runs on a
// fresh context, since the invocation's own may have run out.
const finishTimeout = 30 * time.Second

// Recorder keeps what one function (or one-shot command) judges in the
// compliance record: the one place where verdicts, drift lines and sweep runs
// are written. Every judged subscription's verdict is upserted, except error
// verdicts (an `error` says nothing about attribution: the last real verdict
// stays). A change out of attributed logs the drift line once
// ([record.LogDrift]). A write that fails returns its error, a
// [*pal.Error] that [outcome.Decide] turns into a retry (transient) or a failure,
// never into success. A nil Recorder, or one without a store, records nothing.
type Recorder struct {
	store     record.Store
	by        string
	now       func() time.Time
	retention time.Duration
}

// NewRecorder returns a Recorder writing to store as by (the function name or
// the CLI command). now is the clock of CheckedAt (nil: time.Now). A nil
// store gives a Recorder that records nothing.
func NewRecorder(store record.Store, by string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{store: store, by: by, now: now, retention: record.DefaultRetention}
}

// recorder returns the Recorder of function, from Options.Record.
func (o Options) recorder(function string) *Recorder {
	r := NewRecorder(o.Record, function, o.Now)
	if o.RecordRetention > 0 {
		r.retention = o.RecordRetention
	}
	return r
}

// Save records every verdict of res judged under res.Link, together
// (see saveVerdicts).
func (r *Recorder) Save(ctx context.Context, log *zerolog.Logger, res *pal.Result) error {
	if res == nil || r == nil || r.store == nil {
		return nil
	}
	return saveVerdicts(ctx, log, r.store, r.by, r.now(), res.Link, res.Results)
}

// verdictSaver is what saving verdicts needs of the record.
type verdictSaver interface {
	SaveAll(ctx context.Context, vs []record.Verdict) ([]*record.Change, error)
}

// saveVerdicts is the one rule for writing verdicts, whichever function
// judged them: every verdict of results judged under link, checked at
// checked by by, in one SaveAll (one transaction per tenant chunk in Table
// Storage); error verdicts are not recorded (an error says nothing about
// attribution, so the last real verdict and its Since stay); each change out
// of attributed logs `attribution lost` once. A failed write comes back as
// recordFailure's error for Decide.
func saveVerdicts(ctx context.Context, log *zerolog.Logger, store verdictSaver, by string, checked time.Time,
	link pal.LinkResult, results []pal.SubscriptionResult) error {
	var vs []record.Verdict
	for _, v := range results {
		if v.Status != pal.StatusError {
			vs = append(vs, verdictOf(by, checked, link, v))
		}
	}
	if len(vs) == 0 {
		return nil
	}
	changes, err := store.SaveAll(ctx, vs)
	if err != nil {
		return recordFailure(log, fmt.Sprintf("save %d verdict(s)", len(vs)), err)
	}
	for _, ch := range changes {
		record.LogDrift(log, ch)
	}
	return nil
}

// verdictOf is the record's verdict of v judged under link, checked at
// checked by by.
func verdictOf(by string, checked time.Time, link pal.LinkResult, v pal.SubscriptionResult) record.Verdict {
	return record.Verdict{
		TenantID:       strings.ToLower(v.TenantID),
		SubscriptionID: strings.ToLower(v.SubscriptionID),
		DisplayName:    v.DisplayName,
		Status:         v.Status,
		Roles:          v.Roles,
		Detail:         v.Detail,
		LinkPartnerID:  link.PartnerID,
		LinkAction:     link.Action,
		CheckedAt:      checked,
		CheckedBy:      by,
	}
}

// recordFailure logs a failed record operation (the storage detail goes to
// the log only) and returns the error Decide judges. A record that refuses
// our own data (invalid input) is not the caller's fault: it becomes an
// internal error, never a 400.
func recordFailure(log *zerolog.Logger, op string, err error) error {
	log.Warn().Str("operation", op).Str("error", err.Error()).Msg("the compliance record could not be written")
	if pal.ErrorCodeOf(err) == pal.CodeInvalidInput {
		return &pal.Error{Code: pal.CodeInternal, Message: "the compliance record refused a verdict", Err: err}
	}
	var pe *pal.Error
	if errors.As(err, &pe) {
		return err
	}
	return &pal.Error{Code: pal.CodeTransient, Message: "the compliance record could not be written; try again", Err: err}
}

// sweepRecording records one sweep: its run row and every verdict it judges.
type sweepRecording struct {
	rec *Recorder
	id  string
	log *zerolog.Logger

	mu     sync.Mutex
	link   pal.LinkResult
	counts map[pal.Status]int
	// seen are the subscriptions the sweep judged (lower-case IDs): what its
	// listing held, for confirmGone.
	seen map[string]bool
}

// startSweep writes the run row of sweep id (outcome running) and returns the
// recording whose sweepOptions record every verdict. A failed write is returned:
// the sweep must not run unrecorded.
func (r *Recorder) startSweep(ctx context.Context, log *zerolog.Logger, id string) (*sweepRecording, error) {
	s := &sweepRecording{rec: r, id: id, log: log, counts: map[pal.Status]int{}, seen: map[string]bool{}}
	if r == nil || r.store == nil {
		return s, nil
	}
	if err := r.store.StartRun(ctx, record.Run{ID: id, StartedAt: r.now(), Outcome: record.OutcomeRunning}); err != nil {
		return nil, recordFailure(log, "start the run "+id, err)
	}
	return s, nil
}

// sweepOptions returns sweep options that record the verdicts of each batch
// (one tenant, at most 50 subscriptions) together as soon as the batch is
// judged (saveVerdicts: one SaveAll, in Table Storage about 0.2 requests per
// subscription); ctx bounds those writes.
func (s *sweepRecording) sweepOptions(ctx context.Context, readOnly bool) *pal.SweepOptions {
	return &pal.SweepOptions{
		ReadOnly: readOnly,
		Linked: func(l pal.LinkResult) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.link = l
		},
		Emit: func(v pal.SubscriptionResult) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.counts[v.Status]++
			s.seen[strings.ToLower(v.SubscriptionID)] = true
			return nil
		},
		EmitBatch: func(vs []pal.SubscriptionResult) error {
			if s.rec == nil || s.rec.store == nil {
				return nil
			}
			s.mu.Lock()
			link := s.link
			s.mu.Unlock()
			return saveVerdicts(ctx, s.log, s.rec.store, s.rec.by, s.rec.now(), link, vs)
		},
	}
}

// finish closes the run row: finished now, outcome complete when out is
// done, partial when some subscriptions were judged, failed otherwise; the
// summary of res (or of the verdicts judged when there is no result) and out's
// reason as detail. It writes on a fresh context (ctx's values, not its end).
// A failed write is returned.
func (s *sweepRecording) finish(ctx context.Context, res *pal.Result, out outcome.Outcome) error {
	if s.rec == nil || s.rec.store == nil {
		return nil
	}
	s.mu.Lock()
	summary := map[pal.Status]int{}
	judged := 0
	for _, st := range pal.Statuses {
		summary[st] = s.counts[st]
		judged += s.counts[st]
	}
	s.mu.Unlock()
	if res != nil {
		summary = res.Summary
	}
	runOutcome := record.OutcomeFailed
	switch {
	case out.Kind == outcome.KindDone:
		runOutcome = record.OutcomeComplete
	case res != nil || judged > 0:
		runOutcome = record.OutcomePartial
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	finished := s.rec.now()
	_, err := s.rec.store.UpdateRun(fctx, s.id, func(r *record.Run) {
		r.FinishedAt = finished
		r.Outcome = runOutcome
		r.Summary = summary
		r.Detail = out.Reason
	})
	if err != nil {
		return recordFailure(s.log, "finish the run "+s.id, err)
	}
	if runOutcome != record.OutcomeFailed {
		// A sweep that judged nothing changed no summary; the next one
		// maintains the record.
		maintainRecord(fctx, s.log, s.rec.store, finished, s.rec.retention)
	}
	return nil
}
