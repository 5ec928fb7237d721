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

// TestTenants lists the tenants as the demo's function identity sees them:
// its home tenant and the three customers that delegate to it (Litware's
// delegation names other principals, so Litware is not projected), in the
// shapes of the specification's GetTenants example.
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
	home := first.Value[0]
	want := tenantJSON{ID: "/tenants/" + DemoManagingTenantID, TenantID: DemoManagingTenantID, CountryCode: "US",
		DisplayName: "Contoso MSP", Domains: []string{"contosomsp.onmicrosoft.com"}, TenantCategory: "Home",
		DefaultDomain: "contosomsp.onmicrosoft.com", TenantType: "AAD"}
	if b, w := mustJSON(t, home), mustJSON(t, want); b != w {
		t.Errorf("home tenant\n got %s\nwant %s", b, w)
	}

	// Through the SDK, every page.
	client, err := armsubscriptions.NewTenantsClient(staticToken(tok), clientOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for pager := client.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range page.Value {
			got[*tn.DisplayName] = string(*tn.TenantCategory) + " " + *tn.DefaultDomain
		}
	}
	wantAll := map[string]string{
		"Contoso MSP":       "Home contosomsp.onmicrosoft.com",
		"Fabrikam":          "ProjectedBy fabrikam.onmicrosoft.com",
		"Northwind Traders": "ProjectedBy northwindtraders.onmicrosoft.com",
		"Tailspin Toys":     "ProjectedBy tailspintoys.onmicrosoft.com",
	}
	if len(got) != len(wantAll) {
		t.Errorf("got %v, want %v", got, wantAll)
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

// TestTenantsUnnamed: a tenant the estate does not name is listed by ID only.
func TestTenantsUnnamed(t *testing.T) {
	est := DemoEstate()
	est.Tenants = est.Tenants[:1] // the managing tenant only
	e := start(t, est, nil)
	a := call(t, e, "GET", "/tenants?api-version=2022-12-01", armToken(t, e, ""))
	var l listJSON[tenantJSON]
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Value) != 4 {
		t.Fatalf("got %d tenants, want 4", len(l.Value))
	}
	for _, tn := range l.Value[1:] {
		if tn.DisplayName != "" || tn.DefaultDomain != "" || tn.TenantCategory != "ProjectedBy" || tn.TenantType != "" {
			t.Errorf("unnamed tenant %+v", tn)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// staticToken is a credential handing out one token the emulator issued.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}
