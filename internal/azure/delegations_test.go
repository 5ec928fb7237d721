package azure

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	contributor     = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	reader          = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	supportContrib  = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"
	delegatedSub    = "8d65815f-a5b6-402f-9298-045155da7d74"
	delegationsPath = "/subscriptions/" + delegatedSub + "/providers/Microsoft.ManagedServices/registrationAssignments"
)

// assignmentJSON is one registration assignment with its expanded definition.
func assignmentJSON(guid, state, defName, auths, eligible string) string {
	return fmt.Sprintf(`{"id":"/subscriptions/%[1]s/providers/Microsoft.ManagedServices/registrationAssignments/%[2]s","type":"Microsoft.ManagedServices/registrationAssignments","name":"%[2]s",
"properties":{"registrationDefinitionId":"/subscriptions/%[1]s/providers/Microsoft.ManagedServices/registrationDefinitions/0c0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b","provisioningState":"%[3]s",
"registrationDefinition":{"properties":{"description":"managed","registrationDefinitionName":"%[4]s","managedByTenantId":"%[5]s","managedByTenantName":"Partner",
"authorizations":[%[6]s],"eligibleAuthorizations":[%[7]s],"provisioningState":"Succeeded"},"id":"/subscriptions/%[1]s/providers/Microsoft.ManagedServices/registrationDefinitions/0c0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b","type":"Microsoft.ManagedServices/registrationDefinitions","name":"0c0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}}}`,
		delegatedSub, guid, state, defName, "72F988BF-86F1-41AF-91AB-2D7CD011DB47", auths, eligible)
}

func TestListDelegationsPages(t *testing.T) {
	const (
		a1 = "11111111-aaaa-4aaa-8aaa-111111111111"
		a2 = "22222222-aaaa-4aaa-8aaa-222222222222"
		a3 = "33333333-aaaa-4aaa-8aaa-333333333333"
		a4 = "44444444-aaaa-4aaa-8aaa-444444444444"
	)
	auth := func(oid, role, name string) string {
		return fmt.Sprintf(`{"principalId":"%s","roleDefinitionId":"%s","principalIdDisplayName":"%s"}`, oid, role, name)
	}
	jit := fmt.Sprintf(`{"principalId":"%s","roleDefinitionId":"%s","justInTimeAccessPolicy":{"multiFactorAuthProvider":"None","maximumActivationDuration":"PT8H"}}`,
		"AC9A0626-3FF0-46E2-9974-BBFBA246F6DC", contributor)
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != delegationsPath {
			armError(w, 404, "NotFound", "path "+r.URL.Path)
			return
		}
		next := func(tok string) string {
			return `"` + at.srv.URL + delegationsPath + `?$expandRegistrationDefinition=true&api-version=2022-10-01&$skiptoken=` + tok + `"`
		}
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, `{"value":[`+assignmentJSON(a1, "Succeeded", "Contoso managed", auth(testObject, contributor, "pal-keeper"), jit)+`],"nextLink":`+next("2")+`}`)
		case "2":
			writeJSON(w, 200, `{"value":[`+
				assignmentJSON(a2, "Succeeded", "Readers", auth(testObject, "/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7", "pal-keeper"), "")+`,`+
				assignmentJSON(a3, "Deleting", "Going away", auth(testObject, contributor, "pal-keeper"), "")+
				`],"nextLink":`+next("3")+`}`)
		case "3":
			writeJSON(w, 200, `{"value":[`+assignmentJSON(a4, "Succeeded", "Support", auth(testObject, supportContrib, "pal-keeper")+","+auth("5D1F7C8E-0B7A-4E55-9A42-6B1C2F9E0D11", reader, "Ops group"), "")+`],"nextLink":null}`)
		default:
			armError(w, 400, "BadSkipToken", "no")
		}
	}, nil)

	got, err := at.clients.Delegations.ListDelegations(context.Background(), delegatedSub)
	if err != nil {
		t.Fatalf("ListDelegations: %v", err)
	}
	want := []pal.Delegation{
		{
			AssignmentID: a1, DefinitionName: "Contoso managed", ManagedByTenantID: testTenant,
			Authorizations:         []pal.Authorization{{PrincipalID: testObject, PrincipalDisplayName: "pal-keeper", RoleDefinitionID: contributor}},
			EligibleAuthorizations: []pal.Authorization{{PrincipalID: testObject, RoleDefinitionID: contributor}},
		},
		{
			AssignmentID: a2, DefinitionName: "Readers", ManagedByTenantID: testTenant,
			Authorizations: []pal.Authorization{{PrincipalID: testObject, PrincipalDisplayName: "pal-keeper", RoleDefinitionID: reader}},
		},
		{
			AssignmentID: a4, DefinitionName: "Support", ManagedByTenantID: testTenant,
			Authorizations: []pal.Authorization{
				{PrincipalID: testObject, PrincipalDisplayName: "pal-keeper", RoleDefinitionID: supportContrib},
				{PrincipalID: "5d1f7c8e-0b7a-4e55-9a42-6b1c2f9e0d11", PrincipalDisplayName: "Ops group", RoleDefinitionID: reader},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListDelegations =\n%+v\nwant\n%+v", got, want)
	}
	reqs := at.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	first := reqs[0]
	if first.Query.Get("$expandRegistrationDefinition") != "true" || first.Query.Get("api-version") != "2022-10-01" {
		t.Errorf("first request query = %q, want $expandRegistrationDefinition=true and api-version=2022-10-01", first.RawQuery)
	}
}

func TestListDelegationsErrors(t *testing.T) {
	tests := []struct {
		name     string
		sub      string
		status   int
		wantCode pal.ErrorCode
		wantReqs int
	}{
		{"not_a_guid", "subscriptions/x/../../providers", 0, pal.CodeInvalidInput, 0},
		{"empty", "", 0, pal.CodeInvalidInput, 0},
		{"forbidden", delegatedSub, 403, pal.CodeForbidden, 1},
		{"not_found", delegatedSub, 404, pal.CodeNotFound, 1},
		{"throttled", delegatedSub, 429, pal.CodeTransient, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
				armError(w, tt.status, http.StatusText(tt.status), "no")
			}, nil)
			_, err := at.clients.Delegations.ListDelegations(context.Background(), tt.sub)
			if code := pal.ErrorCodeOf(err); code != tt.wantCode {
				t.Fatalf("error code = %q (%v), want %q", code, err, tt.wantCode)
			}
			if n := len(at.requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestListDelegationsNone(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"value":[]}`) }, nil)
	got, err := at.clients.Delegations.ListDelegations(context.Background(), delegatedSub)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListDelegations = %+v, %v; want none, nil", got, err)
	}
}
