package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// fakeRecord is an in-memory Reader for the tests.
type fakeRecord struct {
	verdicts []record.Verdict
	changes  []record.Change // newest first
	run      *record.Run
	// runs are the runs Runs lists, newest first.
	runs []record.Run
	err  error
	// calls counts the reads.
	calls int
}

func (f *fakeRecord) Verdicts(_ context.Context, flt record.Filter) ([]record.Verdict, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var out []record.Verdict
	for _, v := range f.verdicts {
		if (len(flt.TenantIDs) == 0 || slices.Contains(flt.TenantIDs, v.TenantID)) &&
			(len(flt.Statuses) == 0 || slices.Contains(flt.Statuses, v.Status)) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b record.Verdict) int {
		if c := strings.Compare(a.TenantID, b.TenantID); c != 0 {
			return c
		}
		return strings.Compare(a.SubscriptionID, b.SubscriptionID)
	})
	return out, nil
}

func (f *fakeRecord) PageVerdicts(ctx context.Context, flt record.Filter, p record.Page) (*record.VerdictPage, error) {
	if len(flt.TenantIDs) > record.MaxFilterTenants {
		return nil, &pal.Error{Code: pal.CodeInvalidInput, Message: "too many tenants"}
	}
	all, err := f.Verdicts(ctx, flt)
	if err != nil {
		return nil, err
	}
	start := 0
	if p.Token != "" {
		if start, err = strconv.Atoi(strings.TrimPrefix(p.Token, "o")); err != nil || !strings.HasPrefix(p.Token, "o") || start > len(all) {
			return nil, &pal.Error{Code: pal.CodeInvalidInput, Message: "bad token"}
		}
	}
	size := p.Size
	if size < 1 || size > record.MaxPageSize {
		size = record.MaxPageSize
	}
	end := min(start+size, len(all))
	page := &record.VerdictPage{Verdicts: all[start:end]}
	if end < len(all) {
		page.Next = "o" + strconv.Itoa(end)
	}
	return page, nil
}

// summaries counts the verdicts by tenant, sorted by tenant.
func (f *fakeRecord) summaries() []record.Summary {
	by := map[string]*record.Summary{}
	var order []string
	for _, v := range f.verdicts {
		s, ok := by[v.TenantID]
		if !ok {
			s = &record.Summary{TenantID: v.TenantID, Counts: pal.NewSummary(), Version: 1}
			by[v.TenantID] = s
			order = append(order, v.TenantID)
		}
		s.Counts[v.Status]++
	}
	slices.Sort(order)
	out := make([]record.Summary, len(order))
	for i, t := range order {
		out[i] = *by[t]
	}
	return out
}

func (f *fakeRecord) TenantSummaries(_ context.Context, p record.Page) (*record.SummaryPage, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	all := f.summaries()
	start := 0
	if p.Token != "" {
		var err error
		if start, err = strconv.Atoi(p.Token); err != nil || start > len(all) {
			return nil, &pal.Error{Code: pal.CodeInvalidInput, Message: "bad token"}
		}
	}
	size := p.Size
	if size < 1 || size > record.MaxPageSize {
		size = record.MaxPageSize
	}
	end := min(start+size, len(all))
	page := &record.SummaryPage{Summaries: all[start:end]}
	if end < len(all) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func (f *fakeRecord) SummariesOf(_ context.Context, tenants []string) ([]record.Summary, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var out []record.Summary
	for _, s := range f.summaries() {
		if slices.Contains(tenants, s.TenantID) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Estate is the totals of every verdict, as of the last run's end (none
// before a run).
func (f *fakeRecord) Estate(context.Context) (*record.Summary, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if f.run == nil {
		return nil, nil
	}
	e := &record.Summary{Counts: pal.NewSummary(), At: f.run.FinishedAt}
	for _, s := range f.summaries() {
		e.Tenants++
		for k, n := range s.Counts {
			e.Counts[k] += n
		}
	}
	return e, nil
}

func (f *fakeRecord) TenantChanges(_ context.Context, tenant string, limit int) ([]record.Change, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var out []record.Change
	for _, c := range f.changes {
		if c.TenantID == tenant && (limit < 1 || len(out) < limit) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeRecord) Changes(_ context.Context, limit int) ([]record.Change, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.changes[:min(limit, len(f.changes))], nil
}

func (f *fakeRecord) LastRun(context.Context) (*record.Run, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.run, nil
}

// Runs lists f.runs, or the last run when f.runs is not set.
func (f *fakeRecord) Runs(_ context.Context, n int) ([]record.Run, error) {
	f.calls++
	switch {
	case f.err != nil:
		return nil, f.err
	case f.runs != nil:
		return f.runs[:min(n, len(f.runs))], nil
	case f.run != nil:
		return []record.Run{*f.run}, nil
	}
	return []record.Run{}, nil
}

var errStore = errors.New("table storage: 500 secret-ish SDK dump")

// The test estate: the tenants and subscriptions the tests judge.
const (
	tenantContoso  = "11111111-1111-1111-1111-111111111111"
	tenantFabrikam = "22222222-2222-2222-2222-222222222222"
	subAttributed  = "aaaaaaaa-0000-0000-0000-000000000001"
	subReader      = "aaaaaaaa-0000-0000-0000-000000000002"
	subGone        = "aaaaaaaa-0000-0000-0000-000000000003"
	subFabrikam    = "bbbbbbbb-0000-0000-0000-000000000001"
	subFormula     = "bbbbbbbb-0000-0000-0000-000000000002"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// estateRecord is a record after two sweeps of the test estate: one
// subscription lost its attribution between them.
func estateRecord() *fakeRecord {
	last, history := estateRuns()
	v := func(tenant, sub, name string, st pal.Status, detail string, since time.Time, roles ...string) record.Verdict {
		return record.Verdict{TenantID: tenant, SubscriptionID: sub, DisplayName: name, Status: st, Roles: roles,
			Detail: detail, CheckedAt: t0.Add(24 * time.Hour), CheckedBy: "sweep", Since: since,
			LinkPartnerID: "1234567", LinkAction: pal.LinkNone}
	}
	return &fakeRecord{
		verdicts: []record.Verdict{
			v(tenantFabrikam, subFormula, "=HYPERLINK(\"http://evil\")", pal.StatusUnlinked, "+the link is foreign", t0, "Contributor"),
			v(tenantContoso, subAttributed, "Contoso prod", pal.StatusAttributed, "", t0, "Contributor"),
			v(tenantContoso, subReader, "Contoso, \"dev\"", pal.StatusIneligibleRole, "Reader is not PEC-eligible", t0.Add(24*time.Hour), "Reader"),
			v(tenantContoso, subGone, "Contoso old", pal.StatusNotDelegated, "the identity cannot reach it", t0),
			v(tenantFabrikam, subFabrikam, "Fabrikam <b>main</b>", pal.StatusAttributed, "", t0, "Owner", "Contributor"),
		},
		changes: []record.Change{
			{TenantID: tenantContoso, SubscriptionID: subReader, From: pal.StatusAttributed, To: pal.StatusIneligibleRole, At: t0.Add(24 * time.Hour),
				// A real detail's longest word (an action name) is what overflowed the page.
				Detail: "Reader is not PEC-eligible; read from the delegation (Microsoft.ManagedServices/registrationAssignments/read)"},
			{TenantID: tenantFabrikam, SubscriptionID: subFormula, From: "", To: pal.StatusUnlinked, At: t0.Add(3 * time.Minute)},
			{TenantID: tenantFabrikam, SubscriptionID: subFabrikam, From: "", To: pal.StatusAttributed, At: t0.Add(2 * time.Minute)},
			{TenantID: tenantContoso, SubscriptionID: subReader, From: "", To: pal.StatusAttributed, At: t0.Add(time.Minute)},
			{TenantID: tenantContoso, SubscriptionID: subAttributed, From: "", To: pal.StatusAttributed, At: t0},
		},
		run:  &last,
		runs: append([]record.Run{last}, history...),
	}
}

// estateRuns are the test estate's sweeps: the last one, and 13 nightly
// ones before it (newest first), from 1 of 4 attributed to 3 of 5.
func estateRuns() (last record.Run, history []record.Run) {
	last = record.Run{ID: "run-2", StartedAt: t0.Add(24 * time.Hour), FinishedAt: t0.Add(24*time.Hour + 5*time.Second),
		Outcome: record.OutcomeComplete, Summary: map[pal.Status]int{pal.StatusAttributed: 2, pal.StatusIneligibleRole: 1,
			pal.StatusNotDelegated: 1, pal.StatusUnlinked: 1}}
	for i := range 13 {
		at := t0.Add(-time.Duration(i) * 24 * time.Hour)
		a := 3 - i/5
		history = append(history, record.Run{ID: fmt.Sprintf("night-%d", i), StartedAt: at, FinishedAt: at.Add(time.Minute),
			Outcome: record.OutcomeComplete, Summary: map[pal.Status]int{pal.StatusAttributed: a, pal.StatusIneligibleRole: 4 - a}})
	}
	return last, history
}

// bigRecord is a record of n subscriptions spread over n/20 tenants, a fifth
// of them not attributed, and 500 changes.
func bigRecord(n int) *fakeRecord {
	f := &fakeRecord{run: &record.Run{ID: "big", StartedAt: t0, FinishedAt: t0.Add(time.Minute), Outcome: record.OutcomePartial,
		Detail: "3 work items failed"}}
	for i := range n {
		st := pal.StatusAttributed
		if i%5 == 0 {
			st = []pal.Status{pal.StatusIneligibleRole, pal.StatusNotDelegated, pal.StatusUnlinked, pal.StatusError}[(i/5)%4]
		}
		f.verdicts = append(f.verdicts, record.Verdict{
			TenantID:       fmt.Sprintf("%08x-0000-4000-8000-000000000000", i/20),
			SubscriptionID: fmt.Sprintf("%08x-1111-4000-8000-000000000000", i),
			DisplayName:    fmt.Sprintf("subscription %d", i), Status: st, Roles: []string{"Contributor"},
			Detail: "detail", CheckedAt: t0, Since: t0,
		})
	}
	for i := range min(n, 500) {
		f.changes = append(f.changes, record.Change{TenantID: f.verdicts[i].TenantID, SubscriptionID: f.verdicts[i].SubscriptionID,
			From: pal.StatusAttributed, To: pal.StatusUnlinked, At: t0.Add(-time.Duration(i) * time.Minute)})
	}
	return f
}

// fakeDirectory is a Directory for the tests.
type fakeDirectory struct {
	names map[string]TenantName
	id    *Identity
	err   error
}

func (d *fakeDirectory) TenantNames(context.Context) (map[string]TenantName, error) {
	return d.names, d.err
}

func (d *fakeDirectory) Identity(context.Context) (*Identity, error) { return d.id, d.err }

// estateDirectory names Contoso (Fabrikam stays unnamed: its ID shows) and
// is the managed identity linked to 1234567.
func estateDirectory() *fakeDirectory {
	return &fakeDirectory{
		names: map[string]TenantName{tenantContoso: {DisplayName: "Contoso Ltd", DefaultDomain: "contoso.onmicrosoft.com"}},
		id: &Identity{Kind: KindManagedIdentity, ClientID: "c11e0000-0000-4000-8000-000000000001",
			ObjectID: "0b1ec700-0000-4000-8000-000000000001", TenantID: "7e0a0000-0000-4000-8000-000000000001",
			PartnerID: "1234567", Allowed: []string{"1234567"},
			Link: &pal.Link{PartnerID: "1234567", PartnerName: "Contoso MSP", State: "Active"}},
	}
}
