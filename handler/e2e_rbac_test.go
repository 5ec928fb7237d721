package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// Tenant D: least-privilege delegations, judged under the emulator's RBAC,
// which refuses the delegation read to Support Request Contributor alone as ARM does.
const (
	tenantD = "dd000000-0000-4000-8000-000000000000"
	subD1   = "dd000000-0000-4000-8000-000000000001" // Support Request Contributor only
	subD2   = "dd000000-0000-4000-8000-000000000002" // a role that is no built-in role
	subD3   = "dd000000-0000-4000-8000-000000000003" // Reader only
	subD4   = "dd000000-0000-4000-8000-000000000004" // Contributor just-in-time only

	customRole = "dd100000-0000-4000-8000-000000000001"
)

func rbacEstate() emulator.Estate {
	est := testEstate()
	est.Tenants = append(est.Tenants, emulator.Tenant{ID: tenantD, Name: "D"})
	// Lighthouse delegates built-in roles only; a custom role stands for any
	// permission set the built-in list does not know (a role changed or added
	// after the listing, say).
	est.CustomRoles = []emulator.RoleDefinition{{ID: customRole, Name: "Contoso Ticketing", Actions: []string{"Microsoft.Support/*"}}}
	del := func(permanent, jit string) []emulator.Delegation {
		d := emulator.Delegation{DefinitionName: "Contoso least privilege", ManagedByTenantID: managing}
		if permanent != "" {
			d.Authorizations = []emulator.Authorization{{PrincipalID: objectID, RoleDefinitionID: permanent}}
		}
		if jit != "" {
			d.EligibleAuthorizations = []emulator.Authorization{{PrincipalID: objectID, RoleDefinitionID: jit}}
		}
		return []emulator.Delegation{d}
	}
	est.Subscriptions = append(est.Subscriptions,
		emulator.Subscription{ID: subD1, TenantID: tenantD, DisplayName: "D SRC", ResourceGroups: []string{"rg-app"},
			Delegations: del(emulator.RoleSupportRequestContributor, "")},
		emulator.Subscription{ID: subD2, TenantID: tenantD, DisplayName: "D custom", ResourceGroups: []string{"rg-app"},
			Delegations: del(customRole, "")},
		emulator.Subscription{ID: subD3, TenantID: tenantD, DisplayName: "D reader", Delegations: del(emulator.RoleReader, "")},
		emulator.Subscription{ID: subD4, TenantID: tenantD, DisplayName: "D JIT", Delegations: del("", emulator.RoleContributor)},
	)
	return est
}

// wantRBAC are tenant D's verdicts: never not-delegated.
var wantRBAC = map[string]pal.Status{
	subD1: pal.StatusAttributed,
	subD2: pal.StatusUnverifiable,
	subD3: pal.StatusIneligibleRole,
	subD4: pal.StatusIneligibleRole,
}

// checkRBACDetails checks what the results say of how they were judged.
func checkRBACDetails(t *testing.T, res *pal.Result) {
	t.Helper()
	for _, r := range res.Results {
		switch r.SubscriptionID {
		case subD1:
			if !reflect.DeepEqual(r.Roles, []string{"Support Request Contributor"}) || !strings.Contains(r.Detail, "inferred from effective permissions") {
				t.Errorf("SRC-only: roles %v detail %q, want Support Request Contributor inferred from effective permissions", r.Roles, r.Detail)
			}
		case subD2:
			if !strings.Contains(r.Detail, "match no built-in role") || !strings.Contains(r.Detail, "Support Request Contributor") {
				t.Errorf("unverifiable detail %q does not say why and name the fix", r.Detail)
			}
		case subD3:
			if !reflect.DeepEqual(r.Roles, []string{"Reader"}) {
				t.Errorf("Reader-only roles = %v", r.Roles)
			}
		case subD4:
			if !strings.Contains(r.Detail, "just-in-time") {
				t.Errorf("JIT-only detail %q does not mention just-in-time", r.Detail)
			}
		}
	}
}

func TestE2ERBACOnboardingStatusSweep(t *testing.T) {
	t.Parallel()
	est := rbacEstate()
	a := startApp(t, appOptions{estate: &est})

	// Onboarding: the message completes at the first delivery (unverifiable is
	// not transient) and no subscription of D is reported not-delegated.
	res := a.onboard(onboardingMessage(tenantD))
	if got := statusOf(res); !reflect.DeepEqual(got, wantRBAC) {
		t.Errorf("onboarding statuses = %v, want %v", got, wantRBAC)
	}
	checkRBACDetails(t, res)
	if res.Summary[pal.StatusUnverifiable] != 1 || res.Summary[pal.StatusNotDelegated] != 0 {
		t.Errorf("onboarding summary = %v, want 1 unverifiable and no not-delegated", res.Summary)
	}

	// Status (GET /api/links): the same verdicts, read-only.
	ans := a.http("GET", "/api/links?tenantId="+tenantD, "", "")
	if ans.StatusCode != 200 {
		t.Fatalf("GET /api/links = %d %s", ans.StatusCode, ans.Body)
	}
	res = decodeResult(t, ans.Body)
	if got := statusOf(res); !reflect.DeepEqual(got, wantRBAC) {
		t.Errorf("status statuses = %v, want %v", got, wantRBAC)
	}
	checkRBACDetails(t, res)

	// Sweep: attributed ones are counted, the rest listed.
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil || inv.Failed {
		t.Fatalf("sweep: %v %v\n%s", err, inv.Err, a.stdout.String())
	}
	res = decodeResult(t, inv.ReturnValue)
	got := statusOf(res)
	for sub, want := range wantRBAC {
		if want == pal.StatusAttributed {
			if _, listed := got[sub]; listed {
				t.Errorf("sweep lists attributed %s as %s", sub, got[sub])
			}
			continue
		}
		if got[sub] != want {
			t.Errorf("sweep %s = %q, want %q", sub, got[sub], want)
		}
	}
	// testEstate's 10 customer subscriptions (6 attributed, 4 ineligible) plus D's four.
	wantSummary := map[pal.Status]int{pal.StatusAttributed: 7, pal.StatusIneligibleRole: 6, pal.StatusNotDelegated: 0,
		pal.StatusUnlinked: 0, pal.StatusUnverifiable: 1, pal.StatusError: 0}
	if !reflect.DeepEqual(res.Summary, wantSummary) {
		t.Errorf("sweep summary = %v, want %v", res.Summary, wantSummary)
	}

	// The built-in roles were listed once for the process, and the delegation
	// client spoke the stable API.
	lists, delegationReads := 0, 0
	for _, r := range a.emu.Requests() {
		if strings.HasSuffix(strings.ToLower(r.Path), "/providers/microsoft.authorization/roledefinitions") && r.Status == 200 &&
			r.Query.Get("$skiptoken") == "" { // first pages only: the estate pages by 3
			lists++
			if f := r.Query.Get("$filter"); f != "type eq 'BuiltInRole'" {
				t.Errorf("role definition list filter = %q", f)
			}
		}
		if strings.HasSuffix(r.Path, "/registrationAssignments") {
			delegationReads++
			if v := r.Query.Get("api-version"); v != "2022-10-01" {
				t.Errorf("delegations api-version = %q, want 2022-10-01", v)
			}
		}
	}
	if lists != 1 {
		t.Errorf("built-in role listings = %d, want 1 per process", lists)
	}
	if delegationReads == 0 {
		t.Error("no delegation reads seen")
	}
}

// TestE2ERBACResourceGroupFallback: when ARM refuses the subscription-scope
// permissions call, the engine asks at one of the subscription's resource groups.
func TestE2ERBACResourceGroupFallback(t *testing.T) {
	t.Parallel()
	est := rbacEstate()
	a := startApp(t, appOptions{estate: &est})
	a.emu.RefuseSubscriptionPermissions(true)

	res := a.onboard(onboardingMessage(tenantD, subD1, subD3))
	want := map[string]pal.Status{
		subD1: pal.StatusAttributed,     // read at rg-app
		subD3: pal.StatusIneligibleRole, // Reader reads the delegation itself
	}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if d := resultFor(t, res, subD1).Detail; !strings.Contains(d, "resource group rg-app") {
		t.Errorf("detail %q does not say the permissions were read at rg-app", d)
	}
	rgRead := false
	for _, r := range a.emu.Requests() {
		if strings.EqualFold(r.Path, "/subscriptions/"+subD1+"/resourceGroups/rg-app/providers/Microsoft.Authorization/permissions") && r.Status == 200 {
			rgRead = true
		}
	}
	if !rgRead {
		t.Error("the resource-group permissions were never read")
	}

	// A subscription without resource groups cannot fall back: unverifiable, not
	// not-delegated, and the message still completes.
	if err := a.emu.AddSubscription(emulator.Subscription{ID: subD1, TenantID: tenantD, DisplayName: "D SRC",
		Delegations: []emulator.Delegation{{DefinitionName: "d", ManagedByTenantID: managing,
			Authorizations: []emulator.Authorization{{PrincipalID: objectID, RoleDefinitionID: emulator.RoleSupportRequestContributor}}}}}); err != nil {
		t.Fatal(err)
	}
	res = a.onboard(onboardingMessage(tenantD, subD1))
	if r := resultFor(t, res, subD1); r.Status != pal.StatusUnverifiable || !strings.Contains(r.Detail, "neither") {
		t.Errorf("no resource group: %s %q, want unverifiable saying it could read neither", r.Status, r.Detail)
	}
}
