package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// Tenant categories of the ARM tenants list (docs/reference.md): the
// identity's own tenant, a customer tenant that projects subscriptions into
// it through Azure Lighthouse, and a tenant that manages the identity's own.
const (
	TenantHome        = "Home"
	TenantProjectedBy = "ProjectedBy"
	TenantManagedBy   = "ManagedBy"
)

// Tenant is one entry of the ARM tenants list.
type Tenant struct {
	// ID is the tenant GUID, lower case.
	ID            string
	Category      string
	DisplayName   string
	DefaultDomain string
}

// TenantClient lists the tenants the identity sees (GET /tenants,
// api-version 2022-12-01): its home tenant and, with Azure Lighthouse, every
// customer tenant that delegates to it (category ProjectedBy), each with its
// displayName and defaultDomain.
type TenantClient struct {
	client *armsubscriptions.TenantsClient
}

// NewTenantClient returns a TenantClient on azcore's ARM pipeline. Pass nil
// options for the defaults (Azure public cloud).
func NewTenantClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*TenantClient, error) {
	c, err := newSDKClient("tenant client", cred, options, armsubscriptions.NewTenantsClient)
	if err != nil {
		return nil, err
	}
	return &TenantClient{client: c}, nil
}

// ListTenants returns the tenants the identity sees, following nextLink, at
// most limit of them (limit < 1: all); more reports whether the list went on.
func (c *TenantClient) ListTenants(ctx context.Context, limit int) (tenants []Tenant, more bool, err error) {
	const op = "LIST tenants"
	seen := make(map[string]bool)
	pager := c.client.NewListPager(nil)
	for pager.More() {
		if limit > 0 && len(tenants) >= limit {
			return tenants[:limit], true, nil
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, false, translate(op, err)
		}
		for _, t := range page.Value {
			if t == nil {
				continue
			}
			id := strings.ToLower(deref(t.TenantID))
			if id == "" {
				id = strings.ToLower(lastSegment(deref(t.ID)))
			}
			if id == "" {
				continue
			}
			tn := Tenant{ID: id, DisplayName: deref(t.DisplayName), DefaultDomain: deref(t.DefaultDomain)}
			if t.TenantCategory != nil {
				tn.Category = string(*t.TenantCategory)
			}
			tenants = append(tenants, tn)
		}
		if err := checkNextLink(op, seen, page.NextLink); err != nil {
			return nil, false, err
		}
	}
	if limit > 0 && len(tenants) > limit {
		return tenants[:limit], true, nil
	}
	return tenants, false, nil
}
