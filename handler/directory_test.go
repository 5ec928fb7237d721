package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// dirClock is a settable time, safe for the refresh goroutines.
type dirClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *dirClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *dirClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeAzure answers the directory's reads; a read waits for gate when set.
type fakeAzure struct {
	mu      sync.Mutex
	tenants []azure.Tenant
	link    *pal.Link
	err     error
	calls   map[string]int
	gate    chan struct{}
}

func (f *fakeAzure) enter(what string) (chan struct{}, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[what]++
	return f.gate, f.err
}

func (f *fakeAzure) count(what string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[what] }

func (f *fakeAzure) ListTenants(ctx context.Context, limit int) ([]azure.Tenant, bool, error) {
	gate, err := f.enter("tenants")
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if limit != maxTenantNames {
		return nil, false, errors.New("unbounded listing")
	}
	return f.tenants, false, nil
}

func (f *fakeAzure) CurrentLink(context.Context) (*pal.Link, error) {
	_, err := f.enter("link")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.link, err
}

func (f *fakeAzure) Principal(context.Context) (pal.Principal, error) {
	_, err := f.enter("principal")
	return pal.Principal{TenantID: "7e0a0000-0000-4000-8000-000000000001", ObjectID: "0b1ec700-0000-4000-8000-000000000001"}, err
}

const fabrikamID = "fab00000-0000-4000-8000-000000000000"

func newTestDirectory(f *fakeAzure, c *dirClock) *azureDirectory {
	id := web.Identity{Kind: web.KindManagedIdentity, PartnerID: "1234567", Allowed: []string{"1234567"}}
	return directoryOf(id, f, f, f, c.now)
}

func TestDirectoryNames(t *testing.T) {
	f := &fakeAzure{tenants: []azure.Tenant{
		{ID: fabrikamID, Category: azure.TenantProjectedBy, DisplayName: "Fabrikam", DefaultDomain: "fabrikam.onmicrosoft.com"},
		{ID: "0a700000-0000-4000-8000-000000000000", Category: azure.TenantProjectedBy}, // no name: left out
	}}
	c := &dirClock{t: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	d := newTestDirectory(f, c)
	ctx := context.Background()
	names, err := d.TenantNames(ctx)
	if err != nil || len(names) != 1 || names[fabrikamID] != (web.TenantName{DisplayName: "Fabrikam", DefaultDomain: "fabrikam.onmicrosoft.com"}) {
		t.Fatalf("got %v %v, want Fabrikam only", names, err)
	}
	// Fresh: no second listing.
	c.add(namesTTL - time.Second)
	if _, _ = d.TenantNames(ctx); f.count("tenants") != 1 {
		t.Errorf("%d listings within the TTL, want 1", f.count("tenants"))
	}
	// Stale: a load that cannot wait gets the last names at once while the
	// refresh runs on in the background.
	c.add(2 * time.Second)
	f.mu.Lock()
	f.gate = make(chan struct{})
	f.tenants = []azure.Tenant{{ID: fabrikamID, DisplayName: "Fabrikam Inc"}}
	gate := f.gate
	f.mu.Unlock()
	hurried, cancel := context.WithCancel(ctx)
	cancel()
	if names, err := d.TenantNames(hurried); err != nil || names[fabrikamID].DisplayName != "Fabrikam" {
		t.Errorf("stale, hurried: got %v %v, want the last names", names, err)
	}
	close(gate)
	if names, err := d.TenantNames(ctx); err != nil || names[fabrikamID].DisplayName != "Fabrikam Inc" {
		t.Errorf("after the refresh: got %v %v", names, err)
	}
	if n := f.count("tenants"); n != 2 {
		t.Errorf("%d listings, want 2 (one refresh for both loads)", n)
	}
	// A failed refresh keeps the last names and is not tried again at once.
	c.add(namesTTL + time.Second)
	f.mu.Lock()
	f.gate, f.err = nil, &pal.Error{Code: pal.CodeTransient, Message: "ARM 503"}
	f.mu.Unlock()
	for range 3 {
		if names, err := d.TenantNames(ctx); err != nil || names[fabrikamID].DisplayName != "Fabrikam Inc" {
			t.Errorf("failed refresh: got %v %v, want the last names", names, err)
		}
	}
	if n := f.count("tenants"); n != 3 {
		t.Errorf("%d listings, want 3 (a failure is retried after %v)", n, retryFailedIn)
	}
}

func TestDirectoryIdentity(t *testing.T) {
	f := &fakeAzure{link: &pal.Link{PartnerID: "1234567", PartnerName: "Contoso MSP", State: "Active"}}
	c := &dirClock{t: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	d := newTestDirectory(f, c)
	id, err := d.Identity(context.Background())
	if err != nil || id.Kind != web.KindManagedIdentity || id.PartnerID != "1234567" || id.ObjectID != "0b1ec700-0000-4000-8000-000000000001" ||
		id.Link == nil || id.Link.PartnerID != "1234567" || id.LinkProblem != "" {
		t.Fatalf("got %+v %v", id, err)
	}
	// A link that cannot be read (and was never read) is a problem with a
	// public reason, not an error and not the SDK's text.
	f2 := &fakeAzure{err: &pal.Error{Code: pal.CodeForbidden, Message: "403 secret-ish detail"}}
	id, err = newTestDirectory(f2, c).Identity(context.Background())
	if err != nil || id.Link != nil || id.LinkProblem != "the link could not be read (Forbidden)" {
		t.Errorf("got %+v %v", id, err)
	}
}

func TestDirectoryDirect(t *testing.T) {
	d, err := newAzureDirectory(settings{Identity: identityDirect, AppClientID: "a99c0000-0000-4000-8000-000000000001", PartnerID: "1234567"}, azureAccess{})
	if err != nil {
		t.Fatal(err)
	}
	names, err := d.TenantNames(context.Background())
	id, _ := d.Identity(context.Background())
	if err != nil || names != nil || id.Kind != web.KindDirect || id.ClientID != "a99c0000-0000-4000-8000-000000000001" || id.Link != nil {
		t.Errorf("direct: names %v %v, identity %+v", names, err, id)
	}
}
