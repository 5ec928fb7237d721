package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestRetrySettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want policy.RetryOptions
	}{
		{"unset_keeps_sdk_defaults", map[string]string{}, policy.RetryOptions{}},
		{"all_set", map[string]string{envAzureMaxRetries: "2", envAzureRetryDelay: "10ms", envAzureMaxRetryDelay: "2s"},
			policy.RetryOptions{MaxRetries: 2, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 2 * time.Second}},
		{"zero_retries_means_none", map[string]string{envAzureMaxRetries: " 0 "}, policy.RetryOptions{MaxRetries: -1}},
		{"short_delay_under_default_cap", map[string]string{envAzureRetryDelay: "5ms"}, policy.RetryOptions{RetryDelay: 5 * time.Millisecond}},
		{"cap_equal_to_delay", map[string]string{envAzureRetryDelay: "1s", envAzureMaxRetryDelay: "1s"},
			policy.RetryOptions{RetryDelay: time.Second, MaxRetryDelay: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := settingsFromEnv(envFrom(env))
			if err != nil {
				t.Fatal(err)
			}
			if s.Retry.MaxRetries != tt.want.MaxRetries || s.Retry.RetryDelay != tt.want.RetryDelay || s.Retry.MaxRetryDelay != tt.want.MaxRetryDelay {
				t.Errorf("Retry = %+v, want %+v", s.Retry, tt.want)
			}
		})
	}
}

func TestRetrySettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the setting the error must name
	}{
		{"retries_negative", map[string]string{envAzureMaxRetries: "-1"}, envAzureMaxRetries},
		{"retries_too_many", map[string]string{envAzureMaxRetries: "11"}, envAzureMaxRetries},
		{"retries_not_number", map[string]string{envAzureMaxRetries: "three"}, envAzureMaxRetries},
		{"delay_not_duration", map[string]string{envAzureRetryDelay: "800"}, envAzureRetryDelay},
		{"delay_zero", map[string]string{envAzureRetryDelay: "0s"}, envAzureRetryDelay},
		{"delay_too_long", map[string]string{envAzureRetryDelay: "2m"}, envAzureRetryDelay},
		{"cap_too_long", map[string]string{envAzureMaxRetryDelay: "11m"}, envAzureMaxRetryDelay},
		{"cap_below_delay", map[string]string{envAzureRetryDelay: "2s", envAzureMaxRetryDelay: "1s"}, envAzureMaxRetryDelay},
		{"cap_below_default_delay", map[string]string{envAzureMaxRetryDelay: "100ms"}, envAzureMaxRetryDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
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

// TestLocalSettingsExampleNamesRetrySettings keeps local.settings.json.example
// in step with the retry settings.
func TestLocalSettingsExampleNamesRetrySettings(t *testing.T) {
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
	for _, name := range []string{envAzureMaxRetries, envAzureRetryDelay, envAzureMaxRetryDelay} {
		if _, ok := file.Values[name]; !ok {
			t.Errorf("local.settings.json.example does not name %s", name)
		}
	}
}
