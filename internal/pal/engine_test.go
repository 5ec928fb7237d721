package pal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	sub1 = "51111111-0000-0000-0000-000000000001"
	sub2 = "51111111-0000-0000-0000-000000000002"
	sub3 = "51111111-0000-0000-0000-000000000003"
)

func nop() *zerolog.Logger { l := zerolog.Nop(); return &l }

func mustEngine(t *testing.T, f *fakeAzure, opts *EngineOptions) *Engine {
	t.Helper()
	e, err := NewEngine("1234567", f.azure(), opts)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

func statuses(r *Result) map[string]Status {
	m := map[string]Status{}
	for _, s := range r.Results {
		m[s.SubscriptionID] = s.Status
	}
	return m
}

func TestOnboardLinkPolicy(t *testing.T) {
	active := func(id string) *Link { return &Link{PartnerID: id, State: "Active"} }
	tests := []struct {
		name        string
		link        *Link
		raceOnPut   *Link
		opts        EngineOptions
		partnerID   string
		wantAction  LinkAction
		wantLinked  string
		wantPrev    string
		wantWrites  []string
		wantStatus  Status
		wantErrCode ErrorCode
	}{
		{name: "no_link_creates", wantAction: LinkCreated, wantLinked: "1234567", wantWrites: []string{"PUT 1234567"}, wantStatus: StatusAttributed},
		{name: "deleted_link_creates", link: &Link{PartnerID: "1234567", State: "Deleted"}, wantAction: LinkCreated, wantLinked: "1234567", wantWrites: []string{"PUT 1234567"}, wantStatus: StatusAttributed},
		{name: "same_link_no_write", link: active("1234567"), wantAction: LinkNone, wantLinked: "1234567", wantStatus: StatusAttributed},
		{name: "foreign_reported", link: active("999999"), wantAction: LinkForeign, wantLinked: "999999", wantPrev: "999999", wantStatus: StatusUnlinked},
		{name: "foreign_relinked", link: active("999999"), opts: EngineOptions{RelinkForeign: true}, wantAction: LinkRelinked, wantLinked: "1234567", wantPrev: "999999", wantWrites: []string{"PATCH 1234567"}, wantStatus: StatusAttributed},
		{name: "other_allowed_kept", link: active("7654321"), opts: EngineOptions{AllowedPartnerIDs: []string{"7654321"}}, wantAction: LinkNone, wantLinked: "7654321", wantStatus: StatusAttributed},
		{name: "explicit_allowed_relinks", link: active("7654321"), opts: EngineOptions{AllowedPartnerIDs: []string{"7654321"}}, partnerID: "1234567", wantAction: LinkRelinked, wantLinked: "1234567", wantPrev: "7654321", wantWrites: []string{"PATCH 1234567"}, wantStatus: StatusAttributed},
		{name: "explicit_second_id_created", opts: EngineOptions{AllowedPartnerIDs: []string{"7654321"}}, partnerID: "7654321", wantAction: LinkCreated, wantLinked: "7654321", wantWrites: []string{"PUT 7654321"}, wantStatus: StatusAttributed},
		{name: "put_race_same_id", raceOnPut: active("1234567"), wantAction: LinkNone, wantLinked: "1234567", wantWrites: []string{"PUT 1234567"}, wantStatus: StatusAttributed},
		{name: "put_race_foreign_id", raceOnPut: active("999999"), wantAction: LinkForeign, wantLinked: "999999", wantPrev: "999999", wantWrites: []string{"PUT 1234567"}, wantStatus: StatusUnlinked},
		{name: "partner_not_allowed", partnerID: "5555555", wantErrCode: CodePartnerNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.link, f.raceOnPut = tt.link, tt.raceOnPut
			f.addSub(sub1, custA, []string{roleCont}, nil)
			e := mustEngine(t, f, &tt.opts)
			res, err := e.Onboard(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: []string{sub1}, PartnerID: tt.partnerID})
			if tt.wantErrCode != "" {
				if got := ErrorCodeOf(err); got != tt.wantErrCode {
					t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantErrCode)
				}
				if len(f.writes) != 0 {
					t.Errorf("writes = %v, want none", f.writes)
				}
				return
			}
			if err != nil {
				t.Fatalf("Onboard: %v", err)
			}
			if got, want := res.Link, (LinkResult{Action: tt.wantAction, PartnerID: tt.wantLinked, PreviousPartnerID: tt.wantPrev}); got != want {
				t.Errorf("link = %+v, want %+v", got, want)
			}
			if !reflect.DeepEqual(f.writes, tt.wantWrites) {
				t.Errorf("writes = %v, want %v", f.writes, tt.wantWrites)
			}
			if got := statuses(res)[sub1]; got != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail %q)", got, tt.wantStatus, res.Results[0].Detail)
			}
		})
	}
}

func TestOnboardAttribution(t *testing.T) {
	f := newFake()
	f.link = &Link{PartnerID: "1234567", State: "Active"}
	f.addSub(sub1, custA, []string{roleSRC}, nil)                 // attributed
	f.addSub(sub2, custA, []string{roleRead}, []string{roleCont}) // reader + JIT contributor
	f.addSub(sub3, custB, []string{roleCont}, nil)                // other tenant
	jitOnly := "51111111-0000-0000-0000-000000000004"
	f.addSub(jitOnly, custA, nil, []string{roleCont})
	otherTenantDelegation := "51111111-0000-0000-0000-000000000005"
	f.subs[otherTenantDelegation] = Subscription{ID: otherTenantDelegation, TenantID: custA}
	f.dels[otherTenantDelegation] = []Delegation{{ManagedByTenantID: custB, Authorizations: []Authorization{{PrincipalID: oid, RoleDefinitionID: roleCont}}}}
	missing := "51111111-0000-0000-0000-00000000000f"

	e := mustEngine(t, f, nil)
	res, err := e.Onboard(context.Background(), nop(), Request{TenantID: custA,
		SubscriptionIDs: []string{sub1, sub2, sub3, jitOnly, otherTenantDelegation, missing}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{
		sub1: StatusAttributed, sub2: StatusIneligibleRole, sub3: StatusNotDelegated,
		jitOnly: StatusIneligibleRole, otherTenantDelegation: StatusNotDelegated, missing: StatusNotDelegated,
	}
	if got := statuses(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	details := map[string]string{}
	roles := map[string][]string{}
	for _, r := range res.Results {
		details[r.SubscriptionID] = r.Detail
		roles[r.SubscriptionID] = r.Roles
		if r.TenantID != custA {
			t.Errorf("%s: tenantId = %q, want the requested %q", r.SubscriptionID, r.TenantID, custA)
		}
	}
	for id, want := range map[string]string{
		sub2:    "just-in-time",
		jitOnly: "just-in-time",
		sub3:    "belongs to tenant " + custB,
		missing: "cannot reach",
	} {
		if !strings.Contains(details[id], want) {
			t.Errorf("detail of %s = %q, want it to mention %q", id, details[id], want)
		}
	}
	if got, want := roles[sub1], []string{"Support Request Contributor"}; !reflect.DeepEqual(got, want) {
		t.Errorf("roles = %v, want %v", got, want)
	}
	if got, want := res.Unreachable(), []string{missing}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unreachable() = %v, want %v (a tenant mismatch is not unreachable)", got, want)
	}
	if details[sub1] != "" {
		t.Errorf("attributed detail = %q, want none", details[sub1])
	}
	wantSummary := map[Status]int{StatusAttributed: 1, StatusIneligibleRole: 2, StatusNotDelegated: 3, StatusUnlinked: 0, StatusUnverifiable: 0, StatusError: 0}
	if !reflect.DeepEqual(res.Summary, wantSummary) {
		t.Errorf("summary = %v, want %v", res.Summary, wantSummary)
	}
	if len(f.writes) != 0 {
		t.Errorf("writes = %v, want none (already linked)", f.writes)
	}
}

func TestStatusNeverWrites(t *testing.T) {
	for _, link := range []*Link{nil, {PartnerID: "999999", State: "Active"}} {
		f := newFake()
		f.link = link
		f.addSub(sub1, custA, []string{roleCont}, nil)
		e := mustEngine(t, f, &EngineOptions{RelinkForeign: true})
		res, err := e.Status(context.Background(), nop(), Request{TenantID: custA})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.writes) != 0 {
			t.Errorf("link %+v: writes = %v, want none", link, f.writes)
		}
		if got := statuses(res)[sub1]; got != StatusUnlinked {
			t.Errorf("link %+v: status = %q, want unlinked", link, got)
		}
	}
}

func TestWholeTenantUsesListing(t *testing.T) {
	f := newFake()
	f.addSub(sub1, custA, []string{roleCont}, nil)
	f.addSub(sub2, custA, []string{roleRead}, nil)
	f.addSub(sub3, custB, []string{roleCont}, nil)
	f.errs["sub:"+sub1] = errors.New("GetSubscription must not be called for listed subscriptions")
	e := mustEngine(t, f, nil)
	res, err := e.Onboard(context.Background(), nop(), Request{TenantID: custA})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{sub1: StatusAttributed, sub2: StatusIneligibleRole}
	if got := statuses(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

func TestTransientErrors(t *testing.T) {
	throttled := &Error{Code: CodeTransient, Message: "Azure answered 429", RetryAfter: 7 * time.Second}
	t.Run("delegations_throttled", func(t *testing.T) {
		f := newFake()
		f.addSub(sub1, custA, []string{roleCont}, nil)
		f.addSub(sub2, custA, []string{roleCont}, nil)
		f.errs["dels:"+sub2] = throttled
		res, err := mustEngine(t, f, nil).Onboard(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: []string{sub1, sub2}})
		if err != nil {
			t.Fatal(err)
		}
		if got := statuses(res)[sub2]; got != StatusError {
			t.Fatalf("status = %q, want error", got)
		}
		transient, after := res.Transient()
		if !transient || after != 7*time.Second {
			t.Errorf("Transient() = %v, %v; want true, 7s", transient, after)
		}
	})
	for _, op := range []string{"principal", "get", "list"} {
		t.Run(op+"_fails_whole_request", func(t *testing.T) {
			f := newFake()
			f.addSub(sub1, custA, []string{roleCont}, nil)
			f.errs[op+":"] = throttled
			_, err := mustEngine(t, f, nil).Onboard(context.Background(), nop(), Request{TenantID: custA})
			if !IsTransient(err) || RetryAfterOf(err) != 7*time.Second {
				t.Errorf("err = %v, want transient with Retry-After 7s", err)
			}
			if len(f.writes) != 0 {
				t.Errorf("writes = %v, want none", f.writes)
			}
		})
	}
	t.Run("role_lookup_fails", func(t *testing.T) {
		f := newFake()
		f.addSub(sub1, custA, []string{roleVMC}, nil)
		f.errs["role:"+roleVMC] = throttled
		res, err := mustEngine(t, f, nil).Onboard(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: []string{sub1}})
		if err != nil {
			t.Fatal(err)
		}
		if got := statuses(res)[sub1]; got != StatusError {
			t.Errorf("status = %q, want error: never attributed unverified", got)
		}
	})
}

func TestRoleLookedUpOnce(t *testing.T) {
	f := newFake()
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("52222222-0000-0000-0000-%012d", i)
		f.addSub(id, custA, []string{roleVMC}, nil)
		ids = append(ids, id)
	}
	e := mustEngine(t, f, nil)
	for range 2 {
		res, err := e.Onboard(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: ids})
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary[StatusAttributed] != 20 {
			t.Fatalf("summary = %v, want 20 attributed", res.Summary)
		}
	}
	if got := f.roleCalls.Load(); got != 1 {
		t.Errorf("role definition lookups = %d, want 1", got)
	}
}

func TestSweep(t *testing.T) {
	f := newFake()
	f.link = &Link{PartnerID: "999999", State: "Active"}
	own := "59999999-0000-0000-0000-000000000000"
	f.subs[own] = Subscription{ID: own, TenantID: home}
	f.addSub(sub1, custA, []string{roleCont}, nil)
	f.addSub(sub2, custA, []string{roleRead}, nil)
	f.addSub(sub3, custB, []string{roleSRC}, nil)
	f.delay = 5 * time.Millisecond
	for i := range 30 {
		f.addSub(fmt.Sprintf("53333333-0000-0000-0000-%012d", i), custB, []string{roleCont}, nil)
	}
	e := mustEngine(t, f, &EngineOptions{RelinkForeign: true, Concurrency: 4})
	res, err := e.Sweep(context.Background(), nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Link.Action != LinkRelinked {
		t.Errorf("link action = %q, want relinked", res.Link.Action)
	}
	if got, want := len(res.Results), 1; got != want {
		t.Fatalf("results = %d (%v), want %d: only the non-attributed", got, res.Results, want)
	}
	if res.Results[0].SubscriptionID != sub2 {
		t.Errorf("result = %s, want the Reader-only %s", res.Results[0].SubscriptionID, sub2)
	}
	want := map[Status]int{StatusAttributed: 32, StatusIneligibleRole: 1, StatusNotDelegated: 0, StatusUnlinked: 0, StatusUnverifiable: 0, StatusError: 0}
	if !reflect.DeepEqual(res.Summary, want) {
		t.Errorf("summary = %v, want %v (the managing tenant's own subscription is skipped)", res.Summary, want)
	}
	if got := f.maxFlight.Load(); got > 4 || got < 2 {
		t.Errorf("max concurrent delegation reads = %d, want 2..4", got)
	}
}

func TestSweepReadOnly(t *testing.T) {
	f := newFake()
	f.addSub(sub1, custA, []string{roleCont}, nil)
	res, err := mustEngine(t, f, nil).Sweep(context.Background(), nop(), &SweepOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.writes) != 0 || res.Summary[StatusUnlinked] != 1 {
		t.Errorf("writes = %v, summary = %v; want no write and 1 unlinked", f.writes, res.Summary)
	}
}

// TestSweepEmitsEveryVerdict: Emit gets the attributed verdicts too (Results
// lists only the others), and an Emit error stops the sweep.
func TestSweepEmitsEveryVerdict(t *testing.T) {
	f := newFake()
	f.addSub(sub1, custA, []string{roleCont}, nil)
	f.addSub(sub2, custA, []string{roleRead}, nil)
	f.addSub(sub3, custB, []string{roleSRC}, nil)
	got := map[string]Status{}
	var linked []LinkResult
	res, err := mustEngine(t, f, nil).Sweep(context.Background(), nop(), &SweepOptions{
		Linked: func(l LinkResult) { linked = append(linked, l) },
		Emit: func(r SubscriptionResult) error {
			if len(linked) != 1 {
				t.Errorf("verdict emitted after %d Linked calls, want 1", len(linked))
			}
			got[r.SubscriptionID] = r.Status
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []LinkResult{{Action: LinkCreated, PartnerID: "1234567"}}; !reflect.DeepEqual(linked, want) {
		t.Errorf("Linked got %v, want %v", linked, want)
	}
	want := map[string]Status{sub1: StatusAttributed, sub2: StatusIneligibleRole, sub3: StatusAttributed}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if len(res.Results) != 1 {
		t.Errorf("results = %v, want only the Reader-only one", res.Results)
	}

	boom := errors.New("record unavailable")
	res, err = mustEngine(t, f, nil).Sweep(context.Background(), nop(), &SweepOptions{Emit: func(SubscriptionResult) error { return boom }})
	if !errors.Is(err, boom) || res != nil {
		t.Errorf("Sweep with a failing Emit = %v, %v; want no result and the Emit error", res, err)
	}
}

func TestNewEngineValidates(t *testing.T) {
	f := newFake()
	for _, tc := range []struct {
		partner string
		allowed []string
	}{{"", nil}, {"12a4567", nil}, {"1234567", []string{"x1"}}} {
		if _, err := NewEngine(tc.partner, f.azure(), &EngineOptions{AllowedPartnerIDs: tc.allowed}); err == nil {
			t.Errorf("NewEngine(%q, %v) = nil error, want one", tc.partner, tc.allowed)
		}
	}
}

func TestConcurrentOnboardingWritesTheLinkOnce(t *testing.T) {
	f := newFake()
	f.addSub(sub1, custA, []string{roleCont}, nil)
	f.delay = 2 * time.Millisecond
	e := mustEngine(t, f, nil)
	var wg sync.WaitGroup
	actions := make(chan LinkAction, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Onboard(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: []string{sub1}})
			if err != nil {
				t.Error(err)
				return
			}
			actions <- res.Link.Action
		}()
	}
	wg.Wait()
	close(actions)
	created := 0
	for a := range actions {
		if a == LinkCreated {
			created++
		}
	}
	if len(f.writes) != 1 || created != 1 {
		t.Errorf("writes = %v, created reported %d times; want one PUT and one 'created'", f.writes, created)
	}
}
