package azure

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// subscriptionJSON is one subscription as GET /subscriptions lists it.
func subscriptionJSON(id, tenant, name string) string {
	return fmt.Sprintf(`{"id":"/subscriptions/%[1]s","authorizationSource":"RoleBased","managedByTenants":[{"tenantId":"%[4]s"}],"subscriptionId":"%[1]s","tenantId":"%[2]s","displayName":"%[3]s","state":"Enabled","subscriptionPolicies":{"locationPlacementId":"Public_2014-09-01","quotaId":"PayAsYouGo_2014-09-01","spendingLimit":"Off"}}`,
		id, tenant, name, testTenant)
}

func TestListSubscriptionsPages(t *testing.T) {
	const customer = "0b8e4a5c-1f2d-4e3a-9b7c-6d5e4f3a2b1c"
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscriptions" {
			armError(w, 404, "NotFound", "no")
			return
		}
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, `{"value":[`+subscriptionJSON("11111111-1111-1111-1111-111111111111", customer, "one")+`,`+
				subscriptionJSON("22222222-2222-2222-2222-222222222222", customer, "two")+`],"nextLink":"`+at.srv.URL+`/subscriptions?api-version=2022-12-01&$skiptoken=2"}`)
		case "2":
			writeJSON(w, 200, `{"value":[`+subscriptionJSON("33333333-3333-3333-3333-33333333AAAA", "0B8E4A5C-1F2D-4E3A-9B7C-6D5E4F3A2B1C", "three")+`],"nextLink":"`+at.srv.URL+`/subscriptions?api-version=2022-12-01&$skiptoken=3"}`)
		case "3":
			writeJSON(w, 200, `{"value":[`+subscriptionJSON("44444444-4444-4444-4444-444444444444", customer, "four")+`],"nextLink":null}`)
		default:
			armError(w, 400, "BadSkipToken", "no")
		}
	}, nil)
	got, err := at.clients.Subscriptions.ListSubscriptions(context.Background())
	if err != nil {
		t.Fatalf("ListSubscriptions: %v", err)
	}
	want := []pal.Subscription{
		{ID: "11111111-1111-1111-1111-111111111111", TenantID: customer, DisplayName: "one", State: "Enabled"},
		{ID: "22222222-2222-2222-2222-222222222222", TenantID: customer, DisplayName: "two", State: "Enabled"},
		{ID: "33333333-3333-3333-3333-33333333aaaa", TenantID: customer, DisplayName: "three", State: "Enabled"},
		{ID: "44444444-4444-4444-4444-444444444444", TenantID: customer, DisplayName: "four", State: "Enabled"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d subscriptions %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("subscription %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	reqs := at.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	if q := reqs[0].Query; q.Get("api-version") != "2022-12-01" {
		t.Errorf("first request api-version = %q, want 2022-12-01", q.Get("api-version"))
	}
	for i, r := range reqs {
		if r.Auth == "" {
			t.Errorf("request %d has no Authorization header", i)
		}
	}
}

func TestListSubscriptionsRepeatedNextLink(t *testing.T) {
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"value":[],"nextLink":"`+at.srv.URL+`/subscriptions?api-version=2022-12-01&$skiptoken=same"}`)
	}, nil)
	_, err := at.clients.Subscriptions.ListSubscriptions(context.Background())
	if code := pal.ErrorCodeOf(err); code != pal.CodeInternal {
		t.Fatalf("error code = %q (%v), want %q", code, err, pal.CodeInternal)
	}
	if n := len(at.requests()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestGetSubscription(t *testing.T) {
	const id = "8d65815f-a5b6-402f-9298-045155da7d74"
	tests := []struct {
		name     string
		id       string
		status   int
		body     string
		want     pal.Subscription
		wantCode pal.ErrorCode
	}{
		{
			name: "ok", id: id, status: 200, body: subscriptionJSON(id, "0b8e4a5c-1f2d-4e3a-9b7c-6d5e4f3a2b1c", "Contoso prod"),
			want: pal.Subscription{ID: id, TenantID: "0b8e4a5c-1f2d-4e3a-9b7c-6d5e4f3a2b1c", DisplayName: "Contoso prod", State: "Enabled"},
		},
		{
			name: "upper_case_id", id: "8D65815F-A5B6-402F-9298-045155DA7D74", status: 200, body: subscriptionJSON("8D65815F-A5B6-402F-9298-045155DA7D74", testTenant, "x"),
			want: pal.Subscription{ID: id, TenantID: testTenant, DisplayName: "x", State: "Enabled"},
		},
		{name: "other_tenant", id: id, status: 401, body: `{"error":{"code":"InvalidAuthenticationTokenTenant","message":"The access token is from the wrong issuer"}}`, wantCode: pal.CodeNotFound},
		{name: "unknown", id: id, status: 404, body: `{"error":{"code":"SubscriptionNotFound","message":"The subscription could not be found."}}`, wantCode: pal.CodeNotFound},
		{name: "no_access", id: id, status: 403, body: `{"error":{"code":"AuthorizationFailed","message":"no"}}`, wantCode: pal.CodeForbidden},
		{name: "rp_not_registered_not_auto_registered", id: id, status: 409, body: `{"error":{"code":"MissingSubscriptionRegistration","message":"register"}}`, wantCode: pal.CodeRejected},
		{name: "bad_id", id: "../providers", wantCode: pal.CodeInvalidInput},
		{name: "empty_id", id: "", wantCode: pal.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, tt.body) }, nil)
			got, err := at.clients.Subscriptions.GetSubscription(context.Background(), tt.id)
			checkNoSecret(t, err)
			reqs := at.requests()
			if tt.wantCode != "" {
				if code := pal.ErrorCodeOf(err); code != tt.wantCode {
					t.Fatalf("error code = %q (%v), want %q", code, err, tt.wantCode)
				}
				want := 1
				if tt.wantCode == pal.CodeInvalidInput {
					want = 0
				}
				if len(reqs) != want {
					t.Errorf("requests = %d, want %d", len(reqs), want)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetSubscription: %v", err)
			}
			if *got != tt.want {
				t.Errorf("GetSubscription = %+v, want %+v", *got, tt.want)
			}
			if r := reqs[0]; r.Path != "/subscriptions/"+id || r.Query.Get("api-version") != "2022-12-01" {
				t.Errorf("request = %s?%s, want /subscriptions/%s?api-version=2022-12-01", r.Path, r.RawQuery, id)
			}
		})
	}
}
