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
	resourcesModuleName    = "armresources"
	resourcesModuleVersion = "v1.2.0"
	resourcesAPIVersion    = "2021-04-01"
)

// ResourceGroupClient lists a subscription's resource groups (api-version
// 2021-04-01). It needs Microsoft.Resources/subscriptions/resourceGroups/read,
// which Support Request Contributor grants.
type ResourceGroupClient struct {
	internal *arm.Client
}

// NewResourceGroupClient returns a ResourceGroupClient on azcore's ARM
// pipeline. Pass nil options for the defaults (Azure public cloud).
func NewResourceGroupClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*ResourceGroupClient, error) {
	cl, err := newARMClient("resource group client", resourcesModuleName, resourcesModuleVersion, cred, options)
	if err != nil {
		return nil, err
	}
	return &ResourceGroupClient{internal: cl}, nil
}

// FirstResourceGroup returns the name of one resource group of the
// subscription, "" when it has none: GET /subscriptions/{id}/resourcegroups?$top=1.
// subscriptionID must be a GUID (CodeInvalidInput).
func (c *ResourceGroupClient) FirstResourceGroup(ctx context.Context, subscriptionID string) (string, error) {
	if !pal.IsGUID(subscriptionID) {
		return "", invalidInput("subscriptionId", "must be a GUID")
	}
	subscriptionID = strings.ToLower(subscriptionID)
	op := "LIST resource groups of subscription " + subscriptionID
	var name string
	err := restList(ctx, c.internal, "ResourceGroupsClient.List", op, "/subscriptions/"+subscriptionID+"/resourcegroups",
		url.Values{"api-version": {resourcesAPIVersion}, "$top": {"1"}},
		func(raw json.RawMessage) (bool, error) {
			var g struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				return false, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer holds a malformed resource group", Err: err}
			}
			if validResourceGroup(g.Name) {
				name = g.Name
				return false, nil
			}
			return true, nil
		})
	if err != nil {
		return "", err
	}
	return name, nil
}
