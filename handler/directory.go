package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// The dashboard's directory cache (docs/operations.md, "Reading the
// dashboard"): how long what it read stays fresh, how soon a failed read is
// tried again (the last good answer is kept meanwhile), how long one
// refresh may take, and the most tenants it keeps names of.
const (
	namesTTL       = 15 * time.Minute
	linkTTL        = time.Minute
	principalTTL   = time.Hour
	retryFailedIn  = time.Minute
	refreshBudget  = time.Minute
	maxTenantNames = 50_000
)

// tenantLister and linkReader are what the directory needs of Azure.
type (
	tenantLister interface {
		ListTenants(ctx context.Context, limit int) ([]azure.Tenant, bool, error)
	}
	linkReader interface {
		CurrentLink(ctx context.Context) (*pal.Link, error)
	}
	principalSource interface {
		Principal(ctx context.Context) (pal.Principal, error)
	}
)

// azureDirectory is the dashboard's [web.Directory] on Azure, acting as the
// identity PAL_IDENTITY names: the tenants' names from the ARM tenants list
// (GET /tenants), the identity's partner link (GET managementPartners) and
// its tid and oid from its token. Each is kept in the process and refreshed
// in the background when stale, so a dashboard load waits for Azure only
// when nothing was read yet (and then at most its own deadline).
type azureDirectory struct {
	identity web.Identity
	names    *refreshed[map[string]web.TenantName]
	link     *refreshed[*pal.Link]
	who      *refreshed[pal.Principal]
}

// newAzureDirectory builds the directory of settings s on Azure access az,
// acting with the engine's credential (az.acting: one token cache). In
// direct mode it names no tenant and reads no link: each customer tenant has
// its own.
func newAzureDirectory(s settings, az azureAccess) (*azureDirectory, error) {
	id := web.Identity{PartnerID: s.PartnerID, Allowed: append([]string{s.PartnerID}, s.AllowedPartnerIDs...)}
	switch s.Identity {
	case identityDirect:
		id.Kind, id.ClientID = web.KindDirect, s.AppClientID
		return &azureDirectory{identity: id}, nil
	case identityApp:
		id.Kind, id.ClientID = web.KindApp, s.AppClientID
	default:
		id.Kind, id.ClientID = web.KindManagedIdentity, s.ClientID
	}
	if az.acting == nil {
		return nil, errors.New("dashboard directory: no credential")
	}
	// The clients are built on the first dashboard load, not at start-up.
	src := lazyClients{get: sync.OnceValues(func() (*azure.Clients, error) {
		c, err := azure.NewClients(az.acting, az.cloud, &azure.ClientsOptions{Concurrency: 2, Retry: s.Retry})
		if err != nil {
			return nil, fmt.Errorf("dashboard directory: %w", err)
		}
		return c, nil
	})}
	return directoryOf(id, src, src, src, time.Now), nil
}

// lazyClients reaches Azure with clients built on first use.
type lazyClients struct {
	get func() (*azure.Clients, error)
}

func (l lazyClients) ListTenants(ctx context.Context, limit int) ([]azure.Tenant, bool, error) {
	c, err := l.get()
	if err != nil {
		return nil, false, err
	}
	return c.Tenants.ListTenants(ctx, limit)
}

func (l lazyClients) CurrentLink(ctx context.Context) (*pal.Link, error) {
	c, err := l.get()
	if err != nil {
		return nil, err
	}
	return c.Partner.CurrentLink(ctx)
}

func (l lazyClients) Principal(ctx context.Context) (pal.Principal, error) {
	c, err := l.get()
	if err != nil {
		return pal.Principal{}, err
	}
	return c.Principal.Principal(ctx)
}

// directoryOf is the directory of identity id on these sources.
func directoryOf(id web.Identity, tenants tenantLister, links linkReader, who principalSource, now func() time.Time) *azureDirectory {
	return &azureDirectory{
		identity: id,
		names: newRefreshed(namesTTL, now, func(ctx context.Context) (map[string]web.TenantName, error) {
			list, _, err := tenants.ListTenants(ctx, maxTenantNames)
			if err != nil {
				return nil, err
			}
			names := make(map[string]web.TenantName, len(list))
			for _, t := range list {
				if t.DisplayName != "" || t.DefaultDomain != "" {
					names[t.ID] = web.TenantName{DisplayName: t.DisplayName, DefaultDomain: t.DefaultDomain}
				}
			}
			return names, nil
		}),
		link: newRefreshed(linkTTL, now, links.CurrentLink),
		who:  newRefreshed(principalTTL, now, who.Principal),
	}
}

// TenantNames implements [web.Directory].
func (d *azureDirectory) TenantNames(ctx context.Context) (map[string]web.TenantName, error) {
	if d.names == nil {
		return nil, nil
	}
	return d.names.get(ctx)
}

// Identity implements [web.Directory]: what is known now; a link that could
// not be read is LinkProblem (public text), never an error of the page.
func (d *azureDirectory) Identity(ctx context.Context) (*web.Identity, error) {
	id := d.identity
	if d.link == nil {
		return &id, nil
	}
	var (
		p   pal.Principal
		err error
		wg  sync.WaitGroup
	)
	wg.Go(func() { p, err = d.who.get(ctx) })
	l, linkErr := d.link.get(ctx)
	wg.Wait()
	if err == nil {
		id.TenantID, id.ObjectID = p.TenantID, p.ObjectID
	}
	switch {
	case linkErr != nil:
		id.LinkProblem = "the link could not be read (" + publicReason(linkErr) + ")"
	case l != nil:
		c := *l
		id.Link = &c
	}
	return &id, nil
}

// publicReason is the error's code for the page: never its text, which may
// carry SDK detail.
func publicReason(err error) string {
	if code := pal.ErrorCodeOf(err); code != "" {
		return string(code)
	}
	return "no answer in time"
}

// refreshed is a value read from Azure and kept for ttl. When it is stale
// the next get starts one refresh in the background (within refreshBudget,
// whatever the caller's deadline) and waits for it at most until its own
// context ends, then returns what is known: the fresh value, the last good
// one, or the error of a read that failed (tried again after retryFailedIn).
type refreshed[T any] struct {
	ttl  time.Duration
	now  func() time.Time
	load func(context.Context) (T, error)

	mu       sync.Mutex
	val      T
	has      bool
	err      error
	next     time.Time     // when to read again
	inflight chan struct{} // closed when the running refresh ends; nil when none runs
}

func newRefreshed[T any](ttl time.Duration, now func() time.Time, load func(context.Context) (T, error)) *refreshed[T] {
	return &refreshed[T]{ttl: ttl, now: now, load: load}
}

func (r *refreshed[T]) get(ctx context.Context) (T, error) {
	r.mu.Lock()
	if (r.has || r.err != nil) && r.now().Before(r.next) {
		defer r.mu.Unlock()
		return r.answer()
	}
	if r.inflight == nil {
		r.inflight = make(chan struct{})
		go r.refresh(context.WithoutCancel(ctx), r.inflight)
	}
	done := r.inflight
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.has && r.err == nil {
		var zero T
		return zero, ctx.Err()
	}
	return r.answer()
}

// answer is what is known; r.mu must be held.
func (r *refreshed[T]) answer() (T, error) {
	if r.has {
		return r.val, nil
	}
	var zero T
	return zero, r.err
}

func (r *refreshed[T]) refresh(ctx context.Context, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(ctx, refreshBudget)
	defer cancel()
	v, err := r.load(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight = nil
	if err != nil {
		r.err, r.next = err, r.now().Add(retryFailedIn)
		return
	}
	r.val, r.has, r.err, r.next = v, true, nil, r.now().Add(r.ttl)
}
