package azure

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestEffectivePermissions(t *testing.T) {
	subPath := "/subscriptions/" + delegatedSub + "/providers/Microsoft.Authorization/permissions"
	rgPath := "/subscriptions/" + delegatedSub + "/resourceGroups/rg-web.1/providers/Microsoft.Authorization/permissions"
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == subPath:
			armError(w, 403, "AuthorizationFailed", "The client 'x' with object id 'x' does not have authorization to perform action 'Microsoft.Authorization/permissions/read' over scope '/subscriptions/"+delegatedSub+"' or the scope is invalid.")
		case r.URL.Path == rgPath && r.URL.Query().Get("$skiptoken") == "":
			writeJSON(w, 200, `{"value":[{"actions":["Microsoft.Authorization/*/read","Microsoft.Resources/subscriptions/resourceGroups/read","Microsoft.Support/*"],"notActions":[],"dataActions":[],"notDataActions":[]}],"nextLink":"`+at.srv.URL+rgPath+`?api-version=2022-04-01&$skiptoken=2"}`)
		case r.URL.Path == rgPath:
			writeJSON(w, 200, `{"value":[{"actions":["*/read"],"notActions":["Microsoft.X/y/read"],"dataActions":[],"notDataActions":[],"conditions":null}]}`)
		default:
			armError(w, 404, "NotFound", r.URL.Path)
		}
	}, nil)
	ctx := context.Background()
	_, err := at.clients.Permissions.EffectivePermissions(ctx, delegatedSub, "")
	if code := pal.ErrorCodeOf(err); code != pal.CodeForbidden {
		t.Errorf("subscription scope: code %q (%v), want Forbidden", code, err)
	}
	checkNoSecret(t, err)
	got, err := at.clients.Permissions.EffectivePermissions(ctx, delegatedSub, "rg-web.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []pal.PermissionSet{
		{Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}, NotActions: []string{}, DataActions: []string{}, NotDataActions: []string{}},
		{Actions: []string{"*/read"}, NotActions: []string{"Microsoft.X/y/read"}, DataActions: []string{}, NotDataActions: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("permissions = %+v, want %+v", got, want)
	}
	reqs := at.requests()
	if q := reqs[0].Query.Get("api-version"); q != "2022-04-01" {
		t.Errorf("api-version = %q, want 2022-04-01", q)
	}
	for _, bad := range [][2]string{{"not-a-guid", ""}, {delegatedSub, "rg/../x"}, {delegatedSub, "rg."}} {
		if _, err := at.clients.Permissions.EffectivePermissions(ctx, bad[0], bad[1]); pal.ErrorCodeOf(err) != pal.CodeInvalidInput {
			t.Errorf("EffectivePermissions(%q, %q) = %v, want InvalidInput", bad[0], bad[1], err)
		}
	}
}

func TestListBuiltInRoles(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$filter") != "type eq 'BuiltInRole'" {
			armError(w, 400, "InvalidFilter", "filter "+r.URL.Query().Get("$filter"))
			return
		}
		writeJSON(w, 200, `{"value":[{"id":"/providers/Microsoft.Authorization/roleDefinitions/`+supportContrib+`","name":"`+supportContrib+`","type":"Microsoft.Authorization/roleDefinitions",
"properties":{"roleName":"Support Request Contributor","type":"BuiltInRole","description":"Lets you create and manage Support requests","assignableScopes":["/"],
"permissions":[{"actions":["Microsoft.Authorization/*/read","Microsoft.Resources/subscriptions/resourceGroups/read","Microsoft.Support/*"],"notActions":[],"dataActions":[],"notDataActions":[]}]}}]}`)
	}, nil)
	for _, sub := range []string{"", delegatedSub} {
		got, err := at.clients.Permissions.ListBuiltInRoles(context.Background(), sub)
		if err != nil {
			t.Fatalf("ListBuiltInRoles(%q): %v", sub, err)
		}
		if len(got) != 1 || got[0].ID != supportContrib || got[0].Name != "Support Request Contributor" || !got[0].BuiltIn ||
			len(got[0].Permissions) != 1 || len(got[0].Permissions[0].Actions) != 3 {
			t.Errorf("ListBuiltInRoles(%q) = %+v", sub, got)
		}
	}
	reqs := at.requests()
	if reqs[0].Path != "/providers/Microsoft.Authorization/roleDefinitions" ||
		reqs[1].Path != "/subscriptions/"+delegatedSub+"/providers/Microsoft.Authorization/roleDefinitions" {
		t.Errorf("paths = %q, %q", reqs[0].Path, reqs[1].Path)
	}
}

func TestFirstResourceGroup(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/subscriptions/" + delegatedSub + "/resourcegroups":
			writeJSON(w, 200, `{"value":[{"id":"/subscriptions/`+delegatedSub+`/resourceGroups/rg-web","name":"rg-web","type":"Microsoft.Resources/resourceGroups","location":"westeurope"}],"nextLink":"https://example.invalid/next"}`)
		case "/subscriptions/" + supportContrib + "/resourcegroups":
			writeJSON(w, 200, `{"value":[]}`)
		default:
			armError(w, 403, "AuthorizationFailed", "no")
		}
	}, nil)
	ctx := context.Background()
	if got, err := at.clients.ResourceGroups.FirstResourceGroup(ctx, delegatedSub); err != nil || got != "rg-web" {
		t.Errorf("FirstResourceGroup = %q, %v; want rg-web (and no second page)", got, err)
	}
	if got, err := at.clients.ResourceGroups.FirstResourceGroup(ctx, supportContrib); err != nil || got != "" {
		t.Errorf("FirstResourceGroup of none = %q, %v", got, err)
	}
	if _, err := at.clients.ResourceGroups.FirstResourceGroup(ctx, contributor); pal.ErrorCodeOf(err) != pal.CodeForbidden {
		t.Errorf("refused = %v, want Forbidden", err)
	}
	if q := at.requests()[0].Query; q.Get("$top") != "1" || q.Get("api-version") != "2021-04-01" {
		t.Errorf("query = %v", q)
	}
}
