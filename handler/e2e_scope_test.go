package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// TestE2EHardeningRecordingScope: the record holds what the identity
// manages. Read-only GETs naming 1,000 made-up subscriptions leave the
// record as it was (Lighthouse), and in direct mode a GET naming a tenant
// that never consented does not add it to the sweep; an onboarding of the
// same does record it. Failed before: each GET left 1,000 permanent
// not-delegated rows, and the direct sweep then covered the unconsented
// tenant (issue 16, D4).
func TestE2EHardeningRecordingScope(t *testing.T) {
	t.Parallel()
	t.Run("lighthouse", func(t *testing.T) {
		t.Parallel()
		a := startApp(t, appOptions{})
		a.onboard(onboardingMessage(tenantA))
		before := len(a.report("").Subscriptions)
		ids := make([]string, pal.MaxSubscriptionIDs)
		for i := range ids {
			ids[i] = fmt.Sprintf("dead%04d-0000-4000-8000-000000000000", i)
		}
		for range 2 {
			ans := a.http("GET", "/api/links?tenantId="+tenantA+"&subscriptionId="+strings.Join(ids, ","), "", "")
			if ans.StatusCode != http.StatusOK {
				t.Fatalf("GET = %d %s", ans.StatusCode, ans.Body)
			}
			if res := decodeResult(t, ans.Body); res.Summary[pal.StatusNotDelegated] != len(ids) {
				t.Errorf("GET summary = %v, want %d not-delegated", res.Summary, len(ids))
			}
		}
		if after := len(a.report("").Subscriptions); after != before {
			t.Errorf("after the GETs the record holds %d subscriptions, want the %d it held", after, before)
		}
	})
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		adatum, coho := emulator.DemoDirectAdatumTenantID, emulator.DemoDirectCohoTenantID
		est := emulator.DemoDirectEstate()
		settings, emuSettings := identitySettings("direct", map[string]string{"PAL_DIRECT_TENANTS": adatum})
		a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings})
		ans := a.http("GET", "/api/links?tenantId="+coho+"&subscriptionId="+emulator.DemoDirectCohoMain, "", "")
		if ans.StatusCode != http.StatusOK {
			t.Fatalf("GET Coho = %d %s", ans.StatusCode, ans.Body)
		}
		if n := len(a.report("").Subscriptions); n != 0 {
			t.Errorf("after a GET of a tenant that never consented the record holds %d subscriptions, want 0", n)
		}
		sweptTenants := func() []string {
			var ts []string
			for _, l := range a.sweep().Links {
				ts = append(ts, l.TenantID)
			}
			return ts
		}
		if got := sweptTenants(); len(got) != 1 || got[0] != adatum {
			t.Errorf("the sweep after the GET covered %v, want only PAL_DIRECT_TENANTS (%s)", got, adatum)
		}
		// An onboarding of Coho records it, and the sweep covers it from then on.
		a.onboard(onboardingMessage(coho, emulator.DemoDirectCohoMain))
		if got := sweptTenants(); len(got) != 2 {
			t.Errorf("the sweep after onboarding Coho covered %v, want Adatum and Coho", got)
		}
	})
}
