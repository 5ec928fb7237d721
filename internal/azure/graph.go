package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	graphModuleName    = "palgraph"
	graphModuleVersion = "v1.0.0"
	// graphPageSize is the largest page transitiveMemberOf gives ($top 999).
	graphPageSize = 999
	// graphMaxPages bounds one membership listing (999 objects a page).
	graphMaxPages = 20
)

// GraphPermission is the Microsoft Graph application permission (app role)
// the identity needs to list its own memberships: the least privileged one
// for GET /servicePrincipals/{id}/transitiveMemberOf.
const GraphPermission = "Application.Read.All"

// GraphClient reads a service principal's group memberships from Microsoft
// Graph (v1.0), on an azcore pipeline with a bearer token for the cloud's
// Graph audience.
type GraphClient struct {
	internal *azcore.Client
	endpoint string
}

// NewGraphClient returns a GraphClient for the Graph service of cfg (see
// [CloudConfig], [ServiceGraph]). options may be nil (azcore's defaults);
// its Cloud is not used.
func NewGraphClient(cred azcore.TokenCredential, cfg cloud.Configuration, options *policy.ClientOptions) (*GraphClient, error) {
	if cred == nil {
		return nil, errors.New("graph client: nil credential")
	}
	g, ok := cfg.Services[ServiceGraph]
	if !ok || g.Endpoint == "" || g.Audience == "" {
		return nil, errors.New("graph client: the cloud configuration has no Microsoft Graph service")
	}
	if options == nil {
		options = &policy.ClientOptions{}
	}
	token := runtime.NewBearerTokenPolicy(markCredential(cred), []string{g.Audience + "/.default"}, nil)
	cl, err := azcore.NewClient(graphModuleName, graphModuleVersion, runtime.PipelineOptions{PerRetry: []policy.Policy{token}}, options)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	return &GraphClient{internal: cl, endpoint: g.Endpoint}, nil
}

type directoryObjectJSON struct {
	ODataType string `json:"@odata.type"`
	ID        string `json:"id"`
}

// TransitiveGroups returns the object IDs (lower case) of the groups the
// service principal objectID is a member of, nested memberships included:
// GET /v1.0/servicePrincipals/{id}/transitiveMemberOf?$select=id&$top=999 and
// every @odata.nextLink. Objects other than groups (directory roles,
// administrative units) are left out; a group returned with limited
// information (id and type only, when the caller may not read groups) counts.
// Errors: CodeForbidden when Graph refuses (the identity lacks
// [GraphPermission]); the usual translation otherwise.
func (c *GraphClient) TransitiveGroups(ctx context.Context, objectID string) ([]string, error) {
	if !pal.IsGUID(objectID) {
		return nil, invalidInput("objectId", "must be a GUID")
	}
	objectID = strings.ToLower(objectID)
	op := "GET Microsoft Graph transitiveMemberOf of " + objectID
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, "ServicePrincipals.TransitiveMemberOf")
	next := runtime.JoinPaths(c.endpoint, "/v1.0/servicePrincipals/"+objectID+"/transitiveMemberOf") +
		"?" + url.Values{"$select": {"id"}, "$top": {fmt.Sprint(graphPageSize)}}.Encode()
	seen := map[string]bool{}
	var groups []string
	for pages := 0; next != ""; pages++ {
		if pages == graphMaxPages {
			return nil, &pal.Error{Code: pal.CodeInternal, Message: fmt.Sprintf("%s: more than %d pages", op, graphMaxPages)}
		}
		req, err := runtime.NewRequest(ctx, http.MethodGet, next)
		if err != nil {
			return nil, translate(op, err)
		}
		req.Raw().Header["Accept"] = []string{"application/json"}
		resp, err := c.internal.Pipeline().Do(req)
		var te *tokenError
		if errors.As(err, &te) {
			return nil, &pal.Error{Code: pal.CodeTransient, Message: op + ": could not get a Microsoft Graph token", Err: err}
		}
		if err != nil {
			return nil, translate(op, err)
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return nil, translate(op, runtime.NewResponseError(resp))
		}
		var page struct {
			Value    []directoryObjectJSON `json:"value"`
			NextLink *string               `json:"@odata.nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return nil, &pal.Error{Code: pal.CodeInternal, Message: op + ": Graph's answer is not a list", Err: err}
		}
		for _, o := range page.Value {
			if strings.EqualFold(o.ODataType, "#microsoft.graph.group") && pal.IsGUID(o.ID) {
				groups = append(groups, strings.ToLower(o.ID))
			}
		}
		if err := checkNextLink(op, seen, page.NextLink); err != nil {
			return nil, err
		}
		next = deref(page.NextLink)
	}
	return groups, nil
}
