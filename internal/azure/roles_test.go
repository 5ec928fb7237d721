package azure

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestGetRoleDefinition(t *testing.T) {
	const custom = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
	bodies := map[string]string{
		contributor: `{"id":"/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c","name":"b24988ac-6180-42a0-ab88-20f7382dd24c","type":"Microsoft.Authorization/roleDefinitions",
"properties":{"roleName":"Contributor","type":"BuiltInRole","description":"Grants full access to manage all resources","assignableScopes":["/"],
"permissions":[{"actions":["*"],"notActions":["Microsoft.Authorization/*/Delete","Microsoft.Authorization/*/Write"],"dataActions":[],"notDataActions":[]}]}}`,
		"ba92f5b4-2d11-453d-a403-e96b0029c9fe": `{"id":"/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe","name":"ba92f5b4-2d11-453d-a403-e96b0029c9fe","type":"Microsoft.Authorization/roleDefinitions",
"properties":{"roleName":"Storage Blob Data Contributor","type":"BuiltInRole","permissions":[{"actions":["Microsoft.Storage/storageAccounts/blobServices/containers/read"],"notActions":[],
"dataActions":["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],"notDataActions":[]}]}}`,
		custom: `{"id":"/providers/Microsoft.Authorization/roleDefinitions/9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f","name":"9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f","type":"Microsoft.Authorization/roleDefinitions",
"properties":{"roleName":"Partner Ops","type":"CustomRole","permissions":[{"actions":["*/read"]},{"actions":["Microsoft.Support/*"],"notDataActions":["x"]}]}}`,
	}
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		guid := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if body, ok := bodies[guid]; ok && r.URL.Path == "/providers/Microsoft.Authorization/roleDefinitions/"+guid {
			writeJSON(w, 200, body)
			return
		}
		armError(w, 404, "RoleDefinitionDoesNotExist", "The specified role definition does not exist.")
	}, nil)
	tests := []struct {
		name, id string
		want     pal.RoleDefinition
		wantCode pal.ErrorCode
	}{
		{name: "contributor", id: contributor, want: pal.RoleDefinition{ID: contributor, Name: "Contributor", BuiltIn: true}},
		{name: "upper_case_path", id: "/providers/Microsoft.Authorization/roleDefinitions/B24988AC-6180-42A0-AB88-20F7382DD24C", want: pal.RoleDefinition{ID: contributor, Name: "Contributor", BuiltIn: true}},
		{name: "data_actions", id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe", want: pal.RoleDefinition{ID: "ba92f5b4-2d11-453d-a403-e96b0029c9fe", Name: "Storage Blob Data Contributor", BuiltIn: true, HasDataActions: true}},
		{name: "custom_not_data_actions_only", id: custom, want: pal.RoleDefinition{ID: custom, Name: "Partner Ops"}},
		{name: "unknown", id: "00000000-0000-0000-0000-000000000000", wantCode: pal.CodeNotFound},
		{name: "not_guid", id: "Contributor", wantCode: pal.CodeInvalidInput},
		{name: "traversal", id: "../../subscriptions", wantCode: pal.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := at.clients.Roles.GetRoleDefinition(context.Background(), tt.id)
			if tt.wantCode != "" {
				if code := pal.ErrorCodeOf(err); code != tt.wantCode {
					t.Fatalf("error code = %q (%v), want %q", code, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRoleDefinition: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("GetRoleDefinition = %+v, want %+v", *got, tt.want)
			}
		})
	}
	reqs := at.requests()
	if len(reqs) == 0 {
		t.Fatal("no requests")
	}
	if got, want := reqs[0].Path+"?"+reqs[0].RawQuery, "/providers/Microsoft.Authorization/roleDefinitions/"+contributor+"?api-version=2022-04-01"; got != want {
		t.Errorf("first request = %q, want %q", got, want)
	}
}
