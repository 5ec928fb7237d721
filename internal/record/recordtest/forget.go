package recordtest

import (
	"context"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// forgetter is a store that can forget a tenant (both stores are).
type forgetter interface {
	Forget(ctx context.Context, tenantID, subscriptionID string) (record.Forgotten, error)
}

// runForget checks Forget: one subscription, then a whole tenant of more
// rows than a transaction holds; other tenants and the runs stay; bad
// arguments are refused; forgetting again is harmless.
func runForget(t *testing.T, open Open, base record.Verdict) {
	ctx := context.Background()
	t.Run("forget removes a subscription or a tenant and nothing else", func(t *testing.T) {
		s := open(t)
		f, ok := s.(forgetter)
		if !ok {
			t.Fatalf("%T has no Forget", s)
		}
		gone, kept := "22222222-2222-2222-2222-222222222222", base.TenantID
		var vs []record.Verdict
		for i := range 60 {
			v := base
			v.TenantID, v.SubscriptionID = gone, subscriptionN(i)
			vs = append(vs, v)
		}
		keep := base
		keep.SubscriptionID = subscriptionN(0)
		vs = append(vs, keep)
		if _, err := s.SaveAll(ctx, vs); err != nil {
			t.Fatal(err)
		}
		// A second status for the first subscription: two changes.
		again := vs[0]
		again.Status, again.CheckedAt = pal.StatusIneligibleRole, t0.Add(time.Minute)
		mustSave(t, s, again)
		if err := s.StartRun(ctx, record.Run{ID: "run-forget", StartedAt: t0}); err != nil {
			t.Fatal(err)
		}

		got, err := f.Forget(ctx, gone, subscriptionN(0))
		if err != nil || got != (record.Forgotten{Verdicts: 1, Changes: 2}) {
			t.Fatalf("Forget(subscription): got %+v, %v, want 1 verdict and 2 changes", got, err)
		}
		if n := len(verdicts(t, s, record.Filter{TenantIDs: []string{gone}})); n != 59 {
			t.Errorf("after forgetting one subscription: %d verdicts of the tenant, want 59", n)
		}
		// The tenant's summary counts what is left; the change index forgets too.
		if of, err := s.SummariesOf(ctx, []string{gone}); err != nil || len(of) != 1 || of[0].Total() != 59 {
			t.Errorf("summary after forgetting one subscription: got %+v, %v, want 59 verdicts", of, err)
		}
		for _, c := range changes(t, s, 0) {
			if c.TenantID == gone && c.SubscriptionID == subscriptionN(0) {
				t.Errorf("a change of the forgotten subscription is left: %+v", c)
			}
		}
		got, err = f.Forget(ctx, gone, "")
		if err != nil || got != (record.Forgotten{Verdicts: 59, Changes: 59}) {
			t.Fatalf("Forget(tenant): got %+v, %v, want 59 verdicts and 59 changes", got, err)
		}
		if n := len(verdicts(t, s, record.Filter{TenantIDs: []string{gone}})); n != 0 {
			t.Errorf("after forgetting the tenant: %d verdicts, want none", n)
		}
		all := verdicts(t, s, record.Filter{})
		if len(all) != 1 || all[0].TenantID != kept {
			t.Errorf("other tenants: got %+v, want the one verdict of %s", all, kept)
		}
		if page, err := s.TenantSummaries(ctx, record.Page{}); err != nil || len(page.Summaries) != 1 || page.Summaries[0].TenantID != kept {
			t.Errorf("tenant summaries after forgetting the tenant: got %+v, %v, want only %s", page, err, kept)
		}
		for _, c := range changes(t, s, 0) {
			if c.TenantID == gone {
				t.Errorf("a change of the forgotten tenant is left: %+v", c)
			}
		}
		if r, err := s.LastRun(ctx); err != nil || r == nil || r.ID != "run-forget" {
			t.Errorf("LastRun: got %+v, %v, want the run kept", r, err)
		}
		if got, err := f.Forget(ctx, gone, ""); err != nil || got != (record.Forgotten{}) {
			t.Errorf("Forget again: got %+v, %v, want nothing and no error", got, err)
		}
		for _, args := range [][2]string{{"", ""}, {"a/b", ""}, {gone, "x#y"}} {
			if _, err := f.Forget(ctx, args[0], args[1]); pal.ErrorCodeOf(err) != pal.CodeInvalidInput {
				t.Errorf("Forget(%q, %q): got %v, want InvalidInput", args[0], args[1], err)
			}
		}
	})
}
