package azure

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/managedservices/armmanagedservices"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// DelegationClient lists the Azure Lighthouse registration assignments of a
// subscription with their registration definitions (api-version 2022-01-01-preview).
type DelegationClient struct {
	client *armmanagedservices.RegistrationAssignmentsClient
}

// NewDelegationClient returns a DelegationClient on azcore's ARM pipeline.
// Pass nil options for the defaults (Azure public cloud).
func NewDelegationClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*DelegationClient, error) {
	if cred == nil {
		return nil, errors.New("delegation client: nil credential")
	}
	c, err := armmanagedservices.NewRegistrationAssignmentsClient(markCredential(cred), options)
	if err != nil {
		return nil, fmt.Errorf("delegation client: %w", err)
	}
	return &DelegationClient{client: c}, nil
}

// ListDelegations returns the delegations of one subscription, following every
// nextLink: GET /subscriptions/{id}/providers/Microsoft.ManagedServices/registrationAssignments
// with $expandRegistrationDefinition=true. subscriptionID must be a GUID
// (CodeInvalidInput).
//
// Assignments whose provisioningState is present and not "Succeeded" (being
// created, deleted, or failed) grant nothing and are left out. Role IDs are the
// lower-case GUID at the end of roleDefinitionId; principal IDs are lower case.
func (c *DelegationClient) ListDelegations(ctx context.Context, subscriptionID string) ([]pal.Delegation, error) {
	if !pal.IsGUID(subscriptionID) {
		return nil, invalidInput("subscriptionId", "must be a GUID")
	}
	subscriptionID = strings.ToLower(subscriptionID)
	op := "LIST delegations of subscription " + subscriptionID
	// The SDK puts scope into "/{scope}/providers/…" unescaped, so it takes no
	// leading slash; the GUID check above keeps the path clean.
	scope := "subscriptions/" + subscriptionID
	pager := c.client.NewListPager(scope, &armmanagedservices.RegistrationAssignmentsClientListOptions{
		ExpandRegistrationDefinition: to.Ptr(true),
	})
	var dels []pal.Delegation
	seen := make(map[string]bool)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, translate(op, err)
		}
		for _, a := range page.Value {
			if d, ok := toDelegation(a); ok {
				dels = append(dels, d)
			}
		}
		if err := checkNextLink(op, seen, page.NextLink); err != nil {
			return nil, err
		}
	}
	return dels, nil
}

// toDelegation maps a registration assignment; ok is false for one that grants
// nothing (nil, or not provisioned).
func toDelegation(a *armmanagedservices.RegistrationAssignment) (pal.Delegation, bool) {
	if a == nil || a.Properties == nil {
		return pal.Delegation{}, false
	}
	if st := a.Properties.ProvisioningState; st != nil && !strings.EqualFold(string(*st), string(armmanagedservices.ProvisioningStateSucceeded)) {
		return pal.Delegation{}, false
	}
	id := deref(a.Name)
	if id == "" {
		id = lastSegment(deref(a.ID))
	}
	d := pal.Delegation{AssignmentID: strings.ToLower(id)}
	def := a.Properties.RegistrationDefinition
	if def == nil || def.Properties == nil {
		return d, true
	}
	p := def.Properties
	d.DefinitionName = deref(p.RegistrationDefinitionName)
	d.ManagedByTenantID = strings.ToLower(deref(p.ManagedByTenantID))
	for _, au := range p.Authorizations {
		if au == nil {
			continue
		}
		d.Authorizations = append(d.Authorizations, toAuthorization(au.PrincipalID, au.PrincipalIDDisplayName, au.RoleDefinitionID))
	}
	for _, au := range p.EligibleAuthorizations {
		if au == nil {
			continue
		}
		d.EligibleAuthorizations = append(d.EligibleAuthorizations, toAuthorization(au.PrincipalID, au.PrincipalIDDisplayName, au.RoleDefinitionID))
	}
	return d, true
}

func toAuthorization(principalID, displayName, roleDefinitionID *string) pal.Authorization {
	return pal.Authorization{
		PrincipalID:          strings.ToLower(deref(principalID)),
		PrincipalDisplayName: deref(displayName),
		RoleDefinitionID:     strings.ToLower(lastSegment(deref(roleDefinitionID))),
	}
}
