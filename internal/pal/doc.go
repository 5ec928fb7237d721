// Package pal is the domain of pal-keeper: the Partner Admin Link policy and the
// attribution of customer subscriptions. It knows no HTTP, no Service Bus and no
// ARM; adapters around it implement the small interfaces it declares ([Azure]
// gathers them).
//
// Two peer engines apply one link policy (link.go: which partner IDs a request
// may name, GET then PUT, nothing or PATCH) and one verdict rule (verdict.go:
// a subscription's [Status] from its roles and the link). [Engine] judges
// through Azure Lighthouse: delegations, or permissions inferred from role
// definitions when a subscription is reached otherwise; its sweep can be
// distributed in batches ([Engine.StartSweep], [Engine.JudgeBatch]).
// Authorizations naming Entra groups count through the identity's memberships
// (groups.go: Microsoft Graph through a [GroupReader], cached, else the
// effective permissions). Both engines confirm the subscriptions a complete
// sweep no longer listed (removed.go, [Engine.ConfirmGone]).
// [DirectEngine] judges direct mode, without Lighthouse: one link per customer
// tenant and the role assignments of the app's service principal there.
// Both answer with a [Result], whose summary is counted by [Result.Count];
// their errors are [*Error]s with stable codes.
package pal
