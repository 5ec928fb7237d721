package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	testTenant  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testObject  = "ac9a0626-3ff0-46e2-9974-bbfba246f6dc"
	tokenMarker = "SECRET-TOKEN-MARKER-7f3a"
)

// makeJWT returns an unsigned JWT with the given claims and a signature part
// that holds tokenMarker.
func makeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + enc.EncodeToString(body) + "." + enc.EncodeToString([]byte(tokenMarker))
}

// testToken is a JWT for testTenant/testObject that carries tokenMarker in a
// claim and in its signature.
func testToken(t testing.TB) string {
	return makeJWT(t, map[string]any{
		"aud":  "https://management.core.windows.net/",
		"tid":  testTenant,
		"oid":  testObject,
		"note": tokenMarker,
	})
}

// fakeCredential hands out a fixed token or a fixed error and counts calls.
type fakeCredential struct {
	token string
	err   error

	mu     sync.Mutex
	calls  int
	scopes []string
}

func (c *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.scopes = append(c.scopes, opts.Scopes...)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// seenRequest is what the test server saw of one request.
type seenRequest struct {
	Method, Path, RawQuery, Auth string
	ContentLength                int64
	Body                         string
	Query                        url.Values
}

// armTest is an HTTPS test server standing in for ARM, with Clients on it.
type armTest struct {
	srv     *httptest.Server
	clients *Clients
	cred    *fakeCredential

	mu   sync.Mutex
	reqs []seenRequest
}

// newARMTest starts h behind TLS and builds Clients that reach it through the
// endpoint override, as production would reach an emulator. retry nil means
// no retries.
func newARMTest(t *testing.T, h http.HandlerFunc, retry *policy.RetryOptions) *armTest {
	t.Helper()
	at := &armTest{cred: &fakeCredential{token: testToken(t)}}
	at.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at.mu.Lock()
		at.reqs = append(at.reqs, seenRequest{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), ContentLength: r.ContentLength,
			Body: string(body), Query: r.URL.Query(),
		})
		at.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(at.srv.Close)
	cfg, err := CloudConfig(CloudAzurePublic, at.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts := &ClientsOptions{Transport: at.srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1}}
	if retry != nil {
		opts.Retry = *retry
	}
	at.clients, err = NewClients(at.cred, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// requests returns the requests seen so far.
func (at *armTest) requests() []seenRequest {
	at.mu.Lock()
	defer at.mu.Unlock()
	return append([]seenRequest(nil), at.reqs...)
}

// writeJSON answers status with body as it is.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// armError answers an ARM error {"error":{"code":…,"message":…}}.
func armError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	writeJSON(w, status, string(b))
}

// palError returns err's *pal.Error or fails the test.
func palError(t *testing.T, err error) *pal.Error {
	t.Helper()
	var pe *pal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pal.Error", err, err)
	}
	return pe
}

// checkNoSecret fails when err's text holds the token marker or the token.
func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if s := err.Error(); strings.Contains(s, tokenMarker) || strings.Contains(s, "Bearer ") {
		t.Errorf("error text leaks the token: %q", s)
	}
	var pe *pal.Error
	if errors.As(err, &pe) && (strings.Contains(pe.Message, tokenMarker) || strings.Contains(pe.Message, "\n")) {
		t.Errorf("Message is not short and safe: %q", pe.Message)
	}
}

var errTokenEndpointDown = errors.New("ManagedIdentityCredential: the token endpoint is down")
