package azure

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Clients are the Azure adapters pal-keeper uses, sharing one credential and
// one cloud. Build them once per process: each keeps its own token cache.
type Clients struct {
	Partner       *PartnerClient
	Subscriptions *SubscriptionClient
	// Tenants lists the tenants the identity sees, with their names.
	Tenants     *TenantClient
	Delegations *DelegationClient
	Roles       *RoleClient
	Principal   *TokenPrincipal
	// Permissions reads effective permissions and lists built-in roles.
	Permissions    *PermissionClient
	ResourceGroups *ResourceGroupClient
	// Groups reads the identity's group memberships from Microsoft Graph;
	// nil unless [ClientsOptions] Graph asks for it.
	Groups *GraphClient
}

// ClientsOptions adjusts [NewClients]. The zero value, and nil, give azcore's
// defaults.
type ClientsOptions struct {
	// Transport sends the HTTP requests; nil means a client of [NewHTTPClient].
	// Tests pass an httptest server's Client.
	Transport policy.Transporter
	// Retry configures azcore's retry policy. The zero value means up to 3
	// retries of 408, 429, 500, 502, 503 and 504 with exponential backoff from
	// 800 ms, honouring Retry-After up to MaxRetryDelay (60 s); a longer
	// Retry-After is returned at once as CodeTransient with that RetryAfter.
	Retry policy.RetryOptions
	// Concurrency is the most ARM requests the caller runs at once (zero:
	// [pal.DefaultConcurrency]). Without Transport, the clients share one HTTP
	// client keeping that many idle connections per host (see [NewHTTPClient]);
	// the rate-limit pacing's default threshold scales with it.
	Concurrency int
	// RateLimit tunes the pacing on ARM's rate-limit headers (see
	// [RateLimitOptions]); nil means the defaults.
	RateLimit *RateLimitOptions
	// Graph builds the Microsoft Graph client (Clients.Groups) on cfg's
	// [ServiceGraph], sharing the transport and the retry settings.
	Graph bool
}

// NewClients builds every adapter on cred and cfg (see [CloudConfig]). Resource
// provider auto-registration is disabled: pal-keeper only reads customer
// subscriptions and never registers providers in them.
func NewClients(cred azcore.TokenCredential, cfg cloud.Configuration, options *ClientsOptions) (*Clients, error) {
	if cred == nil {
		return nil, errors.New("azure clients: nil credential")
	}
	if options == nil {
		options = &ClientsOptions{}
	}
	concurrency := options.Concurrency
	if concurrency <= 0 {
		concurrency = pal.DefaultConcurrency
	}
	transport := options.Transport
	if transport == nil {
		transport = NewHTTPClient(concurrency)
	}
	var perCall []policy.Policy
	if rl := options.RateLimit; rl == nil || !rl.Disabled {
		o := RateLimitOptions{}
		if rl != nil {
			o = *rl
		}
		perCall = append(perCall, newRateLimiter(o, concurrency))
	}
	armOpts := &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Cloud:           cfg,
			Transport:       transport,
			Retry:           options.Retry,
			PerCallPolicies: perCall,
		},
		DisableRPRegistration: true,
	}
	var (
		c   Clients
		err error
	)
	if c.Partner, err = NewPartnerClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Subscriptions, err = NewSubscriptionClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Tenants, err = NewTenantClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Delegations, err = NewDelegationClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Roles, err = NewRoleClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Permissions, err = NewPermissionClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.ResourceGroups, err = NewResourceGroupClient(cred, armOpts); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if c.Principal, err = NewTokenPrincipal(cred, cfg); err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	if options.Graph {
		if c.Groups, err = NewGraphClient(cred, cfg, &policy.ClientOptions{Transport: transport, Retry: options.Retry}); err != nil {
			return nil, fmt.Errorf("azure clients: %w", err)
		}
	}
	return &c, nil
}
