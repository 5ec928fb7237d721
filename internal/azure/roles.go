package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// builtInRoleType is the roleType of Azure's built-in roles.
const builtInRoleType = "BuiltInRole"

// RoleClient reads role definitions from the authorization provider
// (api-version 2022-04-01).
type RoleClient struct {
	client *armauthorization.RoleDefinitionsClient
}

// NewRoleClient returns a RoleClient on azcore's ARM pipeline. Pass nil options
// for the defaults (Azure public cloud).
func NewRoleClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*RoleClient, error) {
	c, err := newSDKClient("role client", cred, options, armauthorization.NewRoleDefinitionsClient)
	if err != nil {
		return nil, err
	}
	return &RoleClient{client: c}, nil
}

// GetRoleDefinition returns the role definition roleID, a GUID or a path that
// ends in one: GET /providers/Microsoft.Authorization/roleDefinitions/{guid}.
// Anything else is CodeInvalidInput. Name is the roleName, BuiltIn is roleType
// "BuiltInRole" and HasDataActions is true when any permission lists dataActions.
func (c *RoleClient) GetRoleDefinition(ctx context.Context, roleID string) (*pal.RoleDefinition, error) {
	guid := strings.ToLower(lastSegment(roleID))
	if !pal.IsGUID(guid) {
		return nil, invalidInput("roleDefinitionId", "must be a GUID")
	}
	op := "GET role definition " + guid
	// The SDK puts roleID into "/{roleId}" unescaped; the GUID check keeps it clean.
	resp, err := c.client.GetByID(ctx, "/providers/Microsoft.Authorization/roleDefinitions/"+guid, nil)
	if err != nil {
		return nil, translate(op, err)
	}
	rd := &pal.RoleDefinition{ID: guid}
	if p := resp.Properties; p != nil {
		rd.Name = deref(p.RoleName)
		rd.BuiltIn = strings.EqualFold(deref(p.RoleType), builtInRoleType)
		for _, perm := range p.Permissions {
			if perm != nil && len(perm.DataActions) > 0 {
				rd.HasDataActions = true
			}
		}
	}
	return rd, nil
}
