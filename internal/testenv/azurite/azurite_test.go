package azurite_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
)

// token returns an unsigned JWT with the given claims (Azurite's basic
// OAuth does not check signatures; the product's tokens come from the
// emulated managed identity, see internal/record's tests).
func token(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc(b) + ".c2ln"
}

// TestAzuriteChecksBearerTokens pins down what --oauth basic checks, which the
// record's tests rely on: a token for the storage audience from an Entra
// issuer is accepted over HTTPS, a token for another audience is refused.
func TestAzuriteChecksBearerTokens(t *testing.T) {
	s := azurite.Start(t)
	now := time.Now()
	good := map[string]any{"aud": "https://storage.azure.com", "iss": "https://sts.windows.net/11111111-1111-1111-1111-111111111111/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	for _, c := range []struct {
		name   string
		auth   string
		status int
	}{
		{"storage audience", "Bearer " + token(t, good), http.StatusOK},
		{"ARM audience", "Bearer " + token(t, with("aud", "https://management.azure.com/")), http.StatusForbidden},
		{"foreign issuer", "Bearer " + token(t, with("iss", "https://evil.example/")), http.StatusForbidden},
		{"expired", "Bearer " + token(t, with("exp", now.Add(-time.Hour).Unix())), http.StatusForbidden},
		{"not a JWT", "Bearer nope", http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/Tables", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", c.auth)
			req.Header.Set("x-ms-version", "2019-02-02")
			req.Header.Set("Accept", "application/json;odata=nometadata")
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("GET /Tables: got %d, want %d", resp.StatusCode, c.status)
			}
		})
	}

	t.Run("stopped", func(t *testing.T) {
		s.Stop()
		resp, err := s.HTTPClient().Get(s.URL + "/Tables")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET after Stop: got %d, want a connection error", resp.StatusCode)
		}
		if !strings.Contains(err.Error(), "refused") {
			t.Errorf("GET after Stop: got %v, want connection refused", err)
		}
	})
}
