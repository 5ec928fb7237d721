package azure

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// newARMClient is the azcore ARM client of the REST adapters (what names the
// adapter in errors): the credential marked, as every adapter's is.
func newARMClient(what, module, version string, cred azcore.TokenCredential, options *arm.ClientOptions) (*arm.Client, error) {
	if cred == nil {
		return nil, errors.New(what + ": nil credential")
	}
	cl, err := arm.NewClient(module, version, markCredential(cred), options)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return cl, nil
}
