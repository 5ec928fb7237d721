// Package recordtest is the behaviour every [record.Store] must show, as a
// test suite that each adapter's tests run against a fresh store.
package recordtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Open returns a new, empty store for one subtest.
type Open func(t *testing.T) record.Store

// T0 is the time the suite's verdicts start at.
var t0 = time.Date(2026, 11, 30, 22, 0, 0, 123456000, time.UTC)

// Run runs the suite. concurrency is how many goroutines the concurrent
// cases use.
func Run(t *testing.T, open Open, concurrency int) {
	ctx := context.Background()
	tenant, sub := "11111111-1111-1111-1111-111111111111", "aaaaaaaa-0000-0000-0000-000000000001"
	base := record.Verdict{
		TenantID: tenant, SubscriptionID: sub, DisplayName: "Contoso prod", Status: pal.StatusAttributed,
		Roles: []string{"Contributor", "Reader"}, Detail: "Contributor through Azure Lighthouse",
		LinkPartnerID: "123456", LinkAction: pal.LinkNone, CheckedAt: t0, CheckedBy: "sweep",
	}

	runText(t, open, base)
	runForget(t, open, base)
	runProgress(t, open)

	t.Run("first save appends a change from nothing", func(t *testing.T) {
		s := open(t)
		ch := mustSave(t, s, base)
		want := &record.Change{TenantID: tenant, SubscriptionID: sub, From: "", To: pal.StatusAttributed, At: t0, Detail: base.Detail}
		if ch == nil || *ch != *want {
			t.Fatalf("change: got %+v, want %+v", ch, want)
		}
		got := verdicts(t, s, record.Filter{})
		w := base
		w.Since = t0
		if len(got) != 1 || !equalVerdict(got[0], w) {
			t.Fatalf("verdicts: got %+v, want [%+v]", got, w)
		}
	})

	t.Run("same status keeps since and appends nothing", func(t *testing.T) {
		s := open(t)
		mustSave(t, s, base)
		v := base
		v.CheckedAt, v.Detail, v.DisplayName, v.Roles, v.CheckedBy = t0.Add(time.Hour), "still fine", "Contoso", []string{"Owner"}, "links"
		if ch := mustSave(t, s, v); ch != nil {
			t.Fatalf("change: got %+v, want none", ch)
		}
		got := verdicts(t, s, record.Filter{})
		v.Since = t0
		if len(got) != 1 || !equalVerdict(got[0], v) {
			t.Fatalf("verdicts: got %+v, want [%+v]", got, v)
		}
		if cs := changes(t, s, 0); len(cs) != 1 {
			t.Fatalf("changes: got %d, want 1", len(cs))
		}
	})

	t.Run("status change appends one change and restarts since", func(t *testing.T) {
		s := open(t)
		mustSave(t, s, base)
		v := base
		v.Status, v.Detail, v.Roles, v.CheckedAt = pal.StatusNotDelegated, "no delegation", nil, t0.Add(2*time.Hour)
		ch := mustSave(t, s, v)
		if ch == nil || ch.From != pal.StatusAttributed || ch.To != pal.StatusNotDelegated || !ch.At.Equal(v.CheckedAt) || !ch.LostAttribution() {
			t.Fatalf("change: got %+v, want attributed → not-delegated at %v", ch, v.CheckedAt)
		}
		got := verdicts(t, s, record.Filter{})
		if len(got) != 1 || !got[0].Since.Equal(v.CheckedAt) || len(got[0].Roles) != 0 {
			t.Fatalf("verdicts: got %+v, want since %v and no roles", got, v.CheckedAt)
		}
		cs := changes(t, s, 0)
		if len(cs) != 2 || cs[0].To != pal.StatusNotDelegated || cs[1].To != pal.StatusAttributed {
			t.Fatalf("changes: got %+v, want newest first [not-delegated, attributed]", cs)
		}
	})

	t.Run("an older verdict is not applied", func(t *testing.T) {
		s := open(t)
		mustSave(t, s, base)
		v := base
		v.Status, v.CheckedAt = pal.StatusUnlinked, t0.Add(-time.Minute)
		if ch := mustSave(t, s, v); ch != nil {
			t.Fatalf("change: got %+v, want none", ch)
		}
		if got := verdicts(t, s, record.Filter{}); got[0].Status != pal.StatusAttributed {
			t.Fatalf("status: got %q, want attributed", got[0].Status)
		}
	})

	t.Run("filters and order", func(t *testing.T) {
		s := open(t)
		tenants := []string{"33333333-0000-0000-0000-000000000000", "22222222-0000-0000-0000-000000000000"}
		statuses := []pal.Status{pal.StatusAttributed, pal.StatusUnlinked, pal.StatusNotDelegated}
		for i := range 6 {
			v := base
			v.TenantID = tenants[i%2]
			v.SubscriptionID = fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", 5-i)
			v.Status = statuses[i%3]
			mustSave(t, s, v)
		}
		all := verdicts(t, s, record.Filter{})
		if len(all) != 6 {
			t.Fatalf("all: got %d verdicts, want 6", len(all))
		}
		sorted := slices.IsSortedFunc(all, func(a, b record.Verdict) int {
			if a.TenantID != b.TenantID {
				return cmpString(a.TenantID, b.TenantID)
			}
			return cmpString(a.SubscriptionID, b.SubscriptionID)
		})
		if !sorted {
			t.Fatalf("all: not sorted by tenant, subscription: %+v", all)
		}
		for _, c := range []struct {
			f    record.Filter
			want int
		}{
			{record.Filter{TenantIDs: tenants[:1]}, 3},
			{record.Filter{TenantIDs: tenants}, 6},
			{record.Filter{TenantIDs: []string{"nobody"}}, 0},
			{record.Filter{Statuses: []pal.Status{pal.StatusUnlinked}}, 2},
			{record.Filter{Statuses: []pal.Status{pal.StatusUnlinked, pal.StatusAttributed}}, 4},
			{record.Filter{TenantIDs: tenants[1:], Statuses: []pal.Status{pal.StatusAttributed}}, 1},
			{record.Filter{Statuses: []pal.Status{"it's"}}, 0},
		} {
			got := verdicts(t, s, c.f)
			if len(got) != c.want {
				t.Errorf("filter %+v: got %d verdicts, want %d", c.f, len(got), c.want)
			}
			for _, v := range got {
				if (len(c.f.TenantIDs) > 0 && !slices.Contains(c.f.TenantIDs, v.TenantID)) ||
					(len(c.f.Statuses) > 0 && !slices.Contains(c.f.Statuses, v.Status)) {
					t.Errorf("filter %+v: got %+v, which does not match", c.f, v)
				}
			}
		}
	})

	t.Run("changes newest first with a limit", func(t *testing.T) {
		s := open(t)
		for i := range 5 {
			v := base
			v.TenantID = fmt.Sprintf("4444444%d-0000-0000-0000-000000000000", i%2)
			v.SubscriptionID = fmt.Sprintf("cccccccc-0000-0000-0000-%012d", i)
			v.CheckedAt = t0.Add(time.Duration(i) * time.Minute)
			mustSave(t, s, v)
		}
		cs := changes(t, s, 3)
		if len(cs) != 3 {
			t.Fatalf("changes: got %d, want 3", len(cs))
		}
		for i, c := range cs {
			if want := t0.Add(time.Duration(4-i) * time.Minute); !c.At.Equal(want) {
				t.Errorf("change %d: got at %v, want %v", i, c.At, want)
			}
		}
	})

	t.Run("concurrent saves append each change once", func(t *testing.T) {
		s := open(t)
		mustSave(t, s, base)
		// Every goroutine judges the subscription unlinked, later than the
		// stored verdict: exactly one of them sees the change.
		var wg sync.WaitGroup
		got := make(chan *record.Change, concurrency)
		errs := make(chan error, concurrency)
		for i := range concurrency {
			wg.Go(func() {
				v := base
				v.Status, v.CheckedAt = pal.StatusUnlinked, t0.Add(time.Hour+time.Duration(i)*time.Second)
				ch, err := s.Save(ctx, v)
				if err != nil {
					errs <- err
				}
				if ch != nil {
					got <- ch
				}
			})
		}
		wg.Wait()
		close(got)
		close(errs)
		for err := range errs {
			t.Errorf("Save: %v", err)
		}
		n := 0
		for range got {
			n++
		}
		if n != 1 {
			t.Errorf("Save returned %d changes, want 1", n)
		}
		cs := changes(t, s, 0)
		if len(cs) != 2 || cs[0].From != pal.StatusAttributed || cs[0].To != pal.StatusUnlinked {
			t.Errorf("changes: got %+v, want attributed → unlinked once after the first", cs)
		}
		vs := verdicts(t, s, record.Filter{})
		if want := t0.Add(time.Hour + time.Duration(concurrency-1)*time.Second); len(vs) != 1 || !vs[0].CheckedAt.Equal(want) {
			t.Errorf("verdict: got %+v, want the latest (checked at %v)", vs, want)
		}
	})

	t.Run("save all applies each verdict as save does", func(t *testing.T) {
		s := open(t)
		other := "55555555-0000-0000-0000-000000000000"
		subOf := func(i int) string { return fmt.Sprintf("dddddddd-0000-0000-0000-%012d", i) }
		at := func(v record.Verdict, sub string, st pal.Status, d time.Duration) record.Verdict {
			v.SubscriptionID, v.Status, v.CheckedAt = sub, st, t0.Add(d)
			return v
		}
		// Stored first: sub 0 attributed, sub 1 attributed, sub 2 unlinked (at t0+2h).
		mustSave(t, s, at(base, subOf(0), pal.StatusAttributed, 0))
		mustSave(t, s, at(base, subOf(1), pal.StatusAttributed, 0))
		mustSave(t, s, at(base, subOf(2), pal.StatusUnlinked, 2*time.Hour))
		vs := []record.Verdict{
			at(base, subOf(0), pal.StatusAttributed, time.Hour),   // same status: no change, since kept
			at(base, subOf(1), pal.StatusNotDelegated, time.Hour), // a change
			at(base, subOf(2), pal.StatusAttributed, time.Hour),   // older than stored: not applied
			at(base, subOf(3), pal.StatusAttributed, time.Hour),   // first verdict
			at(base, subOf(3), pal.StatusUnlinked, 2*time.Hour),   // the same subscription again, later: a change
			at(base, subOf(1), pal.StatusNotDelegated, 3*time.Hour),
		}
		w := at(base, subOf(9), pal.StatusUnlinked, time.Hour)
		w.TenantID = other
		vs = append(vs, w)
		got, err := s.SaveAll(ctx, vs)
		if err != nil {
			t.Fatalf("SaveAll: %v", err)
		}
		type ch struct{ from, to pal.Status }
		want := []*ch{nil, {pal.StatusAttributed, pal.StatusNotDelegated}, nil, {"", pal.StatusAttributed},
			{pal.StatusAttributed, pal.StatusUnlinked}, nil, {"", pal.StatusUnlinked}}
		if len(got) != len(want) {
			t.Fatalf("SaveAll: got %d changes, want %d", len(got), len(want))
		}
		for i, c := range got {
			switch {
			case want[i] == nil && c != nil:
				t.Errorf("change %d: got %+v, want none", i, c)
			case want[i] != nil && (c == nil || c.From != want[i].from || c.To != want[i].to || !c.At.Equal(vs[i].CheckedAt) ||
				c.SubscriptionID != vs[i].SubscriptionID || c.TenantID != vs[i].TenantID):
				t.Errorf("change %d: got %+v, want %s → %s of %s at %v", i, c, want[i].from, want[i].to, vs[i].SubscriptionID, vs[i].CheckedAt)
			}
		}
		stored := verdicts(t, s, record.Filter{})
		wantV := map[string]struct {
			st             pal.Status
			checked, since time.Duration
		}{
			subOf(0): {pal.StatusAttributed, time.Hour, 0},
			subOf(1): {pal.StatusNotDelegated, 3 * time.Hour, time.Hour},
			subOf(2): {pal.StatusUnlinked, 2 * time.Hour, 2 * time.Hour},
			subOf(3): {pal.StatusUnlinked, 2 * time.Hour, 2 * time.Hour},
			subOf(9): {pal.StatusUnlinked, time.Hour, time.Hour},
		}
		if len(stored) != len(wantV) {
			t.Fatalf("verdicts: got %d, want %d", len(stored), len(wantV))
		}
		for _, v := range stored {
			wv := wantV[v.SubscriptionID]
			if v.Status != wv.st || !v.CheckedAt.Equal(t0.Add(wv.checked)) || !v.Since.Equal(t0.Add(wv.since)) {
				t.Errorf("verdict %s: got %s checked %v since %v, want %s checked %v since %v", v.SubscriptionID,
					v.Status, v.CheckedAt, v.Since, wv.st, t0.Add(wv.checked), t0.Add(wv.since))
			}
		}
		if cs := changes(t, s, 0); len(cs) != 3+4 {
			t.Errorf("changes: got %d, want 7 (3 first saves, 4 of SaveAll)", len(cs))
		}
		if got, err := s.SaveAll(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("SaveAll(nil): got %v, %v, want none", got, err)
		}
	})

	t.Run("save all of more verdicts than a transaction holds", func(t *testing.T) {
		s := open(t)
		const n = 120 // 240 operations: three transactions of one tenant
		var vs []record.Verdict
		for i := range n {
			v := base
			v.SubscriptionID = fmt.Sprintf("eeeeeeee-0000-0000-0000-%012d", i)
			vs = append(vs, v)
		}
		got, err := s.SaveAll(ctx, vs)
		if err != nil {
			t.Fatalf("SaveAll: %v", err)
		}
		for i, c := range got {
			if c == nil || c.To != pal.StatusAttributed {
				t.Fatalf("change %d: got %+v, want → attributed", i, c)
			}
		}
		if vs := verdicts(t, s, record.Filter{}); len(vs) != n {
			t.Errorf("verdicts: got %d, want %d", len(vs), n)
		}
		if cs := changes(t, s, 0); len(cs) != n {
			t.Errorf("changes: got %d, want %d", len(cs), n)
		}
		for i := range vs {
			vs[i].CheckedAt = t0.Add(time.Hour)
		}
		if got, err = s.SaveAll(ctx, vs); err != nil {
			t.Fatalf("SaveAll again: %v", err)
		}
		for i, c := range got {
			if c != nil {
				t.Fatalf("change %d on the second save: got %+v, want none", i, c)
			}
		}
		if cs := changes(t, s, 0); len(cs) != n {
			t.Errorf("changes after the second save: got %d, want %d", len(cs), n)
		}
	})

	t.Run("concurrent save all append each change once", func(t *testing.T) {
		s := open(t)
		const subs = 20
		sub := func(i int) string { return fmt.Sprintf("ffffffff-0000-0000-0000-%012d", i) }
		for i := range subs {
			v := base
			v.SubscriptionID = sub(i)
			mustSave(t, s, v)
		}
		// Every writer judges every subscription unlinked, later than stored:
		// half with SaveAll, half with one Save per verdict. Each change is
		// returned to exactly one of them.
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[string]int{}
		for w := range concurrency {
			wg.Go(func() {
				var vs []record.Verdict
				for i := range subs {
					v := base
					v.SubscriptionID, v.Status, v.CheckedAt = sub(i), pal.StatusUnlinked, t0.Add(time.Hour+time.Duration(w)*time.Second)
					vs = append(vs, v)
				}
				var got []*record.Change
				if w%2 == 0 {
					var err error
					if got, err = s.SaveAll(ctx, vs); err != nil {
						t.Errorf("SaveAll: %v", err)
					}
				} else {
					for _, v := range vs {
						ch, err := s.Save(ctx, v)
						if err != nil {
							t.Errorf("Save: %v", err)
						}
						got = append(got, ch)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for _, c := range got {
					if c != nil {
						seen[c.SubscriptionID]++
					}
				}
			})
		}
		wg.Wait()
		for i := range subs {
			if seen[sub(i)] != 1 {
				t.Errorf("subscription %d: %d changes returned, want 1", i, seen[sub(i)])
			}
		}
		if cs := changes(t, s, 0); len(cs) != 2*subs {
			t.Errorf("changes: got %d, want %d (one first save and one change each)", len(cs), 2*subs)
		}
		last := t0.Add(time.Hour + time.Duration(concurrency-1)*time.Second)
		for _, v := range verdicts(t, s, record.Filter{}) {
			if v.Status != pal.StatusUnlinked || !v.CheckedAt.Equal(last) {
				t.Errorf("verdict %s: got %s checked %v, want unlinked checked %v (the latest)", v.SubscriptionID, v.Status, v.CheckedAt, last)
			}
		}
	})

	t.Run("save all refuses a batch with an invalid verdict and stores nothing", func(t *testing.T) {
		s := open(t)
		bad := base
		bad.SubscriptionID = "a/b"
		if _, err := s.SaveAll(ctx, []record.Verdict{base, bad}); pal.ErrorCodeOf(err) != pal.CodeInvalidInput {
			t.Errorf("SaveAll: got %v, want InvalidInput", err)
		}
		if got := verdicts(t, s, record.Filter{}); len(got) != 0 {
			t.Errorf("verdicts: got %d, want none stored", len(got))
		}
	})

	t.Run("invalid verdicts are refused", func(t *testing.T) {
		s := open(t)
		for _, mutate := range []func(*record.Verdict){
			func(v *record.Verdict) { v.TenantID = "" },
			func(v *record.Verdict) { v.SubscriptionID = "a/b" },
			func(v *record.Verdict) { v.Status = "" },
			func(v *record.Verdict) { v.CheckedAt = time.Time{} },
		} {
			v := base
			mutate(&v)
			if _, err := s.Save(ctx, v); pal.ErrorCodeOf(err) != pal.CodeInvalidInput {
				t.Errorf("Save(%+v): got %v, want InvalidInput", v, err)
			}
		}
		if got := verdicts(t, s, record.Filter{}); len(got) != 0 {
			t.Errorf("verdicts: got %d, want none stored", len(got))
		}
	})

	t.Run("runs", func(t *testing.T) {
		s := open(t)
		if r, err := s.LastRun(ctx); err != nil || r != nil {
			t.Fatalf("LastRun of an empty record: got %+v, %v, want nil, nil", r, err)
		}
		r1 := record.Run{ID: "run-1", StartedAt: t0}
		r2 := record.Run{ID: "run-2", StartedAt: t0.Add(time.Hour), ItemsSent: 3}
		for _, r := range []record.Run{r1, r2} {
			if err := s.StartRun(ctx, r); err != nil {
				t.Fatalf("StartRun: %v", err)
			}
		}
		if err := s.StartRun(ctx, r1); err == nil {
			t.Errorf("StartRun of an existing run: got nil, want an error")
		}
		last, err := s.LastRun(ctx)
		if err != nil || last == nil || last.ID != "run-2" || last.Outcome != record.OutcomeRunning || last.ItemsSent != 3 || !last.FinishedAt.IsZero() {
			t.Fatalf("LastRun: got %+v, %v, want run-2 running with 3 items sent", last, err)
		}
		if _, err := s.UpdateRun(ctx, "nope", func(*record.Run) {}); pal.ErrorCodeOf(err) != pal.CodeNotFound {
			t.Errorf("UpdateRun of an unknown run: got %v, want NotFound", err)
		}

		var wg sync.WaitGroup
		for i := range concurrency {
			wg.Go(func() {
				_, err := s.UpdateRun(ctx, "run-2", func(r *record.Run) {
					r.ItemsDone++
					r.CountItem(i)
					if r.Summary == nil {
						r.Summary = map[pal.Status]int{}
					}
					r.Summary[pal.StatusAttributed]++
					if i == 0 {
						r.ItemsFailed++
					}
				})
				if err != nil {
					t.Errorf("UpdateRun: %v", err)
				}
			})
		}
		wg.Wait()
		fin := t0.Add(90 * time.Minute)
		got, err := s.UpdateRun(ctx, "run-2", func(r *record.Run) {
			r.Outcome, r.FinishedAt, r.Detail = record.OutcomeComplete, fin, "all done"
			r.ID, r.StartedAt = "hijacked", time.Time{} // not changeable
		})
		if err != nil {
			t.Fatalf("UpdateRun: %v", err)
		}
		want := record.Run{ID: "run-2", StartedAt: r2.StartedAt, FinishedAt: fin, Outcome: record.OutcomeComplete,
			Summary: map[pal.Status]int{pal.StatusAttributed: concurrency}, ItemsSent: 3, ItemsDone: concurrency, ItemsFailed: 1, Detail: "all done"}
		for i := range concurrency {
			want.CountItem(i)
		}
		if !equalRun(*got, want) {
			t.Errorf("UpdateRun: got %+v, want %+v", *got, want)
		}
		last, err = s.LastRun(ctx)
		if err != nil || last == nil || !equalRun(*last, want) {
			t.Errorf("LastRun: got %+v, %v, want %+v", last, err, want)
		}
	})

	t.Run("pages of verdicts, within the query limits", func(t *testing.T) {
		s := open(t)
		// 20 tenants (more than one query's comparisons can name) of 3
		// subscriptions each, statuses in turn.
		statuses := []pal.Status{pal.StatusAttributed, pal.StatusNotDelegated, pal.StatusUnlinked}
		var tenants []string
		var vs []record.Verdict
		for i := range 20 {
			tn := fmt.Sprintf("%08d-0000-0000-0000-000000000000", 70+i)
			tenants = append(tenants, tn)
			for j := range 3 {
				v := base
				v.TenantID, v.SubscriptionID, v.Status = tn, fmt.Sprintf("99999999-0000-0000-0000-%012d", j), statuses[(i+j)%3]
				vs = append(vs, v)
			}
		}
		if _, err := s.SaveAll(ctx, vs); err != nil {
			t.Fatalf("SaveAll: %v", err)
		}
		for _, f := range []record.Filter{
			{},
			{TenantIDs: tenants},
			{TenantIDs: tenants, Statuses: pal.Statuses},
			{Statuses: []pal.Status{pal.StatusNotDelegated, pal.StatusUnlinked}},
			{TenantIDs: tenants[3:17], Statuses: []pal.Status{pal.StatusAttributed}},
		} {
			want := verdicts(t, s, f)
			var got []record.Verdict
			p := record.Page{Size: 7}
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("filter %+v: no last page", f)
				}
				page, err := s.PageVerdicts(ctx, f, p)
				if err != nil {
					t.Fatalf("PageVerdicts(%+v): %v", f, err)
				}
				if len(page.Verdicts) > 7 {
					t.Fatalf("PageVerdicts(%+v): got %d verdicts, want at most 7", f, len(page.Verdicts))
				}
				got = append(got, page.Verdicts...)
				if page.Next == "" {
					break
				}
				p.Token = page.Next
			}
			if len(got) != len(want) {
				t.Fatalf("filter %+v: pages hold %d verdicts, Verdicts %d", f, len(got), len(want))
			}
			for i := range got {
				if got[i].TenantID != want[i].TenantID || got[i].SubscriptionID != want[i].SubscriptionID {
					t.Fatalf("filter %+v: verdict %d: got %s/%s, want %s/%s", f, i, got[i].TenantID, got[i].SubscriptionID, want[i].TenantID, want[i].SubscriptionID)
				}
			}
		}
		first, err := s.PageVerdicts(ctx, record.Filter{}, record.Page{Size: 5})
		if err != nil || first.Next == "" {
			t.Fatalf("PageVerdicts: got %+v, %v, want a next page", first, err)
		}
		for _, c := range []struct {
			name string
			f    record.Filter
			tok  string
		}{
			{"a token of another filter", record.Filter{Statuses: []pal.Status{pal.StatusAttributed}}, first.Next},
			{"a made-up token", record.Filter{}, "not-a-token"},
			{"more tenants than allowed", record.Filter{TenantIDs: manyTenants(record.MaxFilterTenants + 1)}, ""},
		} {
			if _, err := s.PageVerdicts(ctx, c.f, record.Page{Token: c.tok}); pal.ErrorCodeOf(err) != pal.CodeInvalidInput {
				t.Errorf("%s: got %v, want InvalidInput", c.name, err)
			}
		}
		if _, err := s.PageVerdicts(ctx, record.Filter{TenantIDs: manyTenants(record.MaxFilterTenants), Statuses: pal.Statuses}, record.Page{}); err != nil {
			t.Errorf("PageVerdicts of %d tenants and every status: %v", record.MaxFilterTenants, err)
		}
	})

	t.Run("summaries follow the verdicts, the estate's totals the last refresh", func(t *testing.T) {
		s := open(t)
		tA, tB := "a0000000-0000-0000-0000-000000000000", "b0000000-0000-0000-0000-000000000000"
		save := func(tenant string, sub int, st pal.Status, d time.Duration) {
			v := base
			v.TenantID, v.SubscriptionID, v.Status, v.CheckedAt = tenant, fmt.Sprintf("12345678-0000-0000-0000-%012d", sub), st, t0.Add(d)
			mustSave(t, s, v)
		}
		if e, err := s.Estate(ctx); err != nil || e != nil {
			t.Fatalf("Estate of an empty record: got %+v, %v, want nil", e, err)
		}
		save(tA, 1, pal.StatusAttributed, 0)
		save(tA, 2, pal.StatusAttributed, 0)
		save(tA, 3, pal.StatusUnlinked, 0)
		save(tB, 1, pal.StatusNotDelegated, 0)
		save(tA, 2, pal.StatusAttributed, time.Hour)     // same status: no change of counts
		save(tA, 3, pal.StatusIneligibleRole, time.Hour) // unlinked → ineligible-role
		wantA := map[pal.Status]int{pal.StatusAttributed: 2, pal.StatusIneligibleRole: 1}
		wantB := map[pal.Status]int{pal.StatusNotDelegated: 1}
		page, err := s.TenantSummaries(ctx, record.Page{})
		if err != nil {
			t.Fatalf("TenantSummaries: %v", err)
		}
		if len(page.Summaries) != 2 || page.Next != "" || page.Summaries[0].TenantID != tA || page.Summaries[1].TenantID != tB ||
			!sameCounts(page.Summaries[0].Counts, wantA) || !sameCounts(page.Summaries[1].Counts, wantB) {
			t.Fatalf("TenantSummaries: got %+v, want %s %v and %s %v", page, tA, wantA, tB, wantB)
		}
		if page.Summaries[0].Version < 4 || !page.Summaries[0].At.Equal(t0.Add(time.Hour)) {
			t.Errorf("summary of %s: got version %d at %v, want at least 4 at %v", tA, page.Summaries[0].Version, page.Summaries[0].At, t0.Add(time.Hour))
		}
		one, err := s.TenantSummaries(ctx, record.Page{Size: 1})
		if err != nil || len(one.Summaries) != 1 || one.Next == "" {
			t.Fatalf("TenantSummaries of size 1: got %+v, %v", one, err)
		}
		rest, err := s.TenantSummaries(ctx, record.Page{Size: 1, Token: one.Next})
		if err != nil || len(rest.Summaries) != 1 || rest.Summaries[0].TenantID != tB {
			t.Fatalf("TenantSummaries, second page: got %+v, %v, want %s", rest, err, tB)
		}
		of, err := s.SummariesOf(ctx, []string{tB, "c0000000-0000-0000-0000-000000000000"})
		if err != nil || len(of) != 1 || of[0].TenantID != tB || !sameCounts(of[0].Counts, wantB) {
			t.Fatalf("SummariesOf: got %+v, %v, want only %s", of, err, tB)
		}
		at := t0.Add(2 * time.Hour)
		e, err := s.RefreshEstate(ctx, at)
		wantE := map[pal.Status]int{pal.StatusAttributed: 2, pal.StatusIneligibleRole: 1, pal.StatusNotDelegated: 1}
		if err != nil || e == nil || !sameCounts(e.Counts, wantE) || e.Tenants != 2 || !e.At.Equal(at) {
			t.Fatalf("RefreshEstate: got %+v, %v, want %v over 2 tenants at %v", e, err, wantE, at)
		}
		// Between refreshes (sweeps) the estate's totals stay; the tenant's summary moves.
		save(tB, 2, pal.StatusAttributed, 3*time.Hour)
		if e, err := s.Estate(ctx); err != nil || e == nil || !sameCounts(e.Counts, wantE) || !e.At.Equal(at) {
			t.Errorf("Estate after a save: got %+v, %v, want the refreshed %v at %v", e, err, wantE, at)
		}
		if of, _ := s.SummariesOf(ctx, []string{tB}); len(of) != 1 || of[0].Total() != 2 {
			t.Errorf("SummariesOf after a save: got %+v, want 2 verdicts", of)
		}
		wantE[pal.StatusAttributed]++
		if e, err := s.RefreshEstate(ctx, at.Add(time.Hour)); err != nil || !sameCounts(e.Counts, wantE) {
			t.Errorf("RefreshEstate again: got %+v, %v, want %v", e, err, wantE)
		}
	})

	t.Run("tenant changes and runs, newest first", func(t *testing.T) {
		s := open(t)
		tA, tB := "a1000000-0000-0000-0000-000000000000", "b1000000-0000-0000-0000-000000000000"
		for i, st := range []pal.Status{pal.StatusAttributed, pal.StatusUnlinked, pal.StatusAttributed} {
			for _, tn := range []string{tA, tB} {
				v := base
				v.TenantID, v.Status, v.CheckedAt = tn, st, t0.Add(time.Duration(i)*time.Hour)
				mustSave(t, s, v)
			}
		}
		cs, err := s.TenantChanges(ctx, tA, 2)
		if err != nil || len(cs) != 2 || cs[0].TenantID != tA || !cs[0].At.Equal(t0.Add(2*time.Hour)) || cs[0].From != pal.StatusUnlinked {
			t.Fatalf("TenantChanges: got %+v, %v, want 2 of %s, newest unlinked → attributed", cs, err, tA)
		}
		if all := changes(t, s, 0); len(all) != 6 || !all[0].At.Equal(t0.Add(2*time.Hour)) || !all[5].At.Equal(t0) {
			t.Fatalf("Changes: got %+v, want 6 newest first", all)
		}
		for i := range 5 {
			r := record.Run{ID: fmt.Sprintf("run-%d", i), StartedAt: t0.Add(time.Duration(i) * time.Hour)}
			if err := s.StartRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			if _, err := s.UpdateRun(ctx, r.ID, func(r *record.Run) {
				r.Outcome, r.FinishedAt, r.Summary = record.OutcomeComplete, r.StartedAt.Add(time.Minute), map[pal.Status]int{pal.StatusAttributed: i}
			}); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.Runs(ctx, 3)
		if err != nil || len(runs) != 3 {
			t.Fatalf("Runs(3): got %d, %v", len(runs), err)
		}
		for i, r := range runs {
			if want := fmt.Sprintf("run-%d", 4-i); r.ID != want || r.Outcome != record.OutcomeComplete || r.Summary[pal.StatusAttributed] != 4-i {
				t.Errorf("run %d: got %+v, want %s complete with %d attributed", i, r, want, 4-i)
			}
		}
	})

	t.Run("prune removes old changes and runs, never verdicts", func(t *testing.T) {
		s := open(t)
		for i := range 4 {
			v := base
			v.Status, v.CheckedAt = []pal.Status{pal.StatusAttributed, pal.StatusUnlinked}[i%2], t0.Add(time.Duration(i)*24*time.Hour)
			mustSave(t, s, v)
		}
		for i := range 3 {
			if err := s.StartRun(ctx, record.Run{ID: fmt.Sprintf("run-%d", i), StartedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		cut := t0.Add(36 * time.Hour) // older: changes 0, 1 and runs 0, 1
		n, err := s.Prune(ctx, cut, 3)
		if err != nil || n != 3 {
			t.Fatalf("Prune(limit 3): got %d, %v, want 3", n, err)
		}
		n, err = s.Prune(ctx, cut, 100)
		if err != nil || n != 1 {
			t.Fatalf("Prune again: got %d, %v, want the 1 left", n, err)
		}
		if n, err := s.Prune(ctx, cut, 100); err != nil || n != 0 {
			t.Fatalf("Prune once more: got %d, %v, want 0", n, err)
		}
		cs := changes(t, s, 0)
		if len(cs) != 2 || cs[1].At.Before(cut) {
			t.Errorf("changes after Prune: got %+v, want the 2 since %v", cs, cut)
		}
		if cs, _ := s.TenantChanges(ctx, tenant, 0); len(cs) != 2 {
			t.Errorf("tenant changes after Prune: got %d, want 2", len(cs))
		}
		runs, _ := s.Runs(ctx, 0)
		if len(runs) != 1 || runs[0].ID != "run-2" {
			t.Errorf("runs after Prune: got %+v, want run-2", runs)
		}
		if vs := verdicts(t, s, record.Filter{}); len(vs) != 1 {
			t.Errorf("verdicts after Prune: got %d, want 1", len(vs))
		}
		if of, _ := s.SummariesOf(ctx, []string{tenant}); len(of) != 1 || of[0].Total() != 1 {
			t.Errorf("summary after Prune: got %+v, want 1 verdict", of)
		}
	})

	t.Run("values at Table Storage's limits", func(t *testing.T) {
		s := open(t)
		long := base
		long.DisplayName = strings.Repeat("é", 32<<10+1) // one more UTF-16 unit than a string property holds
		long.Detail = strings.Repeat("x", 40<<10)
		if _, err := s.Save(ctx, long); err != nil {
			t.Errorf("Save of a 32K+1-character name: %v (the record keeps text within the limits)", err)
		}
		for _, v := range verdicts(t, s, record.Filter{}) {
			if n := len(utf16.Encode([]rune(v.DisplayName))); n > 32<<10 || len(utf16.Encode([]rune(v.Detail))) > 32<<10 {
				t.Errorf("stored name of %d UTF-16 characters: more than a string property holds", n)
			}
		}
		// The bitmap of the most work items a run counts.
		if err := s.StartRun(ctx, record.Run{ID: "big", StartedAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateRun(ctx, "big", func(r *record.Run) { r.CountItem(record.MaxItems - 1); r.CountItem(0) })
		if err != nil {
			t.Fatalf("UpdateRun counting item %d: %v", record.MaxItems-1, err)
		}
		last, err := s.LastRun(ctx)
		if err != nil || last == nil || !last.ItemCounted(record.MaxItems-1) || !last.ItemCounted(0) || last.ItemCounted(1) || !equalRun(*last, *got) {
			t.Errorf("LastRun: got items %v/%v, %v, want items 0 and %d counted", last != nil && last.ItemCounted(0), last != nil && last.ItemCounted(record.MaxItems-1), err, record.MaxItems-1)
		}
	})

	t.Run("a cancelled context stores nothing", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Save(cctx, base); err == nil {
			t.Fatalf("Save with a cancelled context: got nil error")
		} else if !errors.Is(err, context.Canceled) && !pal.IsTransient(err) {
			t.Errorf("Save with a cancelled context: got %v, want Canceled or Transient", err)
		}
		if got := verdicts(t, s, record.Filter{}); len(got) != 0 {
			t.Errorf("verdicts: got %d, want none", len(got))
		}
	})
}

// manyTenants returns n tenant IDs.
func manyTenants(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%08d-1111-1111-1111-111111111111", i)
	}
	return out
}

// sameCounts compares counts, a missing status as zero.
func sameCounts(a, b map[pal.Status]int) bool {
	for _, s := range pal.Statuses {
		if a[s] != b[s] {
			return false
		}
	}
	return true
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func mustSave(t *testing.T, s record.Store, v record.Verdict) *record.Change {
	t.Helper()
	ch, err := s.Save(context.Background(), v)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	return ch
}

func verdicts(t *testing.T, s record.Store, f record.Filter) []record.Verdict {
	t.Helper()
	vs, err := s.Verdicts(context.Background(), f)
	if err != nil {
		t.Fatalf("Verdicts: %v", err)
	}
	return vs
}

func changes(t *testing.T, s record.Store, limit int) []record.Change {
	t.Helper()
	cs, err := s.Changes(context.Background(), limit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return cs
}

// equalVerdict compares verdicts with time.Equal and nil == empty roles.
func equalVerdict(a, b record.Verdict) bool {
	return a.TenantID == b.TenantID && a.SubscriptionID == b.SubscriptionID && a.DisplayName == b.DisplayName &&
		a.Status == b.Status && slices.Equal(a.Roles, b.Roles) && a.Detail == b.Detail &&
		a.LinkPartnerID == b.LinkPartnerID && a.LinkAction == b.LinkAction && a.CheckedAt.Equal(b.CheckedAt) &&
		a.CheckedBy == b.CheckedBy && a.Since.Equal(b.Since)
}

// equalRun compares runs with time.Equal and nil == empty summary.
func equalRun(a, b record.Run) bool {
	if len(a.Summary) != len(b.Summary) {
		return false
	}
	for k, v := range a.Summary {
		if b.Summary[k] != v {
			return false
		}
	}
	return a.ID == b.ID && a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt) && a.Outcome == b.Outcome &&
		a.ItemsSent == b.ItemsSent && a.ItemsDone == b.ItemsDone && a.ItemsFailed == b.ItemsFailed && a.Detail == b.Detail &&
		a.SubscriptionsSent == b.SubscriptionsSent && a.Listed == b.Listed && a.NotJudged == b.NotJudged &&
		a.ClosedRunID == b.ClosedRunID && a.ClosedNotJudged == b.ClosedNotJudged &&
		bytes.Equal(a.Counted, b.Counted)
}
