package pal

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestVerdict: the one verdict rule, from evidence and link to status and
// detail, for each way of judging.
func TestVerdict(t *testing.T) {
	p := Principal{TenantID: "home", ObjectID: "oid"}
	good := linkState{ok: true}
	none := linkState{problem: noLinkProblem}
	eligible := roleVerdict{Name: "Contributor", Eligible: true, Reason: "documented PEC-eligible role"}
	reader := roleVerdict{Name: "Reader", Reason: "documented as not PEC-eligible"}
	tests := []struct {
		name       string
		ev         evidence
		link       linkState
		wantStatus Status
		wantRoles  []string
		wantDetail string // a part of the detail; "" means none at all
	}{
		{"delegation_attributed", evidence{source: fromDelegation, principal: p, permanent: []roleVerdict{eligible, reader}}, good, StatusAttributed, []string{"Contributor", "Reader"}, ""},
		{"delegation_unlinked", evidence{source: fromDelegation, principal: p, permanent: []roleVerdict{eligible}}, none, StatusUnlinked, []string{"Contributor"}, noLinkProblem},
		{"delegation_none_names_it", evidence{source: fromDelegation, principal: p}, good, StatusNotDelegated, []string{}, "no Lighthouse delegation to tenant home"},
		{"delegation_jit_only", evidence{source: fromDelegation, principal: p, jit: []roleVerdict{eligible}}, good, StatusIneligibleRole, []string{}, "Contributor is granted only just-in-time"},
		{"delegation_reader", evidence{source: fromDelegation, principal: p, permanent: []roleVerdict{reader}}, good, StatusIneligibleRole, []string{"Reader"}, "no permanent role is PEC-eligible: Reader (documented as not PEC-eligible)"},
		{"inferred_attributed", evidence{source: fromPermissions, principal: p, permanent: []roleVerdict{eligible, eligible}, sets: 2, basis: inferredBasis}, good, StatusAttributed, []string{"Contributor"}, inferredBasis},
		{"inferred_unlinked", evidence{source: fromPermissions, principal: p, permanent: []roleVerdict{eligible}, sets: 1, basis: inferredBasis}, none, StatusUnlinked, []string{"Contributor"}, noLinkProblem + "; " + inferredBasis},
		{"inferred_unmatched", evidence{source: fromPermissions, principal: p, permanent: []roleVerdict{reader}, unmatched: 1, sets: 2, basis: inferredBasis}, good, StatusUnverifiable, []string{"Reader"}, "1 of the identity's 2 permission sets"},
		{"inferred_nothing", evidence{source: fromPermissions, principal: p, basis: inferredBasis}, good, StatusIneligibleRole, []string{}, "no permanent role grants the identity anything here"},
		{"inferred_unknown", evidence{source: fromPermissions, principal: p, unknown: "cannot read"}, good, StatusUnverifiable, []string{}, "cannot read; " + unverifiableFix},
		{"direct_inherited", evidence{source: fromAssignments, principal: p, permanent: []roleVerdict{eligible}, inheritedFrom: []string{mgRoot}}, good, StatusAttributed, []string{"Contributor"}, "Contributor inherited from " + mgRoot},
		{"direct_at_subscription", evidence{source: fromAssignments, principal: p, permanent: []roleVerdict{eligible}, inheritedFrom: []string{""}}, good, StatusAttributed, []string{"Contributor"}, ""},
		{"direct_none", evidence{source: fromAssignments, principal: p}, good, StatusNotDelegated, []string{}, "no role assignment of the app's service principal oid"},
		{"direct_reader", evidence{source: fromAssignments, principal: p, permanent: []roleVerdict{reader}, inheritedFrom: []string{""}}, good, StatusIneligibleRole, []string{"Reader"}, "no role assignment is PEC-eligible: Reader"},
		{"graph_through_group", evidence{source: fromGroups, principal: p, permanent: []roleVerdict{eligible}, through: []string{"Ops (g1)"}, basis: graphBasis}, good, StatusAttributed, []string{"Contributor"}, "through group Ops (g1) (" + graphBasis + ")"},
		{"graph_group_jit", evidence{source: fromGroups, principal: p, permanent: []roleVerdict{reader}, jit: []roleVerdict{eligible}, basis: graphBasis}, good, StatusIneligibleRole, []string{"Reader"}, "Contributor is granted only just-in-time"},
		{"arm_group_attributed", evidence{source: fromGroupPermissions, principal: p, permanent: []roleVerdict{eligible}, through: []string{"Ops (g1)"}, sets: 1, basis: groupARMBasis}, good, StatusAttributed, []string{"Contributor"}, "through group Ops (g1)"},
		{"arm_group_ambiguous", evidence{source: fromGroupPermissions, principal: p, permanent: []roleVerdict{reader}, ambiguous: []string{"Contributor"}, sets: 2, basis: groupARMBasis}, good, StatusUnverifiable, []string{"Reader"}, "Contributor is in force here and the delegation grants it both permanently to a group and just-in-time"},
		{"arm_group_eligible_beats_ambiguous", evidence{source: fromGroupPermissions, principal: p, permanent: []roleVerdict{eligible}, ambiguous: []string{"Owner"}, sets: 2, basis: groupARMBasis}, good, StatusAttributed, []string{"Contributor"}, groupARMBasis},
		{"arm_group_activation", evidence{source: fromGroupPermissions, principal: p, permanent: []roleVerdict{reader}, activations: []string{"Contributor"}, sets: 2, basis: groupARMBasis}, good, StatusIneligibleRole, []string{"Reader"}, "Contributor is in force only through a just-in-time activation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdict(SubscriptionResult{SubscriptionID: "s", Roles: []string{}}, tt.link, tt.ev)
			if got.Status != tt.wantStatus || !reflect.DeepEqual(got.Roles, tt.wantRoles) {
				t.Errorf("got %s %v, want %s %v (detail %q)", got.Status, got.Roles, tt.wantStatus, tt.wantRoles, got.Detail)
			}
			if tt.wantDetail == "" && got.Detail != "" || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("detail %q, want %q", got.Detail, tt.wantDetail)
			}
		})
	}
}

// TestBothEnginesRefuseAPartnerAlike: a partner ID outside the allowed set is
// refused by either engine with pal.PartnerNotAllowed, before any Azure call.
func TestBothEnginesRefuseAPartnerAlike(t *testing.T) {
	f := newFake()
	e := mustEngine(t, f, nil)
	conn, _, _, _ := newDirectFixture()
	d, err := NewDirectEngine("1234567", conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := PartnerNotAllowed("42")
	for name, onboard := range map[string]func(context.Context, Request) (*Result, error){
		"lighthouse": func(ctx context.Context, r Request) (*Result, error) { return e.Onboard(ctx, nop(), r) },
		"direct":     func(ctx context.Context, r Request) (*Result, error) { return d.Onboard(ctx, nop(), r) },
	} {
		_, err := onboard(context.Background(), Request{TenantID: custA, PartnerID: "42"})
		if !reflect.DeepEqual(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	if len(f.writes) != 0 {
		t.Errorf("writes = %v, want none", f.writes)
	}
}
