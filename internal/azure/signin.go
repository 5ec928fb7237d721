package azure

import (
	"errors"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// azureCLICredentialName prefixes every error of azidentity's
// AzureCLICredential ("AzureCLICredential: …").
const azureCLICredentialName = "AzureCLICredential"

// Why the Azure CLI could not sign in, as the fix for each is different.
const (
	// signInFix is what every sign-in message ends with: the other credential.
	signInFix          = "; or set PAL_CREDENTIAL=" + CredentialManagedIdentity + " where a managed identity is available"
	msgCLINotInstalled = "sign-in: the Azure CLI (az) is not installed or not on PATH: install it " +
		"(https://learn.microsoft.com/cli/azure/install-azure-cli), then run az login --tenant <managing tenant>" + signInFix
	msgCLINotLoggedIn = "sign-in: the Azure CLI is not logged in: run az login --tenant <managing tenant>" + signInFix
	msgCLIExpired     = "sign-in: the Azure CLI's login has expired: run az login --tenant <managing tenant> again" + signInFix
	msgCLIInteractive = "sign-in: the Azure CLI needs an interactive sign-in (multifactor authentication or consent): run az login --tenant <managing tenant>" + signInFix
)

// Entra ID error codes (AADSTS…) of a login that is no longer good: the
// refresh token expired (700082), was revoked or its grant expired (50173,
// 50132), or sign-in frequency requires a new sign-in (70043, 70044).
var expiredLoginCodes = []string{"AADSTS700082", "AADSTS50173", "AADSTS50132", "AADSTS70043", "AADSTS70044"}

// signInError returns a [*pal.Error] with CodeSignIn when err is the Azure
// CLI credential failing for a reason only the person at the terminal can fix
// (the CLI is missing, not logged in, or its login expired), else nil: any
// other failure of a credential stays transient for the caller to decide.
//
// The texts matched are azidentity's (shellExec: "executable not found on
// path" when the shell exits 127) and the Azure CLI's own, which azidentity
// passes through in an AuthenticationFailedError: "Please run 'az login' to
// setup account." (azure-cli _profile.py) and, for an Entra error,
// "AADSTS…" followed by "Interactive authentication is needed. Please run:
// az login …" (azure-cli auth/util.py aad_error_handler).
func signInError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.Contains(msg, azureCLICredentialName) {
		return nil
	}
	var afe *azidentity.AuthenticationFailedError
	failed := errors.As(err, &afe)
	var why string
	switch {
	case strings.Contains(msg, "executable not found on path"):
		why = msgCLINotInstalled
	case strings.Contains(msg, "--claims-challenge"):
		why = msgCLIInteractive
	case !failed:
		return nil
	case strings.Contains(msg, "Please run 'az login' to setup account"), strings.Contains(msg, "Please run 'az login' to set up account"):
		why = msgCLINotLoggedIn
	case containsAny(msg, expiredLoginCodes), strings.Contains(msg, "expired") && strings.Contains(msg, "az login"):
		why = msgCLIExpired
	case strings.Contains(msg, "Interactive authentication is needed"):
		why = msgCLIInteractive
	default:
		return nil
	}
	return &pal.Error{Code: pal.CodeSignIn, Message: why, Err: err}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
