package azure

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// restList reads an ARM list on c's pipeline (token, retries, telemetry):
// GET path?query, then every nextLink, handing each page's value items to
// each. op names the operation in errors, which are translated. A repeated
// nextLink stops the listing; each returning false stops it early.
func restList(ctx context.Context, c *arm.Client, apiName, op, path string, query url.Values, each func(json.RawMessage) (more bool, err error)) (err error) {
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, apiName)
	ctx, endSpan := runtime.StartSpan(ctx, apiName, c.Tracer(), nil)
	defer func() { endSpan(err) }()

	next := runtime.JoinPaths(c.Endpoint(), path)
	first := true
	seen := make(map[string]bool)
	for next != "" {
		req, err := runtime.NewRequest(ctx, http.MethodGet, next)
		if err != nil {
			return translate(op, err)
		}
		if first {
			req.Raw().URL.RawQuery = query.Encode()
			first = false
		}
		req.Raw().Header["Accept"] = []string{"application/json"}
		resp, err := c.Pipeline().Do(req)
		if err != nil {
			return translate(op, err)
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return translate(op, runtime.NewResponseError(resp))
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink *string           `json:"nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer is not a list", Err: err}
		}
		for _, item := range page.Value {
			more, err := each(item)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		if err := checkNextLink(op, seen, page.NextLink); err != nil {
			return err
		}
		next = deref(page.NextLink)
	}
	return nil
}
