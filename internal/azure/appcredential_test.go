package azure

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	testApp      = "0a0a0a0a-1111-2222-3333-444444444444"
	testCustomer = "c0c0c0c0-1111-2222-3333-444444444444"
	testSP       = "5e5e5e5e-1111-2222-3333-444444444444"
)

// entraTest is an HTTPS stand-in for Entra ID: the tenant discovery document
// MSAL reads and a token endpoint answering with answer(tenant, form).
type entraTest struct {
	srv *httptest.Server

	mu    sync.Mutex
	forms []url.Values
	paths []string
}

func newEntraTest(t *testing.T, answer func(w http.ResponseWriter, tenant string, form url.Values)) *entraTest {
	t.Helper()
	et := &entraTest{}
	et.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		et.mu.Lock()
		et.paths = append(et.paths, r.URL.Path)
		et.mu.Unlock()
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		tenant := parts[0]
		base := et.srv.URL + "/" + tenant
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			writeJSON(w, 200, fmt.Sprintf(`{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q,"jwks_uri":%q}`,
				base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize", base+"/v2.0", base+"/discovery/v2.0/keys"))
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && r.Method == http.MethodPost:
			_ = r.ParseForm()
			et.mu.Lock()
			et.forms = append(et.forms, r.PostForm)
			et.mu.Unlock()
			answer(w, tenant, r.PostForm)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(et.srv.Close)
	return et
}

// app returns an AppIdentity against the stand-in, its assertion source the
// managed identity's token (tid testTenant).
func (et *entraTest) app(t *testing.T) (AppIdentity, *fakeCredential) {
	cfg, err := CloudConfig(CloudAzurePublic, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.ActiveDirectoryAuthorityHost = et.srv.URL + "/"
	mi := &fakeCredential{token: makeJWT(t, map[string]any{"aud": "fb60f99c-7a34-4190-8149-302f77469936", "tid": testTenant, "oid": testObject, "note": tokenMarker})}
	return AppIdentity{Assertion: mi, ClientID: testApp, Audience: ExchangeAudiencePublic, Cloud: cfg, CustomAuthority: true, Transport: et.srv.Client()}, mi
}

func entraError(w http.ResponseWriter, status, code int, what string) {
	writeJSON(w, status, fmt.Sprintf(`{"error":"invalid_client","error_description":"AADSTS%d: %s Trace ID: x","error_codes":[%d]}`, code, what, code))
}

func TestAppCredentialExchangesTheManagedIdentityToken(t *testing.T) {
	et := newEntraTest(t, func(w http.ResponseWriter, tenant string, form url.Values) {
		tok := makeJWT(t, map[string]any{"tid": tenant, "oid": testSP})
		writeJSON(w, 200, fmt.Sprintf(`{"token_type":"Bearer","expires_in":3600,"access_token":%q}`, tok))
	})
	app, mi := et.app(t)
	cred, err := app.Credential("", false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewTokenPrincipal(cred, app.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Principal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != (pal.Principal{TenantID: testTenant, ObjectID: testSP}) {
		t.Errorf("principal: got %+v, want the app's service principal in the managed identity's tenant", got)
	}
	if len(mi.scopes) == 0 || mi.scopes[0] != "api://AzureADTokenExchange/.default" {
		t.Errorf("assertion scope: got %v, want api://AzureADTokenExchange/.default", mi.scopes)
	}
	form := et.forms[0]
	if form.Get("client_id") != testApp || form.Get("client_assertion") != mi.token ||
		form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Errorf("token request: got client_id %q assertion-type %q, want the app and the managed identity's token as assertion",
			form.Get("client_id"), form.Get("client_assertion_type"))
	}
	for _, path := range et.paths {
		if !strings.HasPrefix(path, "/"+testTenant+"/") {
			t.Errorf("request to %s, want every request in the managing tenant %s", path, testTenant)
		}
	}
}

func TestAppCredentialTranslatesEntraErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		code   int
		direct bool
		want   pal.ErrorCode
		says   string
	}{
		{"issuer mismatch", 401, 700211, false, pal.CodeRejected, "issuer to https://"},
		{"audience mismatch", 401, 700212, false, pal.CodeRejected, "audiences to [api://AzureADTokenExchange]"},
		{"subject mismatch", 401, 700213, true, pal.CodeRejected, "subject to the user-assigned identity's principal"},
		{"no federated credential", 400, 70025, false, pal.CodeRejected, "has no federated credential"},
		{"no matching record yet", 400, 70021, false, pal.CodeTransient, "takes minutes"},
		{"no consent in a customer tenant", 400, 700016, true, pal.CodeNotConsented, "/" + testCustomer + "/adminconsent?client_id=" + testApp},
		{"unknown app in the managing tenant", 400, 700016, false, pal.CodeRejected, "PAL_APP_CLIENT_ID"},
		{"Entra unavailable", 503, 0, false, pal.CodeTransient, "answered 503"},
		{"other refusal", 400, 7000215, false, pal.CodeRejected, "AADSTS7000215"},
	} {
		t.Run(c.name, func(t *testing.T) {
			et := newEntraTest(t, func(w http.ResponseWriter, _ string, _ url.Values) {
				if c.code == 0 {
					writeJSON(w, c.status, `{"error":"temporarily_unavailable"}`)
					return
				}
				entraError(w, c.status, c.code, "refused.")
			})
			app, _ := et.app(t)
			// Retried as in production (3 retries), without azcore's seconds of
			// backoff for the 503.
			app.Retry = policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond}
			tenant := ""
			if c.direct {
				tenant = testCustomer
			}
			cred, err := app.Credential(tenant, c.direct)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
			pe := palError(t, err)
			if pe.Code != c.want || !strings.Contains(pe.Message, c.says) {
				t.Errorf("got %s %q, want %s saying %q", pe.Code, pe.Message, c.want, c.says)
			}
			if c.direct && c.want == pal.CodeNotConsented && !strings.HasPrefix(pe.Message[strings.Index(pe.Message, "https://"):], et.srv.URL+"/") {
				t.Errorf("consent URL %q is not on the authority host %s", pe.Message, et.srv.URL)
			}
			checkNoSecret(t, err)
			et.mu.Lock()
			tries := len(et.forms)
			et.mu.Unlock()
			if c.code == 0 && tries != 4 {
				t.Errorf("%d token requests, want 4: the first and azcore's 3 retries", tries)
			}
			if strings.Contains(pe.Message, tokenMarker) {
				t.Errorf("message leaks the assertion: %q", pe.Message)
			}
		})
	}
}

func TestExchangeAudience(t *testing.T) {
	for cloud, want := range map[string]string{
		"AzurePublic": "api://AzureADTokenExchange", "azureusgovernment": "api://AzureADTokenExchangeUSGov",
		"AzureChina": "api://AzureADTokenExchangeChina",
	} {
		if got, ok := ExchangeAudience(cloud); !ok || got != want {
			t.Errorf("ExchangeAudience(%s): got %q, want %q", cloud, got, want)
		}
	}
	if _, ok := ExchangeAudience("Mars"); ok {
		t.Error("ExchangeAudience(Mars): got ok, want unknown")
	}
}

func TestRoleAssignmentFilterIsEncoded(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"value":[
			{"id":"/subscriptions/`+testCustomer+`/providers/Microsoft.Authorization/roleAssignments/1","properties":{"scope":"/subscriptions/`+testCustomer+`","roleDefinitionId":"/subscriptions/`+testCustomer+`/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7","principalId":"`+testSP+`"}},
			{"id":"/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/roleAssignments/2","properties":{"scope":"/providers/Microsoft.Management/managementGroups/root","roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c","principalId":"`+testSP+`"}}]}`)
	}, nil)
	cfg, _ := CloudConfig(CloudAzurePublic, at.srv.URL)
	c, err := NewRoleAssignmentClient(at.cred, armOptions(cfg, &ClientsOptions{Transport: at.srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1}}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListRoleAssignments(context.Background(), strings.ToUpper(testCustomer), testSP)
	if err != nil {
		t.Fatal(err)
	}
	req := at.requests()[0]
	if req.Path != "/subscriptions/"+testCustomer+"/providers/Microsoft.Authorization/roleAssignments" {
		t.Errorf("path: got %s", req.Path)
	}
	wantFilter := "$filter=assignedTo%28%27" + testSP + "%27%29"
	if !strings.Contains(req.RawQuery, wantFilter) || strings.ContainsAny(req.RawQuery, "' ()") {
		t.Errorf("query: got %q, want it to hold %q and no raw quote, space or parenthesis", req.RawQuery, wantFilter)
	}
	if req.Query.Get("$filter") != "assignedTo('"+testSP+"')" {
		t.Errorf("decoded filter: got %q", req.Query.Get("$filter"))
	}
	if len(got) != 2 || got[0].RoleDefinitionID != "acdd72a7-3385-48ef-bd42-f606fba81ae7" || got[1].Scope != "/providers/Microsoft.Management/managementGroups/root" {
		t.Errorf("assignments: got %+v", got)
	}
}

func TestQueryEscapeSpaces(t *testing.T) {
	if got := queryEscape("principalId eq 'x'"); got != "principalId%20eq%20%27x%27" {
		t.Errorf("got %q, want spaces as %%20 and quotes escaped", got)
	}
}

// TestIssuerHintPerCloud (issue 15 item 3): the hint of AADSTS700211 names the
// issuer of the managed identity's tokens in the app's cloud, which in Azure
// China is login.partner.microsoftonline.cn, not the authority host
// login.chinacloudapi.cn. Before the fix the hint named the authority host.
func TestIssuerHintPerCloud(t *testing.T) {
	for _, c := range []struct{ cloud, want string }{
		{CloudAzurePublic, "https://login.microsoftonline.com/<managing tenant ID>/v2.0"},
		{CloudAzureUSGovernment, "https://login.microsoftonline.us/<managing tenant ID>/v2.0"},
		{CloudAzureChina, "https://login.partner.microsoftonline.cn/<managing tenant ID>/v2.0"},
	} {
		t.Run(c.cloud, func(t *testing.T) {
			host, ok := FederatedIssuerHost(c.cloud)
			if !ok {
				t.Fatalf("FederatedIssuerHost(%q): unknown", c.cloud)
			}
			got := translateEntra(&azidentity.AuthenticationFailedError{RawResponse: entraAnswer(t, 401, 700211)},
				entraContext{tenantID: testTenant, clientID: testApp, issuerHost: host, authority: "https://authority.example/"})
			pe := palError(t, got)
			if !strings.Contains(pe.Message, "set the federated credential's issuer to "+c.want) {
				t.Errorf("hint %q, want the issuer %s", pe.Message, c.want)
			}
		})
	}
	if _, ok := FederatedIssuerHost("Mars"); ok {
		t.Error("FederatedIssuerHost(Mars): known, want unknown")
	}
}

// entraAnswer is an Entra ID error answer with an AADSTS code.
func entraAnswer(t *testing.T, status, code int) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	entraError(rec, status, code, "refused.")
	return rec.Result()
}

// TestIssuerHostsMatchTerraform: infra/identity.tf's federated_issuer_host
// map holds the same issuer hosts as FederatedIssuerHost (one map, two
// languages).
func TestIssuerHostsMatchTerraform(t *testing.T) {
	b, err := os.ReadFile("../../infra/identity.tf")
	if err != nil {
		t.Fatal(err)
	}
	for _, cloud := range Clouds() {
		host, _ := FederatedIssuerHost(cloud)
		re := regexp.MustCompile(`(?m)^\s*` + cloud + `\s*=\s*"` + regexp.QuoteMeta(host) + `"`)
		if !re.Match(b) {
			t.Errorf("infra/identity.tf: no %s = %q in local.federated_issuer_host", cloud, host)
		}
	}
}

// TestAppCredentialKeepsTheAssertionsPermanentFailure (issue 15 item 8): when
// the managed identity cannot give the assertion for good (a wrong
// AZURE_CLIENT_ID: Rejected), the app's token fails with that error, also in
// a customer tenant, where MSAL asks for the assertion itself and drops the
// error's type. Before, a customer tenant's token then failed as transient.
func TestAppCredentialKeepsTheAssertionsPermanentFailure(t *testing.T) {
	et := newEntraTest(t, func(w http.ResponseWriter, _ string, _ url.Values) {
		t.Error("Entra ID asked for a token without an assertion")
	})
	for _, tenant := range []string{"", testCustomer} {
		app, mi := et.app(t)
		mi.err = &pal.Error{Code: pal.CodeRejected, Message: "the managed-identity endpoint answered 400 for … (AZURE_CLIENT_ID)"}
		cred, err := app.Credential(tenant, tenant != "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
		if pe := palError(t, err); pe.Code != pal.CodeRejected || !strings.Contains(pe.Message, "AZURE_CLIENT_ID") {
			t.Errorf("tenant %q: got %s %q, want the assertion's Rejected naming AZURE_CLIENT_ID", tenant, pe.Code, pe.Message)
		}
	}
}
