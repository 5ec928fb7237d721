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
	store record.Store
	by    string
	now   func() time.Time
}

// NewRecorder returns a Recorder writing to store as by (the function name or
// the CLI command). now is the clock of CheckedAt (nil: time.Now). A nil
// store gives a Recorder that records nothing.
func NewRecorder(store record.Store, by string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{store: store, by: by, now: now}
}

// recorder returns the Recorder of function, from Options.Record.
func (o Options) recorder(function string) *Recorder {
	return NewRecorder(o.Record, function, o.Now)
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

// verdict records one verdict judged under link and logs the drift line when
// it took the subscription out of attributed. Error verdicts are not recorded.
func (r *Recorder) verdict(ctx context.Context, log *zerolog.Logger, link pal.LinkResult, v pal.SubscriptionResult) error {
	if r == nil || r.store == nil || v.Status == pal.StatusError {
		return nil
	}
	ch, err := r.store.Save(ctx, verdictOf(r.by, r.now(), link, v))
	if err != nil {
		return recordFailure(log, "save the verdict of "+v.SubscriptionID, err)
	}
	record.LogDrift(log, ch)
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
}

// startSweep writes the run row of sweep id (outcome running) and returns the
// recording whose sweepOptions record every verdict. A failed write is returned:
// the sweep must not run unrecorded.
func (r *Recorder) startSweep(ctx context.Context, log *zerolog.Logger, id string) (*sweepRecording, error) {
	s := &sweepRecording{rec: r, id: id, log: log, counts: map[pal.Status]int{}}
	if r == nil || r.store == nil {
		return s, nil
	}
	if err := r.store.StartRun(ctx, record.Run{ID: id, StartedAt: r.now(), Outcome: record.OutcomeRunning}); err != nil {
		return nil, recordFailure(log, "start the run "+id, err)
	}
	return s, nil
}

// sweepOptions returns sweep options that record every verdict as it is judged;
// ctx bounds those writes.
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
			s.counts[v.Status]++
			link := s.link
			s.mu.Unlock()
			return s.rec.verdict(ctx, s.log, link, v)
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
	return nil
}
