package pal

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestWholeTenantRequestsShareOneListing(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(3), pageSize: 100, listing: make(chan struct{}, 20), listGate: make(chan struct{})}
	e := pagedEngine(t, p, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := custA
			if i%2 == 1 {
				tenant = custB
			}
			res, err := e.Status(context.Background(), nop(), Request{TenantID: tenant})
			if err != nil {
				t.Error(err)
				return
			}
			if len(res.Results) != 3 {
				t.Errorf("%s: %d results, want 3", tenant, len(res.Results))
			}
		}()
	}
	// The first request's listing is held until released: the others join it
	// or, arriving after, find the listing it kept.
	<-p.listing
	close(p.listGate)
	wg.Wait()
	if got := p.lists.Load(); got != 1 {
		t.Errorf("%d listings for 20 concurrent requests, want 1", got)
	}
}

func TestListingCacheRelistsForAMissingTenant(t *testing.T) {
	tests := []struct {
		name      string
		age       time.Duration
		tenant    string
		wantLists int32
		wantSubs  int
	}{
		{"known_tenant_within_ttl", 20 * time.Second, custA, 1, 3},
		{"known_tenant_after_ttl", 31 * time.Second, custA, 2, 3},
		{"missing_tenant_fresh_listing", 2 * time.Second, "44444444-4444-4444-4444-444444444444", 1, 0},
		{"missing_tenant_older_listing_relists", 6 * time.Second, "44444444-4444-4444-4444-444444444444", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := bigFake(3)
			p := &pagedFake{fakeAzure: f, pageSize: 100}
			e := pagedEngine(t, p, nil)
			now := time.Now()
			e.listing.now = func() time.Time { return now }
			if _, err := e.listing.tenant(context.Background(), p, custA); err != nil {
				t.Fatal(err)
			}
			// A delegation lands after the first listing.
			f.addSub("45000000-0000-4000-8000-000000000001", "44444444-4444-4444-4444-444444444444", []string{roleCont}, nil)
			now = now.Add(tt.age)
			subs, err := e.listing.tenant(context.Background(), p, tt.tenant)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.lists.Load(); got != tt.wantLists {
				t.Errorf("listings = %d, want %d", got, tt.wantLists)
			}
			if len(subs) != tt.wantSubs {
				t.Errorf("%d subscriptions, want %d", len(subs), tt.wantSubs)
			}
		})
	}
}

func TestListingWaiterGivesUpAlone(t *testing.T) {
	p := &pagedFake{fakeAzure: bigFake(1), pageSize: 100, listing: make(chan struct{}, 1), listGate: make(chan struct{})}
	e := pagedEngine(t, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.listing.tenant(ctx, p, custA)
		done <- err
	}()
	<-p.listing // the listing started, and is held
	cancel()
	if err := <-done; ErrorCodeOf(err) != CodeTransient {
		t.Errorf("cancelled waiter: %v, want transient", err)
	}
	close(p.listGate)
	// Another request still gets the listing the first one started.
	subs, err := e.listing.tenant(context.Background(), p, custA)
	if err != nil || len(subs) != 1 {
		t.Errorf("second request: %d subscriptions, %v; want 1", len(subs), err)
	}
	if got := p.lists.Load(); got != 1 {
		t.Errorf("%d listings, want 1", got)
	}
}
