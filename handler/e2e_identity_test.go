package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// Demo subscriptions of DemoAppEstate (DemoEstate with the app's service
// principal delegated instead of the managed identity).
const (
	demoFabProduction = "fab00001-0000-4000-8000-000000000001" // Contributor: attributed (Woodgrove Payments: through a group)
	demoFabAnalytics  = "fab00003-0000-4000-8000-000000000001" // Reader: ineligible-role
	demoNWLegacy      = "0a700003-0000-4000-8000-000000000001" // another identity: not-delegated
	demoFabrikam      = "fab00000-0000-4000-8000-000000000001"
	demoNorthwind     = "0a700000-0000-4000-8000-000000000001"
)

// identitySettings are the settings of PAL_IDENTITY=mode against the emulator's
// Entra ID, acting through the demo app.
func identitySettings(mode string, extra map[string]string) (map[string]string, func(*emulator.Emulator) map[string]string) {
	s := map[string]string{
		"PAL_IDENTITY":      mode,
		"PAL_APP_CLIENT_ID": emulator.DemoAppClientID,
		"AZURE_CLIENT_ID":   emulator.DemoClientID,
	}
	for k, v := range extra {
		s[k] = v
	}
	return s, func(emu *emulator.Emulator) map[string]string {
		return map[string]string{"PAL_AUTHORITY_HOST": emu.AuthorityURL()}
	}
}

// armCallers returns the (tenant, object) pairs that called ARM.
func armCallers(emu *emulator.Emulator) map[string]bool {
	out := map[string]bool{}
	for _, r := range emu.Requests() {
		if r.Target == emulator.TargetARM && r.ObjectID != "" {
			out[r.TenantID+"/"+r.ObjectID] = true
		}
	}
	return out
}

func TestE2EIdentityApp(t *testing.T) {
	t.Parallel()
	est := emulator.DemoAppEstate()
	settings, emuSettings := identitySettings("app", nil)
	a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings})

	res := a.onboard(onboardingMessage(demoFabrikam, demoFabProduction, demoFabAnalytics))
	firstTokens := entraTokenRequests(t, a.emu, emulator.DemoManagingTenantID)
	if firstTokens == 0 {
		t.Fatalf("no token request to the emulator's Entra ID")
	}
	if want := (pal.Principal{TenantID: emulator.DemoManagingTenantID, ObjectID: emulator.DemoAppObjectID}); res.Principal != want {
		t.Errorf("principal = %+v, want the app's service principal %+v", res.Principal, want)
	}
	if res.Link.Action != pal.LinkCreated || res.Link.PartnerID != partnerID {
		t.Errorf("link = %+v, want created to %s", res.Link, partnerID)
	}
	if len(res.Links) != 0 {
		t.Errorf("links = %+v, want none outside direct mode", res.Links)
	}
	want := map[string]pal.Status{demoFabProduction: pal.StatusAttributed, demoFabAnalytics: pal.StatusIneligibleRole}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	// The link belongs to the app's service principal in the managing tenant;
	// the managed identity has none.
	if l, ok := a.emu.Link(emulator.DemoManagingTenantID, emulator.DemoAppObjectID); !ok || !l.Active() || l.PartnerID != partnerID {
		t.Errorf("app's link = %+v (%v), want active to %s", l, ok, partnerID)
	}
	if l, ok := a.emu.Link(emulator.DemoManagingTenantID, emulator.DemoObjectID); ok {
		t.Errorf("the managed identity was linked: %+v", l)
	}

	// A delegation naming another principal: not delegated to the app.
	res = a.onboard(onboardingMessage(demoNorthwind, demoNWLegacy))
	if got := statusOf(res)[demoNWLegacy]; got != pal.StatusNotDelegated || res.Link.Action != pal.LinkNone {
		t.Errorf("legacy = %q, link %+v; want not-delegated, no write", got, res.Link)
	}

	// links (read-only) as the app.
	ans := a.http("GET", "/api/links?tenantId="+demoFabrikam+"&subscriptionId="+demoFabProduction, "", "")
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("GET links = %d %s", ans.StatusCode, ans.Body)
	}
	res = decodeResult(t, ans.Body)
	if res.Principal.ObjectID != emulator.DemoAppObjectID || statusOf(res)[demoFabProduction] != pal.StatusAttributed {
		t.Errorf("GET links = %+v, want the app attributed", res)
	}

	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil || inv.Failed {
		t.Fatalf("sweep: %v %v\n%s", err, inv.Err, a.stdout.String())
	}
	res = decodeResult(t, inv.ReturnValue)
	wantSum := map[pal.Status]int{pal.StatusAttributed: 6, pal.StatusIneligibleRole: 2, pal.StatusNotDelegated: 0, pal.StatusUnlinked: 0, pal.StatusUnverifiable: 0, pal.StatusError: 0}
	if !reflect.DeepEqual(res.Summary, wantSum) || res.Link.Action != pal.LinkNone {
		t.Errorf("sweep summary = %v link %+v, want %v and no write", res.Summary, res.Link, wantSum)
	}

	// The dashboard names the app as the identity, its link and the
	// customers, reading as the app with the engine's credential (no other
	// token request, no other caller below).
	ans = a.http("GET", "/api/dashboard", "", "")
	for _, want := range []string{`<span id="identity-kind">app registration</span>`, "object ID " + emulator.DemoAppObjectID,
		`<dd id="link-state" class="ok">linked to ` + partnerID, `<strong>Fabrikam</strong>`} {
		if !strings.Contains(string(ans.Body), want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}

	// Every ARM call was made as the app's service principal, none as the
	// managed identity; Entra issued the tokens in the managing tenant.
	if got, want := armCallers(a.emu), map[string]bool{emulator.DemoManagingTenantID + "/" + emulator.DemoAppObjectID: true}; !reflect.DeepEqual(got, want) {
		t.Errorf("ARM callers = %v, want only %v", got, want)
	}
	if n := entraTokenRequests(t, a.emu, emulator.DemoManagingTenantID); n != firstTokens {
		t.Errorf("Entra token requests = %d after every call, %d after the first onboarding; want the token cached", n, firstTokens)
	}
}

// entraTokenRequests counts the token requests to the emulator's Entra ID,
// each of which must have succeeded in tenant.
func entraTokenRequests(t *testing.T, emu *emulator.Emulator, tenant string) int {
	t.Helper()
	n := 0
	for _, r := range emu.Requests() {
		if r.Target == emulator.TargetEntra && strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			n++
			if r.Status != http.StatusOK || r.TenantID != tenant {
				t.Errorf("token request %s = %d in tenant %s", r.Path, r.Status, r.TenantID)
			}
		}
	}
	return n
}

func TestE2EIdentityDirect(t *testing.T) {
	t.Parallel()
	adatum, bellows, coho := emulator.DemoDirectAdatumTenantID, emulator.DemoDirectBellowsTenantID, emulator.DemoDirectCohoTenantID
	est := emulator.DemoDirectEstate()
	settings, emuSettings := identitySettings("direct", map[string]string{"PAL_DIRECT_TENANTS": adatum + "," + bellows + "," + coho})
	a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings})
	consentURL := a.emu.AuthorityURL() + coho + "/adminconsent?client_id=" + emulator.DemoAppClientID

	// Adatum: Contributor at the subscription, Contributor from a management
	// group two levels up, nothing on the archive.
	res := a.onboard(onboardingMessage(adatum, emulator.DemoDirectAdatumProduction, emulator.DemoDirectAdatumLanding, emulator.DemoDirectAdatumArchive))
	if want := (pal.Principal{TenantID: adatum, ObjectID: emulator.DemoDirectAdatumObjectID}); res.Principal != want {
		t.Errorf("principal = %+v, want %+v", res.Principal, want)
	}
	wantLinks := []pal.TenantLink{{TenantID: adatum, ObjectID: emulator.DemoDirectAdatumObjectID, LinkResult: pal.LinkResult{Action: pal.LinkCreated, PartnerID: partnerID}}}
	if res.Link != wantLinks[0].LinkResult || !reflect.DeepEqual(res.Links, wantLinks) {
		t.Errorf("link = %+v, links = %+v; want %+v", res.Link, res.Links, wantLinks)
	}
	want := map[string]pal.Status{
		emulator.DemoDirectAdatumProduction: pal.StatusAttributed,
		emulator.DemoDirectAdatumLanding:    pal.StatusAttributed,
		emulator.DemoDirectAdatumArchive:    pal.StatusNotDelegated,
	}
	if got := statusOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("Adatum statuses = %v, want %v", got, want)
	}
	if d := resultFor(t, res, emulator.DemoDirectAdatumLanding).Detail; !strings.Contains(d, "Contributor inherited from /providers/Microsoft.Management/managementGroups/adatum-root") {
		t.Errorf("landing detail = %q, want the inheriting management group", d)
	}
	if r := resultFor(t, res, emulator.DemoDirectAdatumProduction); r.Detail != "" || !reflect.DeepEqual(r.Roles, []string{"Contributor"}) {
		t.Errorf("production = %+v, want Contributor at the subscription, no detail", r)
	}

	// Bellows: Reader only.
	res = a.onboard(onboardingMessage(bellows, emulator.DemoDirectBellowsReporting))
	if r := resultFor(t, res, emulator.DemoDirectBellowsReporting); r.Status != pal.StatusIneligibleRole || !reflect.DeepEqual(r.Roles, []string{"Reader"}) {
		t.Errorf("Bellows = %+v, want ineligible-role with Reader", r)
	}
	if res.Principal.ObjectID != emulator.DemoDirectBellowsObjectID || len(res.Links) != 1 || res.Links[0].Action != pal.LinkCreated {
		t.Errorf("Bellows principal %+v links %+v, want its service principal, link created", res.Principal, res.Links)
	}

	// Coho: no admin consent. Not delegated, with the consent URL; no link.
	res = a.onboard(onboardingMessage(coho, emulator.DemoDirectCohoMain))
	r := resultFor(t, res, emulator.DemoDirectCohoMain)
	if r.Status != pal.StatusNotDelegated || !strings.Contains(r.Detail, consentURL) {
		t.Errorf("Coho = %+v, want not-delegated with %s", r, consentURL)
	}
	if res.Principal != (pal.Principal{TenantID: coho}) || len(res.Links) != 1 || res.Links[0].ObjectID != "" ||
		res.Links[0].Action != pal.LinkNone || !strings.Contains(res.Links[0].Detail, consentURL) {
		t.Errorf("Coho principal %+v links %+v, want no object, no link, the consent URL", res.Principal, res.Links)
	}

	// One link per (customer tenant, the app's service principal there); none
	// for the managed identity or in the managing tenant.
	links := map[string]string{}
	for _, l := range a.emu.Estate().Links {
		links[l.TenantID+"/"+l.ObjectID] = l.PartnerID
	}
	wantEmuLinks := map[string]string{
		adatum + "/" + emulator.DemoDirectAdatumObjectID:   partnerID,
		bellows + "/" + emulator.DemoDirectBellowsObjectID: partnerID,
	}
	if !reflect.DeepEqual(links, wantEmuLinks) {
		t.Errorf("emulator links = %v, want %v", links, wantEmuLinks)
	}

	// links requires the tenant in direct mode.
	ans := a.http("POST", "/api/links", "application/json", `{"subscriptionIds":["`+emulator.DemoDirectAdatumProduction+`"]}`)
	if ans.StatusCode != http.StatusBadRequest || !strings.Contains(string(ans.Body), "tenantId") {
		t.Errorf("links without tenant = %d %s, want 400 naming tenantId", ans.StatusCode, ans.Body)
	}
	ans = a.http("GET", "/api/links?tenantId="+adatum, "", "")
	if ans.StatusCode != http.StatusOK {
		t.Fatalf("GET links = %d %s", ans.StatusCode, ans.Body)
	}
	res = decodeResult(t, ans.Body)
	wantWhole := map[string]pal.Status{emulator.DemoDirectAdatumProduction: pal.StatusAttributed, emulator.DemoDirectAdatumLanding: pal.StatusAttributed}
	if got := statusOf(res); !reflect.DeepEqual(got, wantWhole) || res.Links[0].Action != pal.LinkNone {
		t.Errorf("GET whole tenant = %v links %+v, want %v (the archive is invisible) and no write", got, res.Links, wantWhole)
	}

	// The sweep covers PAL_DIRECT_TENANTS: a link entry per tenant.
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil || inv.Failed {
		t.Fatalf("sweep: %v %v\n%s", err, inv.Err, a.stdout.String())
	}
	res = decodeResult(t, inv.ReturnValue)
	wantSum := map[pal.Status]int{pal.StatusAttributed: 2, pal.StatusIneligibleRole: 1, pal.StatusNotDelegated: 0, pal.StatusUnlinked: 0, pal.StatusUnverifiable: 0, pal.StatusError: 0}
	if !reflect.DeepEqual(res.Summary, wantSum) {
		t.Errorf("sweep summary = %v, want %v", res.Summary, wantSum)
	}
	if res.Principal != (pal.Principal{}) || res.Link.Action != pal.LinkNone {
		t.Errorf("sweep principal %+v link %+v, want empty (read links[])", res.Principal, res.Link)
	}
	got := map[string]string{}
	for _, l := range res.Links {
		got[l.TenantID] = l.ObjectID + " " + string(l.Action) + " " + l.PartnerID
		if l.TenantID == coho && !strings.Contains(l.Detail, consentURL) {
			t.Errorf("Coho sweep link detail = %q, want the consent URL", l.Detail)
		}
	}
	wantSweepLinks := map[string]string{
		adatum:  emulator.DemoDirectAdatumObjectID + " none " + partnerID,
		bellows: emulator.DemoDirectBellowsObjectID + " none " + partnerID,
		coho:    " none ",
	}
	if !reflect.DeepEqual(got, wantSweepLinks) {
		t.Errorf("sweep links = %v, want %v", got, wantSweepLinks)
	}

	// Every ARM call was made as a customer tenant's service principal.
	wantCallers := map[string]bool{
		adatum + "/" + emulator.DemoDirectAdatumObjectID:   true,
		bellows + "/" + emulator.DemoDirectBellowsObjectID: true,
	}
	if got := armCallers(a.emu); !reflect.DeepEqual(got, wantCallers) {
		t.Errorf("ARM callers = %v, want %v", got, wantCallers)
	}
}

// Consent granted while the onboarding message waits for its delegation: the
// message fails (so it is retried) until the consent and the role assignment
// exist, then the subscription is attributed and the link created in Coho.
func TestE2EIdentityDirectConsentDuringWait(t *testing.T) {
	t.Parallel()
	coho := emulator.DemoDirectCohoTenantID
	est := emulator.DemoDirectEstate()
	settings, emuSettings := identitySettings("direct", map[string]string{"PAL_DELEGATION_WAIT": "30m"})
	a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings, maxDeliveryCount: 1})
	body := onboardingMessage(coho, emulator.DemoDirectCohoMain)
	young := &hostsim.MessageOptions{EnqueuedTime: time.Now().Add(-time.Minute)}

	// No consent yet: the invocation fails (the host redelivers it).
	done, dead := a.deliver(body, young)
	if len(done) != 0 || len(dead) != 1 || !strings.Contains(string(dead[0].Result.Body), "not reachable yet: "+emulator.DemoDirectCohoMain) {
		t.Fatalf("before consent: completed %d, dead-lettered %+v; want it failed naming the subscription", len(done), dead)
	}

	// Consent granted, the role assignment not yet there: still waiting.
	oid, err := a.emu.GrantConsent(coho, emulator.DemoAppClientID)
	if err != nil {
		t.Fatal(err)
	}
	done, dead = a.deliver(body, young)
	if len(done) != 0 || len(dead) != 1 {
		t.Fatalf("after consent: completed %d, dead-lettered %d; want it failed (no role yet)", len(done), len(dead))
	}

	// The customer assigns Contributor: the redelivery completes, attributed.
	if _, err := a.emu.AddRoleAssignment(emulator.RoleAssignment{Scope: emulator.SubscriptionScope(emulator.DemoDirectCohoMain), PrincipalID: oid, RoleDefinitionID: emulator.RoleContributor}); err != nil {
		t.Fatal(err)
	}
	done, dead = a.deliver(body, young)
	if len(done) != 1 || len(dead) != 0 {
		t.Fatalf("after the role assignment: completed %d, dead-lettered %+v", len(done), describeDead(dead))
	}
	res := decodeResult(t, done[0].Result.ReturnValue)
	if got := statusOf(res)[emulator.DemoDirectCohoMain]; got != pal.StatusAttributed {
		t.Errorf("status = %q, want attributed", got)
	}
	// The link was created by the attempt right after consent (the link is
	// kept whatever the verdicts); this one finds it.
	if res.Principal.ObjectID != oid || len(res.Links) != 1 || res.Links[0].ObjectID != oid || res.Links[0].PartnerID != partnerID {
		t.Errorf("principal %+v links %+v, want the new service principal %s linked", res.Principal, res.Links, oid)
	}
	if l, ok := a.emu.Link(coho, oid); !ok || l.PartnerID != partnerID {
		t.Errorf("Coho link = %+v (%v), want %s", l, ok, partnerID)
	}
}

// A federated credential that does not trust the managed identity (wrong
// subject): onboarding fails 502 Rejected naming the field to fix (the handler
// schedules no retry; Service Bus redelivers, then dead-letters), links
// answers 502 the same, and nothing is written.
func TestE2EIdentityRejectedAssertion(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"app", "direct"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			est := emulator.DemoAppEstate()
			tenant, sub := demoFabrikam, demoFabProduction
			if mode == "direct" {
				est = emulator.DemoDirectEstate()
				tenant, sub = emulator.DemoDirectAdatumTenantID, emulator.DemoDirectAdatumProduction
			}
			est.Apps[0].FederatedCredentials[0].Subject = "d0000000-0000-4000-8000-00000000000d"
			settings, emuSettings := identitySettings(mode, nil)
			a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings, maxDeliveryCount: 2})

			done, dead := a.deliver(onboardingMessage(tenant, sub), nil)
			if len(done) != 0 || len(dead) != 1 {
				t.Fatalf("completed %d, dead-lettered %d; want it dead-lettered", len(done), len(dead))
			}
			if res := dead[0].Result; res.Status != http.StatusBadGateway || !strings.Contains(string(res.Body), "AADSTS700213") ||
				!strings.Contains(string(res.Body), "subject") {
				t.Errorf("answer = %d %s, want 502 naming AADSTS700213 and the subject", res.Status, res.Body)
			}
			if !a.waitStdout(`"error_code":"Rejected"`) || !strings.Contains(a.stdout.String(), `"status":502`) {
				t.Errorf("no failure line with error_code Rejected and status 502:\n%s", a.stdout.String())
			}
			if strings.Contains(a.stdout.String(), "retry scheduled") {
				t.Errorf("a rejected assertion scheduled a retry")
			}

			ans := a.http("POST", "/api/links", "application/json", onboardingMessage(tenant, sub))
			if ans.StatusCode != http.StatusBadGateway || !strings.Contains(string(ans.Body), "AADSTS700213") {
				t.Errorf("links = %d %s, want 502 naming AADSTS700213", ans.StatusCode, ans.Body)
			}
			if w := a.writes(); len(w) != 0 {
				t.Errorf("writes = %v, want none", w)
			}
			refused := 0
			for _, r := range a.emu.Requests() {
				if r.Target == emulator.TargetEntra && r.ErrorCode == "AADSTS700213" {
					refused++
				}
			}
			if refused == 0 {
				t.Errorf("Entra never refused the assertion; the test does not test it")
			}
		})
	}
}
