package azure

import (
	"context"
	"net/http"
	"testing"
)

// The shapes of the specification's example (GetTenants.json, 2022-12-01).
const (
	tenantManagedBy = `{"id":"/tenants/a70a1586-9c4a-4373-b907-1d310660dbd1","tenantId":"a70a1586-9c4a-4373-b907-1d310660dbd1","countryCode":"US","displayName":"Test_Test_aad50","domains":["aad50.ccsctp.net"],"tenantCategory":"ManagedBy","defaultDomain":"aad50.ccsctp.net","tenantType":"AAD"}`
	tenantHome      = `{"id":"/tenants/83abe5cd-bcc3-441a-bd86-e6a75360cecc","tenantId":"83abe5cd-bcc3-441a-bd86-e6a75360cecc","countryCode":"US","displayName":"Contoso Corp.","domains":["auxteststagemanual.ccsctp.net"],"tenantCategory":"Home","defaultDomain":"auxteststagemanual.ccsctp.net","tenantType":"AAD"}`
	tenantProjected = `{"id":"/tenants/DAEA2E9B-847B-4C93-850D-2AA6F2D7AF33","tenantId":"DAEA2E9B-847B-4C93-850D-2AA6F2D7AF33","countryCode":"US","displayName":"TEST_TEST_RDV","domains":["rdvmohoro.ccsctp.net","rdvmohoro.mail.ccsctp.net","rdvmohoro.com"],"tenantCategory":"ProjectedBy","defaultDomain":"rdvmohoro.ccsctp.net","tenantType":"AAD","tenantBrandingLogoUrl":"logo1.logo.rdvmohoro.com"}`
)

func TestListTenants(t *testing.T) {
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tenants" {
			armError(w, 404, "NotFound", "no")
			return
		}
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, `{"value":[`+tenantManagedBy+`,`+tenantHome+`],"nextLink":"`+at.srv.URL+`/tenants?api-version=2022-12-01&$skiptoken=2"}`)
		case "2":
			writeJSON(w, 200, `{"value":[`+tenantProjected+`,{"tenantCategory":"ProjectedBy"}]}`)
		}
	}, nil)
	got, more, err := at.clients.Tenants.ListTenants(context.Background(), 0)
	if err != nil || more {
		t.Fatalf("ListTenants: %v (more %v)", err, more)
	}
	want := []Tenant{
		{ID: "a70a1586-9c4a-4373-b907-1d310660dbd1", Category: TenantManagedBy, DisplayName: "Test_Test_aad50", DefaultDomain: "aad50.ccsctp.net"},
		{ID: "83abe5cd-bcc3-441a-bd86-e6a75360cecc", Category: TenantHome, DisplayName: "Contoso Corp.", DefaultDomain: "auxteststagemanual.ccsctp.net"},
		{ID: "daea2e9b-847b-4c93-850d-2aa6f2d7af33", Category: TenantProjectedBy, DisplayName: "TEST_TEST_RDV", DefaultDomain: "rdvmohoro.ccsctp.net"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v (an entry without an ID is dropped)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tenant %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	reqs := at.requests()
	if len(reqs) != 2 || reqs[0].Query.Get("api-version") != "2022-12-01" {
		t.Errorf("requests %+v, want 2 at api-version 2022-12-01", reqs)
	}
	// A limit stops the listing after the page that reaches it.
	got, more, err = at.clients.Tenants.ListTenants(context.Background(), 1)
	if err != nil || !more || len(got) != 1 || len(at.requests()) != 3 {
		t.Errorf("limit 1: got %d tenants, more %v, %v, %d requests", len(got), more, err, len(at.requests()))
	}
}

func TestListTenantsError(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		armError(w, 403, "AuthorizationFailed", "no")
	}, nil)
	if _, _, err := at.clients.Tenants.ListTenants(context.Background(), 0); err == nil {
		t.Fatal("no error for a 403")
	}
}
