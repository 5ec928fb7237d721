package azure

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestNewCredentialKinds(t *testing.T) {
	tests := []struct {
		kind, clientID string
		wantType       string
	}{
		{"managedidentity", "", "*azidentity.ManagedIdentityCredential"},
		{"managedidentity", "00000000-0000-0000-0000-000000000001", "*azidentity.ManagedIdentityCredential"},
		{"ManagedIdentity", "", "*azidentity.ManagedIdentityCredential"},
		{"azurecli", "", "*azidentity.AzureCLICredential"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"_"+tt.clientID, func(t *testing.T) {
			cred, err := NewCredential(tt.kind, tt.clientID, cloud.AzurePublic, nil)
			if err != nil {
				t.Fatalf("NewCredential(%q) error: %v", tt.kind, err)
			}
			// The credential comes wrapped: shared token requests, and the
			// managed identity's 400 told apart.
			st, ok := cred.(*sharedToken)
			if !ok {
				t.Fatalf("got %T, want *azure.sharedToken", cred)
			}
			inner := st.cred
			if mi, ok := inner.(managedIdentity); ok {
				inner = mi.cred
			}
			switch tt.wantType {
			case "*azidentity.ManagedIdentityCredential":
				if _, ok := inner.(*azidentity.ManagedIdentityCredential); !ok {
					t.Errorf("got %T, want %s", inner, tt.wantType)
				}
			case "*azidentity.AzureCLICredential":
				if _, ok := inner.(*azidentity.AzureCLICredential); !ok {
					t.Errorf("got %T, want %s", inner, tt.wantType)
				}
			}
		})
	}
}

func TestNewCredentialRejectsUnknownKinds(t *testing.T) {
	for _, kind := range []string{"", "default", "defaultazurecredential", "clientsecret", "environment"} {
		t.Run(kind, func(t *testing.T) {
			cred, err := NewCredential(kind, "", cloud.AzurePublic, nil)
			if err == nil {
				t.Fatalf("NewCredential(%q) = %T, want an error", kind, cred)
			}
			for _, valid := range []string{CredentialManagedIdentity, CredentialAzureCLI} {
				if !strings.Contains(err.Error(), valid) {
					t.Errorf("error %q does not name the valid kind %q", err, valid)
				}
			}
		})
	}
}

// TestManagedIdentityPrincipal runs the production path of Azure Functions:
// a user-assigned managed identity whose token comes from IDENTITY_ENDPOINT.
func TestManagedIdentityPrincipal(t *testing.T) {
	// A client ID of its own per run: MSAL caches managed identity tokens in a
	// package variable, so a fixed ID would be served from cache under -count.
	clientID := randomGUID(t)
	token := testToken(t)
	var (
		mu                                  sync.Mutex
		gotClientID, gotResource, gotHeader string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotClientID = r.URL.Query().Get("client_id")
		gotResource = r.URL.Query().Get("resource")
		gotHeader = r.Header.Get("X-IDENTITY-HEADER")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token, "expires_on": "4102444800", "resource": r.URL.Query().Get("resource"), "token_type": "Bearer",
			"client_id": clientID,
		})
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "test-identity-header")

	cfg, err := CloudConfig("AzurePublic", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := NewCredential("managedidentity", clientID, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := NewTokenPrincipal(cred, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.Principal(context.Background())
	if err != nil {
		t.Fatalf("Principal: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.TenantID != testTenant || got.ObjectID != testObject {
		t.Errorf("Principal = %+v, want tenant %s object %s", got, testTenant, testObject)
	}
	if gotClientID != clientID {
		t.Errorf("token request client_id = %q, want %q", gotClientID, clientID)
	}
	if gotResource != "https://management.core.windows.net/" {
		t.Errorf("token request resource = %q, want the ARM audience", gotResource)
	}
	if gotHeader != "test-identity-header" {
		t.Errorf("X-IDENTITY-HEADER = %q, want the IDENTITY_HEADER value", gotHeader)
	}
}

// randomGUID returns a random version 4 GUID.
func randomGUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func TestCredentialKind(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"managedidentity", CredentialManagedIdentity, true},
		{" ManagedIdentity ", CredentialManagedIdentity, true},
		{"AzureCLI", CredentialAzureCLI, true},
		{"default", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := CredentialKind(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CredentialKind(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestManagedIdentityRetryOptions proves CredentialOptions.Retry reaches the
// token requests: an endpoint that always answers 500 is tried 1+MaxRetries
// times, with the short delay, not azcore's 800 ms backoff.
func TestManagedIdentityRetryOptions(t *testing.T) {
	var (
		mu    sync.Mutex
		tries int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tries++
		mu.Unlock()
		http.Error(w, `{"error":"unavailable"}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "test-identity-header")

	tests := []struct {
		name      string
		retry     policy.RetryOptions
		wantTries int
	}{
		{"two_retries", policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond}, 3},
		{"no_retries", policy.RetryOptions{MaxRetries: -1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			tries = 0
			mu.Unlock()
			cred, err := NewCredential("managedidentity", randomGUID(t), cloud.AzurePublic, &CredentialOptions{Retry: tt.retry})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}); err == nil {
				t.Fatal("GetToken = nil error, want the endpoint's 500")
			}
			mu.Lock()
			defer mu.Unlock()
			if tries != tt.wantTries {
				t.Errorf("token requests = %d, want %d", tries, tt.wantTries)
			}
			if took := time.Since(start); took > 700*time.Millisecond {
				t.Errorf("took %v, want the configured short backoff", took)
			}
		})
	}
}
