package azure

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestHTTPClientKeepsAConnectionPerConcurrentRequest(t *testing.T) {
	const concurrency, rounds = 24, 3
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		writeJSON(w, 200, subscriptionJSON("11111111-1111-1111-1111-111111111111", testTenant, "one"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	client := NewHTTPClient(concurrency)
	tr := client.Transport.(*http.Transport)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig.RootCAs = pool
	cfg, _ := CloudConfig(CloudAzurePublic, srv.URL)
	clients, err := NewClients(&fakeCredential{token: testToken(t)}, cfg, &ClientsOptions{Transport: client, Concurrency: concurrency,
		Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	for range rounds {
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := clients.Subscriptions.GetSubscription(context.Background(), "11111111-1111-1111-1111-111111111111"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if got := conns.Load(); got > concurrency {
		t.Errorf("%d connections for %d rounds of %d requests, want at most %d (azcore's default pool keeps 10)", got, rounds, concurrency, concurrency)
	}
	if tr.MaxIdleConnsPerHost < concurrency {
		t.Errorf("MaxIdleConnsPerHost = %d, want at least %d", tr.MaxIdleConnsPerHost, concurrency)
	}
}

func TestListSubscriptionPagesCallsBackPerPage(t *testing.T) {
	const customer = "0b8e4a5c-1f2d-4e3a-9b7c-6d5e4f3a2b1c"
	var at *armTest
	at = newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, `{"value":[`+subscriptionJSON("11111111-1111-1111-1111-111111111111", customer, "one")+`,`+
				subscriptionJSON("22222222-2222-2222-2222-222222222222", customer, "two")+`],"nextLink":"`+at.srv.URL+`/subscriptions?api-version=2022-12-01&$skiptoken=2"}`)
		default:
			writeJSON(w, 200, `{"value":[`+subscriptionJSON("33333333-3333-3333-3333-333333333333", customer, "three")+`]}`)
		}
	}, nil)
	var sizes []int
	err := at.clients.Subscriptions.ListSubscriptionPages(context.Background(), func(page []pal.Subscription) error {
		sizes = append(sizes, len(page))
		return nil
	})
	if err != nil || len(sizes) != 2 || sizes[0] != 2 || sizes[1] != 1 {
		t.Fatalf("pages %v, %v; want [2 1]", sizes, err)
	}
	// An error of the callback stops the listing: no second request.
	stop := errors.New("stop")
	before := len(at.requests())
	err = at.clients.Subscriptions.ListSubscriptionPages(context.Background(), func([]pal.Subscription) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("error = %v, want the callback's", err)
	}
	if got := len(at.requests()) - before; got != 1 {
		t.Errorf("%d requests after the callback failed on the first page, want 1", got)
	}
}
