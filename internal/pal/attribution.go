package pal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// evaluateAll judges every subscription, at most e.concurrency at a time.
// Each subscription's failure is its own result, so the group never fails and
// its context is not used; a subscription whose turn comes after ctx ended is
// "stopped before it was checked".
func (e *Engine) evaluateAll(ctx context.Context, log *zerolog.Logger, p Principal, link linkState, refs []subscriptionRef) []SubscriptionResult {
	return judgeEach(ctx, log, e.concurrency, refs, func(ref subscriptionRef) SubscriptionResult {
		return e.evaluate(ctx, p, link, ref)
	})
}

// judgeEach judges refs with at most n at once (Lighthouse and direct mode
// alike): evaluate for each, an error verdict for those the context ended
// before, and a warning line per subscription that could not be judged.
func judgeEach(ctx context.Context, log *zerolog.Logger, n int, refs []subscriptionRef, evaluate func(subscriptionRef) SubscriptionResult) []SubscriptionResult {
	results := make([]SubscriptionResult, len(refs))
	var g errgroup.Group
	g.SetLimit(n)
	for i, ref := range refs {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				results[i] = errorResult(ref, ref.tenantID, "", "stopped before it was checked", err)
				return nil
			}
			results[i] = evaluate(ref)
			if results[i].Status == StatusError {
				log.Warn().Str("subscription_id", ref.id).Str("detail", results[i].Detail).Msg("subscription could not be judged")
			}
			return nil
		})
	}
	_ = g.Wait() // every function returns nil
	return results
}

// errorResult is the verdict for a subscription that could not be judged.
func errorResult(ref subscriptionRef, tenantID, displayName, what string, err error) SubscriptionResult {
	r := SubscriptionResult{
		TenantID: tenantID, SubscriptionID: ref.id, DisplayName: displayName,
		Status: StatusError, Roles: []string{}, Detail: what,
	}
	if err != nil {
		var msg string
		var pe *Error
		if errors.As(err, &pe) {
			msg = pe.Message
		} else {
			msg = err.Error()
		}
		r.Detail = what + ": " + msg
		r.transient = IsTransient(err) || ctxErr(err)
		r.retryAfter = RetryAfterOf(err)
	}
	return r
}

// ctxErr reports whether err is a context cancellation or deadline.
func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// reachSubscription reads the subscription ref names (unless the listing
// gave it already) and checks it is in the tenant the request named. It
// returns the verdict to fill in and true, or the final verdict and false:
// not-delegated and unreachable (with detail unreachable) when Azure answers
// 404 or 403, not-delegated when it belongs to another tenant, or error.
// Lighthouse and direct mode then gather their own evidence for [verdict].
func reachSubscription(ctx context.Context, subs SubscriptionReader, ref subscriptionRef, unreachable string) (SubscriptionResult, bool) {
	sub := ref.sub
	if sub == nil {
		got, err := subs.GetSubscription(ctx, ref.id)
		switch ErrorCodeOf(err) {
		case "":
			sub = got
		case CodeNotFound, CodeForbidden:
			return SubscriptionResult{
				TenantID: ref.tenantID, SubscriptionID: ref.id, Status: StatusNotDelegated, Roles: []string{},
				Detail: unreachable, unreachable: true,
			}, false
		default:
			return errorResult(ref, ref.tenantID, "", "reading the subscription failed", err), false
		}
	}
	r := SubscriptionResult{TenantID: sub.TenantID, SubscriptionID: ref.id, DisplayName: sub.DisplayName, Roles: []string{}}
	if ref.tenantID != "" && !strings.EqualFold(sub.TenantID, ref.tenantID) {
		r.TenantID = ref.tenantID
		r.Status = StatusNotDelegated
		r.Detail = fmt.Sprintf("the subscription belongs to tenant %s, not to the tenant the request named", sub.TenantID)
		return r, false
	}
	return r, true
}

// evaluate judges one subscription from the Lighthouse delegations that name
// the identity (or, when it may not read them, from its effective permissions).
func (e *Engine) evaluate(ctx context.Context, p Principal, link linkState, ref subscriptionRef) SubscriptionResult {
	r, ok := reachSubscription(ctx, e.az.Subscriptions, ref,
		"the identity cannot reach this subscription: no delegation to it is in place")
	if !ok {
		return r
	}

	dels, err := e.az.Delegations.ListDelegations(ctx, ref.id)
	switch ErrorCodeOf(err) {
	case "":
	case CodeForbidden:
		// The identity reaches the subscription but its roles do not include
		// registrationAssignments/read (Support Request Contributor alone, say):
		// judge the roles it holds from its effective permissions instead.
		return e.inferFromPermissions(ctx, p, ref, r, link)
	case CodeNotFound:
		r.Status = StatusNotDelegated
		r.Detail = "the subscription's Lighthouse delegations were not found"
		return r
	default:
		return errorResult(ref, r.TenantID, r.DisplayName, "reading the Lighthouse delegations failed", err)
	}

	var gd groupDelegation
	for _, d := range dels {
		if !strings.EqualFold(d.ManagedByTenantID, p.TenantID) {
			continue
		}
		gd.permanent = appendRoles(gd.permanent, d.Authorizations, p.ObjectID)
		gd.jit = appendRoles(gd.jit, d.EligibleAuthorizations, p.ObjectID)
		gd.others.add(d, p.ObjectID)
	}
	ev := evidence{source: fromDelegation, principal: p}
	if ev.permanent, err = e.roles.judgeAll(ctx, gd.permanent); err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err)
	}
	if ev.jit, err = e.roles.judgeAll(ctx, gd.jit); err != nil {
		return errorResult(ref, r.TenantID, r.DisplayName, "reading a role definition failed", err)
	}
	if gd.others.empty() || ev.counts() {
		return verdict(r, link, ev)
	}
	// The delegations name other principals, groups the identity may be a
	// member of: the union of its own roles and theirs decides.
	gev, ok, jerr := e.groupEvidence(ctx, p, ref, gd)
	switch {
	case jerr != nil:
		return errorResult(ref, r.TenantID, r.DisplayName, jerr.what, jerr.err)
	case ok:
		return verdict(r, link, gev)
	}
	return verdict(r, link, ev)
}

// appendRoles adds the role GUIDs of the authorizations that name objectID.
func appendRoles(roles []string, auths []Authorization, objectID string) []string {
	for _, a := range auths {
		if !strings.EqualFold(a.PrincipalID, objectID) {
			continue
		}
		id := strings.ToLower(a.RoleDefinitionID)
		dup := false
		for _, have := range roles {
			dup = dup || have == id
		}
		if !dup {
			roles = append(roles, id)
		}
	}
	return roles
}
