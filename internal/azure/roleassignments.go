package azure

import (
	"context"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// RoleAssignmentClient lists role assignments (api-version 2022-04-01).
type RoleAssignmentClient struct {
	client *armauthorization.RoleAssignmentsClient
}

// NewRoleAssignmentClient returns a RoleAssignmentClient on azcore's ARM
// pipeline. Pass nil options for the defaults (Azure public cloud).
func NewRoleAssignmentClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*RoleAssignmentClient, error) {
	// The subscription ID is only used by methods this client does not call.
	c, err := newSDKClient("role assignment client", cred, options,
		func(cred azcore.TokenCredential, o *arm.ClientOptions) (*armauthorization.RoleAssignmentsClient, error) {
			return armauthorization.NewRoleAssignmentsClient("", cred, o)
		})
	if err != nil {
		return nil, err
	}
	return &RoleAssignmentClient{client: c}, nil
}

// assignedToFilter is the OData $filter selecting the assignments of
// principalID (and of the groups it is in), URL-encoded: armauthorization
// appends "$filter="+Filter to the query as it is given, and ARM answers 400
// to a raw space or quote.
func assignedToFilter(principalID string) string {
	return queryEscape("assignedTo('" + principalID + "')")
}

// queryEscape escapes s for a URL query, spaces as %20 (not '+').
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// ListRoleAssignments returns the role assignments of principalID that apply
// to the subscription, all pages: GET /subscriptions/{id}/providers/
// Microsoft.Authorization/roleAssignments?$filter=assignedTo('{principalId}').
// ARM includes the assignments inherited from management groups and the
// root, and those below the subscription; the caller picks by Scope.
func (c *RoleAssignmentClient) ListRoleAssignments(ctx context.Context, subscriptionID, principalID string) ([]pal.RoleAssignment, error) {
	sub := strings.ToLower(subscriptionID)
	if !pal.IsGUID(sub) {
		return nil, invalidInput("subscriptionId", "must be a GUID")
	}
	if !pal.IsGUID(principalID) {
		return nil, invalidInput("principalId", "must be a GUID")
	}
	op := "GET role assignments of subscription " + sub
	filter := assignedToFilter(strings.ToLower(principalID))
	// The SDK puts scope into "/{scope}/…" unescaped; the GUID check keeps it clean.
	pager := c.client.NewListForScopePager("subscriptions/"+sub, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: &filter})
	var out []pal.RoleAssignment
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, translate(op, err)
		}
		for _, ra := range page.Value {
			if ra == nil || ra.Properties == nil {
				continue
			}
			p := ra.Properties
			out = append(out, pal.RoleAssignment{
				Scope:            deref(p.Scope),
				RoleDefinitionID: strings.ToLower(lastSegment(deref(p.RoleDefinitionID))),
				PrincipalID:      strings.ToLower(deref(p.PrincipalID)),
			})
		}
	}
	return out, nil
}
