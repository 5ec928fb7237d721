package record

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a [Store] that lives in memory for the life of the process
// (workstation, sandbox). It is safe for concurrent use. It keeps the same
// rules as the Table store: the estate's totals are those of the last
// RefreshEstate, paging tokens belong to their filter.
type Memory struct {
	mu        sync.Mutex
	verdicts  map[subKey]Verdict
	summaries map[string]Summary
	estate    *Summary
	changes   []Change // oldest first
	runs      map[string]Run
	order     []string // run IDs in the order they were started
}

type subKey struct{ tenant, sub string }

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory record.
func NewMemory() *Memory {
	return &Memory{verdicts: map[subKey]Verdict{}, summaries: map[string]Summary{}, runs: map[string]Run{}}
}

// Save implements [Store].
func (m *Memory) Save(ctx context.Context, v Verdict) (*Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := prepareVerdict(v)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.save(v), nil
}

// SaveAll implements [Store]: every verdict under one lock.
func (m *Memory) SaveAll(ctx context.Context, vs []Verdict) ([]*Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vs, err := prepareAll(vs)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Change, len(vs))
	for i, v := range vs {
		out[i] = m.save(v)
	}
	return out, nil
}

// save applies the prepared verdict v and its tenant's summary; m.mu is held.
func (m *Memory) save(v Verdict) *Change {
	k := subKey{v.TenantID, v.SubscriptionID}
	var stored *Verdict
	if s, ok := m.verdicts[k]; ok {
		stored = &s
	}
	out, ch, apply := decide(stored, v)
	if !apply {
		return nil
	}
	m.verdicts[k] = out
	if ch == nil {
		return nil
	}
	s, ok := m.summaries[v.TenantID]
	if !ok {
		s = Summary{TenantID: v.TenantID, Counts: newCounts()}
	}
	s.Counts = maps.Clone(s.Counts)
	countChange(s.Counts, ch)
	s.Version++
	s.At = ch.At
	m.summaries[v.TenantID] = s
	m.changes = append(m.changes, *ch)
	c := *ch
	return &c
}

// Verdicts implements [Store].
func (m *Memory) Verdicts(ctx context.Context, f Filter) ([]Verdict, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Verdict, 0, len(m.verdicts))
	for _, v := range m.verdicts {
		if f.matches(v) {
			v.Roles = slices.Clone(v.Roles)
			out = append(out, v)
		}
	}
	m.mu.Unlock()
	sortVerdicts(out)
	return out, nil
}

// PageVerdicts implements [Store]: the token holds the last keys returned.
func (m *Memory) PageVerdicts(ctx context.Context, f Filter, p Page) (*VerdictPage, error) {
	f, fid, tok, err := verdictPage(f, p)
	if err != nil {
		return nil, err
	}
	all, err := m.Verdicts(ctx, f)
	if err != nil {
		return nil, err
	}
	start := 0
	if tok != nil {
		start, _ = slices.BinarySearchFunc(all, subKey{tok.PK, tok.RK}, func(v Verdict, k subKey) int {
			return cmp.Or(strings.Compare(v.TenantID, k.tenant), strings.Compare(v.SubscriptionID, k.sub))
		})
		if start < len(all) && all[start].TenantID == tok.PK && all[start].SubscriptionID == tok.RK {
			start++
		}
	}
	end := min(start+p.size(), len(all))
	page := &VerdictPage{Verdicts: all[start:end]}
	if end < len(all) {
		last := all[end-1]
		page.Next = pageToken{Filter: fid, PK: last.TenantID, RK: last.SubscriptionID}.encode()
	}
	return page, nil
}

// TenantSummaries implements [Store].
func (m *Memory) TenantSummaries(ctx context.Context, p Page) (*SummaryPage, error) {
	tok, err := decodeToken(p.Token, summaryFilterID)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	all := make([]Summary, 0, len(m.summaries))
	for _, s := range m.summaries {
		s.Counts = maps.Clone(s.Counts)
		all = append(all, s)
	}
	m.mu.Unlock()
	slices.SortFunc(all, func(a, b Summary) int { return strings.Compare(a.TenantID, b.TenantID) })
	start := 0
	if tok != nil {
		start, _ = slices.BinarySearchFunc(all, tok.PK, func(s Summary, t string) int { return strings.Compare(s.TenantID, t) })
		if start < len(all) && all[start].TenantID == tok.PK {
			start++
		}
	}
	end := min(start+p.size(), len(all))
	page := &SummaryPage{Summaries: all[start:end]}
	if end < len(all) {
		page.Next = pageToken{Filter: summaryFilterID, PK: all[end-1].TenantID}.encode()
	}
	return page, nil
}

// SummariesOf implements [Store].
func (m *Memory) SummariesOf(ctx context.Context, tenants []string) ([]Summary, error) {
	f, _, err := normFilter(Filter{TenantIDs: tenants})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Summary
	for _, t := range f.TenantIDs {
		if s, ok := m.summaries[t]; ok {
			s.Counts = maps.Clone(s.Counts)
			out = append(out, s)
		}
	}
	return out, nil
}

// Estate implements [Store].
func (m *Memory) Estate(ctx context.Context) (*Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.estate == nil {
		return nil, nil
	}
	e := *m.estate
	e.Counts = maps.Clone(e.Counts)
	return &e, nil
}

// RefreshEstate implements [Store].
func (m *Memory) RefreshEstate(ctx context.Context, at time.Time) (*Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	e := Summary{Counts: newCounts(), At: normTime(at)}
	for _, s := range m.summaries {
		addCounts(e.Counts, s.Counts)
		e.Tenants++
	}
	m.estate = &e
	m.mu.Unlock()
	return m.Estate(ctx)
}

// Changes implements [Store].
func (m *Memory) Changes(ctx context.Context, limit int) ([]Change, error) {
	return m.changesOf(ctx, func(Change) bool { return true }, limit)
}

// TenantChanges implements [Store].
func (m *Memory) TenantChanges(ctx context.Context, tenant string, limit int) ([]Change, error) {
	return m.changesOf(ctx, func(c Change) bool { return c.TenantID == tenant }, limit)
}

// changesOf returns the changes keep accepts, newest first, at most limit.
func (m *Memory) changesOf(ctx context.Context, keep func(Change) bool, limit int) ([]Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := slices.DeleteFunc(slices.Clone(m.changes), func(c Change) bool { return !keep(c) })
	m.mu.Unlock()
	slices.Reverse(out) // newest appended last; equal times keep that order
	slices.SortStableFunc(out, func(a, b Change) int { return b.At.Compare(a.At) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// StartRun implements [Store].
func (m *Memory) StartRun(ctx context.Context, r Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := prepareRun(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.runs[r.ID]; ok {
		return runExists(r.ID)
	}
	m.runs[r.ID] = r
	m.order = append(m.order, r.ID)
	return nil
}

// UpdateRun implements [Store]. fn is called once, under the store's lock, so
// it must not call the store.
func (m *Memory) UpdateRun(ctx context.Context, id string, fn func(*Run)) (*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return nil, runNotFound(id)
	}
	n := applyRun(r, fn)
	if err := checkRun(n); err != nil {
		return nil, err
	}
	m.runs[id] = n
	n = normRun(n) // a copy of the summary for the caller
	return &n, nil
}

// LastRun implements [Store]: the run with the latest StartedAt, the later
// started of equal ones.
func (m *Memory) LastRun(ctx context.Context) (*Run, error) {
	runs, err := m.Runs(ctx, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// Runs implements [Store].
func (m *Memory) Runs(ctx context.Context, n int) ([]Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Run, 0, len(m.order))
	for _, id := range slices.Backward(m.order) {
		out = append(out, normRun(m.runs[id]))
	}
	m.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Run) int { return b.StartedAt.Compare(a.StartedAt) })
	return out[:min(len(out), runLimit(n))], nil
}

// Prune implements [Store].
func (m *Memory) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := 0
	// Oldest first: changes are appended in time order, nearly; sort a copy of the indexes.
	idx := make([]int, len(m.changes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return m.changes[a].At.Compare(m.changes[b].At) })
	drop := map[int]bool{}
	for _, i := range idx {
		if removed >= limit || !m.changes[i].At.Before(before) {
			break
		}
		drop[i] = true
		removed++
	}
	kept := m.changes[:0]
	for i, c := range m.changes {
		if !drop[i] {
			kept = append(kept, c)
		}
	}
	m.changes = kept
	order := slices.Clone(m.order)
	slices.SortStableFunc(order, func(a, b string) int { return m.runs[a].StartedAt.Compare(m.runs[b].StartedAt) })
	for _, id := range order {
		if removed >= limit || !m.runs[id].StartedAt.Before(before) {
			break
		}
		delete(m.runs, id)
		m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == id })
		removed++
	}
	return removed, nil
}
