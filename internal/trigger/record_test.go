package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

const (
	subOK   = "33333333-0000-4000-8000-000000000001"
	subRead = "33333333-0000-4000-8000-000000000002"
	subErr  = "33333333-0000-4000-8000-000000000003"
)

// estateEngine judges three subscriptions of tenant: subOK with the status
// in status (attributed unless changed), subRead ineligible, subErr an error
// verdict when withError. Its Sweep calls Linked, then Emit for every verdict.
type estateEngine struct {
	status    pal.Status
	withError bool
	sweeps    int
}

func (e *estateEngine) result() *pal.Result {
	st := e.status
	if st == "" {
		st = pal.StatusAttributed
	}
	res := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkCreated, PartnerID: "1234567"},
		Summary: map[pal.Status]int{}, Results: []pal.SubscriptionResult{
			{TenantID: tenant, SubscriptionID: subOK, DisplayName: "ok", Status: st, Roles: []string{"Contributor"}},
			{TenantID: tenant, SubscriptionID: subRead, DisplayName: "read", Status: pal.StatusIneligibleRole, Roles: []string{"Reader"}, Detail: "Reader is not PEC-eligible"},
		}}
	if e.withError {
		res.Results = append(res.Results, pal.SubscriptionResult{TenantID: tenant, SubscriptionID: subErr, Status: pal.StatusError, Detail: "boom"})
	}
	for _, r := range res.Results {
		res.Summary[r.Status]++
	}
	return res
}

func (e *estateEngine) Onboard(context.Context, *zerolog.Logger, pal.Request) (*pal.Result, error) {
	return e.result(), nil
}

func (e *estateEngine) Status(context.Context, *zerolog.Logger, pal.Request) (*pal.Result, error) {
	res := e.result()
	res.Link.Action = pal.LinkNone
	return res, nil
}

func (e *estateEngine) Allowed(id string) bool { return id == "" || id == "1234567" }

func (e *estateEngine) Sweep(_ context.Context, _ *zerolog.Logger, o *pal.SweepOptions) (*pal.Result, error) {
	e.sweeps++
	res := e.result()
	if o != nil && o.Linked != nil {
		o.Linked(res.Link)
	}
	for _, r := range res.Results {
		if o != nil && o.Emit != nil {
			if err := o.Emit(r); err != nil {
				return nil, err
			}
		}
	}
	if o != nil && o.EmitBatch != nil { // one tenant: one batch, as the engine
		if err := o.EmitBatch(res.Results); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// flakyStore is a memory record whose operations fail on demand.
type flakyStore struct {
	*record.Memory
	failSave, failStart, failUpdate error
}

func (f *flakyStore) Save(ctx context.Context, v record.Verdict) (*record.Change, error) {
	if f.failSave != nil {
		return nil, f.failSave
	}
	return f.Memory.Save(ctx, v)
}

func (f *flakyStore) SaveAll(ctx context.Context, vs []record.Verdict) ([]*record.Change, error) {
	if f.failSave != nil {
		return nil, f.failSave
	}
	return f.Memory.SaveAll(ctx, vs)
}

func (f *flakyStore) StartRun(ctx context.Context, r record.Run) error {
	if f.failStart != nil {
		return f.failStart
	}
	return f.Memory.StartRun(ctx, r)
}

func (f *flakyStore) UpdateRun(ctx context.Context, id string, fn func(*record.Run)) (*record.Run, error) {
	if f.failUpdate != nil {
		return nil, f.failUpdate
	}
	return f.Memory.UpdateRun(ctx, id, fn)
}

var errTable = &pal.Error{Code: pal.CodeTransient, Message: "record: save verdict: Table Storage answered 503 ServerBusy", RetryAfter: 4 * time.Second}

// logged runs h with a logger writing to a buffer and returns the result and
// the log lines.
func logged(t *testing.T, h customhandler.HandlerFunc, inv *customhandler.Invocation) (customhandler.Result, []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	inv.Log = zerolog.New(&buf)
	res := h(context.Background(), inv)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return res, lines
}

func driftLines(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["message"] == record.DriftMessage {
			out = append(out, l)
		}
	}
	return out
}

// TestEveryTriggerRecords: onboarding, links (POST and the read-only GET) and
// the sweep each upsert their verdicts, as themselves, with the link; error
// verdicts are not recorded; the sweep writes its run row.
func TestEveryTriggerRecords(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	invs := map[string]func(t *testing.T) *customhandler.Invocation{
		OnboardingFunction: func(t *testing.T) *customhandler.Invocation {
			return invocation(t, onboardingBinding, `{"tenantId":"`+tenant+`"}`)
		},
		LinksFunction + " POST": func(t *testing.T) *customhandler.Invocation {
			return invocation(t, httpBinding, httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`"}`))
		},
		LinksFunction + " GET": func(t *testing.T) *customhandler.Invocation {
			return invocation(t, httpBinding, httpRequest("GET", "tenantId="+tenant, "", ""))
		},
		SweepFunction: func(t *testing.T) *customhandler.Invocation {
			return invocation(t, "timer", map[string]any{})
		},
	}
	handlers := map[string]func(Engine, *Options) (customhandler.HandlerFunc, error){
		OnboardingFunction: Onboarding, LinksFunction + " POST": Links, LinksFunction + " GET": Links, SweepFunction: Sweep,
	}
	for name, inv := range invs {
		t.Run(name, func(t *testing.T) {
			store := record.NewMemory()
			engine := &estateEngine{withError: true}
			opts := &Options{Record: store, Now: func() time.Time { return now }}
			must(handlers[name](engine, withBounds(opts)))(context.Background(), inv(t))
			vs, err := store.Verdicts(context.Background(), record.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			function, method, _ := strings.Cut(name, " ")
			wantAction := pal.LinkCreated
			if method == "GET" {
				wantAction = pal.LinkNone
			}
			if len(vs) != 2 {
				t.Fatalf("recorded %d verdicts (%+v), want 2: the error verdict is not one", len(vs), vs)
			}
			for _, v := range vs {
				if v.CheckedBy != function || !v.CheckedAt.Equal(now) || !v.Since.Equal(now) ||
					v.LinkPartnerID != "1234567" || v.LinkAction != wantAction || v.TenantID != tenant {
					t.Errorf("verdict %+v: want checked by %s at %v, link %s/1234567", v, function, now, wantAction)
				}
			}
			if vs[1].SubscriptionID != subRead || vs[1].Status != pal.StatusIneligibleRole || vs[1].Detail != "Reader is not PEC-eligible" ||
				len(vs[1].Roles) != 1 || vs[1].Roles[0] != "Reader" {
				t.Errorf("verdict = %+v, want the Reader-only subscription, ineligible, with its detail and role", vs[1])
			}
			run, _ := store.LastRun(context.Background())
			if function != SweepFunction {
				if run != nil {
					t.Errorf("%s wrote a run row: %+v", name, run)
				}
				return
			}
			// The error verdict fails the sweep (Decide), and the run says so.
			if run == nil || run.ID != "inv-1" || run.Outcome != record.OutcomePartial || !run.FinishedAt.Equal(now) ||
				run.Summary[pal.StatusAttributed] != 1 || run.Summary[pal.StatusError] != 1 || !strings.Contains(run.Detail, "could not be judged") {
				t.Errorf("run = %+v, want inv-1 partial with its summary and reason", run)
			}
		})
	}
}

// TestSweepRunComplete: a sweep without error verdicts ends complete.
// countingStore counts the writes of verdicts.
type countingStore struct {
	*record.Memory
	saves, saveAlls int
}

func (c *countingStore) Save(ctx context.Context, v record.Verdict) (*record.Change, error) {
	c.saves++
	return c.Memory.Save(ctx, v)
}

func (c *countingStore) SaveAll(ctx context.Context, vs []record.Verdict) ([]*record.Change, error) {
	c.saveAlls++
	return c.Memory.SaveAll(ctx, vs)
}

// TestSweepSavesEachBatchTogether: the sweep in one process saves a batch's
// verdicts with one SaveAll (in Table Storage one transaction per tenant
// chunk), not one Save each.
func TestSweepSavesEachBatchTogether(t *testing.T) {
	store := &countingStore{Memory: record.NewMemory()}
	// The error verdict fails the sweep (500) after the others were saved.
	must(Sweep(&estateEngine{withError: true}, withBounds(&Options{Record: store})))(context.Background(), invocation(t, "timer", map[string]any{}))
	if store.saves != 0 || store.saveAlls != 1 {
		t.Errorf("got %d Save and %d SaveAll calls, want 0 and 1", store.saves, store.saveAlls)
	}
	if vs, _ := store.Verdicts(context.Background(), record.Filter{}); len(vs) != 2 {
		t.Errorf("got %d verdicts, want 2 (the error verdict is not recorded)", len(vs))
	}
}

// TestSweepMaintainsTheRecord: a finished sweep computes the estate's
// totals again and removes history older than the retention, never a
// verdict.
func TestSweepMaintainsTheRecord(t *testing.T) {
	store := record.NewMemory()
	now := time.Now()
	old := record.Verdict{TenantID: "old-tenant", SubscriptionID: "old-sub", Status: pal.StatusUnlinked, CheckedAt: now.Add(-500 * 24 * time.Hour)}
	if _, err := store.Save(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	res := must(Sweep(&estateEngine{}, withBounds(&Options{Record: store, RecordRetention: 400 * 24 * time.Hour, Now: func() time.Time { return now }})))(
		context.Background(), invocation(t, "timer", map[string]any{}))
	if res.Failure != nil {
		t.Fatalf("sweep failed: %+v", res.Failure)
	}
	est, err := store.Estate(context.Background())
	if err != nil || est == nil || est.Total() != 3 || est.Tenants != 2 || !est.At.Equal(now.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("Estate: got %+v, %v, want 3 subscriptions in 2 tenants at %v", est, err, now)
	}
	cs, _ := store.Changes(context.Background(), 0)
	if len(cs) != 2 {
		t.Errorf("changes: got %d, want the sweep's 2 (the one of 500 days ago removed)", len(cs))
	}
	if vs, _ := store.Verdicts(context.Background(), record.Filter{}); len(vs) != 3 {
		t.Errorf("verdicts: got %d, want 3 (retention never removes a verdict)", len(vs))
	}
}

func TestSweepRunComplete(t *testing.T) {
	store := record.NewMemory()
	res := must(Sweep(&estateEngine{}, withBounds(&Options{Record: store})))(context.Background(), invocation(t, "timer", map[string]any{}))
	if res.Failure != nil {
		t.Fatalf("sweep failed: %+v", res.Failure)
	}
	run, err := store.LastRun(context.Background())
	if err != nil || run == nil || run.Outcome != record.OutcomeComplete || run.FinishedAt.IsZero() || run.Detail != "" ||
		run.Summary[pal.StatusAttributed] != 1 || run.Summary[pal.StatusIneligibleRole] != 1 {
		t.Errorf("run = %+v, %v; want complete with 1 attributed, 1 ineligible-role", run, err)
	}
}

// TestDriftLoggedOncePerChange: attributed → ineligible logs `attribution
// lost` once; the same status again logs nothing; back to attributed and the
// first judgement log nothing.
func TestDriftLoggedOncePerChange(t *testing.T) {
	store := record.NewMemory()
	engine := &estateEngine{}
	h := must(Sweep(engine, withBounds(&Options{Record: store})))
	n := 0
	sweep := func() []map[string]any {
		n++
		inv := invocation(t, "timer", map[string]any{})
		inv.ID = fmt.Sprintf("inv-%d", n) // the run ID: one per invocation
		res, lines := logged(t, h, inv)
		if res.Failure != nil {
			t.Fatalf("sweep failed: %+v", res.Failure)
		}
		return driftLines(lines)
	}
	if got := sweep(); len(got) != 0 {
		t.Errorf("first sweep logged %v, want no drift", got)
	}
	engine.status = pal.StatusIneligibleRole
	got := sweep()
	if len(got) != 1 || got[0]["subscription_id"] != subOK || got[0]["tenant_id"] != tenant ||
		got[0]["status"] != string(pal.StatusIneligibleRole) || got[0]["level"] != "warn" {
		t.Errorf("drift lines = %v, want one warning for %s", got, subOK)
	}
	if got := sweep(); len(got) != 0 {
		t.Errorf("the same status again logged %v, want nothing", got)
	}
	engine.status = pal.StatusAttributed
	if got := sweep(); len(got) != 0 {
		t.Errorf("back to attributed logged %v, want nothing", got)
	}
	changes, _ := store.Changes(context.Background(), 0)
	if len(changes) != 4 { // two first judgements, the loss, the return
		t.Errorf("changes = %+v, want 4", changes)
	}
}

// TestRecordFailureIsTransient: a record write that fails is never reported
// as success: onboarding retries (503 without a queue, a scheduled copy with
// one), links answers 503 with Retry-After, the sweep fails.
func TestRecordFailureIsTransient(t *testing.T) {
	t.Run("onboarding", func(t *testing.T) {
		store := &flakyStore{Memory: record.NewMemory(), failSave: errTable}
		got := must(Onboarding(&estateEngine{}, withBounds(&Options{Record: store})))(context.Background(), invocation(t, onboardingBinding, `{"tenantId":"`+tenant+`"}`))
		if got.Failure == nil || got.Failure.Status != http.StatusServiceUnavailable || got.ReturnValue != nil {
			t.Fatalf("onboarding = %+v, want a 503 failure and no result", got)
		}
		q := &fakeQueue{}
		got = must(Onboarding(&estateEngine{}, withBounds(&Options{Record: store, Queue: q})))(context.Background(), invocation(t, onboardingBinding, `{"tenantId":"`+tenant+`"}`))
		if got.Failure != nil || len(q.scheduled) != 1 {
			t.Errorf("onboarding with a queue = %+v, scheduled %d; want a retry scheduled", got, len(q.scheduled))
		}
	})
	t.Run("links", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			store := &flakyStore{Memory: record.NewMemory(), failSave: errTable}
			body := ""
			if method == "POST" {
				body = `{"tenantId":"` + tenant + `"}`
			}
			got := must(Links(&estateEngine{}, withBounds(&Options{Record: store})))(context.Background(),
				invocation(t, httpBinding, httpRequest(method, "tenantId="+tenant, "application/json", body)))
			status, out := response(t, got)
			if status != http.StatusServiceUnavailable || out.Headers["Retry-After"] != "4" || got.ReturnValue != nil {
				t.Errorf("%s links = %d %+v, want 503 with Retry-After 4 and no result", method, status, out)
			}
		}
	})
	t.Run("sweep", func(t *testing.T) {
		for name, store := range map[string]*flakyStore{
			"save":   {Memory: record.NewMemory(), failSave: errTable},
			"start":  {Memory: record.NewMemory(), failStart: errTable},
			"finish": {Memory: record.NewMemory(), failUpdate: errTable},
		} {
			engine := &estateEngine{}
			got := must(Sweep(engine, withBounds(&Options{Record: store})))(context.Background(), invocation(t, "timer", map[string]any{}))
			if got.Failure == nil || got.Failure.Status != http.StatusServiceUnavailable {
				t.Errorf("sweep with a failing %s = %+v, want a 503 failure", name, got)
			}
			if name == "start" && engine.sweeps != 0 {
				t.Errorf("the sweep ran without its run row")
			}
			if name == "save" {
				if run, _ := store.LastRun(context.Background()); run == nil || run.Outcome != record.OutcomePartial {
					t.Errorf("run after a failed save = %+v, want partial", run)
				}
			}
		}
	})
	t.Run("refused data is not the caller's fault", func(t *testing.T) {
		store := &flakyStore{Memory: record.NewMemory(), failSave: &pal.Error{Code: pal.CodeInvalidInput, Message: "record: roles bad"}}
		got := must(Links(&estateEngine{}, withBounds(&Options{Record: store})))(context.Background(),
			invocation(t, httpBinding, httpRequest("GET", "tenantId="+tenant, "", "")))
		if status, _ := response(t, got); status != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", status)
		}
	})
	t.Run("plain error", func(t *testing.T) {
		store := &flakyStore{Memory: record.NewMemory(), failSave: errors.New("connection refused")}
		got := must(Links(&estateEngine{}, withBounds(&Options{Record: store})))(context.Background(),
			invocation(t, httpBinding, httpRequest("GET", "tenantId="+tenant, "", "")))
		if status, out := response(t, got); status != http.StatusServiceUnavailable || strings.Contains(out.Body, "refused") {
			t.Errorf("status = %d %q, want 503 without the cause", status, out.Body)
		}
	})
}

// TestNoRecordRecordsNothing: without Options.Record the triggers work as
// before.
func TestNoRecordRecordsNothing(t *testing.T) {
	got := must(Sweep(&estateEngine{}, withBounds(nil)))(context.Background(), invocation(t, "timer", map[string]any{}))
	if got.Failure != nil || got.ReturnValue == nil {
		t.Errorf("sweep without a record = %+v, want done", got)
	}
}

// TestDriftLineKeysOnce: the drift line of onboarding and links names the
// subscription's tenant_id once, although their loggers carry the request's
// tenant (a key twice is one value lost in Application Insights).
func TestDriftLineKeysOnce(t *testing.T) {
	cases := map[string]struct {
		h   func(Engine, *Options) (customhandler.HandlerFunc, error)
		inv func(t *testing.T) *customhandler.Invocation
	}{
		"onboarding": {Onboarding, func(t *testing.T) *customhandler.Invocation {
			return invocation(t, onboardingBinding, `{"tenantId":"`+tenant+`"}`)
		}},
		"links": {Links, func(t *testing.T) *customhandler.Invocation {
			return invocation(t, httpBinding, httpRequest("GET", "tenantId="+tenant, "", ""))
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			store := record.NewMemory()
			engine := &estateEngine{}
			must(c.h(engine, withBounds(&Options{Record: store})))(context.Background(), c.inv(t))
			engine.status = pal.StatusNotDelegated
			var buf bytes.Buffer
			inv := c.inv(t)
			inv.Log = zerolog.New(&buf)
			must(c.h(engine, withBounds(&Options{Record: store})))(context.Background(), inv)
			var drift []string
			for _, l := range strings.Split(buf.String(), "\n") {
				if strings.Contains(l, `"message":"`+record.DriftMessage+`"`) {
					drift = append(drift, l)
				}
			}
			if len(drift) != 1 || strings.Count(drift[0], `"tenant_id"`) != 1 || !strings.Contains(drift[0], `"tenant_id":"`+tenant+`"`) {
				t.Errorf("drift lines = %q, want one with tenant_id once", drift)
			}
		})
	}
}
