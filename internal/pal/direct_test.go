package pal

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	spA    = "5a5a5a5a-0000-0000-0000-00000000000a"
	spB    = "5b5b5b5b-0000-0000-0000-00000000000b"
	custC  = "44444444-4444-4444-4444-444444444444"
	subA1  = "a1a1a1a1-0000-0000-0000-000000000001"
	subA2  = "a2a2a2a2-0000-0000-0000-000000000002"
	subA3  = "a3a3a3a3-0000-0000-0000-000000000003"
	subA4  = "a4a4a4a4-0000-0000-0000-000000000004"
	subB1  = "b1b1b1b1-0000-0000-0000-000000000001"
	subC1  = "c1c1c1c1-0000-0000-0000-000000000001"
	mgRoot = "/providers/Microsoft.Management/managementGroups/contoso-root"
)

// fakeTenant is one customer tenant of direct mode: the in-memory Azure of the
// engine tests, as the app's service principal sp there.
type fakeTenant struct {
	*fakeAzure
	tenant, sp  string
	assignments map[string][]RoleAssignment
	// consent false: the app has no service principal in the tenant.
	consent bool
}

func (t *fakeTenant) Principal(ctx context.Context) (Principal, error) {
	if !t.consent {
		return Principal{}, &Error{Code: CodeNotConsented, Message: "app has no service principal in tenant " + t.tenant +
			"; consent at https://login.microsoftonline.com/" + t.tenant + "/adminconsent?client_id=app"}
	}
	return Principal{TenantID: t.tenant, ObjectID: t.sp}, nil
}

func (t *fakeTenant) ListRoleAssignments(ctx context.Context, sub, principal string) ([]RoleAssignment, error) {
	if err := t.err("assignments", sub); err != nil {
		return nil, err
	}
	if principal != t.sp {
		return nil, nil
	}
	return t.assignments[sub], nil
}

// assign gives the service principal role at scope ("" = the subscription).
func (t *fakeTenant) assign(sub, role, scope string) {
	if _, ok := t.subs[sub]; !ok {
		t.subs[sub] = Subscription{ID: sub, TenantID: t.tenant, DisplayName: "sub " + sub[:4], State: "Enabled"}
	}
	if scope == "" {
		scope = "/subscriptions/" + sub
	}
	t.assignments[sub] = append(t.assignments[sub], RoleAssignment{
		Scope: scope, RoleDefinitionID: role, PrincipalID: t.sp,
	})
}

type fakeConnector struct {
	mu      sync.Mutex
	tenants map[string]*fakeTenant
	opened  map[string]int
}

func (c *fakeConnector) Tenant(id string) (TenantAzure, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened[id]++
	t, ok := c.tenants[id]
	if !ok {
		t = &fakeTenant{fakeAzure: newFake(), tenant: id, assignments: map[string][]RoleAssignment{}}
		c.tenants[id] = t
	}
	return TenantAzure{Links: t, Subscriptions: t, Assignments: t, Roles: t, Principal: t}, nil
}

func newDirectFixture() (*fakeConnector, *fakeTenant, *fakeTenant, *fakeTenant) {
	a := &fakeTenant{fakeAzure: newFake(), tenant: custA, sp: spA, assignments: map[string][]RoleAssignment{}, consent: true}
	b := &fakeTenant{fakeAzure: newFake(), tenant: custB, sp: spB, assignments: map[string][]RoleAssignment{}, consent: true}
	c := &fakeTenant{fakeAzure: newFake(), tenant: custC, assignments: map[string][]RoleAssignment{}}
	a.assign(subA1, roleCont, "")                                           // attributed
	a.assign(subA2, roleRead, "")                                           // Reader only
	a.assign(subA3, roleSRC, mgRoot)                                        // inherited from a management group
	a.assign(subA4, roleCont, "/subscriptions/"+subA4+"/resourceGroups/rg") // below the subscription only
	b.assign(subB1, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "")             // Owner
	conn := &fakeConnector{tenants: map[string]*fakeTenant{custA: a, custB: b, custC: c}, opened: map[string]int{}}
	return conn, a, b, c
}

func TestDirectOnboardJudgesRoleAssignments(t *testing.T) {
	conn, a, _, _ := newDirectFixture()
	e, err := NewDirectEngine("1234567", conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	res, err := e.Onboard(context.Background(), &log, Request{TenantID: custA, SubscriptionIDs: []string{subA1, subA2, subA3, subA4, "a5a5a5a5-0000-0000-0000-000000000005"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{subA1: StatusAttributed, subA2: StatusIneligibleRole, subA3: StatusAttributed,
		subA4: StatusNotDelegated, "a5a5a5a5-0000-0000-0000-000000000005": StatusNotDelegated}
	for _, r := range res.Results {
		if r.Status != want[r.SubscriptionID] {
			t.Errorf("%s: got %s (%s), want %s", r.SubscriptionID, r.Status, r.Detail, want[r.SubscriptionID])
		}
	}
	if got := res.Results[2]; !strings.Contains(got.Detail, "inherited from "+mgRoot) {
		t.Errorf("inherited: got detail %q, want it to name the management group", got.Detail)
	}
	if got := res.Unreachable(); len(got) != 1 || got[0] != "a5a5a5a5-0000-0000-0000-000000000005" {
		t.Errorf("unreachable: got %v, want the subscription without any assignment", got)
	}
	if res.Principal != (Principal{TenantID: custA, ObjectID: spA}) {
		t.Errorf("principal: got %+v, want the service principal in tenant A", res.Principal)
	}
	if len(res.Links) != 1 || res.Links[0].TenantID != custA || res.Links[0].ObjectID != spA || res.Links[0].Action != LinkCreated {
		t.Errorf("links: got %+v, want one created link in tenant A for its service principal", res.Links)
	}
	if got := strings.Join(a.writes, ","); got != "PUT 1234567" {
		t.Errorf("writes in tenant A: got %q, want one PUT", got)
	}
}

func TestDirectNoConsent(t *testing.T) {
	conn, _, _, c := newDirectFixture()
	e, _ := NewDirectEngine("1234567", conn, nil)
	log := zerolog.Nop()
	res, err := e.Onboard(context.Background(), &log, Request{TenantID: custC, SubscriptionIDs: []string{subC1}})
	if err != nil {
		t.Fatalf("got error %v, want not-delegated verdicts", err)
	}
	if len(res.Results) != 1 || res.Results[0].Status != StatusNotDelegated ||
		!strings.Contains(res.Results[0].Detail, "/"+custC+"/adminconsent?client_id=") {
		t.Fatalf("got %+v, want not-delegated with the admin-consent URL", res.Results)
	}
	if got := res.Unreachable(); len(got) != 1 {
		t.Errorf("unreachable: got %v, want the subscription (consent may be on its way)", got)
	}
	if len(c.writes) != 0 {
		t.Errorf("got writes %v in a tenant without consent, want none", c.writes)
	}
	if !strings.Contains(res.Links[0].Detail, "adminconsent") {
		t.Errorf("link detail: got %q, want the consent URL", res.Links[0].Detail)
	}
}

// The triggers' logger names the tenant already: the engine's lines must not
// carry tenant_id a second time (App Insights and parse_json keep one).
func TestDirectOnboardLogsTenantOnce(t *testing.T) {
	conn, _, _, _ := newDirectFixture()
	e, _ := NewDirectEngine("1234567", conn, nil)
	var buf strings.Builder
	log := zerolog.New(&buf).With().Str("tenant_id", custC).Logger()
	if _, err := e.Onboard(context.Background(), &log, Request{TenantID: custC, SubscriptionIDs: []string{subC1}}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Fatal("no log line; the test does not test it")
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if n := strings.Count(line, `"tenant_id"`); n != 1 {
			t.Errorf("got tenant_id %d times in %s, want once", n, line)
		}
	}
}

func TestDirectStatusDoesNotWrite(t *testing.T) {
	conn, a, _, _ := newDirectFixture()
	e, _ := NewDirectEngine("1234567", conn, nil)
	log := zerolog.Nop()
	res, err := e.Status(context.Background(), &log, Request{TenantID: custA, SubscriptionIDs: []string{subA1}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Results[0].Status != StatusUnlinked || len(a.writes) != 0 {
		t.Errorf("got %s with writes %v, want unlinked and no write", res.Results[0].Status, a.writes)
	}
}

func TestDirectNeedsTenant(t *testing.T) {
	conn, _, _, _ := newDirectFixture()
	e, _ := NewDirectEngine("1234567", conn, nil)
	log := zerolog.Nop()
	_, err := e.Onboard(context.Background(), &log, Request{SubscriptionIDs: []string{subA1}})
	if ErrorCodeOf(err) != CodeInvalidInput {
		t.Errorf("got %v, want InvalidInput", err)
	}
}

func TestDirectSweepLinksEveryTenant(t *testing.T) {
	conn, a, b, _ := newDirectFixture()
	e, err := NewDirectEngine("1234567", conn, &DirectOptions{
		Tenants:      []string{custA},
		KnownTenants: func(context.Context) ([]string, error) { return []string{strings.ToUpper(custB), custC, custA}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	res, err := e.Sweep(context.Background(), &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Links) != 3 {
		t.Fatalf("links: got %+v, want one per tenant (A, B, C)", res.Links)
	}
	for i, want := range []struct {
		tenant, sp string
		action     LinkAction
	}{{custA, spA, LinkCreated}, {custB, spB, LinkCreated}, {custC, "", LinkNone}} {
		got := res.Links[i]
		if got.TenantID != want.tenant || got.ObjectID != want.sp || got.Action != want.action {
			t.Errorf("link %d: got %+v, want tenant %s principal %q action %s", i, got, want.tenant, want.sp, want.action)
		}
	}
	if len(a.writes) != 1 || len(b.writes) != 1 {
		t.Errorf("got writes A %v B %v, want one PUT in each", a.writes, b.writes)
	}
	// A1 and A3 attributed, A2 ineligible, A4 not delegated; B1 (Owner) attributed.
	if res.Summary[StatusAttributed] != 3 || res.Summary[StatusIneligibleRole] != 1 || res.Summary[StatusNotDelegated] != 1 {
		t.Errorf("summary: got %v", res.Summary)
	}
}

func TestDirectSweepFailsWhenEveryTenantFails(t *testing.T) {
	e, _ := NewDirectEngine("1234567", rejectingConnector{}, &DirectOptions{Tenants: []string{custA, custB}})
	log := zerolog.Nop()
	_, err := e.Sweep(context.Background(), &log, nil)
	if ErrorCodeOf(err) != CodeRejected {
		t.Errorf("got %v, want the Rejected error of the assertion", err)
	}
}

// rejectingConnector opens tenants whose every token request is refused.
type rejectingConnector struct{}

func (rejectingConnector) Tenant(id string) (TenantAzure, error) {
	u := rejecting{}
	return TenantAzure{Links: u, Subscriptions: u, Assignments: u, Roles: u, Principal: u}, nil
}

type rejecting struct{ unusable }

func (rejecting) Principal(context.Context) (Principal, error) {
	return Principal{}, &Error{Code: CodeRejected, Message: "Entra ID refused the assertion (AADSTS700213)"}
}
func (rejecting) ListRoleAssignments(context.Context, string, string) ([]RoleAssignment, error) {
	return nil, nil
}

func TestTenantCacheIsBounded(t *testing.T) {
	conn, _, _, _ := newDirectFixture()
	e, _ := NewDirectEngine("1234567", conn, &DirectOptions{MaxTenants: 2})
	for _, id := range []string{custA, custB, custA, custC, custA} {
		if _, err := e.tenant(id); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.cache.len(); n != 2 {
		t.Errorf("cache: got %d tenants, want 2", n)
	}
	// A stayed (most recently used), B was evicted by C.
	if conn.opened[custA] != 1 || conn.opened[custB] != 1 || conn.opened[custC] != 1 {
		t.Errorf("opened: got %v, want each tenant once", conn.opened)
	}
	if _, err := e.tenant(custB); err != nil || conn.opened[custB] != 2 {
		t.Errorf("got B opened %d times, want 2 after eviction", conn.opened[custB])
	}
}

func TestAppliesTo(t *testing.T) {
	for _, c := range []struct {
		scope string
		want  bool
	}{
		{"/subscriptions/" + subA1, true},
		{"/SUBSCRIPTIONS/" + strings.ToUpper(subA1) + "/", true},
		{mgRoot, true},
		{"/", true},
		{"/subscriptions/" + subA1 + "/resourceGroups/rg", false},
		{"/subscriptions/" + subA2, false},
	} {
		if got := appliesTo(c.scope, subA1); got != c.want {
			t.Errorf("appliesTo(%q): got %v, want %v", c.scope, got, c.want)
		}
	}
}

// TestDirectSweepEmitsEveryVerdict: a direct-mode sweep hands every verdict
// to Emit, each after its own tenant's link went to Linked, so the compliance
// record gets them (it used to get only the run row).
func TestDirectSweepEmitsEveryVerdict(t *testing.T) {
	conn, _, _, _ := newDirectFixture()
	e, err := NewDirectEngine("1234567", conn, &DirectOptions{Tenants: []string{custA, custB}})
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	var current LinkResult
	linkOf := map[string]LinkResult{}
	emitted := 0
	res, err := e.Sweep(context.Background(), &log, &SweepOptions{
		Linked: func(l LinkResult) { current = l },
		Emit: func(r SubscriptionResult) error {
			emitted++
			linkOf[r.TenantID] = current
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range res.Summary {
		total += n
	}
	if emitted != total || total == 0 {
		t.Errorf("emitted %d verdicts, want every one of the %d judged", emitted, total)
	}
	for _, tl := range res.Links {
		if got, ok := linkOf[tl.TenantID]; ok && got != tl.LinkResult {
			t.Errorf("tenant %s: verdicts emitted under link %+v, want its own %+v", tl.TenantID, got, tl.LinkResult)
		}
	}
}

// unavailable is a tenant whose token endpoint is down (transient).
type unavailable struct{ unusable }

func (unavailable) Principal(context.Context) (Principal, error) {
	return Principal{}, &Error{Code: CodeTransient, Message: "Entra ID is unavailable", RetryAfter: 30 * time.Second}
}

// oneTenantDown opens tenant down as unavailable and the others as conn does.
type oneTenantDown struct {
	conn *fakeConnector
	down string
}

func (c oneTenantDown) Tenant(id string) (TenantAzure, error) {
	if id == c.down {
		u := unavailable{}
		return TenantAzure{Links: u, Subscriptions: u, Assignments: rejecting{}, Roles: u, Principal: u}, nil
	}
	return c.conn.Tenant(id)
}

// TestDirectSweepWithATenantDownIsNotDone: when one tenant cannot be swept
// the others' verdicts are returned (and emitted), but the sweep is not done:
// it comes back with that tenant's (transient) error, so its run is partial
// and the outcome policy retries or fails it — never a quiet success.
func TestDirectSweepWithATenantDownIsNotDone(t *testing.T) {
	conn, _, _, _ := newDirectFixture()
	e, err := NewDirectEngine("1234567", oneTenantDown{conn: conn, down: custB}, &DirectOptions{Tenants: []string{custA, custB}})
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	emitted := 0
	res, err := e.Sweep(context.Background(), &log, &SweepOptions{Emit: func(SubscriptionResult) error { emitted++; return nil }})
	if ErrorCodeOf(err) != CodeTransient || RetryAfterOf(err) != 30*time.Second {
		t.Fatalf("err = %v, want the down tenant's transient error with its Retry-After", err)
	}
	if res == nil || len(res.Links) != 2 || emitted == 0 || emitted != res.Summary[StatusAttributed]+res.Summary[StatusIneligibleRole]+res.Summary[StatusNotDelegated] {
		t.Errorf("res = %+v, emitted %d; want tenant A's verdicts returned and emitted, both tenants in links", res, emitted)
	}
}

// unusable is an Azure access that fails every call.
type unusable struct{}

func (unusable) fail() error                                                 { return &Error{Code: CodeInternal, Message: "unusable"} }
func (u unusable) CurrentLink(context.Context) (*Link, error)                { return nil, u.fail() }
func (u unusable) CreateLink(context.Context, string) (*Link, error)         { return nil, u.fail() }
func (u unusable) UpdateLink(context.Context, string) (*Link, error)         { return nil, u.fail() }
func (u unusable) ListSubscriptions(context.Context) ([]Subscription, error) { return nil, u.fail() }
func (u unusable) GetSubscription(context.Context, string) (*Subscription, error) {
	return nil, u.fail()
}
func (u unusable) GetRoleDefinition(context.Context, string) (*RoleDefinition, error) {
	return nil, u.fail()
}
func (u unusable) Principal(context.Context) (Principal, error) { return Principal{}, u.fail() }
