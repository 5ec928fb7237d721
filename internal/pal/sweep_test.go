package pal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pagedFake lists the fake's subscriptions page by page, sorted by ID.
type pagedFake struct {
	*fakeAzure
	pageSize int
	// beforePage, when set, runs before page i (0-based) is delivered.
	beforePage func(ctx context.Context, i int) error
	pages      atomic.Int32
	lists      atomic.Int32
	// listing, when set, receives a value as each ListSubscriptions starts,
	// and the listing then waits until listGate is closed.
	listing  chan struct{}
	listGate chan struct{}
}

func (p *pagedFake) ListSubscriptionPages(ctx context.Context, fn func([]Subscription) error) error {
	all, err := p.fakeAzure.ListSubscriptions(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b Subscription) int { return strings.Compare(a.ID, b.ID) })
	for i := 0; len(all) > 0; i++ {
		if p.beforePage != nil {
			if err := p.beforePage(ctx, i); err != nil {
				return err
			}
		}
		n := min(p.pageSize, len(all))
		p.pages.Add(1)
		if err := fn(all[:n]); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

func (p *pagedFake) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	p.lists.Add(1)
	if p.listing != nil {
		p.listing <- struct{}{}
		<-p.listGate
	}
	return p.fakeAzure.ListSubscriptions(ctx)
}

func pagedEngine(t *testing.T, p *pagedFake, opts *EngineOptions) *Engine {
	t.Helper()
	az := p.azure()
	az.Subscriptions = p
	e, err := NewEngine("1234567", az, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// subID is the n-th subscription of tenant prefix t (a hex digit).
func subID(t byte, n int) string { return fmt.Sprintf("%c0000000-0000-4000-8000-%012d", t, n) }

// bigFake has tenants A and B with n subscriptions each (even ones Contributor,
// odd ones Reader) and one subscription of the managing tenant.
func bigFake(n int) *fakeAzure {
	f := newFake()
	f.link = &Link{PartnerID: "1234567", State: "Active"}
	for i := range n {
		role := roleCont
		if i%2 == 1 {
			role = roleRead
		}
		f.addSub(subID('2', i), custA, []string{role}, nil)
		f.addSub(subID('3', i), custB, []string{role}, nil)
	}
	f.subs[subID('1', 0)] = Subscription{ID: subID('1', 0), TenantID: home}
	return f
}

func TestSweepStreamsEveryVerdictAndKeepsOnlyTheNotAttributed(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(5), pageSize: 3}
	e := pagedEngine(t, p, &EngineOptions{Concurrency: 3})
	var emitted []SubscriptionResult
	res, err := e.Sweep(context.Background(), nop(), &SweepOptions{Emit: func(r SubscriptionResult) error {
		emitted = append(emitted, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, r := range emitted {
		if _, dup := got[r.SubscriptionID]; dup {
			t.Errorf("%s emitted twice", r.SubscriptionID)
		}
		got[r.SubscriptionID] = r.Status
	}
	want := map[string]Status{}
	for i := range 5 {
		st := StatusAttributed
		if i%2 == 1 {
			st = StatusIneligibleRole
		}
		want[subID('2', i)], want[subID('3', i)] = st, st
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if got, want := res.Summary[StatusAttributed], 6; got != want {
		t.Errorf("summary attributed = %d, want %d", got, want)
	}
	if got, want := len(res.Results), 4; got != want {
		t.Errorf("%d results kept, want the %d not attributed", got, want)
	}
	for _, r := range res.Results {
		if r.Status == StatusAttributed {
			t.Errorf("result %s is attributed; only the others are kept", r.SubscriptionID)
		}
	}
	if got := p.pages.Load(); got != 4 {
		t.Errorf("listed %d pages, want 4 (11 subscriptions, 3 a page)", got)
	}
}

func TestSweepJudgesWhileItLists(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(10), pageSize: 4}
	judged := make(chan struct{})
	var once sync.Once
	p.fakeAzure.errs = map[string]error{}
	// The second page is only delivered after a subscription of the first was
	// judged: a sweep that lists everything before judging never finishes.
	p.beforePage = func(ctx context.Context, i int) error {
		if i != 1 {
			return nil
		}
		select {
		case <-judged:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("no subscription judged before the second page was asked for")
		}
	}
	e := pagedEngine(t, p, &EngineOptions{Concurrency: 4})
	_, err := e.Sweep(context.Background(), nop(), &SweepOptions{Emit: func(SubscriptionResult) error {
		once.Do(func() { close(judged) })
		return nil
	}})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
}

func TestSweepBoundsRequestsInFlight(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := &pagedFake{fakeAzure: bigFake(15), pageSize: 7}
			p.delay = 3 * time.Millisecond
			e := pagedEngine(t, p, &EngineOptions{Concurrency: n})
			if _, err := e.Sweep(context.Background(), nop(), nil); err != nil {
				t.Fatal(err)
			}
			// One slot is the listing's.
			if got, want := int(p.maxFlight.Load()), max(1, n-1); got > want {
				t.Errorf("%d delegation reads at once, want at most %d", got, want)
			}
		})
	}
}

func TestSweepBudgetEmitsWhatWasJudged(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(50), pageSize: 10}
	p.delay = 20 * time.Millisecond
	e := pagedEngine(t, p, &EngineOptions{Concurrency: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	emitted := 0
	_, err := e.Sweep(ctx, nop(), &SweepOptions{Emit: func(r SubscriptionResult) error {
		mu.Lock()
		defer mu.Unlock()
		emitted++
		if r.Status == StatusError {
			t.Errorf("%s emitted as %s (%s): a stopped judgement must not be recorded", r.SubscriptionID, r.Status, r.Detail)
		}
		return nil
	}})
	if got := ErrorCodeOf(err); got != CodeTransient {
		t.Fatalf("error = %v (%s), want %s", err, got, CodeTransient)
	}
	inc := IncompleteSweepOf(err)
	if inc == nil {
		t.Fatalf("error %v wraps no IncompleteSweep", err)
	}
	total := 0
	for _, n := range inc.Result.Summary {
		total += n
	}
	if emitted == 0 || total != emitted {
		t.Errorf("emitted %d, summary counts %d; want the same, above zero", emitted, total)
	}
	if inc.Unjudged == 0 {
		t.Errorf("unjudged = 0, want the rest")
	}
	if inc.ListingComplete && emitted+inc.Unjudged != 100 {
		t.Errorf("emitted %d + unjudged %d != 100 with the listing complete", emitted, inc.Unjudged)
	}
}

func TestSweepEmitErrorStops(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(20), pageSize: 5}
	e := pagedEngine(t, p, &EngineOptions{Concurrency: 3})
	boom := errors.New("record unavailable")
	_, err := e.Sweep(context.Background(), nop(), &SweepOptions{Emit: func(SubscriptionResult) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the emit error", err)
	}
}

func TestJudgeBatchNeedsNoLinkRequest(t *testing.T) {
	tests := []struct {
		name       string
		link       LinkResult
		wantStatus Status
		wantDetail string
	}{
		{"linked", LinkResult{Action: LinkNone, PartnerID: "1234567"}, StatusAttributed, ""},
		{"created", LinkResult{Action: LinkCreated, PartnerID: "1234567"}, StatusAttributed, ""},
		{"foreign", LinkResult{Action: LinkForeign, PartnerID: "999999", PreviousPartnerID: "999999"}, StatusUnlinked, foreignLinkProblem("999999")},
		{"none", LinkResult{Action: LinkNone}, StatusUnlinked, noLinkProblem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := bigFake(1)
			f.errs["get"+":"] = errors.New("the link must not be read")
			e := mustEngine(t, f, nil)
			var got []SubscriptionResult
			b := SweepBatch{TenantID: custA, Subscriptions: []Subscription{f.subs[subID('2', 0)]}}
			err := e.JudgeBatch(context.Background(), nop(), Principal{TenantID: home, ObjectID: oid}, tt.link, b,
				func(r SubscriptionResult) error { got = append(got, r); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Status != tt.wantStatus || got[0].Detail != tt.wantDetail {
				t.Errorf("verdicts = %+v, want one %s with detail %q", got, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

func TestBatchesGroupByTenantAndSkipTheManagingTenant(t *testing.T) {
	s := func(id, tenant string) Subscription { return Subscription{ID: id, TenantID: tenant} }
	page := []Subscription{s("a1", "A"), s("b1", "B"), s("a2", "A"), s("h1", "HOME"), s("a3", "A"), s("c1", "C")}
	got := groupBatches(page, "home", 2)
	want := []SweepBatch{
		{TenantID: "A", Subscriptions: []Subscription{s("a1", "A"), s("a2", "A")}},
		{TenantID: "A", Subscriptions: []Subscription{s("a3", "A")}},
		{TenantID: "B", Subscriptions: []Subscription{s("b1", "B")}},
		{TenantID: "C", Subscriptions: []Subscription{s("c1", "C")}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batches = %+v, want %+v", got, want)
	}
}

func TestSweepRunBatchesPageByPage(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(4), pageSize: 3}
	e := pagedEngine(t, p, nil)
	run, err := e.StartSweep(context.Background(), nop(), &SweepOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.Principal.TenantID != home || run.Link.PartnerID != "1234567" {
		t.Errorf("run = %+v", run)
	}
	var sizes []int
	err = run.Batches(context.Background(), 2, func(b SweepBatch) error {
		sizes = append(sizes, len(b.Subscriptions))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Pages (sorted IDs): [h1 a0 a1] [a2 a3 b0] [b1 b2 b3]; h1 is the managing tenant's.
	if want := []int{2, 2, 1, 2, 1}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
}

// TestSweepEmitsEachBatchOnceJudged: EmitBatch gets every batch (one tenant,
// at most MaxBatch) once, after Emit had each of its verdicts, and together
// the batches hold every verdict exactly once.
func TestSweepEmitsEachBatchOnceJudged(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(5), pageSize: 3}
	e := pagedEngine(t, p, &EngineOptions{Concurrency: 4})
	var mu sync.Mutex // EmitBatch calls may run at once
	emitted := map[string]bool{}
	inBatch := map[string]int{}
	batches := 0
	_, err := e.Sweep(context.Background(), nop(), &SweepOptions{MaxBatch: 2,
		Emit: func(r SubscriptionResult) error {
			mu.Lock()
			defer mu.Unlock()
			emitted[r.SubscriptionID] = true
			return nil
		},
		EmitBatch: func(rs []SubscriptionResult) error {
			mu.Lock()
			defer mu.Unlock()
			batches++
			if len(rs) == 0 || len(rs) > 2 {
				t.Errorf("a batch of %d verdicts, want 1 or 2", len(rs))
			}
			for _, r := range rs {
				if r.TenantID != rs[0].TenantID {
					t.Errorf("a batch of tenants %s and %s", rs[0].TenantID, r.TenantID)
				}
				if !emitted[r.SubscriptionID] {
					t.Errorf("%s in a batch before Emit had it", r.SubscriptionID)
				}
				inBatch[r.SubscriptionID]++
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inBatch) != 10 || len(emitted) != 10 {
		t.Fatalf("batches hold %d subscriptions, Emit had %d; want 10 each", len(inBatch), len(emitted))
	}
	for id, n := range inBatch {
		if n != 1 {
			t.Errorf("%s in %d batches, want 1", id, n)
		}
	}
	if batches < 5 {
		t.Errorf("%d batches, want at least 5 (2 tenants × 5 subscriptions, at most 2 per batch)", batches)
	}
}
