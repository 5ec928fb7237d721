package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	partnerModuleName    = "armmanagementpartner"
	partnerModuleVersion = "v0.1.0"
	partnerAPIVersion    = "2018-02-01"
	partnersPath         = "/providers/Microsoft.ManagementPartner/partners"
)

// PartnerClient speaks to the Management Partner API (Microsoft.ManagementPartner,
// api-version 2018-02-01), which keeps the caller's Partner Admin Link. The API
// is tenant-level: the link belongs to the tenant and object ID in the token.
// It is built like the generated armmanagementpartner client but sends no
// request bodies, accepts 200, 201 and 204, and reads answers leniently.
type PartnerClient struct {
	internal *arm.Client
}

// NewPartnerClient returns a PartnerClient on azcore's ARM pipeline. Pass nil
// options for the defaults (Azure public cloud).
func NewPartnerClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*PartnerClient, error) {
	cl, err := newARMClient("management partner client", partnerModuleName, partnerModuleVersion, cred, options)
	if err != nil {
		return nil, err
	}
	return &PartnerClient{internal: cl}, nil
}

// CurrentLink returns the caller's link: GET /providers/Microsoft.ManagementPartner/partners.
// It returns nil, nil when Azure answers 404 (no link). A soft-deleted link
// (State "Deleted") is returned as it is; see [pal.Link.Active].
func (c *PartnerClient) CurrentLink(ctx context.Context) (*pal.Link, error) {
	const op = "GET partner link"
	body, err := c.do(ctx, "PartnersClient.Get", http.MethodGet, "")
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		return nil, translate(op, err)
	}
	if isEmptyBody(body) {
		return nil, nil
	}
	return parseLink(op, body)
}

// CreateLink links the caller to partnerID: PUT /providers/Microsoft.ManagementPartner/partners/{partnerID}.
// PUT is not idempotent: when the caller is linked already, to any ID, Azure
// refuses with 409 and the error has code CodeAlreadyLinked, whatever code
// Azure named; change a link with
// [PartnerClient.UpdateLink]. partnerID must pass [pal.ValidPartnerID] (CodeInvalidInput).
func (c *PartnerClient) CreateLink(ctx context.Context, partnerID string) (*pal.Link, error) {
	return c.write(ctx, "PartnerClient.Create", http.MethodPut, partnerID)
}

// UpdateLink moves the caller's existing link to partnerID:
// PATCH /providers/Microsoft.ManagementPartner/partners/{partnerID}, naming
// the new ID. partnerID must pass [pal.ValidPartnerID] (CodeInvalidInput).
func (c *PartnerClient) UpdateLink(ctx context.Context, partnerID string) (*pal.Link, error) {
	return c.write(ctx, "PartnerClient.Update", http.MethodPatch, partnerID)
}

// write sends a PUT or PATCH and returns the link it made. An answer without a
// body (204, or an empty 200/201) is followed by a GET of the current link.
func (c *PartnerClient) write(ctx context.Context, apiName, method, partnerID string) (*pal.Link, error) {
	if !pal.ValidPartnerID(partnerID) {
		return nil, invalidInput("partnerId", fmt.Sprintf("must be a partner ID: 1 to %d digits", pal.MaxPartnerIDLen))
	}
	op := method + " partner link " + partnerID
	body, err := c.do(ctx, apiName, method, partnerID)
	if err != nil {
		return nil, conflictIsRace(method, translate(op, err))
	}
	if !isEmptyBody(body) {
		return parseLink(op, body)
	}
	link, err := c.CurrentLink(ctx)
	if err != nil {
		return nil, err
	}
	if link == nil {
		return nil, &pal.Error{Code: pal.CodeTransient, Message: op + ": Azure accepted the link but does not show it yet"}
	}
	return link, nil
}

// conflictIsRace turns a PUT's 409, whatever its error code, into
// CodeAlreadyLinked: the spec names the code "Conflict", the service answers
// "PartnerIdAlreadyLinked", and either way another writer linked the caller
// first, so the engine reads the link again and applies its policy.
func conflictIsRace(method string, err error) error {
	var pe *pal.Error
	var re *azcore.ResponseError
	if method != http.MethodPut || !errors.As(err, &pe) || !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		return err
	}
	pe.Code = pal.CodeAlreadyLinked
	return pe
}

// do sends one request without a body to the partners collection (partnerID
// "") or to one partner, and returns the body of a 200, 201 or 204 answer.
// Other answers are *azcore.ResponseError.
func (c *PartnerClient) do(ctx context.Context, apiName, method, partnerID string) (body []byte, err error) {
	ctx = context.WithValue(ctx, runtime.CtxAPINameKey{}, apiName)
	ctx, endSpan := runtime.StartSpan(ctx, apiName, c.internal.Tracer(), nil)
	defer func() { endSpan(err) }()

	urlPath := partnersPath
	if partnerID != "" {
		urlPath += "/" + url.PathEscape(partnerID)
	}
	req, err := runtime.NewRequest(ctx, method, runtime.JoinPaths(c.internal.Endpoint(), urlPath))
	if err != nil {
		return nil, err
	}
	q := req.Raw().URL.Query()
	q.Set("api-version", partnerAPIVersion)
	req.Raw().URL.RawQuery = q.Encode()
	req.Raw().Header["Accept"] = []string{"application/json"}

	resp, err := c.internal.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated, http.StatusNoContent) {
		err = runtime.NewResponseError(resp)
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	body, err = runtime.Payload(resp)
	if err != nil {
		return nil, err
	}
	return body, nil
}

// isEmptyBody reports whether an answer carries no partner: no bytes, only
// white space, null, or an empty JSON string.
func isEmptyBody(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null" || string(b) == `""`
}

// partnerResponse is the PartnerResponse of the 2018-02-01 spec, read leniently:
// examples and the live service disagree on the type of version and on type.
type partnerResponse struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"` // "Microsoft.ManagementPartner/partners" or ".../partner"
	ETag       flexInt            `json:"etag"`
	Properties *partnerProperties `json:"properties"`
}

// partnerProperties are the PartnerProperties of the spec.
type partnerProperties struct {
	PartnerID   string   `json:"partnerId"`
	PartnerName string   `json:"partnerName"`
	TenantID    string   `json:"tenantId"`
	ObjectID    string   `json:"objectId"`
	Version     flexInt  `json:"version"` // int32 in the spec, a string in older examples
	UpdatedTime flexTime `json:"updatedTime"`
	CreatedTime flexTime `json:"createdTime"`
	State       string   `json:"state"`
}

// parsePartner decodes a PartnerResponse.
func parsePartner(body []byte) (partnerResponse, error) {
	var pr partnerResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return partnerResponse{}, err
	}
	return pr, nil
}

// parseLink decodes a PartnerResponse into a link.
func parseLink(op string, body []byte) (*pal.Link, error) {
	pr, err := parsePartner(body)
	if err != nil {
		return nil, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer is not a partner response", Err: err}
	}
	var props partnerProperties
	if pr.Properties != nil {
		props = *pr.Properties
	}
	id := props.PartnerID
	if id == "" {
		id = pr.Name
	}
	if id == "" {
		return nil, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's partner response has no partnerId"}
	}
	return &pal.Link{
		PartnerID:   id,
		PartnerName: props.PartnerName,
		TenantID:    strings.ToLower(props.TenantID),
		ObjectID:    strings.ToLower(props.ObjectID),
		State:       props.State,
	}, nil
}

// flexInt reads a JSON number or a string holding one; anything else reads as 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = 0
	s := jsonScalar(b)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = flexInt(v)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -(1<<62) && f <= 1<<62 {
		*n = flexInt(f)
	}
	return nil
}

// flexTime reads an RFC 3339 time with any number of fraction digits (the
// service sends 6 or 7); anything else reads as the zero time.
type flexTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *flexTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if v, err := time.Parse(time.RFC3339Nano, jsonScalar(b)); err == nil {
		t.Time = v
	}
	return nil
}

// jsonScalar returns a JSON string's value or another JSON value's text,
// trimmed of white space.
func jsonScalar(b []byte) string {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(b))
}
