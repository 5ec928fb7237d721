package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Credential kinds [NewCredential] accepts, as the PAL_CREDENTIAL setting spells them.
const (
	// CredentialManagedIdentity is azidentity's ManagedIdentityCredential: on Azure
	// Functions it reads IDENTITY_ENDPOINT and IDENTITY_HEADER.
	CredentialManagedIdentity = "managedidentity"
	// CredentialAzureCLI is azidentity's AzureCLICredential, for local development.
	CredentialAzureCLI = "azurecli"
)

// CredentialKinds lists the kinds [NewCredential] accepts, in their canonical
// (lower-case) spelling.
func CredentialKinds() []string {
	return []string{CredentialManagedIdentity, CredentialAzureCLI}
}

// CredentialKind returns the canonical spelling of kind (matched without
// regard to case or surrounding space), and false when it is none of
// [CredentialKinds].
func CredentialKind(kind string) (string, bool) {
	kind = strings.TrimSpace(kind)
	for _, k := range CredentialKinds() {
		if strings.EqualFold(kind, k) {
			return k, true
		}
	}
	return "", false
}

// CredentialOptions adjusts [NewCredential]. The zero value, and nil, give
// azidentity's defaults.
type CredentialOptions struct {
	// Retry configures the retries of token requests to the managed-identity
	// endpoint. Zero fields keep azidentity's defaults: azcore's (3 retries from
	// 800 ms, at most 60 s apart) for the App Service endpoint of Azure
	// Functions, or IMDS's own (6 retries from 2 s, at most 25 s apart).
	Retry policy.RetryOptions
}

// NewCredential returns the credential of the given kind, matched without regard
// to case. There is no fallback chain: an unknown kind is an error that names
// the valid ones.
//
//   - [CredentialManagedIdentity]: a user-assigned identity when clientID is set
//     (azidentity.ClientID), else the system-assigned one. cfg and
//     options.Retry go into the credential's client options. The identity
//     endpoint's 400 (no such identity on the app) fails with CodeRejected,
//     naming AZURE_CLIENT_ID and the client ID used; other failures are left
//     to [translate] (transient).
//
// Concurrent token requests for the same scope share one request (single
// flight), so a cold start does not send one per caller.
//   - [CredentialAzureCLI]: the identity logged in to the Azure CLI, in the cloud
//     the CLI is set to (az cloud set); clientID, cfg and options are not used.
func NewCredential(kind, clientID string, cfg cloud.Configuration, options *CredentialOptions) (azcore.TokenCredential, error) {
	if options == nil {
		options = &CredentialOptions{}
	}
	canonical, _ := CredentialKind(kind)
	switch canonical {
	case CredentialManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		opts.Cloud = cfg
		opts.Retry = options.Retry
		if clientID != "" {
			opts.ID = azidentity.ClientID(clientID)
		}
		cred, err := azidentity.NewManagedIdentityCredential(opts)
		if err != nil {
			return nil, fmt.Errorf("new managed identity credential: %w", err)
		}
		return shareTokens(managedIdentity{cred: cred, clientID: clientID}), nil
	case CredentialAzureCLI:
		cred, err := azidentity.NewAzureCLICredential(nil)
		if err != nil {
			return nil, fmt.Errorf("new Azure CLI credential: %w", err)
		}
		return shareTokens(cred), nil
	default:
		return nil, fmt.Errorf("unknown credential kind %q: want %q or %q",
			kind, CredentialManagedIdentity, CredentialAzureCLI)
	}
}

// managedIdentity is the managed identity credential with its permanent
// failure told apart: the identity endpoint's 400.
type managedIdentity struct {
	cred     azcore.TokenCredential
	clientID string
}

// GetToken implements azcore.TokenCredential.
func (m managedIdentity) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := m.cred.GetToken(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, translateManagedIdentity(err, m.clientID)
	}
	return tk, nil
}

// translateManagedIdentity turns the identity endpoint's 400 into a
// CodeRejected error that names the setting to fix: App Service answers 400
// ("Unable to load the proper Managed Identity.") for a client ID no identity
// of the app has, IMDS for an identity not assigned to the resource. Any
// other error is returned as it is.
func translateManagedIdentity(err error, clientID string) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
		return err
	}
	which := "the system-assigned identity (AZURE_CLIENT_ID is empty)"
	fix := "give the function app a system-assigned identity, or set AZURE_CLIENT_ID to the client ID of its user-assigned identity"
	if clientID != "" {
		which = "the user-assigned identity with client ID " + clientID + " (AZURE_CLIENT_ID)"
		fix = "set AZURE_CLIENT_ID to the client ID of a user-assigned identity assigned to the function app"
	}
	return &pal.Error{
		Code:    pal.CodeRejected,
		Message: "the managed-identity endpoint answered 400 for " + which + ": no such identity is assigned to the app; " + fix,
		Err:     err,
	}
}

// tokenError marks an error of the credential, so that [translate] can tell a
// failed token request from a failed ARM request after the pipeline wrapped it.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "get token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// markedCredential wraps a credential and marks its errors as [*tokenError].
type markedCredential struct{ cred azcore.TokenCredential }

// GetToken implements azcore.TokenCredential.
func (m markedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := m.cred.GetToken(ctx, opts)
	if err != nil {
		var te *tokenError
		if !errors.As(err, &te) {
			err = &tokenError{err: err}
		}
		return azcore.AccessToken{}, err
	}
	return tk, nil
}

// markCredential returns cred wrapped in a markedCredential, once.
func markCredential(cred azcore.TokenCredential) azcore.TokenCredential {
	if cred == nil {
		return nil
	}
	if _, ok := cred.(markedCredential); ok {
		return cred
	}
	return markedCredential{cred: cred}
}
