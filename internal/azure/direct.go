package azure

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// DirectConnector opens the Azure access of an app's service principal in
// customer tenants (direct mode): one ClientAssertionCredential per tenant,
// with its own token cache, and the ARM clients on it. It implements
// pal.TenantConnector; the engine keeps a bounded number of tenants.
type DirectConnector struct {
	// App is the app registration trusting the managed identity.
	App AppIdentity
	// Options configures the ARM clients (transport, retry).
	Options ClientsOptions
}

// Tenant returns the access in tenantID. It does no network work.
func (d *DirectConnector) Tenant(tenantID string) (pal.TenantAzure, error) {
	if !pal.IsGUID(tenantID) {
		return pal.TenantAzure{}, invalidInput("tenantId", "must be a GUID")
	}
	cred, err := d.App.Credential(tenantID, true)
	if err != nil {
		return pal.TenantAzure{}, err
	}
	clients, err := NewClients(cred, d.App.Cloud, &d.Options)
	if err != nil {
		return pal.TenantAzure{}, fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	ra, err := NewRoleAssignmentClient(cred, armOptions(d.App.Cloud, &d.Options))
	if err != nil {
		return pal.TenantAzure{}, fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	return pal.TenantAzure{
		Links:         clients.Partner,
		Subscriptions: clients.Subscriptions,
		Assignments:   ra,
		Roles:         clients.Roles,
		Principal:     clients.Principal,
	}, nil
}

// armOptions are the ARM client options [NewClients] uses too.
func armOptions(cfg cloud.Configuration, o *ClientsOptions) *arm.ClientOptions {
	return &arm.ClientOptions{
		ClientOptions:         policy.ClientOptions{Cloud: cfg, Transport: o.Transport, Retry: o.Retry},
		DisableRPRegistration: true,
	}
}
