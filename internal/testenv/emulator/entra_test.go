package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// fedWorld is an estate with an app trusting a managed identity, fresh IDs each time.
type fedWorld struct {
	home, customer, unconsented, unknown string // tenants
	mi, otherMI, foreignMI               Identity
	// apps: multi-tenant (the one used), single-tenant, without FIC, FIC with another audience
	app, single, noFIC, otherAud string
	spHome, spCustomer           string
	subProd, subMG, subReader    string
	subOther, subUnconsented     string
	mgTop, mgLeaf                string
	userID                       string
}

func newFedWorld() fedWorld {
	g := newGUID
	w := fedWorld{home: g(), customer: g(), unconsented: g(), unknown: g(),
		app: g(), single: g(), noFIC: g(), otherAud: g(), spHome: g(), spCustomer: g(),
		subProd: g(), subMG: g(), subReader: g(), subOther: g(), subUnconsented: g(),
		mgTop: "mg-top-" + randomHex(3), mgLeaf: "mg-leaf-" + randomHex(3), userID: g()}
	w.mi = Identity{ClientID: g(), TenantID: w.home, ObjectID: g(), DisplayName: "func"}
	w.otherMI = Identity{ClientID: g(), TenantID: w.home, ObjectID: g(), DisplayName: "other"}
	w.foreignMI = Identity{ClientID: g(), TenantID: w.customer, ObjectID: g(), DisplayName: "customer's own"}
	return w
}

func (w fedWorld) fic(sub string, aud string) []FederatedCredential {
	return []FederatedCredential{{Issuer: EntraIssuer(w.home), Subject: sub, Audiences: []string{aud}}}
}

func (w fedWorld) estate() Estate {
	return Estate{
		Tenants:    []Tenant{{ID: w.home, Name: "Home MSP"}, {ID: w.customer, Name: "Customer"}, {ID: w.unconsented, Name: "Unconsented"}},
		Identities: []Identity{w.mi, w.otherMI, w.foreignMI},
		Subscriptions: []Subscription{
			{ID: w.subProd, TenantID: w.customer}, {ID: w.subMG, TenantID: w.customer},
			{ID: w.subReader, TenantID: w.customer}, {ID: w.subOther, TenantID: w.customer},
			{ID: w.subUnconsented, TenantID: w.unconsented},
		},
		Apps: []App{
			{AppID: w.app, HomeTenantID: w.home, MultiTenant: true, DisplayName: "pal", FederatedCredentials: w.fic(w.mi.ObjectID, TokenExchangeAudience)},
			{AppID: w.single, HomeTenantID: w.home, DisplayName: "single", FederatedCredentials: w.fic(w.mi.ObjectID, TokenExchangeAudience)},
			{AppID: w.noFIC, HomeTenantID: w.home, MultiTenant: true, DisplayName: "nofic"},
			{AppID: w.otherAud, HomeTenantID: w.home, DisplayName: "usgov", FederatedCredentials: w.fic(w.mi.ObjectID, "api://AzureADTokenExchangeUSGov")},
		},
		ServicePrincipals: []ServicePrincipal{
			{TenantID: w.home, AppID: w.app, ObjectID: w.spHome},
			{TenantID: w.customer, AppID: w.app, ObjectID: w.spCustomer},
			{TenantID: w.home, AppID: w.single}, {TenantID: w.home, AppID: w.noFIC}, {TenantID: w.home, AppID: w.otherAud},
			{TenantID: w.customer, AppID: w.noFIC},
		},
		ManagementGroups: []ManagementGroup{
			{ID: w.mgTop, TenantID: w.customer},
			{ID: w.mgLeaf, TenantID: w.customer, ParentID: w.mgTop, Subscriptions: []string{w.subMG}},
		},
		RoleAssignments: []RoleAssignment{
			{Scope: SubscriptionScope(w.subProd), PrincipalID: w.spCustomer, RoleDefinitionID: RoleContributor},
			{Scope: ManagementGroupScope(w.mgTop), PrincipalID: w.spCustomer, RoleDefinitionID: RoleOwner},
			{Scope: SubscriptionScope(w.subReader), PrincipalID: w.spCustomer, RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + RoleReader},
			{Scope: SubscriptionScope(w.subProd), PrincipalID: w.userID, PrincipalType: PrincipalUser, RoleDefinitionID: RoleOwner},
			{Scope: SubscriptionScope(w.subOther), PrincipalID: w.userID, PrincipalType: PrincipalUser, RoleDefinitionID: RoleOwner},
		},
	}
}

// guard is a transport that lets only loopback requests through (to the
// emulator) and records every URL asked for.
type guard struct {
	next *http.Client
	mu   sync.Mutex
	urls []string
}

func (g *guard) Do(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.urls = append(g.urls, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	g.mu.Unlock()
	if h := r.URL.Hostname(); h != "127.0.0.1" && h != "::1" && h != "localhost" {
		return nil, errors.New("guard: refused a request off loopback to " + r.URL.Host)
	}
	return g.next.Do(r)
}

func (g *guard) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.urls...)
}

// assertionCred is the product's chain: the managed identity's token for the
// token-exchange audience is the client assertion of app in tenant.
func assertionCred(t *testing.T, e *Emulator, mi azcore.TokenCredential, tenant, app string, tr policy.Transporter, disableDiscovery bool) *azidentity.ClientAssertionCredential {
	t.Helper()
	cred, err := azidentity.NewClientAssertionCredential(tenant, app, func(ctx context.Context) (string, error) {
		tok, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{TokenExchangeAudience + "/.default"}})
		return tok.Token, err
	}, &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityURL()},
			Transport: tr,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: disableDiscovery,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func miCred(t *testing.T, e *Emulator, clientID string) azcore.TokenCredential {
	t.Helper()
	t.Setenv("IDENTITY_ENDPOINT", e.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", e.IdentityHeader())
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(clientID)})
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

const armScope = "https://management.azure.com/.default"

func TestExchangeTokenOfManagedIdentity(t *testing.T) {
	w := newFedWorld()
	e := start(t, w.estate(), nil)
	mi := miCred(t, e, w.mi.ClientID)
	tok, err := mi.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{TokenExchangeAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	c := decodeClaims(t, tok.Token)
	want := map[string]any{"aud": TokenExchangeAppID, "iss": EntraIssuer(w.home), "sub": w.mi.ObjectID, "oid": w.mi.ObjectID, "tid": w.home, "ver": "2.0", "idtyp": "app", "azp": w.mi.ClientID}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
}

func TestClientAssertionCredentialEndToEnd(t *testing.T) {
	w := newFedWorld()
	e := start(t, w.estate(), nil)
	mi := miCred(t, e, w.mi.ClientID)
	g := &guard{next: e.HTTPClient()}
	ctx := context.Background()

	for _, tc := range []struct{ tenant, wantOID string }{{w.home, w.spHome}, {w.customer, w.spCustomer}} {
		cred := assertionCred(t, e, mi, tc.tenant, w.app, g, true)
		for _, scope := range []string{armScope, "https://management.core.windows.net//.default"} {
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				t.Fatalf("GetToken(%s, %s): %v", tc.tenant, scope, err)
			}
			c := decodeClaims(t, tok.Token)
			if c["tid"] != tc.tenant || c["oid"] != tc.wantOID || c["appid"] != w.app || c["idtyp"] != "app" ||
				c["aud"] != strings.TrimSuffix(scope, "/.default") || c["iss"] != "https://sts.windows.net/"+tc.tenant+"/" {
				t.Errorf("claims %v, want tid %s oid %s appid %s aud %s", c, tc.tenant, tc.wantOID, w.app, scope)
			}
			if d := time.Until(tok.ExpiresOn); d < 50*time.Minute || d > 61*time.Minute {
				t.Errorf("token expires in %v, want about an hour", d)
			}
		}
	}
	for _, u := range g.seen() {
		if strings.Contains(u, "discovery/instance") || !strings.HasPrefix(u, "https://127.0.0.1:") {
			t.Errorf("the credential asked for %s", u)
		}
	}
	var sawDiscovery, sawToken bool
	for _, r := range e.Requests() {
		if r.Target != TargetEntra {
			continue
		}
		sawDiscovery = sawDiscovery || strings.HasSuffix(r.Path, "/v2.0/.well-known/openid-configuration")
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") && r.Status == 200 {
			sawToken = true
			if r.ObjectID == "" || r.Query.Get("client_assertion") != "" {
				t.Errorf("token request recorded as %+v", r)
			}
		}
	}
	if !sawDiscovery || !sawToken {
		t.Errorf("Entra requests: discovery %v, token %v; want both", sawDiscovery, sawToken)
	}
}

func TestInstanceDiscoveryIsNotUsed(t *testing.T) {
	w := newFedWorld()
	e := start(t, w.estate(), nil)
	mi := miCred(t, e, w.mi.ClientID)
	g := &guard{next: e.HTTPClient()}
	cred := assertionCred(t, e, mi, w.home, w.app, g, false) // misconfigured: instance discovery on
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}}); err == nil {
		t.Fatal("GetToken with instance discovery succeeded")
	}
	seen := g.seen()
	if len(seen) == 0 || seen[0] != "https://login.microsoftonline.com/common/discovery/instance" {
		t.Errorf("requests %v, want the public instance discovery first (refused by the guard)", seen)
	}
	for _, r := range e.Requests() {
		if r.Target == TargetEntra {
			t.Errorf("the misconfigured credential reached the emulator: %s %s", r.Method, r.Path)
		}
	}
	// Asked directly, the emulator refuses instance discovery.
	resp, err := e.HTTPClient().Get(e.AuthorityURL() + "common/discovery/instance?api-version=1.1&authorization_endpoint=x")
	if err != nil {
		t.Fatal(err)
	}
	if got := readEntraError(t, resp); resp.StatusCode != 400 || got.ErrorCodes[0] != 50049 {
		t.Errorf("instance discovery: %d %+v, want 400 AADSTS50049", resp.StatusCode, got)
	}
}

func readEntraError(t *testing.T, resp *http.Response) entraError {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var x entraError
	if err := json.Unmarshal(b, &x); err != nil || len(x.ErrorCodes) != 1 {
		t.Fatalf("body %s is not an Entra error: %v", b, err)
	}
	return x
}

// forge re-encodes a token the emulator issued with changed claims (the
// emulator's signature does not cover the payload; Entra's would).
func forge(t *testing.T, tok string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	c := decodeClaims(t, tok)
	change(c)
	b, _ := json.Marshal(c)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

func TestTokenEndpointRefusals(t *testing.T) {
	w := newFedWorld()
	e := start(t, w.estate(), nil)
	exch := func(id Identity) string {
		tok, _, err := e.Token(id.ClientID, TokenExchangeAudience)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := exch(w.mi)
	form := func(tenant, app, assertion, scope string) (string, url.Values) {
		return tenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {app}, "client_assertion_type": {ClientAssertionType},
			"client_assertion": {assertion}, "scope": {scope + " openid offline_access profile"}, "client_info": {"1"}}
	}
	armTok := armToken(t, e, w.mi.ClientID)
	type tc struct {
		name       string
		tenant     string
		f          url.Values
		wantStatus int
		wantErr    string
		wantCode   int
	}
	var cases []tc
	add := func(name string, status int, oauthErr string, code int, tenant string, f url.Values) {
		cases = append(cases, tc{name, tenant, f, status, oauthErr, code})
	}
	t1, f1 := form(w.unknown, w.app, good, armScope)
	add("unknown tenant", 400, "invalid_tenant", 90002, t1, f1)
	t1, f1 = form(w.unconsented, w.app, good, armScope)
	add("no service principal in the tenant (no consent)", 400, "unauthorized_client", 700016, t1, f1)
	t1, f1 = form(w.customer, w.single, good, armScope)
	add("single-tenant app outside its home tenant", 400, "unauthorized_client", 700016, t1, f1)
	t1, f1 = form(w.home, newGUID(), good, armScope)
	add("unknown app", 400, "unauthorized_client", 700016, t1, f1)
	t1, f1 = form(w.customer, w.noFIC, good, armScope)
	add("app without federated credentials", 401, "invalid_client", 70025, t1, f1)
	t1, f1 = form(w.home, w.app, exch(w.foreignMI), armScope)
	add("issuer of another tenant", 401, "invalid_client", 700211, t1, f1)
	t1, f1 = form(w.home, w.app, armTok, armScope)
	add("a v1 ARM token as assertion (issuer sts.windows.net)", 401, "invalid_client", 700211, t1, f1)
	t1, f1 = form(w.home, w.otherAud, good, armScope)
	add("audience not the credential's", 401, "invalid_client", 700212, t1, f1)
	t1, f1 = form(w.home, w.app, exch(w.otherMI), armScope)
	add("another identity (subject)", 401, "invalid_client", 700213, t1, f1)
	t1, f1 = form(w.home, w.app, forge(t, good, func(c map[string]any) { c["sub"] = strings.ToUpper(w.mi.ObjectID) }), armScope)
	add("subject matched case-sensitively", 401, "invalid_client", 700213, t1, f1)
	t1, f1 = form(w.home, w.app, forge(t, good, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), armScope)
	add("expired assertion", 401, "invalid_client", 700024, t1, f1)
	t1, f1 = form(w.home, w.app, strings.TrimSuffix(good, e.TokenMarker())+"c2lnbmF0dXJl", armScope)
	add("signature not the issuer's", 401, "invalid_client", 700027, t1, f1)
	t1, f1 = form(w.home, w.app, "not-a-jwt", armScope)
	add("malformed assertion", 400, "invalid_request", 50027, t1, f1)
	t1, f1 = form(w.home, w.app, "", armScope)
	add("no assertion", 401, "invalid_client", 7000218, t1, f1)
	t1, f1 = form(w.home, w.app, good, "https://vault.azure.net/.default")
	add("a resource other than ARM and Graph", 400, "invalid_resource", 500011, t1, f1)
	t1, f1 = form(w.home, w.app, good, "https://management.azure.com/user_impersonation")
	add("scope without /.default", 400, "invalid_scope", 1002012, t1, f1)
	t1, f1 = form(w.home, w.app, good, armScope)
	f1.Set("grant_type", "password")
	add("another grant", 400, "unsupported_grant_type", 70003, t1, f1)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := e.HTTPClient().PostForm(e.AuthorityURL()+c.tenant+"/oauth2/v2.0/token", c.f)
			if err != nil {
				t.Fatal(err)
			}
			got := readEntraError(t, resp)
			if resp.StatusCode != c.wantStatus || got.Error != c.wantErr || got.ErrorCodes[0] != c.wantCode {
				t.Errorf("got %d %s %v, want %d %s %d (%s)", resp.StatusCode, got.Error, got.ErrorCodes, c.wantStatus, c.wantErr, c.wantCode, got.ErrorDescription)
			}
			if !strings.HasPrefix(got.ErrorDescription, "AADSTS") || !strings.Contains(got.ErrorDescription, "Trace ID: "+got.TraceID) ||
				got.CorrelationID == "" || got.Timestamp == "" {
				t.Errorf("error body %+v lacks Entra's fields", got)
			}
			if strings.Contains(got.ErrorDescription, e.TokenMarker()) {
				t.Error("the answer holds the assertion")
			}
		})
	}

	t.Run("consent granted at runtime", func(t *testing.T) {
		oid, err := e.GrantConsent(w.unconsented, w.app)
		if err != nil || oid != ServicePrincipalObjectID(w.unconsented, w.app) {
			t.Fatalf("GrantConsent = %s, %v", oid, err)
		}
		tn, f := form(w.unconsented, w.app, good, armScope)
		resp, err := e.HTTPClient().PostForm(e.AuthorityURL()+tn+"/oauth2/v2.0/token", f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int    `json:"expires_in"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ok); err != nil || resp.StatusCode != 200 || ok.TokenType != "Bearer" || ok.ExpiresIn <= 0 {
			t.Fatalf("after consent: %d %+v %v", resp.StatusCode, ok, err)
		}
		if c := decodeClaims(t, ok.AccessToken); c["oid"] != oid || c["tid"] != w.unconsented {
			t.Errorf("claims %v", c)
		}
		if _, err := e.GrantConsent(w.customer, w.single); err == nil {
			t.Error("consent to a single-tenant app in another tenant was granted")
		}
		if !e.RevokeConsent(w.unconsented, w.app) {
			t.Error("RevokeConsent found no service principal")
		}
	})
}

// TestAssertionRefusedThroughAzidentity checks the refusal reaches azidentity's caller with its code.
func TestAssertionRefusedThroughAzidentity(t *testing.T) {
	w := newFedWorld()
	e := start(t, w.estate(), nil)
	mi := miCred(t, e, w.otherMI.ClientID) // not the identity the app trusts
	cred := assertionCred(t, e, mi, w.home, w.app, e.HTTPClient(), true)
	_, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 401 || !strings.Contains(err.Error(), "AADSTS700213") {
		t.Fatalf("GetToken error = %v, want AuthenticationFailedError 401 AADSTS700213", err)
	}
	if strings.Contains(err.Error(), e.TokenMarker()) {
		t.Error("the error holds the assertion")
	}
}

func TestNewRejectsBadDirectory(t *testing.T) {
	w := newFedWorld()
	tooMany := make([]FederatedCredential, MaxFederatedCredentials+1)
	for i := range tooMany {
		tooMany[i] = FederatedCredential{Issuer: EntraIssuer(w.home), Subject: newGUID(), Audiences: []string{TokenExchangeAudience}}
	}
	tests := map[string]func(*Estate){
		"21 federated credentials": func(e *Estate) { e.Apps[0].FederatedCredentials = tooMany },
		"credential trusting another tenant's identity": func(e *Estate) {
			e.Apps[0].FederatedCredentials[0].Issuer = EntraIssuer(w.customer)
		},
		"two audiences": func(e *Estate) { e.Apps[0].FederatedCredentials[0].Audiences = []string{TokenExchangeAudience, "x"} },
		"service principal of an unknown app": func(e *Estate) {
			e.ServicePrincipals = append(e.ServicePrincipals, ServicePrincipal{TenantID: w.customer, AppID: newGUID()})
		},
		"single-tenant app consented elsewhere": func(e *Estate) {
			e.ServicePrincipals = append(e.ServicePrincipals, ServicePrincipal{TenantID: w.customer, AppID: w.single})
		},
		"assignment at an unknown scope": func(e *Estate) {
			e.RoleAssignments = append(e.RoleAssignments, RoleAssignment{Scope: "/subscriptions/" + newGUID(), PrincipalID: w.spCustomer, RoleDefinitionID: RoleReader})
		},
		"management group with another tenant's subscription": func(e *Estate) {
			e.ManagementGroups[0].Subscriptions = []string{w.subUnconsented}
		},
		"management group cycle": func(e *Estate) { e.ManagementGroups[0].ParentID = w.mgLeaf },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			est := w.estate()
			mutate(&est)
			if e, err := New(est, nil); err == nil {
				e.Close()
				t.Fatal("New accepted the estate")
			}
		})
	}
	est := w.estate()
	est.Apps[0].FederatedCredentials = tooMany[:MaxFederatedCredentials]
	e, err := New(est, nil)
	if err != nil {
		t.Fatalf("New with 20 federated credentials: %v", err)
	}
	e.Close()
}
