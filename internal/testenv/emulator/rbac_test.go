package emulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestActionMatches(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.ManagedServices/registrationAssignments/read", true},
		{"*/read", "Microsoft.ManagedServices/registrationAssignments/read", true},
		{"*/read", "Microsoft.ManagedServices/registrationAssignments/delete", false},
		{"Microsoft.Authorization/*/read", "Microsoft.Authorization/roleDefinitions/read", true},
		{"Microsoft.Authorization/*/read", "microsoft.authorization/PERMISSIONS/read", true},
		{"Microsoft.Authorization/*/read", "Microsoft.Authorization/roleAssignments/write", false},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.Support/*", "Microsoft.Support/supportTickets/write", true},
		{"Microsoft.Support/*", "Microsoft.SupportX/supportTickets/write", false},
		{"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/subscriptions/resourcegroups/read", true},
		{"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/subscriptions/read", false},
		{"", "Microsoft.Resources/subscriptions/read", false},
	}
	for _, tt := range tests {
		if got := actionMatches(tt.pattern, tt.action); got != tt.want {
			t.Errorf("actionMatches(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestRolePermits(t *testing.T) {
	tests := []struct {
		role, action string
		want         bool
	}{
		{RoleSupportRequestContributor, actionAssignmentsRead, false},
		{RoleSupportRequestContributor, actionRoleDefinitionsRead, true},
		{RoleSupportRequestContributor, actionResourceGroupsRead, true},
		{RoleReader, actionAssignmentsRead, true},
		{RoleContributor, actionAssignmentsRead, true},
		{RoleContributor, "Microsoft.Authorization/roleAssignments/write", false}, // notActions
		{RoleOwner, "Microsoft.Authorization/roleAssignments/write", true},
		{RoleManagedServicesRegistrationAssignmentDelete, actionAssignmentsRead, true},
		{RoleManagedServicesRegistrationAssignmentDelete, actionRoleDefinitionsRead, false},
		{RoleLogAnalyticsReader, "Microsoft.OperationalInsights/workspaces/sharedKeys/read", false}, // notActions
	}
	for _, tt := range tests {
		if got := rolePermits(builtinRoles[tt.role], tt.action); got != tt.want {
			t.Errorf("%s permits %s = %v, want %v", builtinRoles[tt.role].Name, tt.action, got, tt.want)
		}
	}
}

// TestRBACReads checks each emulated read against the caller's roles.
func TestRBACReads(t *testing.T) {
	w := newWorld()
	est := w.estate()
	custom := newGUID()
	est.CustomRoles = []RoleDefinition{{ID: custom, Name: "Contoso Ticketing", Actions: []string{"Microsoft.Support/*"}}}
	src, reader, cust := newGUID(), newGUID(), newGUID()
	deleg := func(roles ...string) []Delegation {
		var as []Authorization
		for _, r := range roles {
			as = append(as, Authorization{PrincipalID: w.me.ObjectID, RoleDefinitionID: r})
		}
		return []Delegation{{DefinitionName: "d", ManagedByTenantID: w.managing, Authorizations: as}}
	}
	est.Subscriptions = append(est.Subscriptions,
		Subscription{ID: src, TenantID: w.customer, Delegations: deleg(RoleSupportRequestContributor), ResourceGroups: []string{"rg-b", "rg-a"}},
		Subscription{ID: reader, TenantID: w.customer, Delegations: deleg(RoleReader, RoleMonitoringReader)},
		Subscription{ID: cust, TenantID: w.customer, Delegations: deleg(custom)},
	)
	e := start(t, est, nil)
	tok := armToken(t, e, w.me.ClientID)

	type want struct {
		status int
		code   string
	}
	ok, denied := want{200, ""}, want{403, "AuthorizationFailed"}
	tests := []struct {
		name string
		path string
		want want
	}{
		{"SRC subscription", "/subscriptions/" + src, ok},
		{"SRC delegations", "/subscriptions/" + src + "/providers/Microsoft.ManagedServices/registrationAssignments", denied},
		{"SRC role definition", "/subscriptions/" + src + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader, ok},
		{"SRC role list", "/subscriptions/" + src + "/providers/Microsoft.Authorization/roleDefinitions", ok},
		{"SRC resource groups", "/subscriptions/" + src + "/resourcegroups", ok},
		{"SRC permissions", "/subscriptions/" + src + "/providers/Microsoft.Authorization/permissions", ok},
		{"SRC RG permissions", "/subscriptions/" + src + "/resourceGroups/RG-A/providers/Microsoft.Authorization/permissions", ok},
		{"SRC unknown RG", "/subscriptions/" + src + "/resourceGroups/rg-x/providers/Microsoft.Authorization/permissions", want{404, "ResourceGroupNotFound"}},
		{"Reader delegations", "/subscriptions/" + reader + "/providers/Microsoft.ManagedServices/registrationAssignments", ok},
		{"custom subscription", "/subscriptions/" + cust, ok},
		{"custom delegations", "/subscriptions/" + cust + "/providers/Microsoft.ManagedServices/registrationAssignments", denied},
		{"custom role list", "/subscriptions/" + cust + "/providers/Microsoft.Authorization/roleDefinitions", denied},
		{"custom resource groups", "/subscriptions/" + cust + "/resourcegroups", denied},
		{"custom permissions", "/subscriptions/" + cust + "/providers/Microsoft.Authorization/permissions", ok},
		{"JIT-only permissions", "/subscriptions/" + w.jit + "/providers/Microsoft.Authorization/permissions", ok},
		{"tenant role list", "/providers/Microsoft.Authorization/roleDefinitions", ok},
		{"not delegated permissions", "/subscriptions/" + w.othersOnly + "/providers/Microsoft.Authorization/permissions", want{401, "InvalidAuthenticationTokenTenant"}},
	}
	for _, tt := range tests {
		a := call(t, e, http.MethodGet, tt.path+"?api-version=2022-04-01", tok)
		if a.status != tt.want.status || a.code(t) != tt.want.code {
			t.Errorf("%s: GET %s = %d %s, want %d %s", tt.name, tt.path, a.status, a.body, tt.want.status, tt.want.code)
		}
		if tt.want == denied {
			msg := string(a.body)
			if !strings.Contains(msg, "The client '"+w.me.ObjectID+"' with object id '"+w.me.ObjectID+"' does not have authorization to perform action '") ||
				!strings.Contains(msg, "' or the scope is invalid. If access was recently granted, please refresh your credentials.") {
				t.Errorf("%s: message %s is not ARM's", tt.name, msg)
			}
		}
	}

	perms := func(path string) []any {
		return call(t, e, http.MethodGet, path+"?api-version=2022-04-01", tok).json(t)["value"].([]any)
	}
	if p := perms("/subscriptions/" + reader + "/providers/Microsoft.Authorization/permissions"); len(p) != 2 {
		t.Errorf("Reader + Monitoring Reader: %d permission entries, want 2", len(p))
	}
	p := perms("/subscriptions/" + src + "/providers/Microsoft.Authorization/permissions")
	if len(p) != 1 || len(p[0].(map[string]any)["actions"].([]any)) != 3 {
		t.Errorf("SRC permissions = %v, want one entry with its three actions", p)
	}
	if p := perms("/subscriptions/" + w.jit + "/providers/Microsoft.Authorization/permissions"); len(p) != 0 {
		t.Errorf("JIT-only permissions = %v, want none (eligible authorizations grant nothing)", p)
	}
	rgs := perms("/subscriptions/" + src + "/resourcegroups")
	if len(rgs) != 2 || rgs[0].(map[string]any)["name"] != "rg-b" {
		t.Errorf("resource groups = %v", rgs)
	}

	// Built-in filter at both scopes; the custom role only without it.
	for _, path := range []string{"/providers/Microsoft.Authorization/roleDefinitions", "/subscriptions/" + src + "/providers/Microsoft.Authorization/roleDefinitions"} {
		n := 0
		for next := path + "?api-version=2022-04-01&$filter=type+eq+'BuiltInRole'"; next != ""; {
			m := call(t, e, http.MethodGet, next, tok).json(t)
			for _, v := range m["value"].([]any) {
				n++
				if typ := v.(map[string]any)["properties"].(map[string]any)["type"]; typ != BuiltInRole {
					t.Errorf("%s: filtered list holds a %v", path, typ)
				}
			}
			next, _ = m["nextLink"].(string)
		}
		if n != len(builtinRoles) {
			t.Errorf("%s: %d built-in roles, want %d", path, n, len(builtinRoles))
		}
	}
	if a := call(t, e, http.MethodGet, "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=atScopeAndBelow()", tok); a.status != 400 {
		t.Errorf("unsupported filter = %d, want 400", a.status)
	}

	// The fault toggle refuses the subscription-scope form only.
	e.RefuseSubscriptionPermissions(true)
	if a := call(t, e, http.MethodGet, "/subscriptions/"+src+"/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", tok); a.status != 403 || a.code(t) != "AuthorizationFailed" {
		t.Errorf("refused subscription permissions = %d %s", a.status, a.body)
	}
	if a := call(t, e, http.MethodGet, "/subscriptions/"+src+"/resourceGroups/rg-a/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", tok); a.status != 200 {
		t.Errorf("RG permissions while the subscription form is refused = %d %s", a.status, a.body)
	}
	e.RefuseSubscriptionPermissions(false)
	if a := call(t, e, http.MethodGet, "/subscriptions/"+src+"/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", tok); a.status != 200 {
		t.Errorf("restored subscription permissions = %d", a.status)
	}
}
