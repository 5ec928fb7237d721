package main

import (
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/pal-keeper/pal-keeper/internal/azure"
)

const (
	testAppID   = "0a0a0a0a-1111-2222-3333-444444444444"
	testTenantA = "c0c0c0c0-1111-2222-3333-444444444444"
)

// identityEnv is a valid environment plus the given identity settings.
func identityEnv(extra map[string]string) map[string]string {
	m := map[string]string{envPartnerID: "1234567", envCredential: "managedidentity"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestIdentitySettings(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    string // identity on success
		wantErr string // the setting the one-line error names
	}{
		{"default", nil, identityManaged, ""},
		{"app", map[string]string{envIdentity: "app", envAppClientID: strings.ToUpper(testAppID)}, identityApp, ""},
		{"direct with tenants", map[string]string{envIdentity: "Direct", envAppClientID: testAppID, envDirectTenants: " " + testTenantA + " ,"}, identityDirect, ""},
		{"emulator authority", map[string]string{envIdentity: "app", envAppClientID: testAppID, envAuthorityHost: "https://127.0.0.1:8443/"}, identityApp, ""},
		{"unknown mode", map[string]string{envIdentity: "user"}, "", envIdentity},
		{"app without client ID", map[string]string{envIdentity: "app"}, "", envAppClientID},
		{"client ID not a GUID", map[string]string{envIdentity: "direct", envAppClientID: "my-app"}, "", envAppClientID},
		{"client ID in managedidentity mode", map[string]string{envAppClientID: testAppID}, "", envAppClientID},
		{"app with the CLI credential", map[string]string{envIdentity: "app", envAppClientID: testAppID, envCredential: "azurecli"}, "", envCredential},
		{"tenants outside direct", map[string]string{envIdentity: "app", envAppClientID: testAppID, envDirectTenants: testTenantA}, "", envDirectTenants},
		{"tenant not a GUID", map[string]string{envIdentity: "direct", envAppClientID: testAppID, envDirectTenants: testTenantA + ",contoso"}, "", envDirectTenants},
		{"http authority", map[string]string{envIdentity: "app", envAppClientID: testAppID, envAuthorityHost: "http://127.0.0.1:8443"}, "", envAuthorityHost},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := settingsFromMap(identityEnv(c.env))
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr+":") || strings.Contains(err.Error(), "\n") {
					t.Errorf("got error %v, want one line naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Identity != c.want {
				t.Errorf("got identity %q, want %q", s.Identity, c.want)
			}
			if s.AppClientID != "" && s.AppClientID != testAppID {
				t.Errorf("got client ID %q, want it lower case", s.AppClientID)
			}
		})
	}
}

func TestAppIdentityAuthority(t *testing.T) {
	s, err := settingsFromMap(identityEnv(map[string]string{envIdentity: "app", envAppClientID: testAppID,
		envAuthorityHost: "https://127.0.0.1:8443", envCloud: "AzureChina"}))
	if err != nil {
		t.Fatal(err)
	}
	app, err := appIdentity(s, nil, mustCloud(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if app.Cloud.ActiveDirectoryAuthorityHost != "https://127.0.0.1:8443/" || !app.CustomAuthority {
		t.Errorf("got authority %q custom %v, want the override with instance discovery off", app.Cloud.ActiveDirectoryAuthorityHost, app.CustomAuthority)
	}
	if app.Audience != "api://AzureADTokenExchangeChina" {
		t.Errorf("got audience %q, want China's exchange audience", app.Audience)
	}
}

func mustCloud(t *testing.T, s settings) cloud.Configuration {
	t.Helper()
	cfg, err := azure.CloudConfig(s.Cloud, s.ARMEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAppIdentityCarriesRetry: the PAL_AZURE_* retry settings reach the
// token requests of the app's credential (app and direct modes), not only
// ARM and the managed identity.
func TestAppIdentityCarriesRetry(t *testing.T) {
	s, err := settingsFromMap(identityEnv(map[string]string{envIdentity: "direct", envAppClientID: testAppID,
		"PAL_AZURE_MAX_RETRIES": "1", "PAL_AZURE_RETRY_DELAY": "10ms"}))
	if err != nil {
		t.Fatal(err)
	}
	app, err := appIdentity(s, nil, mustCloud(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if app.Retry.MaxRetries != 1 || app.Retry.RetryDelay != 10*time.Millisecond {
		t.Errorf("app retry = %+v, want 1 retry from 10ms", app.Retry)
	}
}
