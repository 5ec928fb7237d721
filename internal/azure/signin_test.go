package azure

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/fakeaz"
)

// TestAzureCLISignInErrors runs azidentity's real AzureCLICredential against a
// fake az that fails as the Azure CLI does, and checks that a sign-in only a
// person can fix is CodeSignIn with the fix in its message, while an outage
// stays transient.
func TestAzureCLISignInErrors(t *testing.T) {
	tests := []struct {
		state    fakeaz.State
		wantCode pal.ErrorCode
		want     string
	}{
		{fakeaz.Missing, pal.CodeSignIn, "the Azure CLI (az) is not installed or not on PATH: install it"},
		{fakeaz.LoggedOut, pal.CodeSignIn, "the Azure CLI is not logged in: run az login --tenant <managing tenant>"},
		{fakeaz.Expired, pal.CodeSignIn, "the Azure CLI's login has expired: run az login --tenant <managing tenant> again"},
		{fakeaz.Offline, pal.CodeTransient, "the credential could not give one"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			path, err := fakeaz.Install(t.TempDir(), tt.state)
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", path) // AzureCLICredential runs az with the process's environment
			cred, err := NewCredential(CredentialAzureCLI, "", cloud.Configuration{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewTokenPrincipal(cred, cloud.AzurePublic)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Principal(context.Background())
			var pe *pal.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Principal error = %v, want a *pal.Error", err)
			}
			if pe.Code != tt.wantCode || !strings.Contains(pe.Message, tt.want) {
				t.Errorf("got %s %q, want %s containing %q", pe.Code, pe.Message, tt.wantCode, tt.want)
			}
			if strings.Contains(pe.Message, "\n") {
				t.Errorf("message %q is more than one line", pe.Message)
			}
			if tt.wantCode == pal.CodeSignIn && !strings.Contains(pe.Message, "PAL_CREDENTIAL") {
				t.Errorf("message %q does not name PAL_CREDENTIAL", pe.Message)
			}
			// The same failure inside an ARM request (the pipeline's token policy).
			if got := pal.ErrorCodeOf(translate("GET subscriptions", &tokenError{err: pe.Err})); got != tt.wantCode {
				t.Errorf("translate: code %s, want %s", got, tt.wantCode)
			}
		})
	}
}
