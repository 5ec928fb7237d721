package pal

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestConfirmGone: a subscription no longer listed is read once; still
// unreachable, it is not-delegated and no longer visible; reachable again, it
// is judged as any other.
func TestConfirmGone(t *testing.T) {
	f := newFake()
	f.subs[subB1] = Subscription{ID: subB1, TenantID: custB, DisplayName: "back"}
	f.dels[subB1] = []Delegation{{ManagedByTenantID: home, Authorizations: []Authorization{{PrincipalID: oid, RoleDefinitionID: roleCont}}}}
	e := mustEngine(t, f, nil)
	log := zerolog.Nop()
	got := e.ConfirmGone(context.Background(), &log, LinkResult{Action: LinkNone, PartnerID: "1234567"},
		[]Subscription{{ID: subA1, TenantID: custA, DisplayName: "gone one"}, {ID: subB1, TenantID: custB}})
	if len(got) != 2 {
		t.Fatalf("got %d verdicts, want 2", len(got))
	}
	if got[0].Status != StatusNotDelegated || got[0].Detail != goneDetail || got[0].TenantID != custA || got[0].DisplayName != "gone one" {
		t.Errorf("gone: %+v, want not-delegated, %q", got[0], goneDetail)
	}
	if got[1].Status != StatusAttributed {
		t.Errorf("reachable again: %+v, want attributed", got[1])
	}
}

// TestDirectConfirmGone: consent withdrawn, or the role assignment removed,
// makes a subscription not-delegated and no longer visible; the consent URL
// stays in the detail.
func TestDirectConfirmGone(t *testing.T) {
	conn, a, b, _ := newDirectFixture()
	e, err := NewDirectEngine("1234567", conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.consent = false
	delete(b.subs, subB1)
	log := zerolog.Nop()
	got := e.ConfirmGone(context.Background(), &log, LinkResult{}, []Subscription{{ID: subA1, TenantID: custA}, {ID: subB1, TenantID: custB}})
	if len(got) != 2 {
		t.Fatalf("got %d verdicts, want 2: %+v", len(got), got)
	}
	for _, r := range got {
		if r.Status != StatusNotDelegated || !strings.HasPrefix(r.Detail, goneDirectDetail) {
			t.Errorf("%s: %s (%s), want not-delegated, no longer visible", r.SubscriptionID, r.Status, r.Detail)
		}
	}
	if !strings.Contains(got[0].Detail, "adminconsent") {
		t.Errorf("consent withdrawn: detail %q lacks the consent URL", got[0].Detail)
	}
	if len(a.writes)+len(b.writes) != 0 {
		t.Errorf("writes %v %v, want none: confirming never links", a.writes, b.writes)
	}
}
