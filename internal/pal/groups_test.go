package pal

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

// fakeGroups answers TransitiveGroups from a map, or with err, counting calls.
type fakeGroups struct {
	mu     sync.Mutex
	groups map[string][]string
	err    error
	calls  int
}

func (f *fakeGroups) TransitiveGroups(_ context.Context, objectID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.groups[objectID], f.err
}

// TestMembershipCache: one read per principal per TTL, refusals cached as
// unknown, other errors not cached, at most membershipMaxEntries kept.
func TestMembershipCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	f := &fakeGroups{groups: map[string][]string{"a": {"G1", "g2"}}}
	c := newMembershipCache(f)
	c.now = func() time.Time { return now }

	m, err := c.get(ctx, "A")
	if err != nil || !m.known || !reflect.DeepEqual(m.groups, []string{"g1", "g2"}) {
		t.Fatalf("get = %+v, %v; want groups g1, g2", m, err)
	}
	if _, _ = c.get(ctx, "a"); f.calls != 1 {
		t.Errorf("%d reads, want 1 (cached)", f.calls)
	}
	now = now.Add(membershipTTL)
	if _, _ = c.get(ctx, "a"); f.calls != 2 {
		t.Errorf("%d reads after the TTL, want 2", f.calls)
	}

	f.err = &Error{Code: CodeForbidden, Message: "no Application.Read.All"}
	if m, err := c.get(ctx, "b"); err != nil || m.known {
		t.Errorf("refused: %+v, %v; want an unknown membership, no error", m, err)
	}
	if _, _ = c.get(ctx, "b"); f.calls != 3 {
		t.Errorf("%d reads, want the refusal cached", f.calls)
	}
	f.err = &Error{Code: CodeTransient, Message: "throttled"}
	if _, err := c.get(ctx, "c"); ErrorCodeOf(err) != CodeTransient {
		t.Errorf("transient: %v, want it returned", err)
	}
	if _, _ = c.get(ctx, "c"); f.calls != 5 {
		t.Errorf("%d reads, want the transient error not cached", f.calls)
	}

	f.err = nil
	for i := range membershipMaxEntries + 5 {
		now = now.Add(time.Second)
		if _, err := c.get(ctx, string(rune('d'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.entries); n != membershipMaxEntries {
		t.Errorf("%d entries, want the bound %d", n, membershipMaxEntries)
	}
}
