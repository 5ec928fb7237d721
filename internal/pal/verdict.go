package pal

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// roleSource says where the roles of a subscription's evidence were read.
type roleSource int

const (
	// fromDelegation: the Lighthouse authorizations that name the identity.
	fromDelegation roleSource = iota
	// fromPermissions: inferred from the identity's effective permissions,
	// when it may not read the delegation (inferred.go).
	fromPermissions
	// fromAssignments: the role assignments of direct mode's service principal.
	fromAssignments
	// fromGroups: the Lighthouse authorizations that name the identity or a
	// group it is a member of, memberships read from Microsoft Graph (groups.go).
	fromGroups
	// fromGroupPermissions: the effective permissions matched to the
	// authorizations of the identity's groups, memberships not read (groups.go).
	fromGroupPermissions
)

// evidence is what judging found about the identity's roles on a reachable
// subscription: with the link, everything its verdict is decided from. Each
// way of judging (Lighthouse, inferred, direct) only gathers evidence;
// [verdict] decides.
type evidence struct {
	source roleSource
	// principal is the identity judged (named in the not-delegated detail).
	principal Principal
	// permanent are the verdicts on the roles that count for PEC: permanent
	// (Lighthouse), active (inferred) or assigned (direct). One per role
	// found; inferred sets may repeat a role.
	permanent []roleVerdict
	// inheritedFrom, when set, runs parallel to permanent: the scope a role
	// is inherited from (a management group, the root), "" when it is
	// assigned at the subscription itself (fromAssignments).
	inheritedFrom []string
	// jit are the verdicts on just-in-time roles (Lighthouse eligible
	// authorizations): they never count, the detail names them.
	jit []roleVerdict
	// unknown, when set, says why the roles cannot be known at all
	// (fromPermissions: neither the delegation nor the permissions are readable).
	unknown string
	// unmatched counts the permission sets, of sets, that match no built-in
	// role (fromPermissions).
	unmatched, sets int
	// basis says where inferred roles were read (fromPermissions) or how
	// group memberships were known (fromGroups, fromGroupPermissions).
	basis string
	// through names the groups ("name (id)") through which an eligible role
	// counts (fromGroups, fromGroupPermissions).
	through []string
	// ambiguous are eligible roles in force that a permanent group
	// authorization and a just-in-time one explain alike
	// (fromGroupPermissions); activations are roles in force that only a
	// just-in-time authorization explains: an activation, never counted.
	ambiguous, activations []string
}

// counts reports whether some role that counts for PEC is eligible.
func (ev evidence) counts() bool {
	return slices.ContainsFunc(ev.permanent, func(v roleVerdict) bool { return v.Eligible })
}

// verdict is the one place a subscription's attribution is decided, for
// Lighthouse, inferred and direct judging alike. r carries the subscription
// (reachSubscription filled it); the rules, in order:
//
//  1. Roles that cannot be known: unverifiable.
//  2. No role names the identity (delegation, assignment): not-delegated.
//  3. A PEC-eligible role that counts, and a link to an allowed ID: attributed.
//  4. A PEC-eligible role, but no such link: unlinked, the link's problem.
//  5. An eligible role in force that a just-in-time activation explains as
//     well as a permanent group authorization: unverifiable.
//  6. Permission sets that match no built-in role: unverifiable.
//  7. Otherwise: ineligible-role, saying why each role does not count.
func verdict(r SubscriptionResult, link linkState, ev evidence) SubscriptionResult {
	if ev.unknown != "" {
		r.Status = StatusUnverifiable
		r.Detail = ev.unknown + "; " + unverifiableFix
		return r
	}
	if len(ev.permanent) == 0 && len(ev.jit) == 0 && ev.source != fromPermissions && ev.source != fromGroupPermissions {
		r.Status = StatusNotDelegated
		r.Detail = ev.noRolesDetail()
		return r
	}
	eligible := false
	for _, v := range ev.permanent {
		eligible = eligible || v.Eligible
		if !slices.Contains(r.Roles, v.Name) {
			r.Roles = append(r.Roles, v.Name)
		}
	}
	sort.Strings(r.Roles)
	switch {
	case eligible && link.ok:
		r.Status = StatusAttributed
		r.Detail = ev.attributedDetail()
	case eligible:
		r.Status = StatusUnlinked
		r.Detail = link.problem
		if ev.basis != "" {
			r.Detail += "; " + ev.basis
		}
	case len(ev.ambiguous) > 0:
		r.Status = StatusUnverifiable
		r.Detail = fmt.Sprintf("%s is in force here and the delegation grants it both permanently to a group and just-in-time, so an active just-in-time activation cannot be told from a permanent group membership (%s); %s",
			strings.Join(ev.ambiguous, ", "), ev.basis, graphFix)
	case ev.unmatched > 0 && ev.source == fromGroupPermissions:
		r.Status = StatusUnverifiable
		r.Detail = fmt.Sprintf("%d of the identity's %d permission sets here match no role its delegations grant, so its roles cannot be known (%s); %s",
			ev.unmatched, ev.sets, ev.basis, unverifiableFix)
	case ev.unmatched > 0:
		r.Status = StatusUnverifiable
		r.Detail = fmt.Sprintf("%d of the identity's %d permission sets here match no built-in role, so its roles cannot be known (%s); %s",
			ev.unmatched, ev.sets, inferredBasis, unverifiableFix)
	default:
		r.Status = StatusIneligibleRole
		r.Detail = ev.ineligibleDetail()
	}
	return r
}

// noRolesDetail explains a not-delegated verdict: no role names the identity.
func (ev evidence) noRolesDetail() string {
	if ev.source == fromAssignments {
		return fmt.Sprintf("no role assignment of the app's service principal %s applies to the subscription", ev.principal.ObjectID)
	}
	return fmt.Sprintf("no Lighthouse delegation to tenant %s names this identity or a group it is a member of", ev.principal.TenantID)
}

// attributedDetail qualifies an attribution: inferred roles say so, and
// direct mode names the inherited assignments when every eligible role is
// inherited.
func (ev evidence) attributedDetail() string {
	switch ev.source {
	case fromPermissions:
		return ev.basis
	case fromGroups, fromGroupPermissions:
		if len(ev.through) == 0 {
			return ev.basis
		}
		return "through group " + strings.Join(ev.through, ", ") + " (" + ev.basis + ")"
	case fromAssignments:
		var via []string
		eligible := 0
		for i, v := range ev.permanent {
			if !v.Eligible {
				continue
			}
			eligible++
			if i < len(ev.inheritedFrom) && ev.inheritedFrom[i] != "" {
				via = append(via, v.Name+" inherited from "+ev.inheritedFrom[i])
			}
		}
		if len(via) > 0 && len(via) == eligible {
			sort.Strings(via)
			return strings.Join(via, "; ")
		}
	}
	return ""
}

// ineligibleDetail explains why no role counts.
func (ev evidence) ineligibleDetail() string {
	switch ev.source {
	case fromPermissions:
		if len(ev.permanent) == 0 {
			return "no permanent role grants the identity anything here (" + ev.basis + "); just-in-time authorizations do not count for PEC"
		}
		return ineligibleDetail(ev.permanent, nil) + " (" + ev.basis + ")"
	case fromAssignments:
		return "no role assignment is PEC-eligible: " + strings.Join(reasons(ev.permanent), ", ")
	case fromGroups, fromGroupPermissions:
		d := "no permanent role grants the identity anything here"
		if len(ev.permanent) > 0 || len(ev.jit) > 0 {
			d = ineligibleDetail(ev.permanent, ev.jit)
		}
		if len(ev.activations) > 0 {
			d += "; " + strings.Join(ev.activations, ", ") + " is in force only through a just-in-time activation (eligibleAuthorizations), which PEC does not count"
		}
		return d + " (" + ev.basis + ")"
	default:
		return ineligibleDetail(ev.permanent, ev.jit)
	}
}

// ineligibleDetail explains why no permanent role counts, naming the
// just-in-time roles that would.
func ineligibleDetail(permanent, jit []roleVerdict) string {
	var parts []string
	if len(permanent) > 0 {
		parts = append(parts, "no permanent role is PEC-eligible: "+strings.Join(reasons(permanent), ", "))
	} else {
		parts = append(parts, "no permanent authorization names this identity")
	}
	var jitEligible []string
	for _, v := range jit {
		if v.Eligible {
			jitEligible = append(jitEligible, v.Name)
		}
	}
	if len(jitEligible) > 0 {
		parts = append(parts, strings.Join(jitEligible, ", ")+" is granted only just-in-time (eligibleAuthorizations); PEC needs a permanent authorization")
	}
	return strings.Join(parts, "; ")
}

// reasons lists each verdict as "name (reason)".
func reasons(vs []roleVerdict) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s (%s)", v.Name, v.Reason))
	}
	return out
}
