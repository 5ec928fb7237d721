package emulator

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestBigEstateListsInOrderAndCounts(t *testing.T) {
	est := BigEstate(BigEstateOptions{Tenants: 30, SubscriptionsPerTenant: 10, ReaderEvery: 5, Linked: true, PageSize: 50})
	e, err := New(est, &Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tok, _, err := e.Token(BigClientID, "https://management.core.windows.net/")
	if err != nil {
		t.Fatal(err)
	}
	client := e.HTTPClient()
	get := func(url string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", url, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	pages := 0
	for url := e.ARMURL() + "/subscriptions?api-version=2022-12-01"; url != ""; pages++ {
		var page struct {
			Value []struct {
				SubscriptionID string `json:"subscriptionId"`
				TenantID       string `json:"tenantId"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		get(url, &page)
		for _, s := range page.Value {
			ids = append(ids, s.SubscriptionID)
		}
		url = page.NextLink
	}
	if len(ids) != 300 || pages != 6 {
		t.Fatalf("listed %d subscriptions in %d pages, want 300 in 6", len(ids), pages)
	}
	for k, id := range ids {
		if want := BigSubscriptionID(k/10, k%10); id != want {
			t.Fatalf("subscription %d = %s, want %s (tenants together, in order)", k, id, want)
		}
	}
	if l, ok := e.Link(BigManagingTenant, BigObjectID); !ok || l.PartnerID != BigPartnerID {
		t.Errorf("link = %+v, %v", l, ok)
	}

	// Ten requests at once, each delayed long enough that they overlap even
	// when TLS handshakes are slow (-race on a loaded machine).
	e.ResetStats()
	e.InjectFault(Fault{Latency: 500 * time.Millisecond})
	var wg sync.WaitGroup
	for k := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sub map[string]any
			get(e.ARMURL()+"/subscriptions/"+BigSubscriptionID(k, 0)+"?api-version=2022-12-01", &sub)
		}()
	}
	wg.Wait()
	st := e.Stats()
	if st.MaxInFlight != 10 {
		t.Errorf("MaxInFlight = %d, want 10", st.MaxInFlight)
	}
	if st.Connections < 9 || st.Connections > 10 {
		t.Errorf("Connections = %d, want 9 or 10 (one was kept from the listing)", st.Connections)
	}
}
