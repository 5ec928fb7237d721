package pal

import (
	"context"
	"strings"
	"sync"
	"time"
)

// The subscription listing shared by whole-tenant requests. A message without
// subscriptionIds needs the tenant's reachable subscriptions, and ARM only
// lists them all (GET /subscriptions, every page of the estate). Concurrent
// requests share one listing (single flight), and a listing serves the
// requests of the next listingTTL, so that a burst of whole-tenant messages
// costs one estate listing instead of one each.
//
// A tenant absent from a listing older than listingFresh is listed again once:
// its delegation may have landed since, and a subscription just delegated must
// not be reported missing for a whole TTL (the trigger's delegation wait then
// still applies to a tenant that is really not there yet).
const (
	listingTTL     = 30 * time.Second
	listingFresh   = 5 * time.Second
	listingTimeout = 2 * time.Minute
	// listingMaxCached bounds the subscriptions a kept listing may hold (a few
	// hundred bytes each); a larger estate's listing is shared only by the
	// requests waiting for it.
	listingMaxCached = 200_000
)

// listingCache keeps the latest estate listing, grouped by tenant.
type listingCache struct {
	now func() time.Time

	mu     sync.Mutex
	snap   *listingSnapshot
	flight *listingFlight
}

type listingSnapshot struct {
	at       time.Time
	byTenant map[string][]Subscription
}

type listingFlight struct {
	done chan struct{}
	snap *listingSnapshot
	err  error
}

func newListingCache() *listingCache { return &listingCache{now: time.Now} }

// tenant returns the reachable subscriptions of tenantID (lower case).
func (c *listingCache) tenant(ctx context.Context, reader SubscriptionReader, tenantID string) ([]Subscription, error) {
	tenantID = strings.ToLower(tenantID)
	c.mu.Lock()
	if s := c.snap; s != nil {
		age := c.now().Sub(s.at)
		subs, found := s.byTenant[tenantID]
		if age < listingTTL && (found || age < listingFresh) {
			c.mu.Unlock()
			return subs, nil
		}
	}
	f := c.flight
	if f == nil {
		f = &listingFlight{done: make(chan struct{})}
		c.flight = f
		// The listing runs on its own context: one request giving up must not
		// fail the others waiting for the same listing.
		go c.list(context.WithoutCancel(ctx), reader, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, &Error{Code: CodeTransient, Message: "gave up waiting for the subscription listing", Err: ctx.Err()}
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.snap.byTenant[tenantID], nil
}

// list runs one listing for f and keeps it.
func (c *listingCache) list(ctx context.Context, reader SubscriptionReader, f *listingFlight) {
	ctx, cancel := context.WithTimeout(ctx, listingTimeout)
	defer cancel()
	at := c.now()
	all, err := reader.ListSubscriptions(ctx)
	if err == nil {
		snap := &listingSnapshot{at: at, byTenant: map[string][]Subscription{}}
		for _, s := range all {
			t := strings.ToLower(s.TenantID)
			snap.byTenant[t] = append(snap.byTenant[t], s)
		}
		f.snap = snap
	}
	f.err = err
	c.mu.Lock()
	c.flight = nil
	if err == nil && len(all) <= listingMaxCached {
		c.snap = f.snap
	}
	c.mu.Unlock()
	close(f.done)
}
