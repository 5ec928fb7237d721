package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestDemoEstate checks the demo from the function identity's point of view: what
// it reaches, and which permanent and just-in-time roles its delegations give it.
func TestDemoEstate(t *testing.T) {
	est := DemoEstate()
	if _, err := json.MarshalIndent(est, "", "  "); err != nil {
		t.Fatalf("demo estate does not print: %v", err)
	}
	e := start(t, est, nil)
	if est.Identities[0].ClientID != DemoClientID {
		t.Fatal("the function's identity is not the first identity")
	}
	tok := armToken(t, e, "")

	tests := []struct {
		sub       string
		name      string
		reachable bool
		permanent []string // role names for the function's identity, from the managing tenant's delegations
		eligible  []string
		// readsDelegation: the identity's roles let it read the delegation.
		readsDelegation bool
	}{
		{"fab00001-0000-4000-8000-000000000001", "Fabrikam Production", true, []string{"Contributor"}, nil, true},
		{"fab00002-0000-4000-8000-000000000001", "Fabrikam Development", true, []string{"Support Request Contributor"}, nil, false},
		{"fab00003-0000-4000-8000-000000000001", "Fabrikam Analytics", true, []string{"Reader"}, nil, true},
		{"0a700001-0000-4000-8000-000000000001", "Northwind Core", true, []string{"Contributor"}, nil, true},
		{"0a700002-0000-4000-8000-000000000001", "Northwind Sandbox", true, []string{"Reader"}, []string{"Contributor"}, true},
		{"0a700003-0000-4000-8000-000000000001", "Northwind Legacy", false, nil, nil, false},
		{"7a100001-0000-4000-8000-000000000001", "Tailspin Web", true, []string{"Contributor", "Managed Services Registration assignment Delete Role"}, nil, true},
		{"7a100002-0000-4000-8000-000000000001", "Tailspin Data", true, []string{"Monitoring Reader", "Support Request Contributor"}, nil, true},
		{"3d000001-0000-4000-8000-000000000001", "Woodgrove Payments", true, nil, nil, true}, // Contributor through DemoPALGroupID
		{"c0500001-0000-4000-8000-000000000001", "Contoso Shared Services", true, nil, nil, true},
	}
	if len(tests) != len(est.Subscriptions) {
		t.Fatalf("demo has %d subscriptions, table %d", len(est.Subscriptions), len(tests))
	}

	// Listing takes three pages of four.
	var listed []string
	pages := 0
	for next := "/subscriptions?api-version=2022-12-01"; next != ""; pages++ {
		m := call(t, e, http.MethodGet, next, tok).json(t)
		for _, v := range m["value"].([]any) {
			listed = append(listed, v.(map[string]any)["displayName"].(string))
		}
		next, _ = m["nextLink"].(string)
	}
	var wantListed []string
	for _, tt := range tests {
		if tt.reachable {
			wantListed = append(wantListed, tt.name)
		}
	}
	slices.Sort(listed)
	slices.Sort(wantListed)
	if pages != 3 || !slices.Equal(listed, wantListed) {
		t.Errorf("listed %v in %d pages, want %v in 3", listed, pages, wantListed)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, e, http.MethodGet, "/subscriptions/"+tt.sub+"/providers/Microsoft.ManagedServices/registrationAssignments?$expandRegistrationDefinition=true&api-version=2022-01-01-preview", tok)
			if !tt.reachable {
				if a.status != http.StatusUnauthorized {
					t.Errorf("status = %d, want 401", a.status)
				}
				return
			}
			// One effective-permission entry per permanent role, readable with any access.
			pa := call(t, e, http.MethodGet, "/subscriptions/"+tt.sub+"/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", tok)
			if pa.status != http.StatusOK {
				t.Fatalf("permissions: status = %d %s", pa.status, pa.body)
			}
			if n := len(pa.json(t)["value"].([]any)); tt.permanent != nil && n != len(tt.permanent) {
				t.Errorf("permissions: %d entries, want %d (one per permanent role)", n, len(tt.permanent))
			}
			if !tt.readsDelegation {
				// Support Request Contributor alone may not read the delegation, as in ARM.
				if a.status != http.StatusForbidden || a.code(t) != "AuthorizationFailed" {
					t.Errorf("status = %d %s, want 403 AuthorizationFailed", a.status, a.body)
				}
				return
			}
			if a.status != http.StatusOK {
				t.Fatalf("status = %d %s", a.status, a.body)
			}
			var permanent, eligible []string
			for _, v := range a.json(t)["value"].([]any) {
				def := v.(map[string]any)["properties"].(map[string]any)["registrationDefinition"].(map[string]any)["properties"].(map[string]any)
				if def["managedByTenantId"] != DemoManagingTenantID {
					continue
				}
				collect := func(key string, into *[]string) {
					list, _ := def[key].([]any)
					for _, x := range list {
						au := x.(map[string]any)
						if au["principalId"] != DemoObjectID {
							continue
						}
						r := call(t, e, http.MethodGet, "/providers/Microsoft.Authorization/roleDefinitions/"+au["roleDefinitionId"].(string)+"?api-version=2022-04-01", tok)
						*into = append(*into, r.json(t)["properties"].(map[string]any)["roleName"].(string))
					}
				}
				collect("authorizations", &permanent)
				collect("eligibleAuthorizations", &eligible)
			}
			slices.Sort(permanent)
			if !slices.Equal(permanent, tt.permanent) || !slices.Equal(eligible, tt.eligible) {
				t.Errorf("roles = %v / JIT %v, want %v / JIT %v", permanent, eligible, tt.permanent, tt.eligible)
			}
		})
	}

	// No link at start; the demo partner ID links, an unknown one does not.
	if a := call(t, e, http.MethodGet, partnersPath+"?api-version=2018-02-01", tok); a.status != http.StatusNotFound {
		t.Errorf("GET link at start = %d", a.status)
	}
	if a := call(t, e, http.MethodPut, partnersPath+"/1111111?api-version=2018-02-01", tok); a.status != http.StatusBadRequest {
		t.Errorf("PUT unknown partner = %d", a.status)
	}
	a := call(t, e, http.MethodPut, partnersPath+"/"+DemoPartnerID+"?api-version=2018-02-01", tok)
	if a.status != http.StatusOK || !strings.Contains(string(a.body), "Contoso MSP (Seattle)") {
		t.Errorf("PUT demo partner = %d %s", a.status, a.body)
	}
}

func TestNewRejectsBadEstates(t *testing.T) {
	good := func() Estate { return newWorld().estate() }
	tests := []struct {
		name   string
		modify func(*Estate)
	}{
		{"negative page size", func(e *Estate) { e.PageSize = -1 }},
		{"identity without object ID", func(e *Estate) { e.Identities[0].ObjectID = "" }},
		{"repeated subscription", func(e *Estate) { e.Subscriptions = append(e.Subscriptions, e.Subscriptions[0]) }},
		{"subscription without tenant", func(e *Estate) { e.Subscriptions[0].TenantID = "" }},
		{"delegation without managing tenant", func(e *Estate) { e.Subscriptions[1].Delegations[0].ManagedByTenantID = "" }},
		{"authorization without role", func(e *Estate) { e.Subscriptions[1].Delegations[0].Authorizations[0].RoleDefinitionID = "" }},
		{"bad link", func(e *Estate) { e.Links = []Link{{TenantID: "t", ObjectID: "o", PartnerID: "abc"}} }},
		{"bad known partner ID", func(e *Estate) { e.KnownPartnerIDs = []string{"12"} }},
		{"custom role reusing a built-in ID", func(e *Estate) { e.CustomRoles = []RoleDefinition{{ID: RoleOwner, Name: "x"}} }},
	}
	for _, tt := range tests {
		est := good()
		tt.modify(&est)
		if e, err := New(est, nil); err == nil {
			e.Close()
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
}

func TestMutators(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	get := func(id string) int {
		return call(t, e, http.MethodGet, "/subscriptions/"+id+"?api-version=2022-12-01", tok).status
	}
	fresh := newGUID()
	if err := e.AddSubscription(Subscription{ID: fresh, TenantID: w.customer}); err != nil {
		t.Fatal(err)
	}
	if got := get(fresh); got != 401 {
		t.Errorf("new undelegated subscription = %d, want 401", got)
	}
	if err := e.SetDelegations(fresh, Delegation{ManagedByTenantID: w.managing, Authorizations: []Authorization{{PrincipalID: w.me.ObjectID, RoleDefinitionID: RoleContributor}}}); err != nil {
		t.Fatal(err)
	}
	if got := get(fresh); got != 200 {
		t.Errorf("after SetDelegations = %d, want 200", got)
	}
	if err := e.SetDelegations(fresh); err != nil {
		t.Fatal(err)
	}
	if got := get(fresh); got != 401 {
		t.Errorf("after removing delegations = %d, want 401", got)
	}
	if err := e.SetDirectAccess(w.sameTenantNoAccess, w.me.ObjectID); err != nil {
		t.Fatal(err)
	}
	if got := get(w.sameTenantNoAccess); got != 200 {
		t.Errorf("after SetDirectAccess = %d, want 200", got)
	}
	if !e.RemoveSubscription(fresh) || e.RemoveSubscription(fresh) {
		t.Error("RemoveSubscription did not remove exactly once")
	}
	if got := get(fresh); got != 404 {
		t.Errorf("removed subscription = %d, want 404", got)
	}
	if err := e.SetDelegations(newGUID()); err == nil {
		t.Error("SetDelegations on an unknown subscription accepted")
	}
	// The estate snapshot is a copy.
	snap := e.Estate()
	snap.Subscriptions[0].DirectAccess[0] = "changed"
	if e.Estate().Subscriptions[0].DirectAccess[0] == "changed" {
		t.Error("Estate() shares memory with the emulator")
	}
}
