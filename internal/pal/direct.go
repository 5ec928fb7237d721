package pal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// CodeNotConsented: the app has no service principal in a customer tenant
// (Entra AADSTS700016): no administrator there granted admin consent. The
// message carries the admin-consent URL.
const CodeNotConsented ErrorCode = "NotConsented"

// RoleAssignment is one active Azure role assignment that applies to a
// subscription (at its scope or inherited from above).
type RoleAssignment struct {
	// Scope is the assignment's scope as ARM gives it, e.g. /subscriptions/…
	// or /providers/Microsoft.Management/managementGroups/….
	Scope string
	// RoleDefinitionID is the role definition GUID (lower case, no path).
	RoleDefinitionID string
	// PrincipalID is the assignee (the principal, or a group it is in).
	PrincipalID string
}

// RoleAssignmentReader lists the role assignments of a principal that apply
// to a subscription, inherited ones included.
type RoleAssignmentReader interface {
	ListRoleAssignments(ctx context.Context, subscriptionID, principalID string) ([]RoleAssignment, error)
}

// TenantAzure is the Azure access in one customer tenant, as the app's service
// principal there (direct mode).
type TenantAzure struct {
	Links         PartnerLinker
	Subscriptions SubscriptionReader
	Assignments   RoleAssignmentReader
	Roles         RoleDefinitionReader
	Principal     PrincipalSource
}

// TenantConnector opens the Azure access in a customer tenant. It does no
// network work: tokens are asked for on first use.
type TenantConnector interface {
	Tenant(tenantID string) (TenantAzure, error)
}

// TenantLink is the partner link of the identity in one tenant (direct mode:
// one per customer tenant).
type TenantLink struct {
	TenantID string `json:"tenantId"`
	// ObjectID is the app's service principal in the tenant ("" when it has none).
	ObjectID string `json:"objectId"`
	LinkResult
	// Detail says why the link could not be kept (no consent, an error).
	Detail string `json:"detail,omitempty"`
}

// DirectOptions holds the settings of a [DirectEngine].
type DirectOptions struct {
	EngineOptions
	// Tenants are customer tenants every sweep covers (PAL_DIRECT_TENANTS).
	Tenants []string
	// KnownTenants returns further tenants for the sweep: those the
	// compliance record knows. Nil means none.
	KnownTenants func(ctx context.Context) ([]string, error)
	// MaxTenants bounds the tenants whose credentials and clients are kept.
	// Zero means 256.
	MaxTenants int
	// TenantConcurrency bounds the tenants a sweep works on at once. Zero means 4.
	TenantConcurrency int
}

// DirectEngine is the engine of direct mode, the peer of [Engine]: in each
// customer tenant the app's service principal keeps its own link (with the
// same link policy) and subscriptions are judged from its role assignments,
// not from Lighthouse delegations (with the same verdict rule).
type DirectEngine struct {
	policy    *linkPolicy
	connector TenantConnector
	tenants   []string
	known     func(ctx context.Context) ([]string, error)
	// concurrency bounds the subscriptions judged at once in one tenant;
	// tenantConcurrency the tenants a sweep works on at once.
	concurrency       int
	tenantConcurrency int
	cache             *tenantCache
}

// directTenant is one customer tenant's Azure access as the app's service
// principal: its own link, and its own role cache (custom roles are per tenant).
type directTenant struct {
	link        *identityLink
	subs        SubscriptionReader
	assignments RoleAssignmentReader
	roles       *roleCache
	principal   PrincipalSource
}

// NewDirectEngine returns a direct-mode engine linking to partnerID by default.
func NewDirectEngine(partnerID string, connector TenantConnector, options *DirectOptions) (*DirectEngine, error) {
	if options == nil {
		options = &DirectOptions{}
	}
	if connector == nil {
		return nil, fmt.Errorf("direct engine: nil tenant connector")
	}
	policy, err := newLinkPolicy(partnerID, &options.EngineOptions)
	if err != nil {
		return nil, err
	}
	var tenants []string
	for _, t := range options.Tenants {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !IsGUID(t) {
			return nil, fmt.Errorf("direct tenant %q: not a GUID", t)
		}
		tenants = append(tenants, t)
	}
	n := options.TenantConcurrency
	if n <= 0 {
		n = 4
	}
	max := options.MaxTenants
	if max <= 0 {
		max = 256
	}
	return &DirectEngine{
		policy: policy, connector: connector, tenants: tenants, known: options.KnownTenants,
		concurrency: concurrencyOf(&options.EngineOptions), tenantConcurrency: n,
		cache: newTenantCache(max),
	}, nil
}

// Allowed reports whether a request may name partnerID.
func (d *DirectEngine) Allowed(partnerID string) bool { return d.policy.allows(partnerID) }

// tenant returns the Azure access of tenantID, opening it on first use.
func (d *DirectEngine) tenant(tenantID string) (*directTenant, error) {
	return d.cache.get(tenantID, func() (*directTenant, error) {
		az, err := d.connector.Tenant(tenantID)
		if err != nil {
			return nil, err
		}
		if az.Links == nil || az.Subscriptions == nil || az.Assignments == nil || az.Roles == nil || az.Principal == nil {
			return nil, fmt.Errorf("direct engine: tenant %s: every Azure client is required", tenantID)
		}
		return &directTenant{
			link: newIdentityLink(az.Links), subs: az.Subscriptions, assignments: az.Assignments,
			roles: newRoleCache(az.Roles), principal: az.Principal,
		}, nil
	})
}

// Onboard keeps the app's link in the request's tenant and judges the
// request's subscriptions from the service principal's role assignments.
func (d *DirectEngine) Onboard(ctx context.Context, log *zerolog.Logger, req Request) (*Result, error) {
	return d.evaluateRequest(ctx, log, req, true)
}

// Status is Onboard without any write.
func (d *DirectEngine) Status(ctx context.Context, log *zerolog.Logger, req Request) (*Result, error) {
	return d.evaluateRequest(ctx, log, req, false)
}

func (d *DirectEngine) evaluateRequest(ctx context.Context, log *zerolog.Logger, req Request, write bool) (*Result, error) {
	lr, err := d.policy.target(req.PartnerID)
	if err != nil {
		return nil, err
	}
	lr.write = write
	if req.TenantID == "" {
		return nil, &Error{
			Code:    CodeInvalidInput,
			Message: "tenantId is required in direct mode: the link is kept in the customer's tenant",
			Fields:  map[string]string{"tenantId": "required in direct mode"},
		}
	}
	tenantID := strings.ToLower(req.TenantID)
	t, err := d.tenant(tenantID)
	if err != nil {
		return nil, err
	}
	// The caller's logger already names the request's tenant (the triggers
	// add tenant_id); adding it again would write the key twice per line.
	tr, err := d.run(ctx, log, t, tenantRequest{tenantID: tenantID, link: lr, subscriptionIDs: req.SubscriptionIDs})
	if err != nil {
		return nil, err
	}
	res := requestResult(lr.target, tr.principal, tr.link.LinkResult, tr.results)
	res.Links = []TenantLink{tr.link}
	return res, nil
}

// Sweep keeps the link in, and judges the subscriptions of, every tenant of
// PAL_DIRECT_TENANTS and of the compliance record. Results lists the
// subscriptions that are not attributed; Links has one entry per tenant.
// Principal and Link are left empty: they would name one tenant of many.
//
// A tenant that fails is reported in its Links entry and the others go on;
// when every tenant fails the sweep fails with the first error (a rejected
// assertion fails them all alike).
func (d *DirectEngine) Sweep(ctx context.Context, log *zerolog.Logger, options *SweepOptions) (*Result, error) {
	if options == nil {
		options = &SweepOptions{}
	}
	tenants, err := d.sweepTenants(ctx)
	if err != nil {
		return nil, err
	}
	runs := make([]tenantRun, len(tenants))
	errs := make([]error, len(tenants))
	var g errgroup.Group
	g.SetLimit(d.tenantConcurrency)
	for i, tenantID := range tenants {
		g.Go(func() error {
			tl := log.With().Str("tenant_id", tenantID).Logger()
			t, err := d.tenant(tenantID)
			if err == nil {
				var tr *tenantRun
				tr, err = d.run(ctx, &tl, t, tenantRequest{tenantID: tenantID,
					link: linkRequest{target: d.policy.partnerID, write: !options.ReadOnly}})
				if err == nil {
					runs[i] = *tr
					return nil
				}
			}
			errs[i] = err
			tl.Warn().Str("error_code", string(ErrorCodeOf(err))).Str("detail", publicText(err)).Msg("tenant could not be swept")
			runs[i] = tenantRun{link: TenantLink{TenantID: tenantID, LinkResult: LinkResult{Action: LinkNone}, Detail: publicText(err)}}
			return nil
		})
	}
	_ = g.Wait() // every function returns nil
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if len(tenants) > 0 && failed == len(tenants) {
		return nil, first
	}
	res := &Result{PartnerID: d.policy.partnerID, Link: LinkResult{Action: LinkNone}, Links: []TenantLink{}, Results: []SubscriptionResult{}, Summary: NewSummary()}
	for _, tr := range runs {
		res.Links = append(res.Links, tr.link)
		// Each tenant has its own link: Linked hears it before that tenant's
		// verdicts go to Emit (calls are serialized, tenant by tenant).
		if options.Linked != nil && len(tr.results) > 0 {
			options.Linked(tr.link.LinkResult)
		}
		if options.Listed != nil && len(tr.results) > 0 {
			options.Listed(len(tr.results))
		}
		for _, r := range tr.results {
			res.addSwept(r)
			if options.Emit != nil {
				if err := options.Emit(r); err != nil {
					return nil, err
				}
			}
		}
		if options.EmitBatch != nil {
			for batch := range slices.Chunk(tr.results, max(1, cmp.Or(options.MaxBatch, DefaultMaxBatch))) {
				if err := options.EmitBatch(batch); err != nil {
					return nil, err
				}
			}
		}
	}
	sortResults(res.Results)
	log.Debug().Int("tenants", len(tenants)).Int("failed_tenants", failed).Interface("summary", res.Summary).Msg("direct sweep finished")
	if failed > 0 {
		// What was judged is returned (and was emitted); the sweep is not
		// done: it fails (or is retried, for transient trouble) like any
		// invocation with something left unjudged, so its run is partial.
		return res, &Error{Code: ErrorCodeOf(first), RetryAfter: RetryAfterOf(first), Err: first,
			Message: fmt.Sprintf("%d of %d tenant(s) could not be swept, e.g. %s", failed, len(tenants), publicText(first))}
	}
	return res, nil
}

// sweepTenants returns PAL_DIRECT_TENANTS and the record's tenants, lower
// case, deduplicated and sorted.
func (d *DirectEngine) sweepTenants(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		t = strings.ToLower(strings.TrimSpace(t))
		if IsGUID(t) && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, t := range d.tenants {
		add(t)
	}
	if d.known != nil {
		known, err := d.known(ctx)
		if err != nil {
			return nil, fmt.Errorf("direct sweep: read the tenants of the compliance record: %w", err)
		}
		for _, t := range known {
			add(t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// publicText is the part of err safe to show: a *Error's message.
func publicText(err error) string {
	var pe *Error
	if errors.As(err, &pe) && pe.Code != CodeInternal {
		return pe.Message
	}
	return "internal error; see the function's log"
}
