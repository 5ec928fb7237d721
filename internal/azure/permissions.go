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
	authorizationModuleName    = "armauthorization"
	authorizationModuleVersion = "v2.2.0"
	authorizationAPIVersion    = "2022-04-01"
)

// PermissionClient reads the caller's effective permissions and the built-in
// role definitions from the authorization provider (api-version 2022-04-01).
// The REST spec documents the permissions API at resource-group and resource
// scope only; ARM also serves it at subscription scope (the portal calls it
// there), so the client asks there and callers fall back to a resource group.
type PermissionClient struct {
	internal *arm.Client
}

// NewPermissionClient returns a PermissionClient on azcore's ARM pipeline. Pass
// nil options for the defaults (Azure public cloud).
func NewPermissionClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*PermissionClient, error) {
	cl, err := newARMClient("permission client", authorizationModuleName, authorizationModuleVersion, cred, options)
	if err != nil {
		return nil, err
	}
	return &PermissionClient{internal: cl}, nil
}

// permissionJSON is one Permission of the spec.
type permissionJSON struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

func (p permissionJSON) set() pal.PermissionSet {
	return pal.PermissionSet{Actions: p.Actions, NotActions: p.NotActions, DataActions: p.DataActions, NotDataActions: p.NotDataActions}
}

// EffectivePermissions returns one permission set per role the caller holds:
// GET /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.Authorization/permissions,
// every page. subscriptionID must be a GUID and resourceGroup, when not "", a
// resource group name (CodeInvalidInput). A refusal is CodeForbidden.
func (c *PermissionClient) EffectivePermissions(ctx context.Context, subscriptionID, resourceGroup string) ([]pal.PermissionSet, error) {
	if !pal.IsGUID(subscriptionID) {
		return nil, invalidInput("subscriptionId", "must be a GUID")
	}
	subscriptionID = strings.ToLower(subscriptionID)
	path := "/subscriptions/" + subscriptionID
	op := "GET permissions at subscription " + subscriptionID
	if resourceGroup != "" {
		if !validResourceGroup(resourceGroup) {
			return nil, invalidInput("resourceGroup", "must be a resource group name")
		}
		path += "/resourceGroups/" + url.PathEscape(resourceGroup)
		op += " resource group " + resourceGroup
	}
	path += "/providers/Microsoft.Authorization/permissions"
	var sets []pal.PermissionSet
	err := restList(ctx, c.internal, "PermissionsClient.List", op, path, url.Values{"api-version": {authorizationAPIVersion}},
		func(raw json.RawMessage) (bool, error) {
			var p permissionJSON
			if err := json.Unmarshal(raw, &p); err != nil {
				return false, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer holds a malformed permission", Err: err}
			}
			sets = append(sets, p.set())
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	return sets, nil
}

// roleDefinitionJSON is a RoleDefinition of the spec.
type roleDefinitionJSON struct {
	Name       string `json:"name"`
	Properties *struct {
		RoleName    string           `json:"roleName"`
		Type        string           `json:"type"`
		RoleType    string           `json:"roleType"`
		Permissions []permissionJSON `json:"permissions"`
	} `json:"properties"`
}

// ListBuiltInRoles lists the built-in role definitions with their permissions,
// every page: GET [/subscriptions/{id}]/providers/Microsoft.Authorization/roleDefinitions?$filter=type eq 'BuiltInRole'.
// subscriptionID "" lists them at the tenant root; otherwise it must be a GUID.
func (c *PermissionClient) ListBuiltInRoles(ctx context.Context, subscriptionID string) ([]pal.RoleDefinition, error) {
	path := "/providers/Microsoft.Authorization/roleDefinitions"
	op := "LIST built-in role definitions"
	if subscriptionID != "" {
		if !pal.IsGUID(subscriptionID) {
			return nil, invalidInput("subscriptionId", "must be a GUID")
		}
		subscriptionID = strings.ToLower(subscriptionID)
		path = "/subscriptions/" + subscriptionID + path
		op += " at subscription " + subscriptionID
	}
	q := url.Values{"api-version": {authorizationAPIVersion}, "$filter": {"type eq '" + builtInRoleType + "'"}}
	var defs []pal.RoleDefinition
	err := restList(ctx, c.internal, "RoleDefinitionsClient.List", op, path, q, func(raw json.RawMessage) (bool, error) {
		var d roleDefinitionJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			return false, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer holds a malformed role definition", Err: err}
		}
		rd := pal.RoleDefinition{ID: strings.ToLower(d.Name)}
		if p := d.Properties; p != nil {
			rd.Name = p.RoleName
			// The service names the field "type"; the SDK's model calls it roleType.
			rd.BuiltIn = strings.EqualFold(p.Type, builtInRoleType) || strings.EqualFold(p.RoleType, builtInRoleType)
			for _, perm := range p.Permissions {
				rd.Permissions = append(rd.Permissions, perm.set())
				rd.HasDataActions = rd.HasDataActions || len(perm.DataActions) > 0
			}
		}
		defs = append(defs, rd)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return defs, nil
}

// validResourceGroup reports whether s can be a resource group name: 1–90
// letters, digits, '_', '-', '.', '(' or ')' (ARM's rule), not ending in '.'.
func validResourceGroup(s string) bool {
	if s == "" || len(s) > 90 || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("_-.()", r):
		default:
			return false
		}
	}
	return true
}
