package pal

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// roleLookupTimeout bounds one shared role-definition lookup. The lookup runs
// detached from the invocation that started it, so it needs its own bound.
const roleLookupTimeout = 30 * time.Second

// roleCache judges role definition GUIDs, looking up each unknown one at most
// once per process. Callers that ask for the same GUID at the same time share
// one lookup; failed lookups are not cached (they are mostly transient), so
// the next caller tries again.
//
// The shared lookup runs on a context detached from its first caller's
// cancellation (context.WithoutCancel) with its own timeout: one invocation
// that is cancelled or runs out of time gives up waiting and returns its own
// context error, but the lookup goes on for the others.
type roleCache struct {
	reader RoleDefinitionReader
	// timeout bounds one lookup; roleLookupTimeout unless a test changes it.
	timeout time.Duration

	group singleflight.Group

	mu       sync.Mutex
	verdicts map[string]roleVerdict
}

func newRoleCache(reader RoleDefinitionReader) *roleCache {
	return &roleCache{reader: reader, timeout: roleLookupTimeout, verdicts: make(map[string]roleVerdict)}
}

// judge returns the verdict on one role definition GUID.
func (c *roleCache) judge(ctx context.Context, id string) (roleVerdict, error) {
	id = strings.ToLower(id)
	if name, ok := wellKnownRoles[id]; ok {
		return judgeRole(RoleDefinition{ID: id, Name: name, BuiltIn: true}), nil
	}
	if v, ok := c.cached(id); ok {
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		return roleVerdict{}, err
	}
	// The lookup keeps the values of the first caller's context (its
	// logger, its trace) but not its cancellation.
	shared := context.WithoutCancel(ctx)
	ch := c.group.DoChan(id, func() (any, error) {
		if v, ok := c.cached(id); ok {
			return v, nil
		}
		lctx, cancel := context.WithTimeout(shared, c.timeout)
		defer cancel()
		def, err := c.reader.GetRoleDefinition(lctx, id)
		if err != nil {
			return nil, err
		}
		var v roleVerdict
		if def == nil {
			v = roleVerdict{Name: id, Reason: "role definition not found"}
		} else {
			v = judgeRole(*def)
			if v.Name == "" {
				v.Name = id
			}
		}
		c.mu.Lock()
		c.verdicts[id] = v
		c.mu.Unlock()
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return roleVerdict{}, r.Err
		}
		return r.Val.(roleVerdict), nil
	case <-ctx.Done():
		return roleVerdict{}, ctx.Err()
	}
}

// cached returns the verdict stored for id, if any.
func (c *roleCache) cached(id string) (roleVerdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.verdicts[id]
	return v, ok
}

// judgeAll judges every GUID in ids, in order.
func (c *roleCache) judgeAll(ctx context.Context, ids []string) ([]roleVerdict, error) {
	out := make([]roleVerdict, 0, len(ids))
	for _, id := range ids {
		v, err := c.judge(ctx, id)
		if ErrorCodeOf(err) == CodeNotFound {
			v, err = roleVerdict{Name: id, Reason: "role definition not found"}, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
