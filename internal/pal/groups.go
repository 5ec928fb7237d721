package pal

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// GroupReader reads the identity's Entra group memberships (Microsoft Graph).
type GroupReader interface {
	// TransitiveGroups returns the object IDs of the groups objectID is a
	// member of, nested memberships included. CodeForbidden when the identity
	// may not read them.
	TransitiveGroups(ctx context.Context, objectID string) ([]string, error)
}

// Bounds of the membership cache: how long a membership read is trusted and
// how many principals are kept (a process acts as one identity, so a handful
// is plenty).
const (
	membershipTTL        = 10 * time.Minute
	membershipMaxEntries = 16
	membershipTimeout    = 30 * time.Second
)

// graphFix tells the partner how to make a group verdict exact.
const graphFix = "set PAL_GRAPH_MEMBERSHIP=true (Terraform pal_graph_membership) so the identity's group memberships are read from Microsoft Graph"

// membership is one principal's memberships as read at a time: groups, or
// known false when Graph refused (the verdict then rests on ARM alone).
type membership struct {
	groups []string
	known  bool
	at     time.Time
}

// membershipCache reads memberships once per principal per membershipTTL,
// shared by concurrent callers, keeping at most membershipMaxEntries.
type membershipCache struct {
	reader GroupReader
	now    func() time.Time
	group  singleflight.Group

	mu      sync.Mutex
	entries map[string]membership
}

func newMembershipCache(reader GroupReader) *membershipCache {
	return &membershipCache{reader: reader, now: time.Now, entries: map[string]membership{}}
}

// get returns the memberships of objectID. A refusal (CodeForbidden,
// CodeNotFound) is a membership that is not known, cached like an answer;
// other errors are returned and not cached.
func (c *membershipCache) get(ctx context.Context, objectID string) (membership, error) {
	key := strings.ToLower(objectID)
	c.mu.Lock()
	m, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.now().Sub(m.at) < membershipTTL {
		return m, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), membershipTimeout)
		defer cancel()
		groups, err := c.reader.TransitiveGroups(lctx, key)
		m := membership{known: true, at: c.now()}
		switch ErrorCodeOf(err) {
		case "":
			for _, g := range groups {
				m.groups = append(m.groups, strings.ToLower(g))
			}
		case CodeForbidden, CodeNotFound:
			m.known = false
		default:
			return nil, err
		}
		c.put(key, m)
		return m, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return membership{}, res.Err
		}
		return res.Val.(membership), nil
	case <-ctx.Done():
		return membership{}, ctx.Err()
	}
}

// put stores m, dropping the oldest entry when the cache is full.
func (c *membershipCache) put(key string, m membership) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= membershipMaxEntries {
		oldest := ""
		for k, e := range c.entries {
			if oldest == "" || e.at.Before(c.entries[oldest].at) {
				oldest = k
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[key] = m
}

// otherAuths are the authorizations of the identity's tenant's delegations
// that name principals other than the identity: groups it may be a member of
// (or other users and identities, which Azure does not tell apart in a
// delegation).
type otherAuths struct {
	permanent, eligible []Authorization
}

func (o *otherAuths) add(d Delegation, objectID string) {
	for _, a := range d.Authorizations {
		if !strings.EqualFold(a.PrincipalID, objectID) {
			o.permanent = append(o.permanent, a)
		}
	}
	for _, a := range d.EligibleAuthorizations {
		if !strings.EqualFold(a.PrincipalID, objectID) {
			o.eligible = append(o.eligible, a)
		}
	}
}

func (o otherAuths) empty() bool { return len(o.permanent) == 0 && len(o.eligible) == 0 }

// grantees names the principals of auths that carry role, "name (id)" each, sorted.
func grantees(auths []Authorization, role string) []string {
	var out []string
	for _, a := range auths {
		if !strings.EqualFold(a.RoleDefinitionID, role) {
			continue
		}
		n := strings.ToLower(a.PrincipalID)
		if a.PrincipalDisplayName != "" {
			n = a.PrincipalDisplayName + " (" + n + ")"
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// carries reports whether some authorization of auths grants role.
func carries(auths []Authorization, role string) bool {
	return slices.ContainsFunc(auths, func(a Authorization) bool { return strings.EqualFold(a.RoleDefinitionID, role) })
}

// groupDelegation is what the identity's tenant's delegations of one
// subscription say of it: the roles naming it directly, and the rest.
type groupDelegation struct {
	permanent, jit []string // role GUIDs naming the identity
	others         otherAuths
}

// judgeErr is a read that failed while gathering evidence: what failed, and why.
type judgeErr struct {
	what string
	err  error
}

// Bases of group evidence: how the identity's memberships were known.
const (
	graphBasis    = "group memberships read from Microsoft Graph"
	groupARMBasis = "roles inferred from effective permissions, group memberships not read"
)

// groupEvidence gathers the evidence of a subscription whose delegations name
// principals other than the identity, when its own authorizations do not make
// it attributed: the union of the roles it holds directly and through groups.
// With a GroupReader that may read the memberships they are exact
// (fromGroups); otherwise the effective permissions tell which roles are in
// force (fromGroupPermissions). ok is false when there is nothing to add
// (the identity's own authorizations decide).
func (e *Engine) groupEvidence(ctx context.Context, p Principal, ref subscriptionRef, gd groupDelegation) (evidence, bool, *judgeErr) {
	if e.memberships != nil {
		m, err := e.memberships.get(ctx, p.ObjectID)
		if err != nil {
			return evidence{}, false, &judgeErr{"reading the identity's group memberships from Microsoft Graph failed", err}
		}
		if m.known {
			return e.graphEvidence(ctx, p, gd, m.groups)
		}
	}
	return e.permissionGroupEvidence(ctx, p, ref, gd)
}

// graphEvidence: the authorizations naming a group the identity is a member
// of count as its own; eligible (just-in-time) ones never count.
func (e *Engine) graphEvidence(ctx context.Context, p Principal, gd groupDelegation, groups []string) (evidence, bool, *judgeErr) {
	var mine otherAuths
	for _, a := range gd.others.permanent {
		if slices.Contains(groups, strings.ToLower(a.PrincipalID)) {
			mine.permanent = append(mine.permanent, a)
		}
	}
	for _, a := range gd.others.eligible {
		if slices.Contains(groups, strings.ToLower(a.PrincipalID)) {
			mine.eligible = append(mine.eligible, a)
		}
	}
	if mine.empty() {
		return evidence{}, false, nil
	}
	permanent := appendAllRoles(slices.Clone(gd.permanent), mine.permanent)
	jit := appendAllRoles(slices.Clone(gd.jit), mine.eligible)
	ev := evidence{source: fromGroups, principal: p, basis: graphBasis}
	var err error
	if ev.permanent, err = e.roles.judgeAll(ctx, permanent); err != nil {
		return evidence{}, false, &judgeErr{"reading a role definition failed", err}
	}
	if ev.jit, err = e.roles.judgeAll(ctx, jit); err != nil {
		return evidence{}, false, &judgeErr{"reading a role definition failed", err}
	}
	for i, v := range ev.permanent {
		if v.Eligible && !slices.Contains(gd.permanent, permanent[i]) {
			ev.through = append(ev.through, grantees(mine.permanent, permanent[i])...)
		}
	}
	ev.through = dedupe(ev.through)
	return ev, true, nil
}

// permissionGroupEvidence reads the identity's effective permissions: each
// permission set is one role in force. One that the identity's own permanent
// authorizations or a group's carry counts, unless it is eligible and
// granted just-in-time as well (an active activation would look the same):
// then it is ambiguous. One that only a just-in-time authorization carries is
// an activation and never counts. When no role in force comes from a
// group's authorization, there is nothing to add.
func (e *Engine) permissionGroupEvidence(ctx context.Context, p Principal, ref subscriptionRef, gd groupDelegation) (evidence, bool, *judgeErr) {
	if e.az.Permissions == nil || e.az.BuiltInRoles == nil {
		return evidence{}, false, nil
	}
	sets, _, err := e.effectivePermissions(ctx, ref.id)
	switch ErrorCodeOf(err) {
	case "":
	case CodeForbidden, CodeNotFound:
		return evidence{}, false, nil
	default:
		return evidence{}, false, &judgeErr{"reading the effective permissions failed", err}
	}
	if len(sets) == 0 {
		return evidence{}, false, nil
	}
	index, err := e.builtins.get(ctx, ref.id)
	if err != nil {
		return evidence{}, false, &judgeErr{"listing the built-in role definitions failed", err}
	}
	ev := evidence{source: fromGroupPermissions, principal: p, basis: groupARMBasis, sets: len(sets)}
	jit := appendAllRoles(slices.Clone(gd.jit), gd.others.eligible)
	if ev.jit, err = e.roles.judgeAll(ctx, jit); err != nil {
		return evidence{}, false, &judgeErr{"reading a role definition failed", err}
	}
	viaGroup := false // some role in force is explained by a group's authorization
	for _, s := range sets {
		defs := index[permissionKey(s)]
		if len(defs) == 0 {
			ev.unmatched++
			continue
		}
		v := judgeMatches(defs)
		direct, group, granted := false, false, false
		var via []string
		for _, d := range defs {
			id := strings.ToLower(d.ID)
			direct = direct || slices.Contains(gd.permanent, id)
			group = group || carries(gd.others.permanent, id)
			granted = granted || slices.Contains(jit, id)
			via = append(via, grantees(gd.others.permanent, id)...)
		}
		switch {
		case direct:
			ev.permanent = append(ev.permanent, v)
		case group && granted && v.Eligible:
			ev.ambiguous = append(ev.ambiguous, v.Name)
			viaGroup = true
		case group:
			ev.permanent = append(ev.permanent, v)
			viaGroup = true
			if v.Eligible {
				ev.through = append(ev.through, via...)
			}
		case granted:
			ev.activations = append(ev.activations, v.Name)
		default:
			ev.unmatched++ // in force, but no authorization of the delegations explains it
		}
	}
	if !viaGroup {
		return evidence{}, false, nil // no group adds anything: the identity's own authorizations decide
	}
	if !viaGroup {
		return evidence{}, false, nil // no group adds anything: the identity's own authorizations decide
	}
	ev.through = dedupe(ev.through)
	return ev, true, nil
}

// appendAllRoles adds the role GUIDs of auths not in roles yet.
func appendAllRoles(roles []string, auths []Authorization) []string {
	for _, a := range auths {
		if id := strings.ToLower(a.RoleDefinitionID); !slices.Contains(roles, id) {
			roles = append(roles, id)
		}
	}
	return roles
}

// dedupe sorts s and drops repeats.
func dedupe(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
