package azure

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestPrincipalFromToken(t *testing.T) {
	enc := base64.RawURLEncoding
	tests := []struct {
		name     string
		token    string
		want     pal.Principal
		wantCode pal.ErrorCode
	}{
		{
			name:  "tid_and_oid",
			token: testToken(t),
			want:  pal.Principal{TenantID: testTenant, ObjectID: testObject},
		},
		{
			name:  "upper_case_lowered",
			token: makeJWT(t, map[string]any{"tid": "72F988BF-86F1-41AF-91AB-2D7CD011DB47", "oid": "AC9A0626-3FF0-46E2-9974-BBFBA246F6DC", "x": tokenMarker}),
			want:  pal.Principal{TenantID: testTenant, ObjectID: testObject},
		},
		{
			name:  "padded_payload",
			token: "e30." + base64.URLEncoding.EncodeToString([]byte(`{"tid":"`+testTenant+`","oid":"`+testObject+`"}`)) + ".sig",
			want:  pal.Principal{TenantID: testTenant, ObjectID: testObject},
		},
		{name: "no_tid", token: makeJWT(t, map[string]any{"oid": testObject, "x": tokenMarker}), wantCode: pal.CodeInternal},
		{name: "no_oid", token: makeJWT(t, map[string]any{"tid": testTenant, "x": tokenMarker}), wantCode: pal.CodeInternal},
		{name: "tid_not_guid", token: makeJWT(t, map[string]any{"tid": tokenMarker, "oid": testObject}), wantCode: pal.CodeInternal},
		{name: "oid_number", token: makeJWT(t, map[string]any{"tid": testTenant, "oid": 42}), wantCode: pal.CodeInternal},
		{name: "not_jwt", token: tokenMarker, wantCode: pal.CodeInternal},
		{name: "bad_base64", token: "e30." + tokenMarker + "!!." + tokenMarker, wantCode: pal.CodeInternal},
		{name: "not_json", token: "e30." + enc.EncodeToString([]byte(`{"tid":"`+tokenMarker)) + ".x", wantCode: pal.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := &fakeCredential{token: tt.token}
			tp, err := NewTokenPrincipal(cred, cloud.AzurePublic)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Principal(context.Background())
			checkNoSecret(t, err)
			if tt.wantCode != "" {
				if code := pal.ErrorCodeOf(err); code != tt.wantCode {
					t.Fatalf("error code = %q (%v), want %q", code, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Principal error: %v", err)
			}
			if got != tt.want {
				t.Errorf("Principal = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrincipalScopeAndCache(t *testing.T) {
	cfg, err := CloudConfig("AzureUSGovernment", "https://127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	cred := &fakeCredential{token: testToken(t)}
	tp, err := NewTokenPrincipal(cred, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := tp.Principal(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if cred.calls != 1 {
		t.Errorf("GetToken calls = %d, want 1 (the principal is kept)", cred.calls)
	}
	if want := "https://management.core.usgovcloudapi.net//.default"; len(cred.scopes) != 1 || cred.scopes[0] != want {
		t.Errorf("scopes = %q, want [%q]", cred.scopes, want)
	}
}

func TestPrincipalTokenFailureIsTransient(t *testing.T) {
	credErr := errors.New("ManagedIdentityCredential: IDENTITY_ENDPOINT unreachable")
	tp, err := NewTokenPrincipal(&fakeCredential{err: credErr}, cloud.AzurePublic)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Principal(context.Background())
	if code := pal.ErrorCodeOf(err); code != pal.CodeTransient {
		t.Fatalf("error code = %q, want %q", code, pal.CodeTransient)
	}
	if !errors.Is(err, credErr) {
		t.Errorf("error %v does not wrap the credential's error", err)
	}
	// A failure is not kept: the next call asks again.
	tp.cred = &fakeCredential{token: testToken(t)}
	if _, err := tp.Principal(context.Background()); err != nil {
		t.Errorf("Principal after recovery: %v", err)
	}
}

func TestNewTokenPrincipalNeedsAudience(t *testing.T) {
	cfg := cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.example/", Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
	if _, err := NewTokenPrincipal(&fakeCredential{}, cfg); err == nil {
		t.Error("NewTokenPrincipal without an ARM audience succeeded, want an error")
	}
	if _, err := NewTokenPrincipal(nil, cloud.AzurePublic); err == nil {
		t.Error("NewTokenPrincipal(nil credential) succeeded, want an error")
	}
}
