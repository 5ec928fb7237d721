package azure

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// tokenFetchTimeout bounds one shared token request (with the credential's
// own retries), which runs detached from the callers' contexts so that one
// caller giving up does not fail the others.
const tokenFetchTimeout = 2 * time.Minute

// sharedToken lets concurrent callers of a credential share one token
// request per scope (single flight): the credential's own cache serves them
// once a token is there, but on a cold start every caller would miss it and
// send its own request. A caller whose context ends stops waiting; the
// request goes on for the others. A result, error included, is shared only by
// the callers waiting for it: the next call asks again.
type sharedToken struct {
	cred azcore.TokenCredential

	mu      sync.Mutex
	flights map[string]*tokenFlight
}

// tokenFlight is one token request and its result, ready when done is closed.
type tokenFlight struct {
	done chan struct{}
	tok  azcore.AccessToken
	err  error
}

// shareTokens wraps cred so that concurrent token requests for the same
// scope share one; a cred already wrapped is returned as it is.
func shareTokens(cred azcore.TokenCredential) azcore.TokenCredential {
	if _, ok := cred.(*sharedToken); ok || cred == nil {
		return cred
	}
	return &sharedToken{cred: cred, flights: map[string]*tokenFlight{}}
}

// GetToken implements azcore.TokenCredential.
func (s *sharedToken) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	key := tokenKey(opts)
	s.mu.Lock()
	f, ok := s.flights[key]
	if !ok {
		f = &tokenFlight{done: make(chan struct{})}
		s.flights[key] = f
		go s.fetch(context.WithoutCancel(ctx), key, f, opts)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return azcore.AccessToken{}, ctx.Err()
	}
}

// fetch asks the credential once and hands the result to every waiter.
func (s *sharedToken) fetch(ctx context.Context, key string, f *tokenFlight, opts policy.TokenRequestOptions) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	f.tok, f.err = s.cred.GetToken(ctx, opts)
	s.mu.Lock()
	delete(s.flights, key)
	s.mu.Unlock()
	close(f.done)
}

// tokenKey names what a token request asks for: requests with the same key
// get the same token.
func tokenKey(o policy.TokenRequestOptions) string {
	return strings.Join(o.Scopes, " ") + "\x00" + o.TenantID + "\x00" + o.Claims + "\x00" + strconv.FormatBool(o.EnableCAE)
}
