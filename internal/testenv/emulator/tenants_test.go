package emulator

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// TestTenants lists the tenants as the demo's function identity sees them,
// page by page: its home tenant and the four customers that delegate to it,
// Woodgrove through a group the identity is a member of (Litware's delegation
// names other principals, so Litware is not projected).
func TestTenants(t *testing.T) {
	est := DemoEstate()
	est.PageSize = 2
	e := start(t, est, nil)
	tok := armToken(t, e, "")
	a := call(t, e, "GET", "/tenants?api-version=2022-12-01", tok)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var first listJSON[tenantJSON]
	if err := json.Unmarshal(a.body, &first); err != nil {
		t.Fatal(err)
	}
	if len(first.Value) != 2 || first.NextLink == "" {
		t.Fatalf("first page %+v, want 2 tenants and a nextLink", first)
	}

	// Through the SDK, every page.
	client, err := armsubscriptions.NewTenantsClient(staticToken(tok), clientOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	pages := 0
	for pager := client.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tn := range page.Value {
			got[*tn.DisplayName] = string(*tn.TenantCategory) + " " + *tn.DefaultDomain
		}
	}
	wantAll := map[string]string{
		"Contoso MSP":       "Home contosomsp.onmicrosoft.com",
		"Fabrikam":          "ProjectedBy fabrikam.onmicrosoft.com",
		"Northwind Traders": "ProjectedBy northwindtraders.onmicrosoft.com",
		"Tailspin Toys":     "ProjectedBy tailspintoys.onmicrosoft.com",
		"Woodgrove Bank":    "ProjectedBy woodgrovebank.onmicrosoft.com",
	}
	if len(got) != len(wantAll) || pages != 3 {
		t.Errorf("got %v in %d pages, want %v in 3", got, pages, wantAll)
	}
	for k, v := range wantAll {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if a := call(t, e, "GET", "/tenants", tok); a.status != 400 || a.code(t) != "MissingApiVersionParameter" {
		t.Errorf("no api-version: %d %s", a.status, a.body)
	}
}

// TestTenantsUnnamed: a tenant the estate does not name has no display name.
func TestTenantsUnnamed(t *testing.T) {
	est := DemoEstate()
	est.Tenants = est.Tenants[:1] // the managing tenant only
	e := start(t, est, nil)
	a := call(t, e, "GET", "/tenants?api-version=2022-12-01", armToken(t, e, ""))
	var l listJSON[tenantJSON]
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Value) < 4 {
		t.Fatalf("got %d tenants, want the home tenant and the customers", len(l.Value))
	}
	for _, tn := range l.Value {
		if tn.TenantCategory == "ProjectedBy" && tn.DisplayName != "" {
			t.Errorf("unnamed tenant %+v", tn)
		}
	}
}

// staticToken is a credential handing out one token the emulator issued.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}
