package main

import (
	"context"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// lazyCredential builds its credential on the first token request, so that
// starting the handler builds none (docs/reliability.md, "Fast start"):
// building azidentity's managed-identity credential costs about half a
// millisecond, and the host's readiness probe needs no token. PAL_CREDENTIAL
// is checked with the other settings at start; what building the credential
// can still refuse (a source that takes no user-assigned identity) is the
// error of every token request.
type lazyCredential struct {
	get func() (azcore.TokenCredential, error)
}

var _ azcore.TokenCredential = lazyCredential{}

// newLazyCredential returns a credential that calls build once, on its first
// token request.
func newLazyCredential(build func() (azcore.TokenCredential, error)) lazyCredential {
	return lazyCredential{get: sync.OnceValues(build)}
}

// GetToken implements azcore.TokenCredential.
func (c lazyCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	cred, err := c.get()
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return cred.GetToken(ctx, opts)
}
