package emulator

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
	"github.com/rs/zerolog"
)

type listedAssignment struct{ scope, principal, role, principalType string }

func listAssignments(ctx context.Context, cred azcore.TokenCredential, e *Emulator, sub, filter string) ([]listedAssignment, error) {
	c, err := armauthorization.NewRoleAssignmentsClient(sub, cred, clientOptions(e))
	if err != nil {
		return nil, err
	}
	opts := &armauthorization.RoleAssignmentsClientListForScopeOptions{}
	if filter != "" {
		opts.Filter = to.Ptr(filter)
	}
	var out []listedAssignment
	for p := c.NewListForScopePager("subscriptions/"+sub, opts); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ra := range page.Value {
			out = append(out, listedAssignment{*ra.Properties.Scope, *ra.Properties.PrincipalID, *ra.Properties.RoleDefinitionID, string(*ra.Properties.PrincipalType)})
		}
	}
	return out, nil
}

func listSubscriptionIDs(ctx context.Context, t *testing.T, cred azcore.TokenCredential, e *Emulator) []string {
	t.Helper()
	c, err := armsubscriptions.NewClient(cred, clientOptions(e))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := c.NewListPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("subscriptions: %v", err)
		}
		for _, s := range page.Value {
			got = append(got, *s.SubscriptionID)
		}
	}
	slices.Sort(got)
	return got
}

func statusOf(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// TestDirectModeThroughSDK drives direct mode as the product does: the app's
// token in the customer tenant, then subscriptions and role assignments there.
func TestDirectModeThroughSDK(t *testing.T) {
	var logs bytes.Buffer
	logger := zerolog.New(zerolog.SyncWriter(&logs)).Level(zerolog.DebugLevel)
	w := newFedWorld()
	est := w.estate()
	est.PageSize = 1 // every list pages
	e := start(t, est, &Options{Logger: &logger})
	mi := miCred(t, e, w.mi.ClientID)
	cred := assertionCred(t, e, mi, w.customer, w.app, e.HTTPClient(), true)
	ctx := context.Background()

	t.Run("subscriptions are those with a role assignment, inherited ones included", func(t *testing.T) {
		want := []string{w.subProd, w.subMG, w.subReader}
		slices.Sort(want)
		if got := listSubscriptionIDs(ctx, t, cred, e); !slices.Equal(got, want) {
			t.Errorf("listed %v, want %v", got, want)
		}
		c, _ := armsubscriptions.NewClient(cred, clientOptions(e))
		if _, err := c.Get(ctx, w.subMG, nil); err != nil {
			t.Errorf("Get of the inherited subscription: %v", err)
		}
		_, err := c.Get(ctx, w.subOther, nil)
		if st, code := statusOf(err); st != 403 || code != "AuthorizationFailed" {
			t.Errorf("Get without a role: %d %s, want 403 AuthorizationFailed", st, code)
		}
		_, err = c.Get(ctx, w.subUnconsented, nil)
		if st, code := statusOf(err); st != 401 || code != "InvalidAuthenticationTokenTenant" {
			t.Errorf("Get in another tenant: %d %s, want 401 InvalidAuthenticationTokenTenant", st, code)
		}
	})

	sp := w.spCustomer
	roleID := func(sub, role string) string {
		return "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + role
	}
	tests := []struct {
		name, sub, filter string
		want              []listedAssignment
	}{
		{"assignedTo, encoded", w.subProd, url.QueryEscape("assignedTo('" + sp + "')"),
			[]listedAssignment{{SubscriptionScope(w.subProd), sp, roleID(w.subProd, RoleContributor), "ServicePrincipal"}}},
		{"principalId eq, encoded", w.subProd, url.QueryEscape("principalId eq '" + sp + "'"),
			[]listedAssignment{{SubscriptionScope(w.subProd), sp, roleID(w.subProd, RoleContributor), "ServicePrincipal"}}},
		{"atScope() and assignedTo, %20-encoded", w.subProd, strings.ReplaceAll(url.PathEscape("atScope() and assignedTo('"+sp+"')"), "'", "%27"),
			[]listedAssignment{{SubscriptionScope(w.subProd), sp, roleID(w.subProd, RoleContributor), "ServicePrincipal"}}},
		{"inherited from a management group two levels up", w.subMG, url.QueryEscape("assignedTo('" + sp + "')"),
			[]listedAssignment{{ManagementGroupScope(w.mgTop), sp, roleID(w.subMG, RoleOwner), "ServicePrincipal"}}},
		{"Reader only", w.subReader, url.QueryEscape("assignedTo('" + sp + "')"),
			[]listedAssignment{{SubscriptionScope(w.subReader), sp, roleID(w.subReader, RoleReader), "ServicePrincipal"}}},
		{"no filter lists everyone's", w.subProd, "", nil},
		{"atScope()", w.subProd, url.QueryEscape("atScope()"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listAssignments(ctx, cred, e, tc.sub, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(got) != 2 || !slices.ContainsFunc(got, func(a listedAssignment) bool { return a.principal == w.userID && a.principalType == "User" }) {
					t.Errorf("got %v, want the app's and the user's", got)
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("a filter that is not URL-encoded is refused with 400", func(t *testing.T) {
		_, err := listAssignments(ctx, cred, e, w.subProd, "principalId eq '"+sp+"'")
		if st, _ := statusOf(err); st != 400 {
			t.Errorf("raw spaces: %v, want a 400 answer", err)
		}
	})
	t.Run("unsupported filters are refused with 400 UnsupportedQuery", func(t *testing.T) {
		for _, f := range []string{"atScope() and principalId eq '" + sp + "'", "roleDefinitionId eq '" + RoleReader + "'", "assignedTo(" + sp + ")"} {
			_, err := listAssignments(ctx, cred, e, w.subProd, url.QueryEscape(f))
			if st, code := statusOf(err); st != 400 || code != "UnsupportedQuery" {
				t.Errorf("%s: %d %s, want 400 UnsupportedQuery", f, st, code)
			}
		}
	})
	t.Run("a role without Microsoft.Authorization/roleAssignments/read may not list", func(t *testing.T) {
		id, err := e.AddRoleAssignment(RoleAssignment{Scope: SubscriptionScope(w.subOther), PrincipalID: sp, RoleDefinitionID: RoleStorageBlobDataReader})
		if err != nil {
			t.Fatal(err)
		}
		defer e.RemoveRoleAssignment(id)
		_, err = listAssignments(ctx, cred, e, w.subOther, url.QueryEscape("assignedTo('"+sp+"')"))
		if st, code := statusOf(err); st != 403 || code != "AuthorizationFailed" {
			t.Errorf("listing: %d %s, want 403 AuthorizationFailed", st, code)
		}
	})
	t.Run("the link is the service principal's in the customer tenant", func(t *testing.T) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{armScope}})
		if err != nil {
			t.Fatal(err)
		}
		if a := call(t, e, "PUT", partnersPath+"/"+DemoPartnerID+"?api-version=2018-02-01", tok.Token); a.status != 200 {
			t.Fatalf("PUT link: %d %s", a.status, a.body)
		}
		if l, ok := e.Link(w.customer, sp); !ok || l.PartnerID != DemoPartnerID {
			t.Errorf("link of (customer, service principal) = %+v, %v", l, ok)
		}
		if _, ok := e.Link(w.home, w.spHome); ok {
			t.Error("the home tenant's service principal got a link too")
		}
	})
	e.Close()
	if strings.Contains(logs.String(), e.TokenMarker()) {
		t.Fatal("a token or assertion reached the emulator's log")
	}
	if !strings.Contains(logs.String(), `"target":"entra"`) {
		t.Error("Entra requests are not logged")
	}
}

// TestDemoIdentityEstates checks the demo estates do what their docs say.
func TestDemoIdentityEstates(t *testing.T) {
	ctx := context.Background()
	t.Run("app", func(t *testing.T) {
		est := DemoAppEstate()
		est.Identities[0].ClientID = newGUID() // MSAL caches managed identity tokens process-wide by client ID
		e := start(t, est, nil)
		mi := miCred(t, e, est.Identities[0].ClientID)
		cred := assertionCred(t, e, mi, DemoManagingTenantID, DemoAppClientID, e.HTTPClient(), true)
		got := listSubscriptionIDs(ctx, t, cred, e)
		lh := start(t, DemoEstate(), nil)
		want := listSubscriptionIDs(ctx, t, lh.Credential(DemoClientID), lh)
		if !slices.Equal(got, want) || len(got) != 9 {
			t.Errorf("the app reaches %v, the identity in DemoEstate %v", got, want)
		}
		if _, err := assertionCred(t, e, mi, DemoDirectAdatumTenantID, DemoAppClientID, e.HTTPClient(), true).
			GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{armScope}}); err == nil || !strings.Contains(err.Error(), "AADSTS90002") {
			t.Errorf("a tenant the estate does not know: %v", err)
		}
	})
	t.Run("direct", func(t *testing.T) {
		est := DemoDirectEstate()
		est.Identities[0].ClientID = newGUID()
		e := start(t, est, nil)
		mi := miCred(t, e, est.Identities[0].ClientID)
		for tenant, want := range map[string][]string{
			DemoDirectAdatumTenantID:  {DemoDirectAdatumProduction, DemoDirectAdatumLanding},
			DemoDirectBellowsTenantID: {DemoDirectBellowsReporting},
		} {
			cred := assertionCred(t, e, mi, tenant, DemoAppClientID, e.HTTPClient(), true)
			if got := listSubscriptionIDs(ctx, t, cred, e); !slices.Equal(got, want) {
				t.Errorf("tenant %s: %v, want %v", tenant, got, want)
			}
		}
		cred := assertionCred(t, e, mi, DemoDirectAdatumTenantID, DemoAppClientID, e.HTTPClient(), true)
		got, err := listAssignments(ctx, cred, e, DemoDirectAdatumLanding, url.QueryEscape("assignedTo('"+DemoDirectAdatumObjectID+"')"))
		if err != nil || len(got) != 1 || got[0].scope != ManagementGroupScope("adatum-root") {
			t.Errorf("Adatum Landing assignments %v, %v; want one from adatum-root", got, err)
		}
		_, err = assertionCred(t, e, mi, DemoDirectCohoTenantID, DemoAppClientID, e.HTTPClient(), true).
			GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{armScope}})
		if err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
			t.Errorf("Coho without consent: %v, want AADSTS700016", err)
		}
	})
}
