package azure

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// newGraphTest starts h behind TLS and a GraphClient reaching it through the
// Graph endpoint override.
func newGraphTest(t *testing.T, h http.HandlerFunc) (*GraphClient, *fakeCredential) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	cfg, err := CloudConfig(CloudAzurePublic, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := SetGraphEndpoint(&cfg, srv.URL); err != nil {
		t.Fatal(err)
	}
	cred := &fakeCredential{token: testToken(t)}
	c, err := NewGraphClient(cred, cfg, &policy.ClientOptions{Transport: srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c, cred
}

func TestGraphTransitiveGroups(t *testing.T) {
	const g1, g2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	var srvURL string
	c, cred := newGraphTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/servicePrincipals/"+testObject+"/transitiveMemberOf" {
			writeJSON(w, 404, `{"error":{"code":"Request_ResourceNotFound","message":"no"}}`)
			return
		}
		srvURL = "https://" + r.Host
		if r.URL.Query().Get("$skiptoken") == "" {
			if got := r.URL.Query().Get("$top"); got != "999" {
				t.Errorf("$top = %q, want 999", got)
			}
			writeJSON(w, 200, `{"@odata.context":"x","@odata.nextLink":"`+srvURL+r.URL.Path+`?$skiptoken=p2","value":[
				{"@odata.type":"#microsoft.graph.group","id":"`+g1+`","displayName":null},
				{"@odata.type":"#microsoft.graph.directoryRole","id":"33333333-3333-4333-8333-333333333333"}]}`)
			return
		}
		writeJSON(w, 200, `{"value":[{"@odata.type":"#microsoft.graph.group","id":"`+g2+`"}]}`)
	})
	got, err := c.TransitiveGroups(context.Background(), testObject)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{g1, g2}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups = %v, want %v (directory roles left out)", got, want)
	}
	if want := []string{"https://graph.microsoft.com/.default"}; !reflect.DeepEqual(cred.scopes[:1], want) {
		t.Errorf("token scopes = %v, want %v (the cloud's Graph audience)", cred.scopes, want)
	}
}

func TestGraphTransitiveGroupsErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   pal.ErrorCode
	}{
		{"no permission", 403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-12-07T00:00:00","request-id":"r","client-request-id":"r"}}}`, pal.CodeForbidden},
		{"throttled", 429, `{"error":{"code":"TooManyRequests","message":"slow down"}}`, pal.CodeTransient},
		{"not found", 404, `{"error":{"code":"Request_ResourceNotFound","message":"gone"}}`, pal.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newGraphTest(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, tt.status, tt.body) })
			_, err := c.TransitiveGroups(context.Background(), testObject)
			if got := palError(t, err).Code; got != tt.want {
				t.Errorf("code = %s, want %s (%v)", got, tt.want, err)
			}
			checkNoSecret(t, err)
		})
	}
}

func TestGraphTokenFailure(t *testing.T) {
	c, cred := newGraphTest(t, func(w http.ResponseWriter, _ *http.Request) { t.Error("no request without a token") })
	cred.err = errTokenEndpointDown
	_, err := c.TransitiveGroups(context.Background(), testObject)
	if pe := palError(t, err); pe.Code != pal.CodeTransient || !strings.Contains(pe.Message, "Microsoft Graph token") {
		t.Errorf("error = %v, want transient, naming the Graph token", err)
	}
}
