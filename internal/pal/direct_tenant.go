package pal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"
)

// tenantRun is what one tenant of direct mode gave: its link and verdicts.
type tenantRun struct {
	principal Principal
	link      TenantLink
	results   []SubscriptionResult
}

// tenantRequest is what direct mode asks of one customer tenant.
type tenantRequest struct {
	// tenantID is the customer tenant (lower case).
	tenantID string
	// link is what to do with the service principal's link there.
	link linkRequest
	// subscriptionIDs are the subscriptions to judge; empty means every
	// subscription of the tenant the service principal can reach.
	subscriptionIDs []string
}

// run keeps the link in req's tenant and judges the subscriptions req names.
//
// A tenant without the app's service principal (no admin consent) is no
// error: every named subscription is not-delegated with the consent URL, and
// marked unreachable, so the onboarding trigger waits for it like for a
// delegation on its way (consent just granted, role assignment still coming).
func (d *DirectEngine) run(ctx context.Context, log *zerolog.Logger, t *directTenant, req tenantRequest) (*tenantRun, error) {
	p, err := t.principal.Principal(ctx)
	if ErrorCodeOf(err) == CodeNotConsented {
		detail := publicText(err)
		tr := &tenantRun{
			principal: Principal{TenantID: req.tenantID},
			link:      TenantLink{TenantID: req.tenantID, LinkResult: LinkResult{Action: LinkNone}, Detail: detail},
		}
		for _, id := range req.subscriptionIDs {
			tr.results = append(tr.results, SubscriptionResult{
				TenantID: req.tenantID, SubscriptionID: strings.ToLower(id), Status: StatusNotDelegated,
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
	for _, id := range req.subscriptionIDs {
		refs = append(refs, subscriptionRef{id: strings.ToLower(id), tenantID: req.tenantID})
	}
	if len(refs) == 0 {
		list, err := t.subs.ListSubscriptions(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if strings.EqualFold(s.TenantID, req.tenantID) {
				refs = append(refs, subscriptionRef{id: s.ID, tenantID: req.tenantID, sub: &s})
			}
		}
	}
	link, err := d.policy.ensure(ctx, log, t.link, req.link)
	if err != nil {
		return nil, err
	}
	results := judgeEach(ctx, log, d.concurrency, refs, func(ref subscriptionRef) SubscriptionResult {
		return t.evaluate(ctx, p, link, ref)
	})
	if results == nil {
		results = []SubscriptionResult{}
	}
	return &tenantRun{
		principal: p,
		link:      TenantLink{TenantID: req.tenantID, ObjectID: p.ObjectID, LinkResult: link.result},
		results:   results,
	}, nil
}

// evaluate judges one subscription from the role assignments of the service
// principal p that apply to it: at its scope or inherited from a management
// group or the root. Assignments below it (resource groups) do not count.
func (t *directTenant) evaluate(ctx context.Context, p Principal, link linkState, ref subscriptionRef) SubscriptionResult {
	r, ok := reachSubscription(ctx, t.subs, ref, fmt.Sprintf(
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
	var ids, inherited []string
	for _, a := range assignments {
		if !appliesTo(a.Scope, ref.id) {
			continue
		}
		id := strings.ToLower(a.RoleDefinitionID)
		i := slices.Index(ids, id)
		if i < 0 {
			i = len(ids)
			ids = append(ids, id)
			inherited = append(inherited, "")
		}
		if !isSubscriptionScope(a.Scope, ref.id) {
			inherited[i] = a.Scope
		}
	}
	ev := evidence{source: fromAssignments, principal: p, inheritedFrom: inherited}
	if ev.permanent, err = t.roles.judgeAll(ctx, ids); err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err)
	}
	return verdict(r, link, ev)
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
