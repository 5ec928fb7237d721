package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

const (
	fanTenant = "11111111-0000-4000-8000-%012d"
	fanSub    = "22222222-0000-4000-8000-%012d"
	fanOID    = "33333333-0000-4000-8000-000000000001"
	fanHome   = "44444444-0000-4000-8000-000000000001"
)

// fanEngine lists tenants×subs subscriptions; judging a subscription of a
// tenant in fail gives that error verdict (or JudgeBatch that error).
type fanEngine struct {
	tenants, subs int
	listErr       error
	mu            sync.Mutex
	judgeErr      map[string]error
	judged        int
}

type fanListing struct{ e *fanEngine }

func (l fanListing) Batches(ctx context.Context, maxBatch int, fn func(pal.SweepBatch) error) error {
	for t := range l.e.tenants {
		b := pal.SweepBatch{TenantID: fmt.Sprintf(fanTenant, t)}
		for s := range l.e.subs {
			b.Subscriptions = append(b.Subscriptions, pal.Subscription{ID: fmt.Sprintf(fanSub, t*1000+s), TenantID: b.TenantID, DisplayName: "s"})
			if len(b.Subscriptions) == maxBatch {
				if err := fn(b); err != nil {
					return err
				}
				b.Subscriptions = nil
			}
		}
		if len(b.Subscriptions) > 0 {
			if err := fn(b); err != nil {
				return err
			}
		}
		if t == l.e.tenants/2 && l.e.listErr != nil {
			return l.e.listErr
		}
	}
	return nil
}

func (e *fanEngine) StartSweep(ctx context.Context, log *zerolog.Logger) (pal.Principal, pal.LinkResult, SweepListing, error) {
	return pal.Principal{TenantID: fanHome, ObjectID: fanOID}, pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"}, fanListing{e}, nil
}

func (e *fanEngine) JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, l pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error {
	e.mu.Lock()
	err := e.judgeErr[b.TenantID]
	e.judged += len(b.Subscriptions)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	for i, s := range b.Subscriptions {
		st := pal.StatusAttributed
		if i == 0 {
			st = pal.StatusIneligibleRole
		}
		if err := emit(pal.SubscriptionResult{TenantID: b.TenantID, SubscriptionID: s.ID, Status: st}); err != nil {
			return err
		}
	}
	return nil
}

// fanQueue is the sweep queue double: it keeps what was sent and scheduled.
type fanQueue struct {
	fakeQueue
	batches int
}

func (q *fanQueue) SendMessages(ctx context.Context, ms []QueueMessage) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.batches++
	q.sent = append(q.sent, ms...)
	return nil
}

func itemInvocation(m QueueMessage, delivery int) *customhandler.Invocation {
	body, _ := json.Marshal(string(m.Body))
	md := map[string]json.RawMessage{
		"MessageId":     json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("%q", m.MessageID))),
		"DeliveryCount": json.RawMessage(fmt.Sprintf(`"%d"`, delivery)),
	}
	if len(m.Properties) > 0 {
		props, _ := json.Marshal(m.Properties)
		md["ApplicationProperties"] = props
	}
	return &customhandler.Invocation{ID: "w", Data: map[string]json.RawMessage{sweepCheckBinding: body}, Metadata: md, Log: zerolog.Nop()}
}

func coordinate(t *testing.T, e *fanEngine, rec record.Store, q *fanQueue) (fanoutReport, customhandler.Result) {
	t.Helper()
	res := must(SweepFanout(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))(context.Background(),
		&customhandler.Invocation{ID: "timer-1", Log: zerolog.Nop()})
	rep, _ := res.ReturnValue.(fanoutReport)
	return rep, res
}

func TestFanoutEveryItemCountedOnceAndTheRunCompletes(t *testing.T) {
	e := &fanEngine{tenants: 5, subs: 120} // 3 items per tenant: 50, 50, 20
	rec := record.NewMemory()
	q := &fanQueue{}
	rep, res := coordinate(t, e, rec, q)
	if res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	if rep.ItemsSent != 15 || len(q.sent) != 15 || e.judged != 0 {
		t.Fatalf("got %d items reported, %d sent, %d judged by the coordinator; want 15, 15, 0", rep.ItemsSent, len(q.sent), e.judged)
	}
	ids := map[string]bool{}
	for i, m := range q.sent {
		if want := workItemMessageID(rep.RunID, fmt.Sprintf(fanTenant, i/3), i); m.MessageID != want || ids[m.MessageID] {
			t.Errorf("item %d: MessageId %q, want %q, unique", i, m.MessageID, want)
		}
		ids[m.MessageID] = true
		if len(m.Body) > 16<<10 {
			t.Errorf("item %d is %d bytes", i, len(m.Body))
		}
	}
	run, _ := rec.UpdateRun(context.Background(), rep.RunID, func(*record.Run) {})
	if run.Outcome != record.OutcomeRunning || run.ItemsSent != 15 {
		t.Fatalf("after the coordinator: got %s with %d sent, want running with 15", run.Outcome, run.ItemsSent)
	}
	worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))
	for i, m := range q.sent {
		for delivery := 1; delivery <= 1+i%2; delivery++ { // every other item delivered twice
			if r := worker(context.Background(), itemInvocation(m, delivery)); r.Failure != nil {
				t.Fatalf("item %d: %+v", i, r.Failure)
			}
		}
	}
	run, _ = rec.LastRun(context.Background())
	want := map[pal.Status]int{pal.StatusAttributed: 5 * 117, pal.StatusIneligibleRole: 15}
	if run.Outcome != record.OutcomeComplete || run.ItemsDone != 15 || run.ItemsFailed != 0 || run.FinishedAt.IsZero() ||
		run.Summary[pal.StatusAttributed] != want[pal.StatusAttributed] || run.Summary[pal.StatusIneligibleRole] != want[pal.StatusIneligibleRole] {
		t.Errorf("run: got %+v, want complete, 15 done, summary %v", run, want)
	}
	vs, _ := rec.Verdicts(context.Background(), record.Filter{})
	if len(vs) != 600 || vs[0].CheckedBy != SweepCheckFunction || vs[0].LinkPartnerID != "1234567" {
		t.Errorf("record: got %d verdicts (first %+v), want 600 by %s", len(vs), vs[0], SweepCheckFunction)
	}
}

func TestFanoutTransientItemIsRetriedThenCounted(t *testing.T) {
	e := &fanEngine{tenants: 2, subs: 3, judgeErr: map[string]error{
		fmt.Sprintf(fanTenant, 1): &pal.Error{Code: pal.CodeTransient, Message: "ARM throttled"}}}
	rec := record.NewMemory()
	q := &fanQueue{}
	rep, _ := coordinate(t, e, rec, q)
	worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }, Jitter: func() float64 { return 0 }})))
	for _, m := range q.sent {
		if r := worker(context.Background(), itemInvocation(m, 1)); r.Failure != nil {
			t.Fatalf("%s: %+v", m.MessageID, r.Failure)
		}
	}
	if len(q.scheduled) != 1 || q.scheduled[0].MessageID != workItemMessageID(rep.RunID, fmt.Sprintf(fanTenant, 1), 1)+"/attempt-2" {
		t.Fatalf("scheduled: got %+v, want the copy of item 1, attempt 2", q.scheduled)
	}
	run, _ := rec.LastRun(context.Background())
	if run.Outcome != record.OutcomeRunning || run.ItemsDone != 1 {
		t.Fatalf("before the retry: got %s, %d done; want running, 1 done", run.Outcome, run.ItemsDone)
	}
	e.judgeErr = nil
	if r := worker(context.Background(), itemInvocation(q.scheduled[0], 1)); r.Failure != nil {
		t.Fatalf("retry: %+v", r.Failure)
	}
	run, _ = rec.LastRun(context.Background())
	if run.Outcome != record.OutcomeComplete || run.ItemsDone != 2 || run.ItemsFailed != 0 {
		t.Errorf("after the retry: got %+v, want complete with 2 done", run)
	}
}

func TestFanoutFailedItemShowsInTheRun(t *testing.T) {
	bad := fmt.Sprintf(fanTenant, 0)
	for _, tt := range []struct {
		name     string
		err      error
		delivery int
		attempt  int
		wantWhy  string
	}{
		{"permanent", &pal.Error{Code: pal.CodeForbidden, Message: "Azure refused to list the delegations"}, 1, 1, "not retried"},
		{"attempts_used_up", &pal.Error{Code: pal.CodeTransient, Message: "ARM throttled"}, 1, 8, "attempts used up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &fanEngine{tenants: 2, subs: 2, judgeErr: map[string]error{bad: tt.err}}
			rec := record.NewMemory()
			q := &fanQueue{}
			coordinate(t, e, rec, q)
			worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))
			m := q.sent[0]
			m.Properties = map[string]any{propAttempt: tt.attempt}
			r := worker(context.Background(), itemInvocation(m, tt.delivery))
			if r.Failure == nil || !strings.Contains(r.Failure.Message, tt.wantWhy) {
				t.Fatalf("got %+v, want a failure saying %q", r.Failure, tt.wantWhy)
			}
			// The host redelivers; the failure is not counted twice.
			worker(context.Background(), itemInvocation(m, tt.delivery+1))
			if r := worker(context.Background(), itemInvocation(q.sent[1], 1)); r.Failure != nil {
				t.Fatal(r.Failure)
			}
			run, _ := rec.LastRun(context.Background())
			if run.Outcome != record.OutcomePartial || run.ItemsFailed != 1 || run.ItemsDone != 1 ||
				!strings.Contains(run.Detail, "work item 0 (tenant "+bad+") failed") {
				t.Errorf("got %+v, want partial, 1 failed with its reason, 1 done", run)
			}
		})
	}
}

func TestFanoutListingFailureFailsTheRun(t *testing.T) {
	e := &fanEngine{tenants: 4, subs: 2, listErr: &pal.Error{Code: pal.CodeForbidden, Message: "Azure refused to list the subscriptions"}}
	rec := record.NewMemory()
	q := &fanQueue{}
	_, res := coordinate(t, e, rec, q)
	if res.Failure == nil {
		t.Fatal("coordinator succeeded")
	}
	run, _ := rec.LastRun(context.Background())
	if run.Outcome != record.OutcomeFailed || run.FinishedAt.IsZero() || run.ItemsSent != len(q.sent) ||
		!strings.Contains(run.Detail, "Azure refused to list the subscriptions") {
		t.Errorf("got %+v, want failed with the reason and %d sent", run, len(q.sent))
	}
}

func TestFanoutQueueDownFailsTheRun(t *testing.T) {
	e := &fanEngine{tenants: 2, subs: 2}
	rec := record.NewMemory()
	q := &fanQueue{fakeQueue: fakeQueue{err: errors.New("amqp: connection refused")}}
	_, res := coordinate(t, e, rec, q)
	run, _ := rec.LastRun(context.Background())
	if res.Failure == nil || res.Failure.Status != 503 || run.Outcome != record.OutcomeFailed || strings.Contains(run.Detail, "amqp") {
		t.Errorf("got %+v and run %+v, want 503 and a failed run with a public reason", res.Failure, run)
	}
}

func TestWorkItemRejectsBadInput(t *testing.T) {
	good := newWorkItem("run-1", 0, pal.Principal{TenantID: fanHome, ObjectID: fanOID}, pal.LinkResult{},
		pal.SweepBatch{TenantID: fmt.Sprintf(fanTenant, 1), Subscriptions: []pal.Subscription{{ID: fmt.Sprintf(fanSub, 1)}}})
	for _, tt := range []struct {
		name, field string
		edit        func(*workItem)
	}{
		{"kind", "kind", func(w *workItem) { w.Kind = "sweep" }},
		{"run", "runId", func(w *workItem) { w.RunID = "" }},
		{"tenant", "tenantId", func(w *workItem) { w.TenantID = "x" }},
		{"empty", "subscriptions", func(w *workItem) { w.Subscriptions = nil }},
		{"sub", "subscriptions", func(w *workItem) { w.Subscriptions[0].ID = "nope" }},
		{"principal", "principal", func(w *workItem) { w.Principal.ObjectID = "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := good
			w.Subscriptions = append([]workItemSubscription(nil), good.Subscriptions...)
			tt.edit(&w)
			b, _ := json.Marshal(w)
			_, err := decodeWorkItem(b)
			var pe *pal.Error
			if !errors.As(err, &pe) || pe.Code != pal.CodeInvalidInput || pe.Fields[tt.field] == "" {
				t.Errorf("got %v, want invalid input naming %s", err, tt.field)
			}
		})
	}
	b, _ := json.Marshal(good)
	if _, err := decodeWorkItem(b); err != nil {
		t.Errorf("good item: %v", err)
	}
}

// countingRecord counts the record writes of the workers.
type countingRecord struct {
	*record.Memory
	mu             sync.Mutex
	saves, saveAll int
}

func (c *countingRecord) Save(ctx context.Context, v record.Verdict) (*record.Change, error) {
	c.mu.Lock()
	c.saves++
	c.mu.Unlock()
	return c.Memory.Save(ctx, v)
}

func (c *countingRecord) SaveAll(ctx context.Context, vs []record.Verdict) ([]*record.Change, error) {
	c.mu.Lock()
	c.saveAll++
	c.mu.Unlock()
	return c.Memory.SaveAll(ctx, vs)
}

// cutEngine emits the first two verdicts of a batch, then ends as a context
// running out does.
type cutEngine struct{ *fanEngine }

func (e cutEngine) JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, l pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error {
	for _, s := range b.Subscriptions[:2] {
		if err := emit(pal.SubscriptionResult{TenantID: b.TenantID, SubscriptionID: s.ID, Status: pal.StatusAttributed}); err != nil {
			return err
		}
	}
	return &pal.Error{Code: pal.CodeTransient, Message: "3 subscription(s) left unjudged", Err: context.DeadlineExceeded}
}

func TestWorkerSavesAnItemInOneWriteAndLogsDriftOnce(t *testing.T) {
	ctx := context.Background()
	e := &fanEngine{tenants: 2, subs: 5}
	rec := &countingRecord{Memory: record.NewMemory()}
	// Sub 0 of tenant 0 was attributed; the worker judges it ineligible-role.
	if _, err := rec.Memory.Save(ctx, record.Verdict{TenantID: fmt.Sprintf(fanTenant, 0), SubscriptionID: fmt.Sprintf(fanSub, 0),
		Status: pal.StatusAttributed, CheckedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	q := &fanQueue{}
	if _, res := coordinate(t, e, rec, q); res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	var buf strings.Builder
	worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))
	for _, m := range append(q.sent, q.sent[0]) { // item 0 twice
		inv := itemInvocation(m, 1)
		inv.Log = zerolog.New(&buf)
		if r := worker(ctx, inv); r.Failure != nil {
			t.Fatalf("worker: %+v", r.Failure)
		}
	}
	if rec.saveAll != 3 || rec.saves != 0 {
		t.Errorf("record writes: got %d SaveAll and %d Save for 3 deliveries, want one SaveAll each", rec.saveAll, rec.saves)
	}
	if n := strings.Count(buf.String(), record.DriftMessage); n != 1 {
		t.Errorf("drift lines: got %d, want 1\n%s", n, buf.String())
	}
	if vs, _ := rec.Verdicts(ctx, record.Filter{}); len(vs) != 10 {
		t.Errorf("verdicts: got %d, want 10", len(vs))
	}
	run, _ := rec.LastRun(ctx)
	if run.Outcome != record.OutcomeComplete || run.ItemsDone != 2 {
		t.Errorf("run: got %+v, want complete with 2 items done", run)
	}
}

func TestWorkerSavesWhatItJudgedBeforeItsTimeRanOut(t *testing.T) {
	ctx := context.Background()
	e := &fanEngine{tenants: 1, subs: 5}
	rec := record.NewMemory()
	q := &fanQueue{}
	if _, res := coordinate(t, e, rec, q); res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	worker := must(SweepCheck(cutEngine{e}, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))
	if r := worker(ctx, itemInvocation(q.sent[0], 1)); r.Failure != nil {
		t.Fatalf("worker: %+v", r.Failure)
	}
	if vs, _ := rec.Verdicts(ctx, record.Filter{}); len(vs) != 2 {
		t.Errorf("verdicts: got %d, want the 2 judged", len(vs))
	}
	if len(q.scheduled) != 1 {
		t.Errorf("retries scheduled: got %d, want 1 (the item is not done)", len(q.scheduled))
	}
	if run, _ := rec.LastRun(ctx); run.ItemsDone != 0 || run.Outcome != record.OutcomeRunning {
		t.Errorf("run: got %+v, want running with nothing done", run)
	}
}

// errEngine judges the first subscription of a batch `error` and the others
// attributed.
type errEngine struct{ *fanEngine }

func (e errEngine) JudgeBatch(ctx context.Context, log *zerolog.Logger, p pal.Principal, l pal.LinkResult, b pal.SweepBatch, emit func(pal.SubscriptionResult) error) error {
	for i, s := range b.Subscriptions {
		r := pal.SubscriptionResult{TenantID: b.TenantID, SubscriptionID: s.ID, Status: pal.StatusAttributed}
		if i == 0 {
			r.Status, r.Detail = pal.StatusError, "reading the delegations failed"
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// TestWorkerDoesNotRecordErrorVerdicts: the worker writes verdicts by the same
// rule as every other function: an `error` verdict says nothing about
// attribution, so the stored verdict (attributed) and its Since stay, and no
// false `attribution lost` line is logged.
func TestWorkerDoesNotRecordErrorVerdicts(t *testing.T) {
	ctx := context.Background()
	e := &fanEngine{tenants: 1, subs: 3}
	rec := record.NewMemory()
	first := record.Verdict{TenantID: fmt.Sprintf(fanTenant, 0), SubscriptionID: fmt.Sprintf(fanSub, 0),
		Status: pal.StatusAttributed, CheckedAt: now.Add(-time.Hour)}
	if _, err := rec.Save(ctx, first); err != nil {
		t.Fatal(err)
	}
	q := &fanQueue{}
	if _, res := coordinate(t, e, rec, q); res.Failure != nil {
		t.Fatalf("coordinator failed: %+v", res.Failure)
	}
	var buf strings.Builder
	inv := itemInvocation(q.sent[0], 1)
	inv.Log = zerolog.New(&buf)
	must(SweepCheck(errEngine{e}, withBounds(&Options{Record: rec, SweepQueue: q, Now: func() time.Time { return now }})))(ctx, inv)
	vs, _ := rec.Verdicts(ctx, record.Filter{})
	for _, v := range vs {
		if v.SubscriptionID == first.SubscriptionID && (v.Status != pal.StatusAttributed || !v.Since.Equal(first.CheckedAt)) {
			t.Errorf("stored verdict = %s since %v, want attributed since %v (error verdicts are not recorded)", v.Status, v.Since, first.CheckedAt)
		}
	}
	if strings.Contains(buf.String(), record.DriftMessage) {
		t.Errorf("a false drift line was logged:\n%s", buf.String())
	}
}

// TestSweepCheckLastDeliveryFollowsTheQueuesCount: a work item whose retry
// cannot be scheduled is counted as failed on its queue's last delivery —
// the delivery SweepMaxDeliveryCount names, 5 or 10 — and only then; before
// it, the invocation fails uncounted so the host redelivers it.
func TestSweepCheckLastDeliveryFollowsTheQueuesCount(t *testing.T) {
	for _, count := range []int{5, 10} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			bad := fmt.Sprintf(fanTenant, 0)
			e := &fanEngine{tenants: 1, subs: 2, judgeErr: map[string]error{bad: &pal.Error{Code: pal.CodeTransient, Message: "ARM throttled"}}}
			rec := record.NewMemory()
			q := &fanQueue{}
			coordinate(t, e, rec, q)
			q.err = errors.New("amqp: connection refused") // no retry copy can be scheduled
			worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, SweepMaxDeliveryCount: count, Now: func() time.Time { return now }})))
			for delivery := 1; delivery < count; delivery++ {
				if r := worker(context.Background(), itemInvocation(q.sent[0], delivery)); r.Failure == nil {
					t.Fatalf("delivery %d: got success, want a failure for redelivery", delivery)
				}
				if run, _ := rec.LastRun(context.Background()); run.ItemsFailed != 0 || run.Outcome != record.OutcomeRunning {
					t.Fatalf("delivery %d of %d: got %+v, want the item not counted yet", delivery, count, run)
				}
			}
			r := worker(context.Background(), itemInvocation(q.sent[0], count))
			run, _ := rec.LastRun(context.Background())
			if r.Failure == nil || run.ItemsFailed != 1 || run.Outcome != record.OutcomePartial ||
				!strings.Contains(run.Detail, "the retry could not be scheduled on the last delivery") {
				t.Errorf("delivery %d of %d: got %+v and run %+v, want a failure counted in a partial run", count, count, r.Failure, run)
			}
		})
	}
}

// TestSweepCheckCancelledSchedulesNothing: a cancelled worker invocation is
// treated as a cancelled onboarding is (one rule, giveUp): nothing is
// scheduled, the invocation fails 499 so the host redelivers, and only on the
// queue's last delivery is the item counted as failed.
func TestSweepCheckCancelledSchedulesNothing(t *testing.T) {
	bad := fmt.Sprintf(fanTenant, 0)
	e := &fanEngine{tenants: 1, subs: 2, judgeErr: map[string]error{bad: &pal.Error{Code: pal.CodeTransient, Message: "ARM throttled"}}}
	rec := record.NewMemory()
	q := &fanQueue{}
	coordinate(t, e, rec, q)
	worker := must(SweepCheck(e, withBounds(&Options{Record: rec, SweepQueue: q, SweepMaxDeliveryCount: 5, Now: func() time.Time { return now }})))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := worker(ctx, itemInvocation(q.sent[0], 1))
	run, _ := rec.LastRun(context.Background())
	if r.Failure == nil || r.Failure.Status != 499 || len(q.scheduled) != 0 || run.ItemsFailed != 0 {
		t.Fatalf("delivery 1: got %+v, %d scheduled, run %+v; want 499, nothing scheduled, not counted", r.Failure, len(q.scheduled), run)
	}
	r = worker(ctx, itemInvocation(q.sent[0], 5))
	run, _ = rec.LastRun(context.Background())
	if r.Failure == nil || len(q.scheduled) != 0 || run.ItemsFailed != 1 || !strings.Contains(run.Detail, "cancelled on the queue's last delivery") {
		t.Errorf("last delivery: got %+v, %d scheduled, run %+v; want a failure counted, nothing scheduled", r.Failure, len(q.scheduled), run)
	}
}
