package pal

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInferredRoles covers subscriptions whose delegation the identity may not
// read: the verdict comes from its effective permissions.
func TestInferredRoles(t *testing.T) {
	custom := PermissionSet{Actions: []string{"Microsoft.Support/*"}}
	throttled := &Error{Code: CodeTransient, Message: "throttled"}
	tests := []struct {
		name       string
		linked     bool
		sets       []PermissionSet
		errs       map[string]error // keyed like fakeAzure.errs, "%s" is the subscription
		rg         string
		wantStatus Status
		wantRoles  []string
		wantDetail []string
		wantCalls  []string // effective-permission calls, "%s" is the subscription
		transient  bool
	}{
		{name: "SRC only", linked: true, sets: []PermissionSet{setSRC},
			wantStatus: StatusAttributed, wantRoles: []string{"Support Request Contributor"}, wantDetail: []string{"inferred from effective permissions"}},
		{name: "SRC, case and order differ", linked: true,
			sets:       []PermissionSet{{Actions: []string{"microsoft.support/*", "MICROSOFT.AUTHORIZATION/*/READ", "Microsoft.Resources/subscriptions/resourceGroups/read"}, NotActions: []string{}}},
			wantStatus: StatusAttributed, wantRoles: []string{"Support Request Contributor"}},
		{name: "SRC, no link", sets: []PermissionSet{setSRC},
			wantStatus: StatusUnlinked, wantRoles: []string{"Support Request Contributor"}, wantDetail: []string{"inferred"}},
		{name: "Reader inferred", linked: true, sets: []PermissionSet{setReader},
			wantStatus: StatusIneligibleRole, wantRoles: []string{"Reader"}, wantDetail: []string{"Reader", "inferred"}},
		{name: "no permanent role", linked: true, sets: []PermissionSet{},
			wantStatus: StatusIneligibleRole, wantRoles: []string{}, wantDetail: []string{"no permanent role", "just-in-time"}},
		{name: "custom set only", linked: true, sets: []PermissionSet{custom},
			wantStatus: StatusUnverifiable, wantRoles: []string{}, wantDetail: []string{"1 of the identity's 1 permission sets", "Support Request Contributor"}},
		{name: "custom set beside Reader", linked: true, sets: []PermissionSet{setReader, custom},
			wantStatus: StatusUnverifiable, wantRoles: []string{"Reader"}, wantDetail: []string{"match no built-in role"}},
		{name: "custom set beside SRC", linked: true, sets: []PermissionSet{custom, setSRC},
			wantStatus: StatusAttributed, wantRoles: []string{"Support Request Contributor"}},
		{name: "subscription scope refused, resource group answers", linked: true, sets: []PermissionSet{setSRC},
			errs: map[string]error{"perms:%s": forbidden}, rg: "rg-web",
			wantStatus: StatusAttributed, wantRoles: []string{"Support Request Contributor"}, wantDetail: []string{"resource group rg-web"},
			wantCalls: []string{"%s", "%s/rg-web"}},
		{name: "subscription scope refused, no resource group", linked: true, sets: []PermissionSet{setSRC},
			errs:       map[string]error{"perms:%s": forbidden},
			wantStatus: StatusUnverifiable, wantRoles: []string{}, wantDetail: []string{"neither", "Support Request Contributor"}, wantCalls: []string{"%s"}},
		{name: "subscription scope refused, resource groups refused", linked: true, sets: []PermissionSet{setSRC},
			errs: map[string]error{"perms:%s": forbidden, "rgs:%s": forbidden}, rg: "rg-web",
			wantStatus: StatusUnverifiable, wantRoles: []string{}, wantCalls: []string{"%s"}},
		{name: "both scopes refused", linked: true, sets: []PermissionSet{setSRC},
			errs: map[string]error{"perms:%s": forbidden, "perms:%s/rg-web": forbidden}, rg: "rg-web",
			wantStatus: StatusUnverifiable, wantRoles: []string{}, wantCalls: []string{"%s", "%s/rg-web"}},
		{name: "permissions throttled", linked: true, sets: []PermissionSet{setSRC},
			errs:       map[string]error{"perms:%s": throttled},
			wantStatus: StatusError, wantRoles: []string{}, wantDetail: []string{"effective permissions"}, transient: true},
		{name: "built-in roles refused at the subscription, read at the tenant", linked: true, sets: []PermissionSet{setSRC},
			errs:       map[string]error{"builtins:%s": forbidden},
			wantStatus: StatusAttributed, wantRoles: []string{"Support Request Contributor"}},
		{name: "built-in roles throttled", linked: true, sets: []PermissionSet{setSRC},
			errs:       map[string]error{"builtins:%s": throttled},
			wantStatus: StatusError, wantRoles: []string{}, wantDetail: []string{"built-in role definitions"}, transient: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := fmt.Sprintf("61111111-0000-0000-0000-%012d", i)
			f := newFake()
			if tt.linked {
				f.link = &Link{PartnerID: "1234567", State: "Active"}
			}
			f.addSub(sub, custA, []string{roleSRC}, nil)
			f.errs["dels:"+sub] = forbidden
			f.perms[sub] = tt.sets
			f.rgs[sub] = tt.rg
			for k, err := range tt.errs {
				f.errs[strings.ReplaceAll(k, "%s", sub)] = err
			}
			e := mustEngine(t, f, nil)
			res, err := e.Status(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: []string{sub}})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Results[0]
			if r.Status != tt.wantStatus || !reflect.DeepEqual(r.Roles, tt.wantRoles) {
				t.Errorf("got %s %v, want %s %v (detail %q)", r.Status, r.Roles, tt.wantStatus, tt.wantRoles, r.Detail)
			}
			for _, w := range tt.wantDetail {
				if !strings.Contains(r.Detail, w) {
					t.Errorf("detail %q does not mention %q", r.Detail, w)
				}
			}
			if got, _ := res.Transient(); got != tt.transient {
				t.Errorf("transient = %v, want %v", got, tt.transient)
			}
			if len(res.Unreachable()) != 0 {
				t.Errorf("unreachable = %v, want none: the subscription was reached", res.Unreachable())
			}
			if res.Summary[tt.wantStatus] != 1 {
				t.Errorf("summary = %v, want one %s", res.Summary, tt.wantStatus)
			}
			if tt.wantCalls != nil {
				var want []string
				for _, c := range tt.wantCalls {
					want = append(want, strings.ReplaceAll(c, "%s", sub))
				}
				if !slices.Equal(f.permCalls, want) {
					t.Errorf("permission calls = %v, want %v", f.permCalls, want)
				}
			}
		})
	}
}

// TestBuiltinRolesListedOnce proves the built-in roles are listed once per
// process however many subscriptions need them at once, and again after a failure.
func TestBuiltinRolesListedOnce(t *testing.T) {
	f := newFake()
	f.link = &Link{PartnerID: "1234567", State: "Active"}
	f.delay = 20 * time.Millisecond
	var subs []string
	for i := range 20 {
		sub := fmt.Sprintf("71111111-0000-0000-0000-%012d", i)
		subs = append(subs, sub)
		f.addSub(sub, custA, []string{roleSRC}, nil)
		f.errs["dels:"+sub] = forbidden
		f.perms[sub] = []PermissionSet{setSRC}
	}
	f.errs["builtins:"+subs[0]] = &Error{Code: CodeTransient, Message: "throttled"}
	e := mustEngine(t, f, &EngineOptions{Concurrency: 20})
	// The first request's listing fails; the second request lists again, once
	// for its 19 subscriptions judged at once.
	res, err := e.Status(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: subs[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if res.Results[0].Status != StatusError {
		t.Fatalf("first listing throttled: status %s, want error", res.Results[0].Status)
	}
	res, err = e.Status(context.Background(), nop(), Request{TenantID: custA, SubscriptionIDs: subs[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary[StatusAttributed] != len(subs)-1 {
		t.Errorf("summary = %v, want %d attributed", res.Summary, len(subs)-1)
	}
	if n := f.builtinCalls.Load(); n != 2 {
		t.Errorf("built-in role listings = %d, want 2 (one failed, one for 19 subscriptions at once)", n)
	}
}

func TestPermissionKey(t *testing.T) {
	a := PermissionSet{Actions: []string{"B", "a", "a"}, NotActions: nil}
	b := PermissionSet{Actions: []string{"A", "b"}, NotActions: []string{}}
	c := PermissionSet{Actions: []string{"a"}, NotActions: []string{"b"}}
	if permissionKey(a) != permissionKey(b) {
		t.Errorf("equal sets (case, order, duplicates) got different keys")
	}
	if permissionKey(a) == permissionKey(c) {
		t.Errorf("an action moved to notActions kept the key")
	}
}
