package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// TokenPrincipal tells who the credential is: the tenant and object ID inside
// its ARM token, which are the keys of its Partner Admin Link.
type TokenPrincipal struct {
	cred  azcore.TokenCredential
	scope string

	mu     sync.Mutex
	cached *pal.Principal
}

// NewTokenPrincipal returns a TokenPrincipal that asks cred for tokens of the
// Resource Manager audience of cfg (audience + "/.default", the scope the ARM
// pipeline uses too, so the credential's cache serves both). A zero cfg means
// the Azure public cloud.
func NewTokenPrincipal(cred azcore.TokenCredential, cfg cloud.Configuration) (*TokenPrincipal, error) {
	if cred == nil {
		return nil, errors.New("token principal: nil credential")
	}
	if cfg.ActiveDirectoryAuthorityHost == "" && len(cfg.Services) == 0 {
		cfg = cloud.AzurePublic // as azcore's ARM pipeline does for a zero configuration
	}
	arm, ok := cfg.Services[cloud.ResourceManager]
	if !ok || arm.Audience == "" {
		return nil, errors.New("token principal: cloud configuration has no Resource Manager audience")
	}
	return &TokenPrincipal{cred: cred, scope: arm.Audience + "/.default"}, nil
}

// Principal returns the tid and oid claims of the credential's ARM token, lower
// case. The token's signature is not checked: the token comes from our own
// credential and is only read, never trusted for access. The first answer is
// kept; the identity behind a credential does not change.
//
// Errors (never holding the token):
//   - CodeSignIn when the Azure CLI cannot sign in until a person acts
//     (not installed, not logged in, login expired; see signInError)
//   - CodeTransient when the credential cannot give a token otherwise
//   - CodeInternal when the token is not a JWT or lacks a GUID tid or oid
func (p *TokenPrincipal) Principal(ctx context.Context) (pal.Principal, error) {
	p.mu.Lock()
	if p.cached != nil {
		pr := *p.cached
		p.mu.Unlock()
		return pr, nil
	}
	p.mu.Unlock()

	tk, err := p.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{p.scope}})
	var pe *pal.Error
	if errors.As(err, &pe) {
		return pal.Principal{}, err // already translated, e.g. an app credential's Entra answer
	}
	if se := signInError(err); se != nil {
		return pal.Principal{}, se
	}
	if err != nil {
		return pal.Principal{}, &pal.Error{
			Code:    pal.CodeTransient,
			Message: "get ARM token: the credential could not give one",
			Err:     err,
		}
	}
	pr, err := principalFromJWT(tk.Token)
	if err != nil {
		return pal.Principal{}, err
	}
	p.mu.Lock()
	p.cached = &pr
	p.mu.Unlock()
	return pr, nil
}

// principalFromJWT decodes the payload of a JWT for its tid and oid claims.
// Its errors name what is wrong but never quote the token or its claims.
func principalFromJWT(token string) (pal.Principal, error) {
	bad := func(msg string) error {
		return &pal.Error{Code: pal.CodeInternal, Message: "read ARM token: " + msg}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return pal.Principal{}, bad("not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return pal.Principal{}, bad("JWT payload is not base64url")
	}
	var claims struct {
		TID any `json:"tid"`
		OID any `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return pal.Principal{}, bad("JWT payload is not a JSON object")
	}
	tid, _ := claims.TID.(string)
	oid, _ := claims.OID.(string)
	switch {
	case tid == "":
		return pal.Principal{}, bad("token has no tid (tenant ID) claim")
	case oid == "":
		return pal.Principal{}, bad("token has no oid (object ID) claim")
	case !pal.IsGUID(tid):
		return pal.Principal{}, bad("tid claim is not a GUID")
	case !pal.IsGUID(oid):
		return pal.Principal{}, bad("oid claim is not a GUID")
	}
	return pal.Principal{TenantID: strings.ToLower(tid), ObjectID: strings.ToLower(oid)}, nil
}
