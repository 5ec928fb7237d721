package pal

import (
	"container/list"
	"sync"
)

// tenantCache keeps the Azure access (credentials, token caches and ARM
// clients, the link lock and the role cache) of the most recently used
// customer tenants, at most max of them. Building an entry does no network
// work, so it runs under the lock: concurrent first uses of a tenant share
// one entry.
type tenantCache struct {
	max int

	mu      sync.Mutex
	order   *list.List // of *tenantEntry, most recent first
	entries map[string]*list.Element
}

type tenantEntry struct {
	tenantID string
	tenant   *directTenant
}

func newTenantCache(max int) *tenantCache {
	return &tenantCache{max: max, order: list.New(), entries: make(map[string]*list.Element)}
}

// get returns tenantID's entry, building it with build when missing and
// evicting the least recently used entry beyond max. A failed build is not kept.
func (c *tenantCache) get(tenantID string, build func() (*directTenant, error)) (*directTenant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[tenantID]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*tenantEntry).tenant, nil
	}
	t, err := build()
	if err != nil {
		return nil, err
	}
	c.entries[tenantID] = c.order.PushFront(&tenantEntry{tenantID: tenantID, tenant: t})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*tenantEntry).tenantID)
	}
	return t, nil
}

// len returns the number of cached tenants.
func (c *tenantCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
