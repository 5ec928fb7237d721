package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

type fixedCredential string

func (c fixedCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c)}, nil
}

func TestLazyCredentialBuildsOnceOnFirstToken(t *testing.T) {
	var builds atomic.Int32
	cred := newLazyCredential(func() (azcore.TokenCredential, error) {
		builds.Add(1)
		return fixedCredential("tk"), nil
	})
	if n := builds.Load(); n != 0 {
		t.Fatalf("built %d times before any token request, want 0", n)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			tk, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"s"}})
			if err != nil || tk.Token != "tk" {
				t.Errorf("GetToken = %q, %v; want tk, nil", tk.Token, err)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("built %d times, want 1", n)
	}
}

func TestLazyCredentialBuildErrorIsEveryTokensError(t *testing.T) {
	refused := errors.New("refused")
	cred := newLazyCredential(func() (azcore.TokenCredential, error) { return nil, refused })
	for i := range 2 {
		if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{}); !errors.Is(err, refused) {
			t.Errorf("GetToken #%d: %v, want %v", i+1, err, refused)
		}
	}
}
