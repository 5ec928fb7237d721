package azure

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

var armScope = policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}}

// blockingIdentityEndpoint is an App Service identity endpoint that counts
// token requests, reports the first on first, and answers only once release
// was called.
func blockingIdentityEndpoint(t *testing.T, clientID string) (n *atomic.Int32, first chan struct{}, release func()) {
	t.Helper()
	n = &atomic.Int32{}
	first = make(chan struct{})
	released := make(chan struct{})
	release = sync.OnceFunc(func() { close(released) })
	token := testToken(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(first)
		}
		<-released
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token, "expires_on": "4102444800", "resource": r.URL.Query().Get("resource"),
			"token_type": "Bearer", "client_id": clientID,
		})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // runs before srv.Close, so no handler stays blocked
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "test-identity-header")
	return n, first, release
}

// TestTokenHerdOneRequest (issue 16 D9): on a cold start 32 concurrent callers
// of the managed identity credential share one token request. Before the fix
// each caller that missed MSAL's empty cache sent its own (6–13 of 32 were
// seen through the host simulator; here up to 32).
func TestTokenHerdOneRequest(t *testing.T) {
	clientID := randomGUID(t) // MSAL's cache is per client ID and process-wide
	n, first, release := blockingIdentityEndpoint(t, clientID)
	cred, err := NewCredential(CredentialManagedIdentity, clientID, cloud.AzurePublic, nil)
	if err != nil {
		t.Fatal(err)
	}
	const callers = 32
	var started, done sync.WaitGroup
	started.Add(callers)
	done.Add(callers)
	errs := make(chan error, callers)
	for range callers {
		go func() {
			defer done.Done()
			started.Done()
			tk, err := cred.GetToken(context.Background(), armScope)
			if err == nil && tk.Token == "" {
				err = errors.New("empty token")
			}
			errs <- err
		}()
	}
	started.Wait()
	<-first
	release()
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GetToken: %v", err)
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("token requests = %d for %d concurrent callers on a cold start, want 1", got, callers)
	}
}

// TestSharedTokenCallerGivesUp: a caller whose context ends stops waiting, but
// the shared request goes on for the others.
func TestSharedTokenCallerGivesUp(t *testing.T) {
	clientID := randomGUID(t)
	n, first, release := blockingIdentityEndpoint(t, clientID)
	cred, err := NewCredential(CredentialManagedIdentity, clientID, cloud.AzurePublic, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	aDone := make(chan error, 1)
	go func() {
		_, err := cred.GetToken(ctx, armScope)
		aDone <- err
	}()
	<-first
	cancel()
	if err := <-aDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := cred.GetToken(context.Background(), armScope)
		bDone <- err
	}()
	release()
	if err := <-bDone; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1 (the second caller joins the first's request)", got)
	}
}

// TestManagedIdentity400IsPermanent (issue 15 item 8, issue 16 D8): the
// identity endpoint's 400 (App Service: "Unable to load the proper Managed
// Identity.", a client ID no identity of the app has) is no transient
// trouble: it fails with a message naming AZURE_CLIENT_ID and the client ID
// used. 5xx stays transient. Before the fix a 400 was retried as transient.
func TestManagedIdentity400IsPermanent(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		clientID string
		wantCode pal.ErrorCode
		wantMsg  []string
	}{
		{"user_assigned_400", 400, randomGUID(t), pal.CodeRejected, []string{"AZURE_CLIENT_ID", "400"}},
		{"system_assigned_400", 400, "", pal.CodeRejected, []string{"AZURE_CLIENT_ID", "system-assigned"}},
		{"500_transient", 500, randomGUID(t), pal.CodeTransient, nil},
		{"503_transient", 503, randomGUID(t), pal.CodeTransient, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"statusCode":` + strconv.Itoa(tt.status) + `,"message":"Unable to load the proper Managed Identity.","correlationId":"` + tokenMarker + `"}`))
			}))
			defer srv.Close()
			t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", "test-identity-header")
			cred, err := NewCredential(CredentialManagedIdentity, tt.clientID, cloud.AzurePublic,
				&CredentialOptions{Retry: policy.RetryOptions{MaxRetries: -1}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cred.GetToken(context.Background(), armScope)
			// What the ARM adapters make of it, as the pipeline hands it over.
			got := translate("GET subscription", &tokenError{err: err})
			if code := pal.ErrorCodeOf(got); code != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", code, got, tt.wantCode)
			}
			var pe *pal.Error
			errors.As(got, &pe)
			want := tt.wantMsg
			if tt.wantCode == pal.CodeRejected {
				want = append(want, tt.clientID)
			}
			for _, w := range want {
				if !strings.Contains(pe.Message, w) {
					t.Errorf("message %q does not name %q", pe.Message, w)
				}
			}
			checkNoSecret(t, errors.New(pe.Message))
		})
	}
}
