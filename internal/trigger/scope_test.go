package trigger

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// TestReadOnlyGetRecordsOnlyWhatTheRecordKnows: a GET's not-delegated
// verdicts (subscriptions the identity cannot reach, or of another tenant)
// are recorded only for subscriptions already in the record; its other
// verdicts are recorded as before; a POST records them all. Failed before:
// a GET naming made-up subscriptions left a permanent not-delegated row for
// each (issue 16, D4).
func TestReadOnlyGetRecordsOnlyWhatTheRecordKnows(t *testing.T) {
	const (
		known   = "44444444-0000-4000-8000-000000000001" // in the record, now unreachable
		madeUp  = "44444444-0000-4000-8000-000000000002" // never judged, unreachable
		reached = "44444444-0000-4000-8000-000000000003" // reachable, ineligible
	)
	res := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"},
		Summary: map[pal.Status]int{}, Results: []pal.SubscriptionResult{
			{TenantID: tenant, SubscriptionID: known, Status: pal.StatusNotDelegated, Roles: []string{}, Detail: "cannot reach"},
			{TenantID: tenant, SubscriptionID: madeUp, Status: pal.StatusNotDelegated, Roles: []string{}, Detail: "cannot reach"},
			{TenantID: tenant, SubscriptionID: reached, Status: pal.StatusIneligibleRole, Roles: []string{"Reader"}},
		}}
	ctx := context.Background()
	rec := record.NewMemory()
	if _, err := rec.Save(ctx, record.Verdict{TenantID: tenant, SubscriptionID: known, Status: pal.StatusAttributed,
		CheckedAt: time.Now().Add(-time.Hour), CheckedBy: "sweep"}); err != nil {
		t.Fatal(err)
	}
	opts := &Options{Record: rec}
	get := httpRequest("GET", "tenantId="+tenant+"&subscriptionId="+known+","+madeUp+","+reached, "", "")
	if status, out := response(t, must(Links(&fakeEngine{res: res}, withBounds(opts)))(ctx, invocation(t, httpBinding, get))); status != http.StatusOK {
		t.Fatalf("GET = %d %s", status, out.Body)
	}
	got := map[string]pal.Status{}
	vs, err := rec.Verdicts(ctx, record.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		got[v.SubscriptionID] = v.Status
	}
	want := map[string]pal.Status{known: pal.StatusNotDelegated, reached: pal.StatusIneligibleRole}
	if len(got) != len(want) || got[known] != want[known] || got[reached] != want[reached] {
		t.Errorf("after GET the record holds %v, want %v (not the made-up subscription)", got, want)
	}

	post := httpRequest("POST", "", "application/json", `{"tenantId":"`+tenant+`","subscriptionIds":["`+madeUp+`"]}`)
	if status, out := response(t, must(Links(&fakeEngine{res: res}, withBounds(opts)))(ctx, invocation(t, httpBinding, post))); status != http.StatusOK {
		t.Fatalf("POST = %d %s", status, out.Body)
	}
	if vs, _ := rec.Verdicts(ctx, record.Filter{}); len(vs) != 3 {
		t.Errorf("after POST the record holds %d verdicts, want 3: an onboarding records what it cannot reach", len(vs))
	}
}
