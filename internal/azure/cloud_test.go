package azure

import (
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

func TestCloudConfig(t *testing.T) {
	tests := []struct {
		name, cloud, endpoint    string
		wantAAD, wantEP, wantAud string
	}{
		{"public", "AzurePublic", "", "https://login.microsoftonline.com/", "https://management.azure.com", "https://management.core.windows.net/"},
		{"public_any_case", "azurepublic", "", "https://login.microsoftonline.com/", "https://management.azure.com", "https://management.core.windows.net/"},
		{"usgov", "AzureUSGovernment", "", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net/"},
		{"china", "AzureChina", "", "https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn", "https://management.core.chinacloudapi.cn/"},
		{"emulator_keeps_audience", "AzurePublic", "https://127.0.0.1:8443", "https://login.microsoftonline.com/", "https://127.0.0.1:8443", "https://management.core.windows.net/"},
		{"trailing_slash_trimmed", "AzureChina", "https://localhost:9000/", "https://login.chinacloudapi.cn/", "https://localhost:9000", "https://management.core.chinacloudapi.cn/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := CloudConfig(tt.cloud, tt.endpoint)
			if err != nil {
				t.Fatalf("CloudConfig(%q, %q) error: %v", tt.cloud, tt.endpoint, err)
			}
			rm := cfg.Services[cloud.ResourceManager]
			if got := cfg.ActiveDirectoryAuthorityHost; got != tt.wantAAD {
				t.Errorf("authority host = %q, want %q", got, tt.wantAAD)
			}
			if rm.Endpoint != tt.wantEP {
				t.Errorf("ARM endpoint = %q, want %q", rm.Endpoint, tt.wantEP)
			}
			if rm.Audience != tt.wantAud {
				t.Errorf("ARM audience = %q, want %q", rm.Audience, tt.wantAud)
			}
		})
	}
}

func TestCloudConfigDoesNotChangeAzcore(t *testing.T) {
	cfg, err := CloudConfig("AzurePublic", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Services[cloud.ResourceManager] = cloud.ServiceConfiguration{Endpoint: "https://changed"}
	if got := cloud.AzurePublic.Services[cloud.ResourceManager].Endpoint; got != "https://management.azure.com" {
		t.Fatalf("cloud.AzurePublic ARM endpoint = %q, want it untouched", got)
	}
}

func TestCloudConfigErrors(t *testing.T) {
	tests := []struct {
		name, cloud, endpoint, wantInErr string
	}{
		{"unknown_cloud", "AzureGermany", "", "AzureUSGovernment"},
		{"empty_cloud", "", "", "unknown cloud"},
		{"http_endpoint", "AzurePublic", "http://127.0.0.1:8080", "https"},
		{"no_scheme", "AzurePublic", "127.0.0.1:8443", "https"},
		{"unparsable", "AzurePublic", "https://[::1", "not a URL"},
		{"no_host", "AzurePublic", "https://", "host"},
		{"query", "AzurePublic", "https://127.0.0.1:8443/?x=1", "query"},
		{"fragment", "AzurePublic", "https://127.0.0.1:8443/#f", "fragment"},
		{"user_info", "AzurePublic", "https://u:p@127.0.0.1:8443", "user information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CloudConfig(tt.cloud, tt.endpoint)
			if err == nil {
				t.Fatalf("CloudConfig(%q, %q) succeeded, want an error", tt.cloud, tt.endpoint)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
		})
	}
}

func TestCloudName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"AzurePublic", CloudAzurePublic, true},
		{"azureusgovernment", CloudAzureUSGovernment, true},
		{"AZURECHINA", CloudAzureChina, true},
		{"AzureGermany", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := CloudName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CloudName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	// Every listed cloud is one CloudConfig builds.
	for _, c := range Clouds() {
		if _, err := CloudConfig(c, ""); err != nil {
			t.Errorf("CloudConfig(%q) = %v, want a configuration for a listed cloud", c, err)
		}
	}
}
