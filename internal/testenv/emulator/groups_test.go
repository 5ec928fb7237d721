package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// groupWorld: "me" is a member of group outer through group inner; group
// authorizations grant Contributor on one subscription, Reader on another,
// and Contributor only just-in-time on a third.
type groupWorld struct {
	world
	inner, outer, stranger       string // groups
	viaGroup, readerGroup, jitGr string // subscriptions
}

func newGroupWorld() (groupWorld, Estate) {
	g := groupWorld{world: newWorld(), inner: newGUID(), outer: newGUID(), stranger: newGUID(),
		viaGroup: newGUID(), readerGroup: newGUID(), jitGr: newGUID()}
	est := g.estate()
	est.Groups = []Group{
		{ID: g.inner, TenantID: g.managing, DisplayName: "Inner", Members: []string{g.me.ObjectID}},
		{ID: g.outer, TenantID: g.managing, DisplayName: "Contoso PAL admins", Members: []string{g.inner}},
		{ID: g.stranger, TenantID: g.managing, DisplayName: "Others", Members: []string{g.other.ObjectID}},
	}
	del := func(permanent, jit []Authorization) []Delegation {
		return []Delegation{{DefinitionName: "groups", ManagedByTenantID: g.managing, Authorizations: permanent, EligibleAuthorizations: jit}}
	}
	est.Subscriptions = append(est.Subscriptions,
		Subscription{ID: g.viaGroup, TenantID: g.customer, ResourceGroups: []string{"rg"},
			Delegations: del([]Authorization{{PrincipalID: g.outer, RoleDefinitionID: RoleContributor}}, nil)},
		Subscription{ID: g.readerGroup, TenantID: g.customer,
			Delegations: del([]Authorization{{PrincipalID: g.outer, RoleDefinitionID: RoleReader}}, nil)},
		Subscription{ID: g.jitGr, TenantID: g.customer,
			Delegations: del([]Authorization{{PrincipalID: g.stranger, RoleDefinitionID: RoleReader}},
				[]Authorization{{PrincipalID: g.outer, RoleDefinitionID: RoleContributor}})},
	)
	return g, est
}

func permissionSets(t *testing.T, e *Emulator, sub, tok string) []string {
	t.Helper()
	a := call(t, e, "GET", "/subscriptions/"+sub+"/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", tok)
	if a.status != http.StatusOK {
		t.Fatalf("permissions of %s = %d %s", sub, a.status, a.body)
	}
	var body struct {
		Value []struct {
			Actions []string `json:"actions"`
		} `json:"value"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range body.Value {
		out = append(out, strings.Join(v.Actions, ","))
	}
	return out
}

func TestGroupAuthorizations(t *testing.T) {
	g, est := newGroupWorld()
	e := start(t, est, nil)
	tok := armToken(t, e, g.me.ClientID)

	// Reachability through (nested) group membership, JIT included.
	for _, sub := range []string{g.viaGroup, g.readerGroup, g.jitGr} {
		if a := call(t, e, "GET", "/subscriptions/"+sub+"?api-version=2022-12-01", tok); a.status != http.StatusOK {
			t.Errorf("GET subscription %s = %d, want 200 through the group", sub, a.status)
		}
	}
	// Roles through the group: Contributor may read the delegation, and the
	// effective permissions show Contributor's set.
	if a := call(t, e, "GET", "/subscriptions/"+g.viaGroup+"/providers/Microsoft.ManagedServices/registrationAssignments?api-version=2022-10-01", tok); a.status != http.StatusOK {
		t.Errorf("delegation read through the group's Contributor = %d, want 200", a.status)
	}
	if got := permissionSets(t, e, g.viaGroup, tok); len(got) != 1 || got[0] != "*" {
		t.Errorf("effective permissions through the group = %v, want Contributor's [*]", got)
	}
	// JIT through a group grants nothing until activated.
	if got := permissionSets(t, e, g.jitGr, tok); len(got) != 0 {
		t.Errorf("effective permissions with JIT only = %v, want none", got)
	}
	if a := call(t, e, "GET", "/subscriptions/"+g.jitGr+"/providers/Microsoft.ManagedServices/registrationAssignments?api-version=2022-10-01", tok); a.status != http.StatusForbidden {
		t.Errorf("delegation read with JIT only = %d, want 403", a.status)
	}
	if err := e.ActivateEligible(g.jitGr, g.outer, RoleContributor, true); err != nil {
		t.Fatal(err)
	}
	if got := permissionSets(t, e, g.jitGr, tok); len(got) != 1 || got[0] != "*" {
		t.Errorf("effective permissions with the JIT activated = %v, want Contributor's", got)
	}
	if err := e.ActivateEligible(g.jitGr, g.me.ObjectID, RoleContributor, true); err == nil {
		t.Error("activating an authorization that does not exist succeeded")
	}

	// Leaving the group: the subscriptions disappear from the listing.
	if err := e.SetGroupMembers(g.inner); err != nil {
		t.Fatal(err)
	}
	a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok)
	for _, sub := range []string{g.viaGroup, g.readerGroup, g.jitGr} {
		if strings.Contains(string(a.body), sub) {
			t.Errorf("subscription %s still listed after leaving the group", sub)
		}
	}
	if a := call(t, e, "GET", "/subscriptions/"+g.viaGroup+"?api-version=2022-12-01", tok); a.status != http.StatusUnauthorized {
		t.Errorf("GET subscription after leaving the group = %d, want 401 (another tenant's)", a.status)
	}
}

func graphCall(t *testing.T, e *Emulator, path, token string) answer {
	t.Helper()
	return call(t, e, "GET", e.GraphURL()+path, token)
}

func graphCode(t *testing.T, a answer) string {
	t.Helper()
	var b graphErrorJSON
	if err := json.Unmarshal(a.body, &b); err != nil {
		t.Fatalf("Graph error body %q: %v", a.body, err)
	}
	if b.Error.Message == "" || b.Error.InnerError.RequestID == "" {
		t.Errorf("Graph error %s lacks a message or innerError.request-id: %s", b.Error.Code, a.body)
	}
	return b.Error.Code
}

func TestGraphTransitiveMemberOf(t *testing.T) {
	g, est := newGroupWorld()
	e := start(t, est, nil)
	path := "/v1.0/servicePrincipals/" + g.me.ObjectID + "/transitiveMemberOf"
	graphTok := func() string {
		tok, _, err := e.Token(g.me.ClientID, GraphResource)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// No permission: 403 Authorization_RequestDenied.
	a := graphCall(t, e, path, graphTok())
	if a.status != http.StatusForbidden || graphCode(t, a) != "Authorization_RequestDenied" {
		t.Fatalf("without a permission: %d %s, want 403 Authorization_RequestDenied", a.status, a.body)
	}
	// An ARM token: 401.
	if a := graphCall(t, e, path, armToken(t, e, g.me.ClientID)); a.status != http.StatusUnauthorized || graphCode(t, a) != "InvalidAuthenticationToken" {
		t.Errorf("ARM token on Graph: %d %s, want 401 InvalidAuthenticationToken", a.status, a.body)
	}

	// Application.Read.All: the groups, nested included, with id and type only;
	// a token obtained before the grant still lacks it.
	old := graphTok()
	e.GrantGraphAppRole(g.managing, g.me.ObjectID, "Application.Read.All")
	if a := graphCall(t, e, path, old); a.status != http.StatusForbidden {
		t.Errorf("token from before the grant: %d, want 403", a.status)
	}
	tok := graphTok()
	a = graphCall(t, e, path+"?$select=id&$top=1", tok)
	if a.status != http.StatusOK {
		t.Fatalf("transitiveMemberOf = %d %s", a.status, a.body)
	}
	var page directoryObjectsJSON
	var ids []string
	for {
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Value {
			if o.ODataType != "#microsoft.graph.group" || o.DisplayName != nil {
				t.Errorf("object %+v: want a group with limited information", o)
			}
			ids = append(ids, o.ID)
		}
		if page.NextLink == "" {
			break
		}
		a = call(t, e, "GET", page.NextLink, tok)
		page = directoryObjectsJSON{}
	}
	want := []string{g.inner, g.outer}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("groups = %v, want %v", ids, want)
	}

	// Another tenant's object: 404; a bad $top: 400.
	if a := graphCall(t, e, "/v1.0/servicePrincipals/"+newGUID()+"/transitiveMemberOf", tok); a.status != http.StatusNotFound || graphCode(t, a) != "Request_ResourceNotFound" {
		t.Errorf("unknown object: %d %s, want 404 Request_ResourceNotFound", a.status, a.body)
	}
	if a := graphCall(t, e, path+"?$top=1000", tok); a.status != http.StatusBadRequest {
		t.Errorf("$top=1000: %d, want 400", a.status)
	}
}
