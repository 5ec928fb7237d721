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

// PermissionReader reads the caller's effective permissions.
type PermissionReader interface {
	// EffectivePermissions returns one permission set per role the caller
	// holds at the subscription, or at its resource group resourceGroup when
	// that is not "". CodeForbidden when Azure refuses the call.
	EffectivePermissions(ctx context.Context, subscriptionID, resourceGroup string) ([]PermissionSet, error)
}

// ResourceGroupLister finds a resource group of a subscription.
type ResourceGroupLister interface {
	// FirstResourceGroup returns the name of one resource group of the
	// subscription, "" when it has none.
	FirstResourceGroup(ctx context.Context, subscriptionID string) (string, error)
}

// BuiltInRoleLister lists Azure's built-in role definitions with their permissions.
type BuiltInRoleLister interface {
	// ListBuiltInRoles lists them as seen at the subscription, or at the tenant
	// root when subscriptionID is "".
	ListBuiltInRoles(ctx context.Context, subscriptionID string) ([]RoleDefinition, error)
}

// inferredBasis says where inferred roles come from.
const inferredBasis = "roles inferred from effective permissions: the identity may not read the subscription's Lighthouse delegation (Microsoft.ManagedServices/registrationAssignments/read)"

// unverifiableFix tells the partner how to make a subscription verifiable.
const unverifiableFix = "give the identity a PEC-eligible built-in role such as Support Request Contributor or Contributor as a permanent authorization in the delegation (add the Managed Services Registration assignment Delete Role so it can read the delegation itself)"

// inferFromPermissions judges a reachable subscription whose delegation the
// identity may not read: it reads the identity's effective permissions there
// (at one of its resource groups if the subscription-scope call is refused),
// matches each permission set to a built-in role and judges those roles.
// Effective permissions hold only active assignments, so just-in-time
// authorizations count for nothing here, as for PEC.
func (e *Engine) inferFromPermissions(ctx context.Context, p Principal, ref subscriptionRef, r SubscriptionResult, link linkState) SubscriptionResult {
	ev := evidence{source: fromPermissions, principal: p}
	if e.az.Permissions == nil || e.az.BuiltInRoles == nil {
		ev.unknown = "the identity may not read the subscription's Lighthouse delegation and effective permissions are not read here"
		return verdict(r, link, ev)
	}
	sets, rg, err := e.effectivePermissions(ctx, ref.id)
	switch ErrorCodeOf(err) {
	case "":
	case CodeForbidden, CodeNotFound:
		ev.unknown = "the identity may read neither the subscription's Lighthouse delegation nor its effective permissions there, so its roles cannot be known"
		return verdict(r, link, ev)
	default:
		return errorResult(ref, r.TenantID, r.DisplayName, "reading the effective permissions failed", err)
	}
	index, err := e.builtins.get(ctx, ref.id)
	if err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "listing the built-in role definitions failed", err)
	}

	ev.basis = inferredBasis
	if rg != "" {
		ev.basis += fmt.Sprintf(" (read at resource group %s)", rg)
	}
	ev.sets = len(sets)
	for _, s := range sets {
		defs := index[permissionKey(s)]
		if len(defs) == 0 {
			ev.unmatched++
			continue
		}
		ev.permanent = append(ev.permanent, judgeMatches(defs))
	}
	return verdict(r, link, ev)
}

// effectivePermissions reads the identity's permission sets at the
// subscription or, when that call is refused, at its first resource group
// (rg names it). The subscription-scope error is returned when there is no
// resource group to ask or the identity may not list them.
func (e *Engine) effectivePermissions(ctx context.Context, subscriptionID string) (sets []PermissionSet, rg string, err error) {
	sets, err = e.az.Permissions.EffectivePermissions(ctx, subscriptionID, "")
	if ErrorCodeOf(err) != CodeForbidden || e.az.ResourceGroups == nil {
		return sets, "", err
	}
	rg, rgErr := e.az.ResourceGroups.FirstResourceGroup(ctx, subscriptionID)
	switch ErrorCodeOf(rgErr) {
	case "":
	case CodeForbidden, CodeNotFound:
		return nil, "", err
	default:
		return nil, "", rgErr
	}
	if rg == "" {
		return nil, "", err
	}
	sets, err = e.az.Permissions.EffectivePermissions(ctx, subscriptionID, rg)
	return sets, rg, err
}

// judgeMatches judges the built-in roles one permission set matches. Several
// roles can share a permission set; the set is then eligible only if each is.
func judgeMatches(defs []RoleDefinition) roleVerdict {
	var names []string
	out := roleVerdict{Eligible: true}
	for _, d := range defs {
		v := judgeRole(d)
		names = append(names, v.Name)
		if !v.Eligible {
			out.Eligible = false
			out.Reason = v.Reason
		} else if out.Eligible {
			out.Reason = v.Reason
		}
	}
	sort.Strings(names)
	out.Name = strings.Join(names, " or ")
	return out
}

// permissionKey is a permission set's identity for matching: each list as a
// case-insensitive set.
func permissionKey(s PermissionSet) string {
	norm := func(list []string) string {
		out := make([]string, 0, len(list))
		for _, a := range list {
			a = strings.ToLower(strings.TrimSpace(a))
			if a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		sort.Strings(out)
		return strings.Join(out, "\x1f")
	}
	return norm(s.Actions) + "\x1e" + norm(s.NotActions) + "\x1e" + norm(s.DataActions) + "\x1e" + norm(s.NotDataActions)
}

// builtinListTimeout bounds one listing of the built-in roles; it runs on a
// context detached from the invocation that started it, since others wait on it.
const builtinListTimeout = 60 * time.Second

// builtinRoleCache lists the built-in role definitions once per process and
// indexes them by permission set. A failed listing is retried by the next caller.
type builtinRoleCache struct {
	lister BuiltInRoleLister
	group  singleflight.Group

	mu    sync.Mutex
	index map[string][]RoleDefinition
}

func newBuiltinRoleCache(lister BuiltInRoleLister) *builtinRoleCache {
	return &builtinRoleCache{lister: lister}
}

// get returns the index, listing the roles at subscriptionID's scope (or at the
// tenant root if that is refused) when they are not known yet.
func (c *builtinRoleCache) get(ctx context.Context, subscriptionID string) (map[string][]RoleDefinition, error) {
	c.mu.Lock()
	idx := c.index
	c.mu.Unlock()
	if idx != nil {
		return idx, nil
	}
	ch := c.group.DoChan("builtin", func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), builtinListTimeout)
		defer cancel()
		defs, err := c.lister.ListBuiltInRoles(lctx, subscriptionID)
		if code := ErrorCodeOf(err); code == CodeForbidden || code == CodeNotFound {
			defs, err = c.lister.ListBuiltInRoles(lctx, "")
		}
		if err != nil {
			return nil, err
		}
		idx := make(map[string][]RoleDefinition)
		for _, d := range defs {
			if !d.BuiltIn {
				continue
			}
			for _, p := range d.Permissions {
				k := permissionKey(p)
				idx[k] = append(idx[k], d)
			}
		}
		if len(idx) == 0 {
			return nil, &Error{Code: CodeInternal, Message: "Azure listed no built-in role definitions"}
		}
		c.mu.Lock()
		c.index = idx
		c.mu.Unlock()
		return idx, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[string][]RoleDefinition), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
