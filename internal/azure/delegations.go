package azure

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	managedServicesModuleName    = "armmanagedservices"
	managedServicesModuleVersion = "v0.7.0"
	// managedServicesAPIVersion is the stable API. armmanagedservices v0.7.0
	// still calls 2022-01-01-preview, so the client speaks REST itself.
	managedServicesAPIVersion = "2022-10-01"
)

// DelegationClient lists the Azure Lighthouse registration assignments of a
// subscription with their registration definitions (api-version 2022-10-01).
// ARM answers only a caller whose roles there grant
// Microsoft.ManagedServices/registrationAssignments/read (Reader, Contributor,
// the Managed Services Registration assignment Delete Role; not Support Request
// Contributor alone): otherwise CodeForbidden.
type DelegationClient struct {
	internal *arm.Client
}

// NewDelegationClient returns a DelegationClient on azcore's ARM pipeline.
// Pass nil options for the defaults (Azure public cloud).
func NewDelegationClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*DelegationClient, error) {
	cl, err := newARMClient("delegation client", managedServicesModuleName, managedServicesModuleVersion, cred, options)
	if err != nil {
		return nil, err
	}
	return &DelegationClient{internal: cl}, nil
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
	q := url.Values{"api-version": {managedServicesAPIVersion}, "$expandRegistrationDefinition": {"true"}}
	var dels []pal.Delegation
	err := restList(ctx, c.internal, "RegistrationAssignmentsClient.List", op,
		"/subscriptions/"+subscriptionID+"/providers/Microsoft.ManagedServices/registrationAssignments", q,
		func(raw json.RawMessage) (bool, error) {
			var a *registrationAssignmentJSON
			if err := json.Unmarshal(raw, &a); err != nil {
				return false, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer holds a malformed registration assignment", Err: err}
			}
			if d, ok := toDelegation(a); ok {
				dels = append(dels, d)
			}
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	return dels, nil
}

// registrationAssignmentJSON is a RegistrationAssignment of the 2022-10-01 spec, as far as
// pal-keeper reads it.
type registrationAssignmentJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties *struct {
		ProvisioningState      *string `json:"provisioningState"`
		RegistrationDefinition *struct {
			Properties *struct {
				RegistrationDefinitionName string              `json:"registrationDefinitionName"`
				ManagedByTenantID          string              `json:"managedByTenantId"`
				Authorizations             []authorizationJSON `json:"authorizations"`
				EligibleAuthorizations     []authorizationJSON `json:"eligibleAuthorizations"`
			} `json:"properties"`
		} `json:"registrationDefinition"`
	} `json:"properties"`
}

// authorizationJSON is an Authorization or EligibleAuthorization of the spec.
type authorizationJSON struct {
	PrincipalID            string `json:"principalId"`
	PrincipalIDDisplayName string `json:"principalIdDisplayName"`
	RoleDefinitionID       string `json:"roleDefinitionId"`
}

// toDelegation maps a registration assignment; ok is false for one that grants
// nothing (null, or not provisioned).
func toDelegation(a *registrationAssignmentJSON) (pal.Delegation, bool) {
	if a == nil || a.Properties == nil {
		return pal.Delegation{}, false
	}
	if st := a.Properties.ProvisioningState; st != nil && !strings.EqualFold(*st, "Succeeded") {
		return pal.Delegation{}, false
	}
	id := a.Name
	if id == "" {
		id = lastSegment(a.ID)
	}
	d := pal.Delegation{AssignmentID: strings.ToLower(id)}
	def := a.Properties.RegistrationDefinition
	if def == nil || def.Properties == nil {
		return d, true
	}
	p := def.Properties
	d.DefinitionName = p.RegistrationDefinitionName
	d.ManagedByTenantID = strings.ToLower(p.ManagedByTenantID)
	for _, au := range p.Authorizations {
		d.Authorizations = append(d.Authorizations, toAuthorization(au))
	}
	for _, au := range p.EligibleAuthorizations {
		d.EligibleAuthorizations = append(d.EligibleAuthorizations, toAuthorization(au))
	}
	return d, true
}

func toAuthorization(a authorizationJSON) pal.Authorization {
	return pal.Authorization{
		PrincipalID:          strings.ToLower(a.PrincipalID),
		PrincipalDisplayName: a.PrincipalIDDisplayName,
		RoleDefinitionID:     strings.ToLower(lastSegment(a.RoleDefinitionID)),
	}
}
