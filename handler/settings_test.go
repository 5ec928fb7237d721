package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestSettingsDefaults(t *testing.T) {
	s, err := settingsFromEnv(envFrom(map[string]string{envPartnerID: "1234567"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"Credential", s.Credential, "azurecli"},
		{"Cloud", s.Cloud, "AzurePublic"},
		{"OnboardingQueue", s.OnboardingQueue, "pal-onboarding"},
		{"SweepSchedule", s.SweepSchedule, "0 0 3 * * *"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if s.Port != 8080 || s.RelinkForeign {
		t.Errorf("Port, RelinkForeign = %d, %v; want 8080, false", s.Port, s.RelinkForeign)
	}
	if s.MaxAttempts != 8 || s.DelegationWait != 30*time.Minute || s.InvocationTimeout != 2*time.Minute || s.HTTPRole != "" {
		t.Errorf("MaxAttempts, DelegationWait, InvocationTimeout, HTTPRole = %d, %v, %v, %q; want 8, 30m, 2m, \"\"",
			s.MaxAttempts, s.DelegationWait, s.InvocationTimeout, s.HTTPRole)
	}
	s, _ = settingsFromEnv(envFrom(map[string]string{envPartnerID: "1234567", "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi"}))
	if s.Credential != "managedidentity" {
		t.Errorf("Credential with IDENTITY_ENDPOINT = %q, want managedidentity", s.Credential)
	}
	s, _ = settingsFromEnv(envFrom(map[string]string{envPartnerID: "1234567", "MSI_ENDPOINT": "http://127.0.0.1:1/msi"}))
	if s.Credential != "managedidentity" {
		t.Errorf("Credential with MSI_ENDPOINT = %q, want managedidentity", s.Credential)
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the setting the error must name
	}{
		{"missing_partner", map[string]string{}, envPartnerID},
		{"partner_not_digits", map[string]string{envPartnerID: "12ab"}, envPartnerID},
		{"allowed_not_digits", map[string]string{envAllowedPartnerIDs: "111, x"}, envAllowedPartnerIDs},
		{"relink_not_bool", map[string]string{envRelinkForeign: "maybe"}, envRelinkForeign},
		{"client_id_not_guid", map[string]string{envClientID: "not-a-guid"}, envClientID},
		{"credential_unknown", map[string]string{envCredential: "default"}, envCredential},
		{"cloud_unknown", map[string]string{envCloud: "Mars"}, envCloud},
		{"arm_endpoint_http", map[string]string{envARMEndpoint: "http://127.0.0.1:1"}, envARMEndpoint},
		{"queue_bad", map[string]string{envOnboardingQueue: "bad queue!"}, envOnboardingQueue},
		{"schedule_five_fields", map[string]string{envSweepSchedule: "0 3 * * *"}, envSweepSchedule},
		{"namespace_bad", map[string]string{envServiceBus: "not a host"}, envServiceBus},
		{"port_bad", map[string]string{envPort: "http"}, envPort},
		{"attempts_zero", map[string]string{envMaxAttempts: "0"}, envMaxAttempts},
		{"wait_not_duration", map[string]string{envDelegationWait: "30"}, envDelegationWait},
		{"timeout_too_small", map[string]string{envInvocationTimeout: "10ms"}, envInvocationTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			if tt.name == "missing_partner" {
				delete(env, envPartnerID)
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := settingsFromEnv(envFrom(env))
			if err == nil {
				t.Fatalf("settingsFromEnv(%v) = nil error, want one naming %s", tt.env, tt.wantErr)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.wantErr+":") || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting with %q", msg, tt.wantErr+":")
			}
		})
	}
}

func TestSettingsAccepts(t *testing.T) {
	s, err := settingsFromEnv(envFrom(map[string]string{
		envPartnerID: "1234567", envAllowedPartnerIDs: " 7654321 ,,1111111", envRelinkForeign: "TRUE",
		envClientID: "0F3C8D2E-1111-2222-3333-444455556666", envCredential: "ManagedIdentity", envCloud: "AzureChina",
		envARMEndpoint: "https://127.0.0.1:8443", envSweepSchedule: "00:30:00", envServiceBus: "contoso.servicebus.windows.net",
		envPort: "7071",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AllowedPartnerIDs) != 2 || !s.RelinkForeign || s.Credential != "managedidentity" || s.Port != 7071 {
		t.Errorf("settings = %+v", s)
	}
}

// TestLocalSettingsExampleNamesEverySetting keeps local.settings.json.example
// in step with the settings the handler reads.
func TestLocalSettingsExampleNamesEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../local.settings.json.example")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("local.settings.json.example: %v", err)
	}
	for _, name := range []string{envPartnerID, envAllowedPartnerIDs, envRelinkForeign, envClientID, envCredential,
		envCloud, envARMEndpoint, envOnboardingQueue, envSweepSchedule, envServiceBus, envMaxAttempts,
		envDelegationWait, envInvocationTimeout, envHTTPRole} {
		if _, ok := file.Values[name]; !ok {
			t.Errorf("local.settings.json.example does not name %s", name)
		}
	}
	// Its values must be valid settings themselves.
	if _, err := settingsFromEnv(func(k string) string { return file.Values[k] }); err != nil {
		t.Errorf("local.settings.json.example: %v", err)
	}
}
