package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManagedIdentityCredential gets tokens through a real azidentity
// ManagedIdentityCredential pointed at the endpoint by IDENTITY_ENDPOINT and
// IDENTITY_HEADER, as on Azure Functions, and uses them against ARM.
func TestManagedIdentityCredential(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	t.Setenv("IDENTITY_ENDPOINT", e.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", e.IdentityHeader())
	ctx := context.Background()

	tests := []struct {
		name     string
		id       azidentity.ManagedIDKind
		scope    string
		wantWho  Identity
		wantAud  string
		wantFail bool
	}{
		{"user-assigned by client ID", azidentity.ClientID(w.other.ClientID), "https://management.core.windows.net//.default", w.other, "https://management.core.windows.net/", false},
		{"no ID is the first identity", nil, "https://management.azure.com/" + w.me.ClientID + "/.default", w.me, "https://management.azure.com/" + w.me.ClientID, false},
		{"by object ID", azidentity.ObjectID(w.me.ObjectID), "https://management.azure.com/.default", w.me, "https://management.azure.com", false},
		{"unknown client ID", azidentity.ClientID(newGUID()), "https://management.azure.com/.default", Identity{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{tt.scope}})
			if tt.wantFail {
				var afe *azidentity.AuthenticationFailedError
				if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
					t.Fatalf("GetToken error = %v, want an AuthenticationFailedError with a 400", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if !strings.Contains(tok.Token, e.TokenMarker()) {
				t.Error("token lacks the marker")
			}
			if d := time.Until(tok.ExpiresOn); d < 23*time.Hour || d > 25*time.Hour {
				t.Errorf("token expires in %v, want about a day", d)
			}
			c := decodeClaims(t, tok.Token)
			want := map[string]any{
				"aud": tt.wantAud, "tid": tt.wantWho.TenantID, "oid": tt.wantWho.ObjectID, "sub": tt.wantWho.ObjectID,
				"appid": tt.wantWho.ClientID, "iss": "https://sts.windows.net/" + tt.wantWho.TenantID + "/",
			}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
		})
	}

	// A token from the credential opens ARM as its identity.
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(w.me.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := call(t, e, "PUT", partnersPath+"/1234567?api-version=2018-02-01", tok.Token); a.status != 200 {
		t.Fatalf("PUT with MI token: %d %s", a.status, a.body)
	}
	if _, ok := e.Link(w.me.TenantID, w.me.ObjectID); !ok {
		t.Error("link not made for the MI's principal")
	}
}

func TestManagedIdentityCredentialWrongHeader(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	t.Setenv("IDENTITY_ENDPOINT", e.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", "not-the-secret")
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(w.me.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GetToken error = %v, want a 401", err)
	}
}

// TestIdentityProtocol checks the endpoint's wire answers directly.
func TestIdentityProtocol(t *testing.T) {
	w := newWorld()
	est := w.estate()
	est.Identities[1].ResourceID = "/subscriptions/" + w.direct + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other"
	e := start(t, est, &Options{TokenLifetime: time.Hour})
	tests := []struct {
		name       string
		header     string
		query      url.Values
		wantStatus int
		wantClient string
	}{
		{"client_id", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"https://management.azure.com"}, "client_id": {w.other.ClientID}}, 200, w.other.ClientID},
		{"no selector", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"https://management.azure.com"}}, 200, w.me.ClientID},
		{"mi_res_id", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"https://management.azure.com"}, "mi_res_id": {est.Identities[1].ResourceID}}, 200, w.other.ClientID},
		{"wrong header", "nope", url.Values{"api-version": {"2019-08-01"}, "resource": {"https://management.azure.com"}}, 401, ""},
		{"no header", "", url.Values{"api-version": {"2019-08-01"}, "resource": {"https://management.azure.com"}}, 401, ""},
		{"old api-version", e.IdentityHeader(), url.Values{"api-version": {"2017-09-01"}, "resource": {"https://management.azure.com"}}, 400, ""},
		{"no resource", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}}, 400, ""},
		{"unknown client", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "client_id": {newGUID()}}, 400, ""},
		{"two selectors", e.IdentityHeader(), url.Values{"api-version": {"2019-08-01"}, "resource": {"r"}, "client_id": {w.me.ClientID}, "object_id": {w.me.ObjectID}}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.IdentityEndpoint()+"?"+tt.query.Encode(), nil)
			if tt.header != "" {
				req.Header.Set("X-IDENTITY-HEADER", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				var eb identityError
				if json.Unmarshal(body, &eb) != nil || eb.StatusCode != tt.wantStatus || eb.Message == "" {
					t.Errorf("error body %s", body)
				}
				return
			}
			var tr map[string]string
			if err := json.Unmarshal(body, &tr); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			exp, err := strconv.ParseInt(tr["expires_on"], 10, 64)
			if err != nil || time.Until(time.Unix(exp, 0)) > time.Hour || time.Until(time.Unix(exp, 0)) < 59*time.Minute {
				t.Errorf("expires_on = %q", tr["expires_on"])
			}
			if tr["token_type"] != "Bearer" || tr["resource"] != "https://management.azure.com" || tr["client_id"] != tt.wantClient || tr["access_token"] == "" {
				t.Errorf("answer %s", body)
			}
			if tt.name == "mi_res_id" {
				if c := decodeClaims(t, tr["access_token"]); c["xms_mirid"] != est.Identities[1].ResourceID {
					t.Errorf("xms_mirid = %v", c["xms_mirid"])
				}
			}
		})
	}
	var n int
	for _, r := range e.Requests() {
		if r.Target == TargetIdentity {
			n++
		}
	}
	if n != len(tests) {
		t.Errorf("recorded %d identity requests, want %d", n, len(tests))
	}
}

func TestEmulatorCredential(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	var cred azcore.TokenCredential = e.Credential(w.other.ClientID)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClaims(t, tok.Token); c["oid"] != w.other.ObjectID || c["aud"] != "https://management.azure.com" {
		t.Errorf("claims = %v", c)
	}
	if _, err := e.Credential(newGUID()).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"x/.default"}}); err == nil {
		t.Error("unknown client ID got a token")
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"a", "b"}}); err == nil {
		t.Error("two scopes accepted")
	}
}
