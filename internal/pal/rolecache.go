package pal

import (
	"context"
	"strings"
	"sync"
)

// roleCache judges role definition GUIDs, looking up each unknown one at most
// once per process (failed lookups are retried next time).
type roleCache struct {
	reader RoleDefinitionReader

	mu      sync.Mutex
	entries map[string]*roleEntry
}

type roleEntry struct {
	done    chan struct{}
	verdict RoleVerdict
	err     error
}

func newRoleCache(reader RoleDefinitionReader) *roleCache {
	return &roleCache{reader: reader, entries: make(map[string]*roleEntry)}
}

// judge returns the verdict on one role definition GUID.
func (c *roleCache) judge(ctx context.Context, id string) (RoleVerdict, error) {
	id = strings.ToLower(id)
	if name, ok := wellKnownRoles[id]; ok {
		return JudgeRole(RoleDefinition{ID: id, Name: name, BuiltIn: true}), nil
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	if !ok {
		e = &roleEntry{done: make(chan struct{})}
		c.entries[id] = e
		c.mu.Unlock()
		def, err := c.reader.GetRoleDefinition(ctx, id)
		switch {
		case err != nil:
			e.err = err
			c.mu.Lock()
			delete(c.entries, id)
			c.mu.Unlock()
		case def == nil:
			e.verdict = RoleVerdict{Name: id, Reason: "role definition not found"}
		default:
			e.verdict = JudgeRole(*def)
			if e.verdict.Name == "" {
				e.verdict.Name = id
			}
		}
		close(e.done)
		return e.verdict, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.verdict, e.err
	case <-ctx.Done():
		return RoleVerdict{}, ctx.Err()
	}
}

// judgeAll judges every GUID in ids, in order.
func (c *roleCache) judgeAll(ctx context.Context, ids []string) ([]RoleVerdict, error) {
	out := make([]RoleVerdict, 0, len(ids))
	for _, id := range ids {
		v, err := c.judge(ctx, id)
		if ErrorCodeOf(err) == CodeNotFound {
			v, err = RoleVerdict{Name: id, Reason: "role definition not found"}, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
