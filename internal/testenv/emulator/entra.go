package emulator

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"
)

// TargetEntra is the Entra ID token server (see [Emulator.AuthorityURL]).
const TargetEntra Target = "entra"

// Entra ID endpoint facts.
const (
	// ClientAssertionType is the only client_assertion_type Entra accepts.
	ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// appTokenMaxLifetime is the longest lifetime of an app token Entra issues here.
	appTokenMaxLifetime = time.Hour
)

// AuthorityURL is the Entra ID authority host of the emulator,
// https://127.0.0.1:port/ (with the trailing slash azidentity expects), for
// cloud.Configuration.ActiveDirectoryAuthorityHost or PAL_AUTHORITY_HOST. It
// serves, per tenant ID:
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration (MSAL's tenant discovery)
//   - POST /{tenant}/oauth2/v2.0/token, client credentials with a client assertion
//
// Instance discovery (/common/discovery/instance) is refused: a client must set
// DisableInstanceDiscovery, or MSAL sends instance discovery for this host to
// the public login.microsoftonline.com. It uses the same certificate as ARM
// ([Emulator.CertFile], [Emulator.HTTPClient]).
func (e *Emulator) AuthorityURL() string { return e.entra.URL + "/" }

// startEntra starts the Entra server; called by New.
func (e *Emulator) startEntra(cert tls.Certificate, errLog *log.Logger) {
	e.entra = httptest.NewUnstartedServer(http.HandlerFunc(e.serveEntra))
	e.entra.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	e.entra.Config.ErrorLog = errLog
	e.entra.StartTLS()
}

// isTokenExchange reports whether a managed identity token is requested for the
// token-exchange audience (the assertion of a federated credential).
func isTokenExchange(resource string) bool {
	r := strings.TrimSuffix(resource, "/.default")
	return strings.EqualFold(r, TokenExchangeAudience) || strings.EqualFold(r, TokenExchangeAppID)
}

// exchangeClaims are the claims of a managed identity's token for
// api://AzureADTokenExchange: a v2.0 token whose aud is the Token Exchange app's
// ID, whose iss is the tenant's v2.0 issuer and whose sub is the identity's
// object (principal) ID.
func exchangeClaims(id Identity, now time.Time, lifetime time.Duration) claims {
	return claims{
		Aud: TokenExchangeAppID, Iss: EntraIssuer(id.TenantID),
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(),
		Azp: id.ClientID, AzpACR: "2", IDType: "app",
		OID: id.ObjectID, Sub: id.ObjectID, TID: id.TenantID,
		UTI: base64.RawURLEncoding.EncodeToString([]byte(randomHex(8))), Ver: "2.0",
		MIRID: id.ResourceID,
	}
}

// entraError is Entra ID's OAuth error answer.
type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

// aadsts is one refusal: HTTP status, OAuth error, AADSTS code and message.
type aadsts struct {
	status int
	err    string
	code   int
	msg    string
}

func refuse(status int, oauthErr string, code int, format string, args ...any) *aadsts {
	return &aadsts{status: status, err: oauthErr, code: code, msg: fmt.Sprintf(format, args...)}
}

// write answers as Entra does: error_description is "AADSTSn: message" followed
// by the trace ID, correlation ID and timestamp.
func (a *aadsts) write(w http.ResponseWriter, r *http.Request) {
	corr := r.Header.Get("client-request-id")
	if !isGUID(corr) {
		corr = newGUID()
	}
	trace := newGUID()
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	body := entraError{
		Error:            a.err,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", a.code, a.msg, trace, corr, ts),
		ErrorCodes:       []int{a.code},
		Timestamp:        ts,
		TraceID:          trace,
		CorrelationID:    corr,
		ErrorURI:         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", a.code),
	}
	w.Header().Set(hdrErrorCode, fmt.Sprintf("AADSTS%d", a.code))
	w.Header().Set("x-ms-request-id", trace)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, a.status, body)
}

// serveEntra is the Entra server's handler.
func (e *Emulator) serveEntra(rw http.ResponseWriter, r *http.Request) {
	x := e.begin(TargetEntra, rw, r)
	defer x.end()
	w, rec := x.w, &x.rec
	if x.fault(r, func(f Fault) {
		refuse(f.Status, "temporarily_unavailable", 90033,
			"A transient error has occurred. Please try again. (Injected fault: %d.)", f.Status).write(w, r)
	}) {
		return
	}
	segs := pathSegments(r.URL.Path)
	switch {
	case len(segs) == 3 && strings.EqualFold(segs[1], "discovery") && strings.EqualFold(segs[2], "instance"):
		rec.TenantID = norm(segs[0])
		refuse(http.StatusBadRequest, "invalid_instance", 50049,
			"Unknown or invalid instance. The emulator does not serve instance discovery: create the credential with DisableInstanceDiscovery (MSAL WithInstanceDiscovery(false)) for a custom authority host.").write(w, r)
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration" && r.Method == http.MethodGet:
		rec.TenantID = norm(segs[0])
		e.openIDConfiguration(w, r, segs[0])
	case len(segs) == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token" && r.Method == http.MethodPost:
		rec.TenantID = norm(segs[0])
		sp, a := e.tokenEndpoint(w, r, norm(segs[0]))
		if a != nil {
			a.write(w, r)
			return
		}
		rec.ObjectID = sp
	default:
		rec.Unhandled = true
		refuse(http.StatusNotFound, "invalid_request", 900561,
			"The emulator serves GET /{tenant}/v2.0/.well-known/openid-configuration and POST /{tenant}/oauth2/v2.0/token, not %s %s.",
			r.Method, r.URL.Path).write(w, r)
	}
}

func errTenantNotFound(tenant string) *aadsts {
	return refuse(http.StatusBadRequest, "invalid_tenant", 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

// openIDConfiguration answers tenant discovery for a tenant ID. The issuer is
// the real Entra issuer (MSAL trusts login.microsoftonline.com); the endpoints
// are the emulator's.
func (e *Emulator) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string) {
	tid := norm(tenant)
	e.mu.Lock()
	known := isGUID(tid) && e.tenantKnown(tid)
	e.mu.Unlock()
	if !known {
		errTenantNotFound(tenant).write(w, r)
		return
	}
	base := e.entra.URL + "/" + tid
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              e.entra.URL + "/" + tid + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                EntraIssuer(tid),
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	})
}

// armResources are the resources (scope without /.default) of ARM tokens.
var armResources = []string{
	"https://management.azure.com", "https://management.azure.com/",
	"https://management.core.windows.net", "https://management.core.windows.net/",
}

// oidcScopes are the scopes MSAL adds to every request; Entra ignores them for
// the client credentials grant.
var oidcScopes = []string{"openid", "profile", "offline_access"}

// tokenEndpoint serves the client credentials grant with a client assertion,
// validated as Entra validates a federated identity credential's assertion. It
// returns the service principal's object ID, or the refusal. Nothing of the
// assertion or the issued token is logged or recorded.
func (e *Emulator) tokenEndpoint(w http.ResponseWriter, r *http.Request, tenant string) (string, *aadsts) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "", refuse(http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'.")
	}
	f := r.PostForm
	e.mu.Lock()
	known := isGUID(tenant) && e.tenantKnown(tenant)
	tenantName := tenant
	if i := slices.IndexFunc(e.estate.Tenants, func(t Tenant) bool { return t.ID == tenant }); i >= 0 && e.estate.Tenants[i].Name != "" {
		tenantName = e.estate.Tenants[i].Name
	}
	e.mu.Unlock()
	if !known {
		return "", errTenantNotFound(tenant)
	}
	for _, p := range []string{"grant_type", "client_id", "scope"} {
		if f.Get(p) == "" {
			return "", refuse(http.StatusBadRequest, "invalid_request", 900144,
				"The request body must contain the following parameter: '%s'.", p)
		}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return "", refuse(http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '%s'.", gt)
	}
	appID := norm(f.Get("client_id"))

	e.mu.Lock()
	app, appOK := e.findApp(appID)
	sp, spOK := e.findServicePrincipal(tenant, appID)
	e.mu.Unlock()
	if !appOK || !spOK || (!app.MultiTenant && tenant != app.HomeTenantID) {
		return "", refuse(http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
			f.Get("client_id"), tenantName)
	}

	resource, a := checkScope(f.Get("scope"), tenantName)
	if a != nil {
		return "", a
	}

	assertion := f.Get("client_assertion")
	if assertion == "" || f.Get("client_assertion_type") != ClientAssertionType {
		return "", refuse(http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if a := e.checkAssertion(app, assertion); a != nil {
		return "", a
	}

	now := time.Now()
	lifetime := min(e.tokenLifetime, appTokenMaxLifetime)
	iss := "https://sts.windows.net/" + tenant + "/"
	c := claims{
		Aud: resource, Iss: iss, IdP: iss,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(),
		AppID: app.AppID, AppIDACR: "2", IDType: "app",
		OID: sp.ObjectID, Sub: sp.ObjectID, TID: tenant,
		UTI: base64.RawURLEncoding.EncodeToString([]byte(randomHex(8))), Ver: "1.0",
	}
	secs := int64(lifetime / time.Second)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   e.mint(c),
	})
	return sp.ObjectID, nil
}

// checkScope accepts exactly one ARM or Graph resource's /.default (besides the OIDC
// scopes MSAL adds) and returns the resource (the token's aud).
func checkScope(scope, tenantName string) (string, *aadsts) {
	var res []string
	for s := range strings.FieldsSeq(scope) {
		if !slices.Contains(oidcScopes, s) {
			res = append(res, s)
		}
	}
	if len(res) != 1 || !strings.HasSuffix(res[0], "/.default") {
		return "", refuse(http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
	}
	resource := strings.TrimSuffix(res[0], "/.default")
	if !slices.Contains(armResources, resource) && !isGraphAudience(resource) {
		return "", refuse(http.StatusBadRequest, "invalid_resource", 500011,
			"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
			resource, tenantName)
	}
	return resource, nil
}

// checkAssertion validates a client assertion as Entra does for a federated
// identity credential: a JWT; a credential with its issuer; the issuer's
// signature (the emulator's, for its own tokens); within its lifetime; a
// credential with that issuer and its audience; one with that issuer, audience
// and subject. Matching is case-sensitive. aud fb60f99c-… (the Token Exchange
// app) counts as api://AzureADTokenExchange.
func (e *Emulator) checkAssertion(app App, assertion string) *aadsts {
	parts := strings.Split(assertion, ".")
	var c claims
	var hdr map[string]any
	if len(parts) != 3 {
		return refuse(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &c) != nil {
		return refuse(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
	}
	if len(app.FederatedCredentials) == 0 {
		return refuse(http.StatusUnauthorized, "invalid_client", 70025,
			"The client '%s'(%s) has no configured federated identity credentials.", app.AppID, app.DisplayName)
	}
	noMatch := func(code int, what, value string) *aadsts {
		return refuse(http.StatusUnauthorized, "invalid_client", code,
			"No matching federated identity record found for presented assertion %s '%s'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
			what, value)
	}
	byIssuer := slices.DeleteFunc(slices.Clone(app.FederatedCredentials), func(f FederatedCredential) bool { return f.Issuer != c.Iss })
	if len(byIssuer) == 0 {
		return noMatch(700211, "issuer", c.Iss)
	}
	if parts[2] != e.marker {
		return refuse(http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion failed signature validation: the assertion was not signed by a key of issuer '%s'.", c.Iss)
	}
	now := time.Now()
	if c.Exp == 0 || !now.Before(time.Unix(c.Exp, 0)) || (c.Nbf != 0 && time.Unix(c.Nbf, 0).After(now.Add(5*time.Minute))) {
		return refuse(http.StatusUnauthorized, "invalid_client", 700024,
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), time.Unix(c.Nbf, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"),
			time.Unix(c.Exp, 0).UTC().Format("2006-01-02T15:04:05.0000000Z"))
	}
	if c.IDType != "app" {
		return refuse(http.StatusBadRequest, "invalid_request", 700229,
			"Forbidden token type. Only app-only tokens may be used as Federated Identity Credentials for AAD issuer.")
	}
	audOK := func(f FederatedCredential) bool {
		for _, a := range f.Audiences {
			if a == c.Aud || (a == TokenExchangeAudience && c.Aud == TokenExchangeAppID) {
				return true
			}
		}
		return false
	}
	byAudience := slices.DeleteFunc(byIssuer, func(f FederatedCredential) bool { return !audOK(f) })
	if len(byAudience) == 0 {
		return noMatch(700212, "audience", c.Aud)
	}
	if !slices.ContainsFunc(byAudience, func(f FederatedCredential) bool { return f.Subject == c.Sub }) {
		return noMatch(700213, "subject", c.Sub)
	}
	return nil
}
