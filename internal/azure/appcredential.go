package azure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Token-exchange audiences: the audience a managed identity's token must have
// to serve as the client assertion of an app that trusts it (the federated
// credential's "audiences" value).
const (
	ExchangeAudiencePublic = "api://AzureADTokenExchange"
	ExchangeAudienceUSGov  = "api://AzureADTokenExchangeUSGov"
	ExchangeAudienceChina  = "api://AzureADTokenExchangeChina"
)

// ExchangeAudience returns the token-exchange audience of the cloud named
// cloudName (one of [Clouds]), and false for an unknown cloud.
func ExchangeAudience(cloudName string) (string, bool) {
	c, _ := CloudName(cloudName)
	switch c {
	case CloudAzurePublic:
		return ExchangeAudiencePublic, true
	case CloudAzureUSGovernment:
		return ExchangeAudienceUSGov, true
	case CloudAzureChina:
		return ExchangeAudienceChina, true
	}
	return "", false
}

// Federated-credential issuer hosts: a managed identity's token has the
// issuer <host>/<tenant ID>/v2.0, and an app's federated credential trusting
// it must name exactly that. In Azure China the host is not the authority
// host (login.chinacloudapi.cn) that tokens and consent URLs use.
const (
	IssuerHostPublic = "https://login.microsoftonline.com"
	IssuerHostUSGov  = "https://login.microsoftonline.us"
	IssuerHostChina  = "https://login.partner.microsoftonline.cn"
)

// FederatedIssuerHost returns the federated-credential issuer host of the
// cloud named cloudName (one of [Clouds]), and false for an unknown cloud.
// infra/identity.tf's local.federated_issuer_host is the same map, which the
// offline infra checks hold to these values.
func FederatedIssuerHost(cloudName string) (string, bool) {
	c, _ := CloudName(cloudName)
	switch c {
	case CloudAzurePublic:
		return IssuerHostPublic, true
	case CloudAzureUSGovernment:
		return IssuerHostUSGov, true
	case CloudAzureChina:
		return IssuerHostChina, true
	}
	return "", false
}

// AppIdentity is an app registration that trusts a managed identity as a
// federated identity credential: the identity's token for the token-exchange
// audience is the app's client assertion, so the function acts as the app's
// service principal with no secret anywhere.
type AppIdentity struct {
	// Assertion gives the managed identity's tokens (the assertion source).
	Assertion azcore.TokenCredential
	// ClientID is the app's application (client) ID.
	ClientID string
	// Audience is the token-exchange audience, see [ExchangeAudience].
	Audience string
	// IssuerHost is the federated credential's issuer host, see
	// [FederatedIssuerHost]; it only words the hint of an issuer mismatch.
	// Empty means the public cloud's.
	IssuerHost string
	// Cloud is the cloud configuration; its ActiveDirectoryAuthorityHost is the
	// Entra authority the assertion is exchanged at.
	Cloud cloud.Configuration
	// CustomAuthority is true when Cloud's authority host is not the cloud's
	// own (PAL_AUTHORITY_HOST, an emulator): instance discovery is then
	// disabled, or MSAL would ask the public authority about it.
	CustomAuthority bool
	// Transport sends the token requests; nil means azcore's default client.
	Transport policy.Transporter
	// Retry configures the retries of token requests to Entra ID; the zero
	// value keeps azcore's defaults.
	Retry policy.RetryOptions
}

// Credential returns the app's credential in tenantID. An empty tenantID
// means the managed identity's own tenant (the managing tenant, where the app
// is registered), read once from the tid claim of the first assertion.
//
// direct says tenantID is a customer tenant: an app with no service principal
// there (AADSTS700016) then means the tenant has not consented, and fails
// with [pal.CodeNotConsented] and the admin-consent URL; in the managing
// tenant it is a wrong PAL_APP_CLIENT_ID ([pal.CodeRejected]).
//
// Entra's answers become [*pal.Error]s (see [translateEntra]); neither the
// assertion nor a token ever appears in their messages.
func (a AppIdentity) Credential(tenantID string, direct bool) (azcore.TokenCredential, error) {
	switch {
	case a.Assertion == nil:
		return nil, errors.New("app credential: nil assertion credential")
	case !pal.IsGUID(a.ClientID):
		return nil, fmt.Errorf("app credential: client ID %q is not a GUID", a.ClientID)
	case a.Audience == "":
		return nil, errors.New("app credential: no token-exchange audience")
	case tenantID != "" && !pal.IsGUID(tenantID):
		return nil, fmt.Errorf("app credential: tenant %q is not a GUID", tenantID)
	}
	if a.Cloud.ActiveDirectoryAuthorityHost == "" {
		a.Cloud.ActiveDirectoryAuthorityHost = cloud.AzurePublic.ActiveDirectoryAuthorityHost
	}
	return shareTokens(&appCredential{app: a, tenantID: strings.ToLower(tenantID), direct: direct}), nil
}

// assertion returns the managed identity's token for the exchange audience.
func (a AppIdentity) assertion(ctx context.Context) (string, error) {
	tk, err := a.Assertion.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{a.Audience + "/.default"}})
	if err != nil {
		return "", err
	}
	return tk.Token, nil
}

// AdminConsentURL is the page where an administrator of tenantID grants the
// app admin consent, on the authority host (e.g. https://login.microsoftonline.com/).
func AdminConsentURL(authorityHost, tenantID, clientID string) string {
	return strings.TrimRight(authorityHost, "/") + "/" + url.PathEscape(tenantID) +
		"/adminconsent?client_id=" + url.QueryEscape(clientID)
}

// appCredential is an app's ClientAssertionCredential in one tenant, built on
// first use and translating Entra's errors.
type appCredential struct {
	app    AppIdentity
	direct bool

	mu       sync.Mutex
	tenantID string
	inner    *azidentity.ClientAssertionCredential

	// rejected is the managed identity's permanent failure (CodeRejected) to
	// give the assertion MSAL last asked for: MSAL keeps only its text.
	rejected atomic.Pointer[pal.Error]
}

// assertion is the assertion callback: the managed identity's token, its
// permanent failure kept for GetToken.
func (c *appCredential) assertion(ctx context.Context) (string, error) {
	a, err := c.app.assertion(ctx)
	var pe *pal.Error
	if errors.As(err, &pe) && pe.Code == pal.CodeRejected {
		c.rejected.Store(pe)
	}
	return a, err
}

// GetToken implements azcore.TokenCredential.
func (c *appCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	inner, tenant, err := c.credential(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	tk, err := inner.GetToken(ctx, opts)
	if pe := c.rejected.Swap(nil); err != nil && pe != nil {
		return azcore.AccessToken{}, pe
	}
	if err != nil {
		return azcore.AccessToken{}, translateEntra(err, entraContext{
			tenantID: tenant, clientID: c.app.ClientID, audience: c.app.Audience, issuerHost: c.app.IssuerHost,
			authority: c.app.Cloud.ActiveDirectoryAuthorityHost, direct: c.direct,
		})
	}
	return tk, nil
}

// credential returns the ClientAssertionCredential, building it on first use.
func (c *appCredential) credential(ctx context.Context) (*azidentity.ClientAssertionCredential, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner != nil {
		return c.inner, c.tenantID, nil
	}
	if c.tenantID == "" {
		// The app lives in the managed identity's own tenant (Entra accepts a
		// managed identity as federated credential only there): read it from
		// the assertion's tid claim.
		a, err := c.app.assertion(ctx)
		if pal.ErrorCodeOf(err) == pal.CodeRejected {
			return nil, "", err // the managed identity's own permanent failure, e.g. a wrong AZURE_CLIENT_ID
		}
		if err != nil {
			return nil, "", &pal.Error{Code: pal.CodeTransient, Message: "get the managed identity's token for " + c.app.Audience + ": the credential could not give one", Err: err}
		}
		p, err := principalFromJWT(a)
		if err != nil {
			return nil, "", &pal.Error{Code: pal.CodeInternal, Message: "read the managed identity's exchange token: not a token with tid and oid claims"}
		}
		c.tenantID = p.TenantID
	}
	opts := &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: policy.ClientOptions{Cloud: c.app.Cloud, Transport: c.app.Transport, Retry: c.app.Retry},
		// With a custom authority (an emulator) MSAL must not send instance
		// discovery to the public authority.
		DisableInstanceDiscovery: c.app.CustomAuthority,
	}
	inner, err := azidentity.NewClientAssertionCredential(c.tenantID, c.app.ClientID, c.assertion, opts)
	if err != nil {
		return nil, "", fmt.Errorf("app credential in tenant %s: %w", c.tenantID, err)
	}
	c.inner = inner
	return inner, c.tenantID, nil
}
