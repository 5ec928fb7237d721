package pal

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
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

// TestGroupAuthorizations judges delegations naming groups through the
// engine: from effective permissions alone, and with Graph memberships.
func TestGroupAuthorizations(t *testing.T) {
	const (
		ops    = "0f000000-0000-4000-8000-000000000001" // the identity's group
		others = "0f000000-0000-4000-8000-000000000002" // not its group
		sub    = "5b000000-0000-4000-8000-000000000001"
	)
	auth := func(p, role string) Authorization {
		return Authorization{PrincipalID: p, PrincipalDisplayName: "G" + p[len(p)-1:], RoleDefinitionID: role}
	}
	tests := []struct {
		name                string
		permanent, eligible []Authorization
		sets                []PermissionSet // in force (ARM alone)
		graph               bool
		graphErr            error
		want                Status
		wantDetail          string
		wantPermCalls       int
	}{
		{name: "arm: Contributor through a group", permanent: []Authorization{auth(ops, roleCont)}, sets: []PermissionSet{setCont},
			want: StatusAttributed, wantDetail: "through group G1 (" + ops + ")", wantPermCalls: 1},
		{name: "arm: Reader through a group", permanent: []Authorization{auth(ops, roleRead)}, sets: []PermissionSet{setReader},
			want: StatusIneligibleRole, wantDetail: "Reader", wantPermCalls: 1},
		{name: "arm: nothing in force", permanent: []Authorization{auth(others, roleCont)},
			want: StatusNotDelegated, wantDetail: "or a group it is a member of", wantPermCalls: 1},
		{name: "arm: Contributor permanent to a group and just-in-time", permanent: []Authorization{auth(others, roleCont), auth(ops, roleRead)},
			eligible: []Authorization{auth(ops, roleCont)}, sets: []PermissionSet{setReader, setCont},
			want: StatusUnverifiable, wantDetail: "PAL_GRAPH_MEMBERSHIP", wantPermCalls: 1},
		{name: "arm: Contributor only just-in-time, activated", permanent: []Authorization{auth(ops, roleRead)},
			eligible: []Authorization{auth(ops, roleCont)}, sets: []PermissionSet{setReader, setCont},
			want: StatusIneligibleRole, wantDetail: "in force only through a just-in-time activation", wantPermCalls: 1},
		{name: "graph: Contributor through a group", permanent: []Authorization{auth(ops, roleCont)}, graph: true,
			want: StatusAttributed, wantDetail: "group memberships read from Microsoft Graph"},
		{name: "graph: someone else's group", permanent: []Authorization{auth(others, roleCont)}, graph: true,
			want: StatusNotDelegated},
		{name: "graph: Contributor just-in-time, activated", permanent: []Authorization{auth(others, roleCont), auth(ops, roleRead)},
			eligible: []Authorization{auth(ops, roleCont)}, sets: []PermissionSet{setReader, setCont}, graph: true,
			want: StatusIneligibleRole, wantDetail: "Contributor is granted only just-in-time"},
		{name: "graph refused: ARM alone", permanent: []Authorization{auth(ops, roleCont)}, sets: []PermissionSet{setCont}, graph: true,
			graphErr: &Error{Code: CodeForbidden, Message: "Authorization_RequestDenied"},
			want:     StatusAttributed, wantDetail: "group memberships not read", wantPermCalls: 1},
		{name: "graph throttled: error", permanent: []Authorization{auth(ops, roleCont)}, graph: true,
			graphErr: &Error{Code: CodeTransient, Message: "throttled"}, want: StatusError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.link = &Link{PartnerID: "1234567", State: "Active"}
			f.subs[sub] = Subscription{ID: sub, TenantID: custA, DisplayName: "s"}
			f.dels[sub] = []Delegation{{ManagedByTenantID: home, Authorizations: tt.permanent, EligibleAuthorizations: tt.eligible}}
			f.perms[sub] = tt.sets
			az := f.azure()
			if tt.graph {
				az.Groups = &fakeGroups{groups: map[string][]string{oid: {ops}}, err: tt.graphErr}
			}
			e, err := NewEngine("1234567", az, nil)
			if err != nil {
				t.Fatal(err)
			}
			log := zerolog.Nop()
			res, err := e.Status(context.Background(), &log, Request{TenantID: custA, SubscriptionIDs: []string{sub}})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Results[0]
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.wantDetail) {
				t.Errorf("got %s (%s), want %s with %q", r.Status, r.Detail, tt.want, tt.wantDetail)
			}
			if n := len(f.permCalls); n != tt.wantPermCalls {
				t.Errorf("%d effective-permission reads, want %d", n, tt.wantPermCalls)
			}
		})
	}
}
