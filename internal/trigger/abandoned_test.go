package trigger

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// progressQueue reads the run from the record before every send after the
// first: what the record showed while the coordinator was still listing.
type progressQueue struct {
	fanQueue
	rec  *record.Memory
	seen []int
}

func (q *progressQueue) SendMessages(ctx context.Context, ms []QueueMessage) error {
	if run, _ := q.rec.LastRun(ctx); run != nil && q.batches > 0 {
		q.seen = append(q.seen, run.ItemsSent)
	}
	return q.fanQueue.SendMessages(ctx, ms)
}

// TestFanoutRecordsProgressAfterEachSend: while the coordinator lists, the
// run shows the items and subscriptions sent so far, and is not listed
// until the end. Failed before: ItemsSent was written only at the end, so a
// coordinator that died mid-listing left 0 (issue 16, D1).
func TestFanoutRecordsProgressAfterEachSend(t *testing.T) {
	e := &fanEngine{tenants: 120, subs: 5} // 120 items: sends of 50, 50, 20
	rec := record.NewMemory()
	q := &progressQueue{rec: rec}
	res := must(SweepFanout(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))(context.Background(),
		&customhandler.Invocation{ID: "timer-1", Log: zerolog.Nop()})
	if res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	if len(q.seen) != 2 || q.seen[0] != 50 || q.seen[1] != 100 {
		t.Errorf("the run showed %v items sent before the later sends, want [50 100]", q.seen)
	}
	run, _ := rec.LastRun(context.Background())
	if !run.Listed || run.ItemsSent != 120 || run.SubscriptionsSent != 600 {
		t.Errorf("after the coordinator: %+v, want listed with 120 items and 600 subscriptions", run)
	}
}

// flakyRuns fails the first n UpdateRun calls with transient trouble, as a
// storage account does during a short outage.
type flakyRuns struct {
	*record.Memory
	mu sync.Mutex
	n  int
}

func (f *flakyRuns) UpdateRun(ctx context.Context, id string, fn func(*record.Run)) (*record.Run, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return nil, &pal.Error{Code: pal.CodeTransient, Message: "record: Table Storage answered 503"}
	}
	return f.Memory.UpdateRun(ctx, id, fn)
}

// TestFanoutFinalWriteOutlastsAShortOutage: the write that ends the
// listing is retried on its own context beyond the SDK's short retry, so a
// storage outage while the coordinator lists leaves a listed run that
// finishes. Failed before: the coordinator failed 503 and ItemsSent stayed 0
// (issue 16, D1).
func TestFanoutFinalWriteOutlastsAShortOutage(t *testing.T) {
	e := &fanEngine{tenants: 3, subs: 2}
	rec := &flakyRuns{Memory: record.NewMemory(), n: 3} // the progress write and the final write's first two attempts
	q := &fanQueue{}
	res := must(SweepFanout(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))(context.Background(),
		&customhandler.Invocation{ID: "timer-1", Log: zerolog.Nop()})
	if res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))
	for _, m := range q.sent {
		if r := worker(context.Background(), itemInvocation(m, 1)); r.Failure != nil {
			t.Fatalf("worker: %+v", r.Failure)
		}
	}
	run, _ := rec.LastRun(context.Background())
	if run.Outcome != record.OutcomeComplete || !run.Listed || run.ItemsSent != 3 || run.ItemsDone != 3 {
		t.Errorf("run %+v, want complete, listed, 3 of 3 items done", run)
	}
}

// TestFanoutClosesTheRunOfAStoppedCoordinator: the next coordinator closes
// a run whose coordinator stopped before it had listed everything, once it
// has listed the estate itself: partial, the reason, and the subscriptions
// it did not judge. Runs of the in-process sweep, listed runs still being
// worked on, and ended runs are left alone. Failed before: nothing closed
// such a run; it stayed running for ever (issue 16, D1).
func TestFanoutClosesTheRunOfAStoppedCoordinator(t *testing.T) {
	ctx := context.Background()
	earlier := now.Add(-24 * time.Hour)
	tests := []struct {
		name      string
		prev      record.Run
		wantOut   string
		wantNot   int
		wantInDet string
	}{
		{name: "stopped_mid_listing", prev: record.Run{ID: "20261206T030000Z-0123456789ab", ItemsSent: 2, SubscriptionsSent: 10, ItemsDone: 2,
			Summary: map[pal.Status]int{pal.StatusAttributed: 9, pal.StatusError: 1}},
			wantOut: record.OutcomePartial, wantNot: 31, wantInDet: "coordinator stopped after sending 2 work item(s) (10 subscription(s))"},
		{name: "stopped_before_any_item_was_judged", prev: record.Run{ID: "20261206T030000Z-0123456789ab"},
			wantOut: record.OutcomeFailed, wantNot: 40, wantInDet: "coordinator stopped after sending 0 work item(s)"},
		{name: "in_process_run_left_alone", prev: record.Run{ID: "timer-invocation-id"}, wantOut: record.OutcomeRunning},
		{name: "listed_run_still_worked_on_left_alone", prev: record.Run{ID: "20261206T030000Z-0123456789ab", Listed: true, ItemsSent: 8},
			wantOut: record.OutcomeRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := record.NewMemory()
			prev := tt.prev
			prev.StartedAt, prev.Outcome = earlier, record.OutcomeRunning
			if err := rec.StartRun(ctx, prev); err != nil {
				t.Fatal(err)
			}
			if _, err := rec.UpdateRun(ctx, prev.ID, func(r *record.Run) { *r = prev }); err != nil {
				t.Fatal(err)
			}
			e := &fanEngine{tenants: 4, subs: 10}
			res := must(SweepFanout(e, withBounds(&Options{Record: rec, SweepQueue: &fanQueue{}, Now: func() time.Time { return now }})))(ctx,
				&customhandler.Invocation{ID: "timer-2", Log: zerolog.Nop()})
			if res.Failure != nil {
				t.Fatalf("coordinator failed: %+v", res.Failure)
			}
			got, err := rec.UpdateRun(ctx, prev.ID, func(*record.Run) {})
			if err != nil {
				t.Fatal(err)
			}
			if got.Outcome != tt.wantOut || got.NotJudged != tt.wantNot || !strings.Contains(got.Detail, tt.wantInDet) {
				t.Errorf("previous run %+v, want %s, %d not judged, detail with %q", got, tt.wantOut, tt.wantNot, tt.wantInDet)
			}
			if tt.wantOut != record.OutcomeRunning && (got.FinishedAt.IsZero() || !strings.Contains(got.Detail, "closed by run")) {
				t.Errorf("previous run %+v, want finished and closed by the new run", got)
			}
			last, _ := rec.LastRun(ctx)
			if wantID := map[bool]string{true: "", false: prev.ID}[tt.wantOut == record.OutcomeRunning]; last.ClosedRunID != wantID || last.ClosedNotJudged != tt.wantNot {
				t.Errorf("new run notes closed %q (%d not judged), want %q (%d)", last.ClosedRunID, last.ClosedNotJudged, wantID, tt.wantNot)
			}
		})
	}
}

// TestSweepClosesTheRunOfAnInvocationThatDied: the timer's sweep in one
// process closes the previous such run still running (its invocation was
// killed before it closed it): partial with the verdicts it recorded, the
// record's others counted as not judged, and the new run names it. A run
// of `handler sweep` is left alone. Failed before: nothing closed it
// (issue 16, D1, "no run is ever stuck").
func TestSweepClosesTheRunOfAnInvocationThatDied(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, prevID, wantOut string
		wantNot               int
	}{
		{"dead_timer_invocation", "0d9b1c5e-6f3a-4a9b-8c1d-2e3f4a5b6c7d", record.OutcomePartial, 2},
		{"command_run_left_alone", "cli-20261206T030000.000000Z-0a1b2c3d", record.OutcomeRunning, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := record.NewMemory()
			started := now.Add(-time.Hour)
			if err := rec.StartRun(ctx, record.Run{ID: tt.prevID, StartedAt: started}); err != nil {
				t.Fatal(err)
			}
			// It recorded one verdict before it died; two are older.
			for i, at := range []time.Time{started.Add(time.Minute), started.Add(-time.Hour), started.Add(-2 * time.Hour)} {
				v := record.Verdict{TenantID: tenant, SubscriptionID: subscriptionNum(i), Status: pal.StatusAttributed, CheckedAt: at, CheckedBy: SweepFunction}
				if _, err := rec.Save(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			res := must(Sweep(&estateEngine{}, withBounds(&Options{Record: rec, Now: func() time.Time { return now }})))(ctx,
				&customhandler.Invocation{ID: "new-invocation", Log: zerolog.Nop()})
			if res.Failure != nil {
				t.Fatalf("sweep failed: %+v", res.Failure)
			}
			got, _ := rec.UpdateRun(ctx, tt.prevID, func(*record.Run) {})
			if got.Outcome != tt.wantOut || got.NotJudged != tt.wantNot {
				t.Errorf("previous run %+v, want %s with %d not judged", got, tt.wantOut, tt.wantNot)
			}
			last, _ := rec.LastRun(ctx)
			wantClosed := map[bool]string{true: "", false: tt.prevID}[tt.wantOut == record.OutcomeRunning]
			if last.ID != "new-invocation" || last.ClosedRunID != wantClosed || last.Outcome != record.OutcomeComplete {
				t.Errorf("new run %+v, want complete, closing %q", last, wantClosed)
			}
			if tt.wantOut == record.OutcomePartial && (got.Summary[pal.StatusAttributed] != 1 || !strings.Contains(got.Detail, "closed by run new-invocation")) {
				t.Errorf("previous run %+v, want its one recorded verdict counted and the reason", got)
			}
		})
	}
}

// subscriptionNum is the i-th subscription of these tests.
func subscriptionNum(i int) string {
	return "55555555-0000-4000-8000-00000000000" + string(rune('0'+i))
}
