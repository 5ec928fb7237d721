package pal

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
)

// PartnerLinker reads and writes the caller's Partner Admin Link.
type PartnerLinker interface {
	// CurrentLink returns the caller's link, or nil when there is none.
	CurrentLink(ctx context.Context) (*Link, error)
	// CreateLink links the caller to partnerID (PUT). It fails with
	// CodeAlreadyLinked when the caller is already linked, even to the same ID.
	CreateLink(ctx context.Context, partnerID string) (*Link, error)
	// UpdateLink changes the caller's existing link to partnerID (PATCH).
	UpdateLink(ctx context.Context, partnerID string) (*Link, error)
}

// SubscriptionReader finds the subscriptions the identity can reach.
type SubscriptionReader interface {
	// ListSubscriptions returns every reachable subscription, all pages.
	ListSubscriptions(ctx context.Context) ([]Subscription, error)
	// GetSubscription returns one subscription; CodeNotFound or CodeForbidden
	// when the identity cannot reach it.
	GetSubscription(ctx context.Context, subscriptionID string) (*Subscription, error)
}

// DelegationReader reads the Lighthouse registration assignments of a subscription.
type DelegationReader interface {
	ListDelegations(ctx context.Context, subscriptionID string) ([]Delegation, error)
}

// RoleDefinitionReader looks up a role definition by GUID.
type RoleDefinitionReader interface {
	GetRoleDefinition(ctx context.Context, roleDefinitionID string) (*RoleDefinition, error)
}

// PrincipalSource tells who the caller is.
type PrincipalSource interface {
	Principal(ctx context.Context) (Principal, error)
}

// Azure bundles the Azure access the engine needs.
type Azure struct {
	Links         PartnerLinker
	Subscriptions SubscriptionReader
	Delegations   DelegationReader
	Roles         RoleDefinitionReader
	Principal     PrincipalSource
	// Permissions, ResourceGroups and BuiltInRoles let the engine infer the
	// identity's roles when it may not read a delegation (see inferred.go).
	// Without Permissions and BuiltInRoles such a subscription is unverifiable;
	// without ResourceGroups there is no resource-group fallback.
	Permissions    PermissionReader
	ResourceGroups ResourceGroupLister
	BuiltInRoles   BuiltInRoleLister
	// Groups, when set, reads the identity's group memberships (Microsoft
	// Graph) so delegations naming groups are judged exactly (see groups.go);
	// without it they are judged from the effective permissions.
	Groups GroupReader
}

// EngineOptions holds the optional settings of an [Engine].
type EngineOptions struct {
	// AllowedPartnerIDs are further partner IDs a request may name.
	AllowedPartnerIDs []string
	// RelinkForeign makes the engine PATCH a link that holds an ID outside the
	// allowed set; otherwise such a link is reported and left alone.
	RelinkForeign bool
	// Concurrency bounds the Azure requests run at once for independent
	// subscriptions. Zero means [DefaultConcurrency].
	Concurrency int
}

// DefaultConcurrency is EngineOptions.Concurrency's default, and the ARM
// clients' (internal/azure) and PAL_ARM_CONCURRENCY's: one place for it.
const DefaultConcurrency = 64

// Engine keeps the managing identity's link and judges attribution from
// Lighthouse delegations. [DirectEngine] is its peer for direct mode; both
// apply the same link policy and the same verdict rule.
type Engine struct {
	policy      *linkPolicy
	link        *identityLink
	concurrency int
	az          Azure
	roles       *roleCache
	builtins    *builtinRoleCache
	listing     *listingCache
	memberships *membershipCache // nil without Azure.Groups
}

// NewEngine returns an engine that links to partnerID by default.
func NewEngine(partnerID string, az Azure, options *EngineOptions) (*Engine, error) {
	if options == nil {
		options = &EngineOptions{}
	}
	policy, err := newLinkPolicy(partnerID, options)
	if err != nil {
		return nil, err
	}
	if az.Links == nil || az.Subscriptions == nil || az.Delegations == nil || az.Roles == nil || az.Principal == nil {
		return nil, fmt.Errorf("engine: every Azure client is required")
	}
	var memberships *membershipCache
	if az.Groups != nil {
		memberships = newMembershipCache(az.Groups)
	}
	return &Engine{
		memberships: memberships,
		policy:      policy,
		link:        newIdentityLink(az.Links),
		concurrency: concurrencyOf(options),
		az:          az,
		roles:       newRoleCache(az.Roles),
		builtins:    newBuiltinRoleCache(az.BuiltInRoles),
		listing:     newListingCache(),
	}, nil
}

// concurrencyOf is options' bound on concurrent requests, or [DefaultConcurrency].
func concurrencyOf(options *EngineOptions) int {
	if options.Concurrency > 0 {
		return options.Concurrency
	}
	return DefaultConcurrency
}

// Allowed reports whether a request may name partnerID.
func (e *Engine) Allowed(partnerID string) bool { return e.policy.allows(partnerID) }

// Onboard makes sure the link exists (creating or changing it as the policy
// says) and reports the attribution of the request's subscriptions.
func (e *Engine) Onboard(ctx context.Context, log *zerolog.Logger, req Request) (*Result, error) {
	return e.evaluateRequest(ctx, log, req, true)
}

// Status is Onboard without any write: it reports what is, never changes it.
func (e *Engine) Status(ctx context.Context, log *zerolog.Logger, req Request) (*Result, error) {
	return e.evaluateRequest(ctx, log, req, false)
}

func (e *Engine) evaluateRequest(ctx context.Context, log *zerolog.Logger, req Request, write bool) (*Result, error) {
	lr, err := e.policy.target(req.PartnerID)
	if err != nil {
		return nil, err
	}
	lr.write = write
	principal, err := e.az.Principal.Principal(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := e.requestSubscriptions(ctx, req)
	if err != nil {
		return nil, err
	}
	link, err := e.policy.ensure(ctx, log, e.link, lr)
	if err != nil {
		return nil, err
	}
	results := e.evaluateAll(ctx, log, principal, link, subs)
	res := requestResult(lr.target, principal, link.result, results)
	log.Debug().Int("subscriptions", len(results)).Str("link_action", string(link.result.Action)).
		Interface("summary", res.Summary).Msg("evaluated request")
	return res, nil
}

// subscriptionRef is a subscription to judge: either already read (sub != nil)
// or named by a request and still to be read.
type subscriptionRef struct {
	id string
	// tenantID is the tenant the subscription must be in ("" = any).
	tenantID string
	sub      *Subscription
}

// requestSubscriptions resolves the subscriptions a request names, or every
// reachable subscription of its tenant when it names none.
func (e *Engine) requestSubscriptions(ctx context.Context, req Request) ([]subscriptionRef, error) {
	if req.TenantID == "" && len(req.SubscriptionIDs) == 0 {
		return nil, nil // link only
	}
	if len(req.SubscriptionIDs) > 0 {
		refs := make([]subscriptionRef, 0, len(req.SubscriptionIDs))
		for _, id := range req.SubscriptionIDs {
			refs = append(refs, subscriptionRef{id: strings.ToLower(id), tenantID: req.TenantID})
		}
		return refs, nil
	}
	subs, err := e.listing.tenant(ctx, e.az.Subscriptions, req.TenantID)
	if err != nil {
		return nil, err
	}
	refs := make([]subscriptionRef, 0, len(subs))
	for _, s := range subs {
		refs = append(refs, subscriptionRef{id: s.ID, tenantID: req.TenantID, sub: &s})
	}
	return refs, nil
}
