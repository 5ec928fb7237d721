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

// newSDKClient is an Azure SDK client of an adapter built on the generated
// ARM clients (what names the adapter in errors), with the credential marked
// as every adapter's is; newARMClient's counterpart.
func newSDKClient[T any](what string, cred azcore.TokenCredential, options *arm.ClientOptions,
	build func(azcore.TokenCredential, *arm.ClientOptions) (T, error)) (T, error) {
	var zero T
	if cred == nil {
		return zero, errors.New(what + ": nil credential")
	}
	c, err := build(markCredential(cred), options)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}
