package pal

import (
	"context"
	"strings"

	"github.com/rs/zerolog"
)

// Details of a subscription a complete sweep no longer listed and that is
// still unreachable when read on its own.
const (
	goneDetail = "no longer visible to the identity: the Lighthouse delegation was removed, or the subscription was cancelled or moved to another tenant"
	// goneDirectDetail is direct mode's.
	goneDirectDetail = "no longer visible to the app's service principal: admin consent was withdrawn or its role assignment removed, or the subscription was cancelled or moved to another tenant"
)

// ConfirmGone judges subscriptions that the compliance record holds but a
// sweep whose listing completed did not list (each names its ID and
// tenant): each is read once (GET /subscriptions/{id}); one still
// unreachable is not-delegated with a detail saying it is no longer
// visible, one that is reachable again (a listing that lagged) is judged as
// any other. link is the link the sweep judged under (its Result's Link).
// At most the engine's concurrency of reads run at once; one whose turn
// comes after ctx ended is an error verdict, which the record never keeps.
func (e *Engine) ConfirmGone(ctx context.Context, log *zerolog.Logger, link LinkResult, gone []Subscription) []SubscriptionResult {
	p, err := e.az.Principal.Principal(ctx)
	refs := goneRefs(gone)
	if err != nil {
		out := make([]SubscriptionResult, len(refs))
		for i, ref := range refs {
			out[i] = errorResult(ref, ref.tenantID, "", "reading who the identity is failed", err)
		}
		return out
	}
	state := e.policy.stateOf(link)
	return markGone(judgeEach(ctx, log, e.concurrency, refs, func(ref subscriptionRef) SubscriptionResult {
		return e.evaluate(ctx, p, state, ref)
	}), gone, goneDetail, false)
}

// ConfirmGone is [Engine.ConfirmGone] for direct mode, tenant by tenant: the
// link is read again (never written), and a tenant that withdrew its admin
// consent makes each of its subscriptions not-delegated, no longer visible.
// A tenant that cannot be reached at all gives error verdicts.
func (d *DirectEngine) ConfirmGone(ctx context.Context, log *zerolog.Logger, _ LinkResult, gone []Subscription) []SubscriptionResult {
	byTenant := map[string][]string{}
	var order []string
	for _, s := range gone {
		t := strings.ToLower(s.TenantID)
		if _, ok := byTenant[t]; !ok {
			order = append(order, t)
		}
		byTenant[t] = append(byTenant[t], strings.ToLower(s.ID))
	}
	var out []SubscriptionResult
	for _, tenantID := range order {
		ids := byTenant[tenantID]
		tl := log.With().Str("tenant_id", tenantID).Logger()
		t, err := d.tenant(tenantID)
		var tr *tenantRun
		if err == nil {
			tr, err = d.run(ctx, &tl, t, tenantRequest{tenantID: tenantID,
				link: linkRequest{target: d.policy.partnerID}, subscriptionIDs: ids})
		}
		if err != nil {
			for _, id := range ids {
				ref := subscriptionRef{id: id, tenantID: tenantID}
				out = append(out, errorResult(ref, tenantID, "", "confirming a subscription no longer listed failed", err))
			}
			continue
		}
		out = append(out, markGone(tr.results, gone, goneDirectDetail, true)...)
	}
	return out
}

// goneRefs are the references of gone, each to be read on its own.
func goneRefs(gone []Subscription) []subscriptionRef {
	refs := make([]subscriptionRef, 0, len(gone))
	for _, s := range gone {
		refs = append(refs, subscriptionRef{id: strings.ToLower(s.ID), tenantID: strings.ToLower(s.TenantID)})
	}
	return refs
}

// markGone gives every unreachable not-delegated verdict of results the
// detail that says it is no longer visible, followed by the one it had when
// keep is set (direct mode's names the admin-consent URL), and the display
// name gone knew when Azure no longer says it.
func markGone(results []SubscriptionResult, gone []Subscription, detail string, keep bool) []SubscriptionResult {
	names := make(map[string]string, len(gone))
	for _, s := range gone {
		names[strings.ToLower(s.ID)] = s.DisplayName
	}
	for i, r := range results {
		if r.DisplayName == "" {
			results[i].DisplayName = names[r.SubscriptionID]
		}
		if r.Status == StatusNotDelegated && r.unreachable {
			if keep && r.Detail != "" {
				results[i].Detail = detail + "; " + r.Detail
			} else {
				results[i].Detail = detail
			}
		}
	}
	return results
}
