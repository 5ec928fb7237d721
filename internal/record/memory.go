package record

import (
	"context"
	"slices"
	"sync"
)

// Memory is a [Store] that lives in memory for the life of the process
// (workstation, sandbox). It is safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	verdicts map[subKey]Verdict
	changes  []Change // oldest first
	runs     map[string]Run
	order    []string // run IDs in the order they were started
}

type subKey struct{ tenant, sub string }

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory record.
func NewMemory() *Memory {
	return &Memory{verdicts: map[subKey]Verdict{}, runs: map[string]Run{}}
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

// save applies the prepared verdict v; m.mu is held.
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
	if ch != nil {
		m.changes = append(m.changes, *ch)
		c := *ch
		return &c
	}
	return nil
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

// Changes implements [Store].
func (m *Memory) Changes(ctx context.Context, limit int) ([]Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := slices.Clone(m.changes)
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
	m.runs[id] = n
	n = normRun(n) // a copy of the summary for the caller
	return &n, nil
}

// LastRun implements [Store]: the run with the latest StartedAt, the later
// started of equal ones.
func (m *Memory) LastRun(ctx context.Context) (*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var last *Run
	for _, id := range m.order {
		r := m.runs[id]
		if last == nil || !r.StartedAt.Before(last.StartedAt) {
			r = normRun(r)
			last = &r
		}
	}
	return last, nil
}
