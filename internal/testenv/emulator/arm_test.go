package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokenValidation(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	other := start(t, w.estate(), nil)
	now := time.Now()
	valid := claimsFor(w.me, "https://management.azure.com/", now, time.Hour)
	with := func(f func(*claims)) string {
		c := valid
		f(&c)
		return e.mint(c)
	}
	foreign, _, err := other.Token(w.me.ClientID, "https://management.azure.com/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		header   string // the whole Authorization header; "" sends none
		wantCode string // "" means accepted
	}{
		{"missing header", "", "InvalidAuthenticationToken"},
		{"not bearer", "Basic dXNlcjpwdw==", "InvalidAuthenticationToken"},
		{"bearer without token", "Bearer ", "InvalidAuthenticationToken"},
		{"garbled", "Bearer not-a-jwt", "InvalidAuthenticationToken"},
		{"bad base64 payload", "Bearer " + tokenHeader + ".!!!." + e.marker, "InvalidAuthenticationToken"},
		{"other emulator's token", "Bearer " + foreign, "InvalidAuthenticationToken"},
		{"expired", "Bearer " + with(func(c *claims) { c.Exp = now.Add(-time.Minute).Unix() }), "InvalidAuthenticationToken"},
		{"not yet valid", "Bearer " + with(func(c *claims) { c.Nbf = now.Add(time.Hour).Unix() }), "InvalidAuthenticationToken"},
		{"no oid", "Bearer " + with(func(c *claims) { c.OID = "" }), "InvalidAuthenticationToken"},
		{"wrong audience", "Bearer " + with(func(c *claims) { c.Aud = "https://vault.azure.net" }), "InvalidAuthenticationTokenAudience"},
		{"graph audience", "Bearer " + with(func(c *claims) { c.Aud = "https://graph.microsoft.com/" }), "InvalidAuthenticationTokenAudience"},
		{"aud management.azure.com/", "Bearer " + with(func(c *claims) { c.Aud = "https://management.azure.com/" }), ""},
		{"aud management.azure.com", "Bearer " + with(func(c *claims) { c.Aud = "https://management.azure.com" }), ""},
		{"aud management.core.windows.net/", "Bearer " + with(func(c *claims) { c.Aud = "https://management.core.windows.net/" }), ""},
		{"aud management.core.windows.net", "Bearer " + with(func(c *claims) { c.Aud = "https://management.core.windows.net" }), ""},
		{"lower-case scheme", "bearer " + e.mint(valid), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.ARMURL()+"/subscriptions?api-version=2022-12-01", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("x-ms-error-code")
			if got != tt.wantCode {
				t.Errorf("error code = %q, want %q (status %d)", got, tt.wantCode, resp.StatusCode)
			}
			wantStatus := http.StatusOK
			if tt.wantCode != "" {
				wantStatus = http.StatusUnauthorized
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, wantStatus)
			}
		})
	}
}

func TestSubscriptionPaging(t *testing.T) {
	tests := []struct {
		subs, pageSize int
		wantPages      []int
	}{
		{subs: 7, pageSize: 3, wantPages: []int{3, 3, 1}},
		{subs: 8, pageSize: 4, wantPages: []int{4, 4}},
		{subs: 2, pageSize: 0, wantPages: []int{2}},
		{subs: 0, pageSize: 5, wantPages: []int{0}},
		{subs: 101, pageSize: 0, wantPages: []int{100, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d subs by %d", tt.subs, tt.pageSize), func(t *testing.T) {
			w := newWorld()
			est := Estate{Identities: []Identity{w.me}, PageSize: tt.pageSize}
			var want []string
			for range tt.subs {
				id := newGUID()
				want = append(want, id)
				est.Subscriptions = append(est.Subscriptions, Subscription{ID: strings.ToUpper(id), TenantID: w.managing, DirectAccess: []string{w.me.ObjectID}})
			}
			// one the caller cannot reach, never listed
			est.Subscriptions = append(est.Subscriptions, Subscription{ID: newGUID(), TenantID: w.managing})
			slices.Sort(want)
			e := start(t, est, nil)
			tok := armToken(t, e, w.me.ClientID)

			var got []string
			var pages []int
			next := "/subscriptions?api-version=2022-12-01"
			for next != "" {
				a := call(t, e, http.MethodGet, next, tok)
				if a.status != http.StatusOK {
					t.Fatalf("GET %s = %d %s", next, a.status, a.body)
				}
				m := a.json(t)
				vals, _ := m["value"].([]any)
				pages = append(pages, len(vals))
				for _, v := range vals {
					s := v.(map[string]any)
					got = append(got, s["subscriptionId"].(string))
					if s["id"] != "/subscriptions/"+s["subscriptionId"].(string) || s["tenantId"] != w.managing || s["state"] != "Enabled" || s["authorizationSource"] != "RoleBased" {
						t.Errorf("subscription shape: %v", s)
					}
				}
				next, _ = m["nextLink"].(string)
				if next != "" && !strings.HasPrefix(next, e.ARMURL()+"/subscriptions?api-version=2022-12-01&$skiptoken=") {
					t.Errorf("nextLink = %q", next)
				}
				if len(pages) > 10 {
					t.Fatal("too many pages")
				}
			}
			if !slices.Equal(pages, tt.wantPages) {
				t.Errorf("page sizes = %v, want %v", pages, tt.wantPages)
			}
			if !slices.Equal(got, want) {
				t.Errorf("subscriptions = %v, want %v", got, want)
			}
		})
	}
}

func TestSkipTokenInvalid(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	for _, st := range []string{"x", "-1", "99"} {
		a := call(t, e, http.MethodGet, "/subscriptions?api-version=2022-12-01&$skiptoken="+st, tok)
		if a.status != http.StatusBadRequest || a.code(t) != "InvalidSkipToken" {
			t.Errorf("$skiptoken=%s: %d %s", st, a.status, a.body)
		}
	}
}

func TestReachability(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	me := armToken(t, e, w.me.ClientID)
	other := armToken(t, e, w.other.ClientID)

	a := call(t, e, http.MethodGet, "/subscriptions?api-version=2022-12-01", me)
	var listed []string
	for _, v := range a.json(t)["value"].([]any) {
		listed = append(listed, v.(map[string]any)["subscriptionId"].(string))
	}
	if want := w.reachableByMe(); !slices.Equal(listed, want) {
		t.Errorf("listed = %v, want %v", listed, want)
	}

	tests := []struct {
		name       string
		token      string
		sub        string
		wantStatus int
		wantCode   string
		// readsRefused: the subscription is reachable but its contents are not
		// (403 AuthorizationFailed), as ARM refuses a caller without a permanent role.
		readsRefused bool
	}{
		{"direct access in own tenant", me, w.direct, 200, "", false},
		{"permanent delegation", me, w.permanent, 200, "", false},
		// Just-in-time authorizations grant nothing until activated: the
		// subscription is visible, its delegations and roles are not.
		{"eligible-only delegation", me, w.jit, 200, "", true},
		{"upper-case ID", me, strings.ToUpper(w.permanent), 200, "", false},
		{"delegated to another identity", me, w.othersOnly, 401, "InvalidAuthenticationTokenTenant", false},
		{"delegated to another managing tenant", me, w.foreignManager, 401, "InvalidAuthenticationTokenTenant", false},
		{"own tenant without access", me, w.sameTenantNoAccess, 403, "AuthorizationFailed", false},
		{"unknown", me, newGUID(), 404, "SubscriptionNotFound", false},
		{"malformed", me, "not-a-guid", 400, "InvalidSubscriptionId", false},
		{"other identity reaches its own", other, w.othersOnly, 200, "", false},
		{"other identity, eligible-only is me", other, w.jit, 200, "", false}, // other has permanent Reader there
		{"other identity, not delegated", other, w.permanent, 401, "InvalidAuthenticationTokenTenant", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, path := range []string{
				"/subscriptions/" + tt.sub + "?api-version=2022-12-01",
				"/subscriptions/" + tt.sub + "/providers/Microsoft.ManagedServices/registrationAssignments?api-version=2022-01-01-preview",
				"/subscriptions/" + tt.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader + "?api-version=2022-04-01",
			} {
				wantStatus, wantCode := tt.wantStatus, tt.wantCode
				if i > 0 && tt.readsRefused {
					wantStatus, wantCode = 403, "AuthorizationFailed"
				}
				a := call(t, e, http.MethodGet, path, tt.token)
				if a.status != wantStatus || a.code(t) != wantCode {
					t.Errorf("GET %s = %d %q, want %d %q", path, a.status, a.code(t), wantStatus, wantCode)
				}
			}
		})
	}
}

func TestSubscriptionShape(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	a := call(t, e, http.MethodGet, "/subscriptions/"+w.permanent+"?api-version=2022-12-01", armToken(t, e, w.me.ClientID))
	m := a.json(t)
	want := map[string]any{
		"id": "/subscriptions/" + w.permanent, "subscriptionId": w.permanent, "tenantId": w.customer,
		"displayName": "permanent", "state": "Enabled", "authorizationSource": "RoleBased",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	mbt, _ := m["managedByTenants"].([]any)
	if len(mbt) != 1 || mbt[0].(map[string]any)["tenantId"] != w.managing {
		t.Errorf("managedByTenants = %v, want [{tenantId: %s}]", m["managedByTenants"], w.managing)
	}
}

func TestRegistrationAssignments(t *testing.T) {
	w := newWorld()
	est := w.estate()
	// three delegations on "permanent", page size 2
	est.PageSize = 2
	est.Subscriptions[1].Delegations = append(est.Subscriptions[1].Delegations,
		Delegation{ID: "00000000-0000-4000-8000-0000000000aa", DefinitionName: "second", ManagedByTenantID: w.foreign,
			Authorizations: []Authorization{{PrincipalID: newGUID(), RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader}}},
		Delegation{ID: "ffffffff-0000-4000-8000-0000000000bb", DefinitionName: "third", ManagedByTenantID: w.managing,
			EligibleAuthorizations: []Authorization{{PrincipalID: w.me.ObjectID, PrincipalDisplayName: "me", RoleDefinitionID: RoleOwner}}},
	)
	e := start(t, est, nil)
	tok := armToken(t, e, w.me.ClientID)
	base := "/subscriptions/" + w.permanent + "/providers/Microsoft.ManagedServices/registrationAssignments"

	t.Run("expanded, paged", func(t *testing.T) {
		var items []map[string]any
		next := base + "?$expandRegistrationDefinition=true&api-version=2022-01-01-preview"
		pages := 0
		for next != "" {
			a := call(t, e, http.MethodGet, next, tok)
			if a.status != 200 {
				t.Fatalf("GET %s = %d %s", next, a.status, a.body)
			}
			m := a.json(t)
			for _, v := range m["value"].([]any) {
				items = append(items, v.(map[string]any))
			}
			next, _ = m["nextLink"].(string)
			if next != "" && !strings.Contains(next, "$expandRegistrationDefinition=true") {
				t.Errorf("nextLink %q lost the expand parameter", next)
			}
			pages++
		}
		if pages != 2 || len(items) != 3 {
			t.Fatalf("pages, items = %d, %d, want 2, 3", pages, len(items))
		}
		first := items[0]
		if first["name"] != "00000000-0000-4000-8000-0000000000aa" || first["type"] != "Microsoft.ManagedServices/registrationAssignments" ||
			first["id"] != "/subscriptions/"+w.permanent+"/providers/Microsoft.ManagedServices/registrationAssignments/00000000-0000-4000-8000-0000000000aa" {
			t.Errorf("first assignment = %v", first)
		}
		props := first["properties"].(map[string]any)
		if props["provisioningState"] != "Succeeded" || !strings.HasPrefix(props["registrationDefinitionId"].(string), "/subscriptions/"+w.permanent+"/providers/Microsoft.ManagedServices/registrationDefinitions/") {
			t.Errorf("properties = %v", props)
		}
		def := props["registrationDefinition"].(map[string]any)["properties"].(map[string]any)
		if def["managedByTenantId"] != w.foreign || def["managedByTenantName"] != "Foreign MSP" || def["manageeTenantId"] != w.customer || def["registrationDefinitionName"] != "second" {
			t.Errorf("definition = %v", def)
		}
		auth := def["authorizations"].([]any)[0].(map[string]any)
		if auth["roleDefinitionId"] != RoleReader {
			t.Errorf("roleDefinitionId = %v, want the bare GUID %s", auth["roleDefinitionId"], RoleReader)
		}
		third := items[2]["properties"].(map[string]any)["registrationDefinition"].(map[string]any)["properties"].(map[string]any)
		el := third["eligibleAuthorizations"].([]any)[0].(map[string]any)
		jit := el["justInTimeAccessPolicy"].(map[string]any)
		if el["principalId"] != w.me.ObjectID || jit["multiFactorAuthProvider"] != "None" || jit["maximumActivationDuration"] != "PT8H" {
			t.Errorf("eligible authorization = %v", el)
		}
		if auths := third["authorizations"].([]any); len(auths) != 0 {
			t.Errorf("authorizations = %v, want []", auths)
		}
	})
	t.Run("not expanded", func(t *testing.T) {
		for _, q := range []string{"?api-version=2022-01-01-preview", "?$expandRegistrationDefinition=false&api-version=2022-01-01-preview"} {
			a := call(t, e, http.MethodGet, base+q, tok)
			for _, v := range a.json(t)["value"].([]any) {
				if _, ok := v.(map[string]any)["properties"].(map[string]any)["registrationDefinition"]; ok {
					t.Errorf("%s: registrationDefinition present without expand", q)
				}
			}
		}
	})
	t.Run("single", func(t *testing.T) {
		a := call(t, e, http.MethodGet, base+"/FFFFFFFF-0000-4000-8000-0000000000BB?$expandRegistrationDefinition=true&api-version=2022-01-01-preview", tok)
		if a.status != 200 || a.json(t)["name"] != "ffffffff-0000-4000-8000-0000000000bb" {
			t.Errorf("GET single = %d %s", a.status, a.body)
		}
		a = call(t, e, http.MethodGet, base+"/"+newGUID()+"?api-version=2022-01-01-preview", tok)
		if a.status != 404 || a.code(t) != "RegistrationAssignmentNotFound" {
			t.Errorf("GET unknown = %d %s", a.status, a.body)
		}
	})
}

func TestRoleDefinitions(t *testing.T) {
	w := newWorld()
	est := w.estate()
	custom := newGUID()
	est.CustomRoles = []RoleDefinition{{ID: custom, Name: "Contoso Operator", Actions: []string{"*/read"}}}
	e := start(t, est, nil)
	tok := armToken(t, e, w.me.ClientID)
	tests := []struct {
		path       string
		wantStatus int
		wantID     string
		wantName   string
		wantType   string
		wantData   bool
	}{
		{"/providers/Microsoft.Authorization/roleDefinitions/" + RoleContributor, 200, "/providers/Microsoft.Authorization/roleDefinitions/" + RoleContributor, "Contributor", "BuiltInRole", false},
		{"/providers/microsoft.authorization/roledefinitions/" + strings.ToUpper(RoleSupportRequestContributor), 200, "/providers/Microsoft.Authorization/roleDefinitions/" + RoleSupportRequestContributor, "Support Request Contributor", "BuiltInRole", false},
		{"/subscriptions/" + w.permanent + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader, 200, "/subscriptions/" + w.permanent + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader, "Reader", "BuiltInRole", false},
		{"/providers/Microsoft.Authorization/roleDefinitions/" + RoleStorageBlobDataContributor, 200, "/providers/Microsoft.Authorization/roleDefinitions/" + RoleStorageBlobDataContributor, "Storage Blob Data Contributor", "BuiltInRole", true},
		{"/providers/Microsoft.Authorization/roleDefinitions/" + custom, 200, "/providers/Microsoft.Authorization/roleDefinitions/" + custom, "Contoso Operator", "CustomRole", false},
		{"/providers/Microsoft.Authorization/roleDefinitions/" + newGUID(), 404, "", "", "", false},
	}
	for _, tt := range tests {
		a := call(t, e, http.MethodGet, tt.path+"?api-version=2022-04-01", tok)
		if a.status != tt.wantStatus {
			t.Errorf("GET %s = %d, want %d", tt.path, a.status, tt.wantStatus)
			continue
		}
		if tt.wantStatus != 200 {
			if c := a.code(t); c != "RoleDefinitionDoesNotExist" {
				t.Errorf("GET %s code = %q", tt.path, c)
			}
			continue
		}
		m := a.json(t)
		props := m["properties"].(map[string]any)
		perm := props["permissions"].([]any)[0].(map[string]any)
		hasData := len(perm["dataActions"].([]any)) > 0
		if m["id"] != tt.wantID || props["roleName"] != tt.wantName || props["type"] != tt.wantType || hasData != tt.wantData ||
			m["type"] != "Microsoft.Authorization/roleDefinitions" {
			t.Errorf("GET %s = %s", tt.path, a.body)
		}
	}
}

func TestBuiltinRoleTable(t *testing.T) {
	want := map[string]string{
		RoleOwner: "Owner", RoleContributor: "Contributor", RoleReader: "Reader",
		RoleSupportRequestContributor: "Support Request Contributor", RoleUserAccessAdministrator: "User Access Administrator",
		RoleSecurityReader: "Security Reader", RoleMonitoringReader: "Monitoring Reader", RoleMonitoringContributor: "Monitoring Contributor",
		RoleVirtualMachineContributor:                   "Virtual Machine Contributor",
		RoleManagedServicesRegistrationAssignmentDelete: "Managed Services Registration assignment Delete Role",
		RoleCostManagementReader:                        "Cost Management Reader", RoleBackupReader: "Backup Reader",
	}
	for id, name := range want {
		if got := builtinRoles[id].Name; got != name {
			t.Errorf("role %s = %q, want %q", id, got, name)
		}
	}
	for _, r := range BuiltinRoles() {
		if !isGUID(r.ID) || r.Type != BuiltInRole || len(r.Actions) == 0 {
			t.Errorf("role %+v malformed", r)
		}
	}
}

func TestUnhandledAndAPIVersion(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	tests := []struct {
		method, path  string
		wantStatus    int
		wantCode      string
		wantUnhandled bool
	}{
		{"GET", "/subscriptions/" + w.direct + "/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01", 404, "EmulatorRouteNotFound", true},
		{"POST", "/providers/Microsoft.ManagementPartner/partners/1234567?api-version=2018-02-01", 404, "EmulatorRouteNotFound", true},
		{"GET", "/subscriptions", 400, "MissingApiVersionParameter", false},
		{"GET", "/providers/Microsoft.ManagementPartner/partners", 400, "MissingApiVersionParameter", false},
		{"GET", "/subscriptions?api-version=1999-01-01", 200, "", false},
	}
	for _, tt := range tests {
		e.ResetRequests()
		a := call(t, e, tt.method, tt.path, tok)
		if a.status != tt.wantStatus || a.code(t) != tt.wantCode {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, a.status, a.code(t), tt.wantStatus, tt.wantCode)
		}
		reqs := e.Requests()
		if len(reqs) != 1 {
			t.Fatalf("recorded %d requests, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Unhandled != tt.wantUnhandled || r.Status != tt.wantStatus || r.ErrorCode != tt.wantCode ||
			r.TenantID != w.managing || r.ObjectID != w.me.ObjectID || r.Method != tt.method || r.Target != TargetARM {
			t.Errorf("recorded %+v", r)
		}
	}
}
