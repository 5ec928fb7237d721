package pal

import (
	"context"
	"fmt"
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

// judgeGroups judges a subscription whose delegations name principals other
// than the identity, when its direct authorizations alone do not make it
// attributed: the union of the roles it holds directly and through groups.
// With a GroupReader that may read the memberships they are exact; otherwise
// the effective permissions tell which roles are in force (judgeGroupsARM).
// It returns false when it has nothing to add (the direct verdict stands).
func (e *Engine) judgeGroups(ctx context.Context, p Principal, link linkState, ref subscriptionRef, r SubscriptionResult, gd groupDelegation) (SubscriptionResult, bool) {
	if e.memberships != nil {
		m, err := e.memberships.get(ctx, p.ObjectID)
		if err != nil {
			return errorResult(ref, r.TenantID, r.DisplayName, "reading the identity's group memberships from Microsoft Graph failed", err), true
		}
		if m.known {
			return e.judgeGroupsGraph(ctx, link, ref, r, gd, m.groups)
		}
	}
	return e.judgeGroupsARM(ctx, link, ref, r, gd)
}

// judgeGroupsGraph: the authorizations naming a group the identity is a
// member of count as its own; eligible (just-in-time) ones never count.
func (e *Engine) judgeGroupsGraph(ctx context.Context, link linkState, ref subscriptionRef, r SubscriptionResult, gd groupDelegation, groups []string) (SubscriptionResult, bool) {
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
		return r, false
	}
	permanent := appendAllRoles(slices.Clone(gd.permanent), mine.permanent)
	jit := appendAllRoles(slices.Clone(gd.jit), mine.eligible)
	permVerdicts, err := e.roles.judgeAll(ctx, permanent)
	if err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err), true
	}
	jitVerdicts, err := e.roles.judgeAll(ctx, jit)
	if err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err), true
	}
	r.Roles = []string{}
	var through []string
	eligible := false
	for i, v := range permVerdicts {
		r.Roles = append(r.Roles, v.Name)
		eligible = eligible || v.Eligible
		if v.Eligible && !slices.Contains(gd.permanent, permanent[i]) {
			through = append(through, grantees(mine.permanent, permanent[i])...)
		}
	}
	sort.Strings(r.Roles)
	basis := "group memberships read from Microsoft Graph"
	switch {
	case eligible && len(through) > 0:
		r.Detail = "through group " + strings.Join(dedupe(through), ", ") + " (" + basis + ")"
	case eligible:
		r.Detail = ""
	default:
		r.Detail = ineligibleDetail(permVerdicts, jitVerdicts) + " (" + basis + ")"
	}
	return e.linkedVerdict(r, eligible, link), true
}

// judgeGroupsARM reads the identity's effective permissions: each permission
// set is one role in force; one that a permanent authorization of a group
// carries counts for the identity, unless the role is also granted just in
// time in the delegations (an active activation would look the same), which
// makes the subscription unverifiable. A role in force that only a
// just-in-time authorization carries is an activation and never counts.
func (e *Engine) judgeGroupsARM(ctx context.Context, link linkState, ref subscriptionRef, r SubscriptionResult, gd groupDelegation) (SubscriptionResult, bool) {
	if e.az.Permissions == nil || e.az.BuiltInRoles == nil {
		return r, false
	}
	sets, _, err := e.effectivePermissions(ctx, ref.id)
	switch ErrorCodeOf(err) {
	case "":
	case CodeForbidden, CodeNotFound:
		return r, false
	default:
		return errorResult(ref, r.TenantID, r.DisplayName, "reading the effective permissions failed", err), true
	}
	if len(sets) == 0 {
		return r, false
	}
	index, err := e.builtins.get(ctx, ref.id)
	if err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "listing the built-in role definitions failed", err), true
	}
	const basis = "roles inferred from effective permissions, group memberships not read"
	var (
		verdicts          []RoleVerdict
		through, unclear  []string
		activations       []string
		unmatched         int
		eligibleCounts    bool
		eligibleAmbiguous bool
	)
	r.Roles = []string{}
	for _, s := range sets {
		defs := index[permissionKey(s)]
		if len(defs) == 0 {
			unmatched++
			continue
		}
		v := judgeMatches(defs)
		if !slices.Contains(r.Roles, v.Name) {
			r.Roles = append(r.Roles, v.Name)
		}
		direct, group, jit := false, false, false
		for _, d := range defs {
			id := strings.ToLower(d.ID)
			direct = direct || slices.Contains(gd.permanent, id)
			group = group || carries(gd.others.permanent, id)
			jit = jit || slices.Contains(gd.jit, id) || carries(gd.others.eligible, id)
		}
		switch {
		case direct:
			verdicts = append(verdicts, v)
		case group && jit && v.Eligible:
			eligibleAmbiguous = true
			unclear = append(unclear, v.Name)
		case group:
			verdicts = append(verdicts, v)
			if v.Eligible {
				eligibleCounts = true
				for _, d := range defs {
					through = append(through, grantees(gd.others.permanent, d.ID)...)
				}
			}
		case jit:
			activations = append(activations, v.Name) // a just-in-time activation: never counts
		default:
			unmatched++ // in force, but no authorization of the delegations explains it
		}
	}
	sort.Strings(r.Roles)
	switch {
	case eligibleCounts:
		r.Detail = "through group " + strings.Join(dedupe(through), ", ") + " (" + basis + ")"
		return e.linkedVerdict(r, true, link), true
	case eligibleAmbiguous:
		r.Status = StatusUnverifiable
		r.Detail = fmt.Sprintf("%s is in force here and the delegation grants it both permanently to a group and just-in-time, so an active just-in-time activation cannot be told from a permanent group membership (%s); %s",
			strings.Join(unclear, ", "), basis, graphFix)
		return r, true
	case unmatched > 0:
		r.Status = StatusUnverifiable
		r.Detail = fmt.Sprintf("%d of the identity's %d permission sets here match no role its delegations grant, so its roles cannot be known (%s); %s",
			unmatched, len(sets), basis, unverifiableFix)
		return r, true
	}
	r.Status = StatusIneligibleRole
	if len(verdicts) == 0 {
		r.Detail = "no permanent role grants the identity anything here"
	} else {
		r.Detail = ineligibleDetail(verdicts, nil)
	}
	if len(activations) > 0 {
		r.Detail += "; " + strings.Join(activations, ", ") + " is in force only through a just-in-time activation (eligibleAuthorizations); PEC needs a permanent authorization"
	} else if len(gd.jit) > 0 || len(gd.others.eligible) > 0 {
		r.Detail += "; the delegation grants roles just-in-time (eligibleAuthorizations), which PEC does not count"
	}
	r.Detail += " (" + basis + ")"
	return r, true
}

// linkedVerdict completes r: attributed or unlinked when eligible, as the link says.
func (e *Engine) linkedVerdict(r SubscriptionResult, eligible bool, link linkState) SubscriptionResult {
	switch {
	case eligible && link.ok:
		r.Status = StatusAttributed
	case eligible:
		r.Status = StatusUnlinked
		if r.Detail == "" {
			r.Detail = link.problem
		} else {
			r.Detail = link.problem + "; " + r.Detail
		}
	default:
		r.Status = StatusIneligibleRole
	}
	return r
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
