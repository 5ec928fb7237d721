package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// TestE2EHardeningCustomerChosenNames: in direct mode a customer's custom
// role names and subscription display name may hold any character; none
// fails the tenant. Onboarding completes, the record keeps the names as
// given, the direct sweep ends complete, and the report and the dashboard
// show them (escaped). Failed before: the record refused "Ops;Admin"
// (InvalidInput), the onboarding answered 500 and dead-lettered and every
// direct sweep ended partial (issue 16, D3).
func TestE2EHardeningCustomerChosenNames(t *testing.T) {
	t.Parallel()
	bellows, sub := emulator.DemoDirectBellowsTenantID, emulator.DemoDirectBellowsReporting
	est := emulator.DemoDirectEstate()
	roles := []string{"Ops;Admin", "<b>Ops</b> = #1 / why? \\ it's", strings.Repeat("R", 1000)}
	for i, name := range roles {
		id := "c0570000-0000-4000-8000-00000000000" + string(rune('1'+i))
		est.CustomRoles = append(est.CustomRoles, emulator.RoleDefinition{ID: id, Name: name, Actions: []string{"*/read"}})
		est.RoleAssignments = append(est.RoleAssignments, emulator.RoleAssignment{
			Scope: emulator.SubscriptionScope(sub), PrincipalID: emulator.DemoDirectBellowsObjectID, RoleDefinitionID: id,
		})
	}
	display := "Bellows;Reporting=<b>x</b>/#?\ttab " + strings.Repeat("n", 1000)
	for i := range est.Subscriptions {
		if est.Subscriptions[i].ID == sub {
			est.Subscriptions[i].DisplayName = display
		}
	}
	settings, emuSettings := identitySettings("direct", map[string]string{"PAL_DIRECT_TENANTS": bellows})
	a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings, maxDeliveryCount: 1})

	res := a.onboard(onboardingMessage(bellows, sub))
	r := resultFor(t, res, sub)
	if r.Status == pal.StatusError || !slices.Contains(r.Roles, "Ops;Admin") || r.DisplayName != display {
		t.Fatalf("onboarding = %+v, want a verdict with the role Ops;Admin and the display name as given", r)
	}
	rep := a.report("")
	if len(rep.Subscriptions) != 1 {
		t.Fatalf("report has %d subscriptions, want 1", len(rep.Subscriptions))
	}
	s := rep.Subscriptions[0]
	if s.DisplayName != display || !slices.Equal(s.Roles, r.Roles) {
		t.Errorf("record: %q %q, want %q %q", s.DisplayName, s.Roles, display, r.Roles)
	}
	for _, want := range roles {
		if !slices.Contains(s.Roles, want) {
			t.Errorf("record roles %q lack %q", s.Roles, want[:min(len(want), 40)])
		}
	}

	sw := a.sweep()
	if st := statusOf(sw)[sub]; st != r.Status {
		t.Errorf("sweep: %s is %q, want %q", sub, st, r.Status)
	}
	if rep := a.report(""); rep.LastSweep == nil || rep.LastSweep.Outcome != record.OutcomeComplete {
		t.Errorf("last sweep = %+v, want complete", rep.LastSweep)
	}
	dash := a.http("GET", "/api/dashboard", "", "")
	if dash.StatusCode != http.StatusOK || strings.Contains(string(dash.Body), "<b>Ops</b>") || !strings.Contains(string(dash.Body), "&lt;b&gt;") {
		t.Errorf("dashboard = %d, want 200 with the names escaped", dash.StatusCode)
	}
}
