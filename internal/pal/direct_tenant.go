package pal

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/rs/zerolog"
)

// tenantRun is what one tenant of direct mode gave: its link and verdicts.
type tenantRun struct {
	principal Principal
	link      TenantLink
	results   []SubscriptionResult
}

// run keeps the link in tenantID and judges subscriptionIDs there (all the
// service principal can reach when empty and all is true).
//
// A tenant without the app's service principal (no admin consent) is no
// error: every named subscription is not-delegated with the consent URL, and
// marked unreachable, so the onboarding trigger waits for it like for a
// delegation on its way (consent just granted, role assignment still coming).
func (t *directTenant) run(ctx context.Context, log *zerolog.Logger, tenantID, target string, explicit, write bool, subscriptionIDs []string, all bool) (*tenantRun, error) {
	e := t.engine
	p, err := e.az.Principal.Principal(ctx)
	if ErrorCodeOf(err) == CodeNotConsented {
		detail := publicText(err)
		tr := &tenantRun{
			principal: Principal{TenantID: tenantID},
			link:      TenantLink{TenantID: tenantID, LinkResult: LinkResult{Action: LinkNone}, Detail: detail},
		}
		for _, id := range subscriptionIDs {
			tr.results = append(tr.results, SubscriptionResult{
				TenantID: tenantID, SubscriptionID: strings.ToLower(id), Status: StatusNotDelegated,
				Roles: []string{}, Detail: detail, unreachable: true,
			})
		}
		log.Info().Msg("the app has no service principal in the tenant: no admin consent")
		return tr, nil
	}
	if err != nil {
		return nil, err
	}
	var refs []subscriptionRef
	for _, id := range subscriptionIDs {
		refs = append(refs, subscriptionRef{id: strings.ToLower(id), tenantID: tenantID})
	}
	if len(refs) == 0 {
		list, err := e.az.Subscriptions.ListSubscriptions(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if strings.EqualFold(s.TenantID, tenantID) {
				s := s
				refs = append(refs, subscriptionRef{id: s.ID, tenantID: tenantID, sub: &s})
			}
		}
	}
	link, err := e.ensureLink(ctx, log, target, explicit, write)
	if err != nil {
		return nil, err
	}
	results := judgeEach(ctx, log, e.concurrency, refs, func(ref subscriptionRef) SubscriptionResult {
		return t.evaluate(ctx, p, link, ref)
	})
	if results == nil {
		results = []SubscriptionResult{}
	}
	return &tenantRun{
		principal: p,
		link:      TenantLink{TenantID: tenantID, ObjectID: p.ObjectID, LinkResult: link.result},
		results:   results,
	}, nil
}

// evaluate judges one subscription from the role assignments of the service
// principal p that apply to it: at its scope or inherited from a management
// group or the root. Assignments below it (resource groups) do not count.
func (t *directTenant) evaluate(ctx context.Context, p Principal, link linkState, ref subscriptionRef) SubscriptionResult {
	e := t.engine
	r, ok := reachSubscription(ctx, e.az.Subscriptions, ref, fmt.Sprintf(
		"the app's service principal %s in tenant %s cannot reach this subscription: it has no role assignment there (yet)",
		p.ObjectID, p.TenantID))
	if !ok {
		return r
	}
	assignments, err := t.assignments.ListRoleAssignments(ctx, ref.id, p.ObjectID)
	switch ErrorCodeOf(err) {
	case "":
	case CodeNotFound, CodeForbidden:
		r.Status = StatusNotDelegated
		r.Detail = "the app's service principal cannot read the subscription's role assignments"
		return r
	default:
		return errorResult(ref, r.TenantID, r.DisplayName, "reading the role assignments failed", err)
	}
	var ids []string
	inherited := map[string]string{}
	for _, a := range assignments {
		if !appliesTo(a.Scope, ref.id) {
			continue
		}
		id := strings.ToLower(a.RoleDefinitionID)
		dup := false
		for _, have := range ids {
			dup = dup || have == id
		}
		if !dup {
			ids = append(ids, id)
		}
		if !isSubscriptionScope(a.Scope, ref.id) {
			inherited[id] = a.Scope
		}
	}
	if len(ids) == 0 {
		r.Status = StatusNotDelegated
		r.Detail = fmt.Sprintf("no role assignment of the app's service principal %s applies to the subscription", p.ObjectID)
		return r
	}
	verdicts, err := e.roles.judgeAll(ctx, ids)
	if err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err)
	}
	eligible := false
	var via []string
	for i, v := range verdicts {
		r.Roles = append(r.Roles, v.Name)
		eligible = eligible || v.Eligible
		if scope, ok := inherited[ids[i]]; ok && v.Eligible {
			via = append(via, v.Name+" inherited from "+scope)
		}
	}
	sort.Strings(r.Roles)
	switch {
	case eligible && link.ok:
		r.Status = StatusAttributed
		if len(via) > 0 && len(via) == countEligible(verdicts) {
			sort.Strings(via)
			r.Detail = strings.Join(via, "; ")
		}
	case eligible:
		r.Status = StatusUnlinked
		r.Detail = link.problem
	default:
		r.Status = StatusIneligibleRole
		var names []string
		for _, v := range verdicts {
			names = append(names, fmt.Sprintf("%s (%s)", v.Name, v.Reason))
		}
		r.Detail = "no role assignment is PEC-eligible: " + strings.Join(names, ", ")
	}
	return r
}

// countEligible counts the eligible verdicts.
func countEligible(vs []RoleVerdict) int {
	n := 0
	for _, v := range vs {
		if v.Eligible {
			n++
		}
	}
	return n
}

// appliesTo reports whether a role assignment at scope applies to the whole
// subscription: at its scope, a management group or the root ("/").
func appliesTo(scope, subscriptionID string) bool {
	s := strings.ToLower(strings.TrimRight(scope, "/"))
	return s == "" || isSubscriptionScope(scope, subscriptionID) ||
		strings.HasPrefix(s, "/providers/microsoft.management/managementgroups/")
}

// isSubscriptionScope reports whether scope is the subscription itself.
func isSubscriptionScope(scope, subscriptionID string) bool {
	return strings.EqualFold(strings.TrimRight(scope, "/"), "/subscriptions/"+subscriptionID)
}

// noDelegations stands in for the Lighthouse reader a direct tenant's engine
// never uses.
type noDelegations struct{}

func (noDelegations) ListDelegations(context.Context, string) ([]Delegation, error) {
	return nil, &Error{Code: CodeInternal, Message: "direct mode reads role assignments, not Lighthouse delegations"}
}

// unusable is an Azure access that fails every call; it lets NewDirectEngine
// check its options with NewEngine.
type unusable struct{}

func (unusable) fail() error {
	return &Error{Code: CodeInternal, Message: "direct mode: no tenant chosen"}
}
func (u unusable) CurrentLink(context.Context) (*Link, error)                { return nil, u.fail() }
func (u unusable) CreateLink(context.Context, string) (*Link, error)         { return nil, u.fail() }
func (u unusable) UpdateLink(context.Context, string) (*Link, error)         { return nil, u.fail() }
func (u unusable) ListSubscriptions(context.Context) ([]Subscription, error) { return nil, u.fail() }
func (u unusable) GetSubscription(context.Context, string) (*Subscription, error) {
	return nil, u.fail()
}
func (u unusable) GetRoleDefinition(context.Context, string) (*RoleDefinition, error) {
	return nil, u.fail()
}
func (u unusable) Principal(context.Context) (Principal, error) { return Principal{}, u.fail() }

func unusableAzure() Azure {
	u := unusable{}
	return Azure{Links: u, Subscriptions: u, Delegations: noDelegations{}, Roles: u, Principal: u}
}
