package emulator

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DefaultPageSize is the page size of list answers when [Estate.PageSize] is zero.
const DefaultPageSize = 100

// Estate is what the emulated Azure knows: tenants, managed identities, subscriptions
// with their Azure Lighthouse delegations, partner links and roles. It is plain data,
// JSON-tagged so a demo estate can be printed. [New] copies it; later changes go
// through the [Emulator]'s methods.
type Estate struct {
	Tenants []Tenant `json:"tenants,omitempty"`
	// Identities are the managed identities the identity endpoint hands out tokens for.
	// The first one answers requests that name no identity (like a system-assigned one).
	Identities    []Identity     `json:"identities,omitempty"`
	Subscriptions []Subscription `json:"subscriptions,omitempty"`
	// Links are the Partner Admin Links that exist at start, one per (tenant, object).
	Links []Link `json:"links,omitempty"`
	// KnownPartnerIDs, when not empty, are the only partner IDs PUT and PATCH accept
	// (the real service checks IDs against Partner Center).
	KnownPartnerIDs []string `json:"knownPartnerIds,omitempty"`
	// PartnerNames maps a partner ID to the partnerName the service reports; an ID
	// without an entry is reported as "Partner <id>".
	PartnerNames map[string]string `json:"partnerNames,omitempty"`
	// PageSize is the page size of subscription and registration assignment lists;
	// zero means [DefaultPageSize].
	PageSize int `json:"pageSize,omitempty"`
	// CustomRoles are role definitions besides the built-in table.
	CustomRoles []RoleDefinition `json:"customRoles,omitempty"`
	// Apps, ServicePrincipals, ManagementGroups and RoleAssignments are the Entra ID
	// and direct-RBAC side (see directory.go, entra.go and roleassignments.go).
	Apps              []App              `json:"apps,omitempty"`
	ServicePrincipals []ServicePrincipal `json:"servicePrincipals,omitempty"`
	ManagementGroups  []ManagementGroup  `json:"managementGroups,omitempty"`
	RoleAssignments   []RoleAssignment   `json:"roleAssignments,omitempty"`
	// Groups are Entra ID groups an authorization or role assignment may name;
	// GraphAppRoles are the Microsoft Graph application permissions granted to
	// principals (see groups.go and graph.go).
	Groups        []Group        `json:"groups,omitempty"`
	GraphAppRoles []GraphAppRole `json:"graphAppRoles,omitempty"`
}

// Tenant is an Entra ID tenant.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Identity is a managed identity.
type Identity struct {
	ClientID string `json:"clientId"`
	// TenantID is the identity's home tenant: the tid of its tokens.
	TenantID string `json:"tenantId"`
	// ObjectID is the identity's service principal object ID: the oid of its tokens.
	ObjectID    string `json:"objectId"`
	DisplayName string `json:"displayName,omitempty"`
	// ResourceID is the ARM ID of a user-assigned identity (optional). It selects the
	// identity through mi_res_id and becomes the token's xms_mirid claim.
	ResourceID string `json:"resourceId,omitempty"`
}

// Subscription is an Azure subscription.
type Subscription struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	// DisplayName defaults to the ID.
	DisplayName string `json:"displayName,omitempty"`
	// State defaults to "Enabled".
	State       string       `json:"state,omitempty"`
	Delegations []Delegation `json:"delegations,omitempty"`
	// DirectAccess lists object IDs with plain RBAC on the subscription, in the
	// subscription's own tenant; they hold Owner there.
	DirectAccess []string `json:"directAccess,omitempty"`
	// ResourceGroups are the names of the subscription's resource groups.
	ResourceGroups []string `json:"resourceGroups,omitempty"`
	// Tags are the subscription's tags, answered as ARM's "tags" (absent when none).
	Tags map[string]string `json:"tags,omitempty"`
}

// Delegation is an Azure Lighthouse registration assignment on a subscription with
// its registration definition.
type Delegation struct {
	// ID is the registration assignment GUID; empty means one derived from the
	// subscription and the delegation's position.
	ID string `json:"id,omitempty"`
	// DefinitionID is the registration definition GUID; empty means one derived from ID.
	DefinitionID      string `json:"definitionId,omitempty"`
	DefinitionName    string `json:"definitionName"`
	Description       string `json:"description,omitempty"`
	ManagedByTenantID string `json:"managedByTenantId"`
	// Authorizations are permanent.
	Authorizations []Authorization `json:"authorizations,omitempty"`
	// EligibleAuthorizations are just-in-time (PIM) authorizations.
	EligibleAuthorizations []Authorization `json:"eligibleAuthorizations,omitempty"`
}

// Authorization grants a role to a principal of the managing tenant.
type Authorization struct {
	PrincipalID          string `json:"principalId"`
	PrincipalDisplayName string `json:"principalDisplayName,omitempty"`
	// RoleDefinitionID is the role definition GUID (a full role definition ID is
	// accepted and cut to its GUID).
	RoleDefinitionID string `json:"roleDefinitionId"`
	// Activated marks an eligible (just-in-time) authorization whose activation
	// is in force (see [Emulator.ActivateEligible]); ignored on permanent ones.
	Activated bool `json:"activated,omitempty"`
	// DelegatedRoleDefinitionIDs are the roles a User Access Administrator
	// authorization may assign to managed identities (its
	// delegatedRoleDefinitionIds); ignored on other roles' authorizations.
	DelegatedRoleDefinitionIDs []string `json:"delegatedRoleDefinitionIds,omitempty"`
}

// Link is a Partner Admin Link: the partner ID linked to one principal of one tenant.
// In an [Estate] only TenantID, ObjectID and PartnerID are needed.
type Link struct {
	TenantID  string `json:"tenantId"`
	ObjectID  string `json:"objectId"`
	PartnerID string `json:"partnerId"`
	// State is "Active" (the default) or "Deleted" (soft-deleted: GET answers 404,
	// a later PUT re-activates the record).
	State string `json:"state,omitempty"`
	// Version is the record's version and etag; it grows by one on every write.
	Version     int       `json:"version,omitempty"`
	CreatedTime time.Time `json:"createdTime,omitzero"`
	UpdatedTime time.Time `json:"updatedTime,omitzero"`
}

// Link states.
const (
	LinkActive  = "Active"
	LinkDeleted = "Deleted"
)

// Active reports whether the link is not soft-deleted.
func (l Link) Active() bool { return l.State != LinkDeleted }

// RoleDefinition is an Azure role definition with one permission block.
type RoleDefinition struct {
	// ID is the role definition GUID.
	ID   string `json:"id"`
	Name string `json:"roleName"`
	// Type is "BuiltInRole" or "CustomRole" (the default for [Estate.CustomRoles]).
	Type             string   `json:"type,omitempty"`
	Description      string   `json:"description,omitempty"`
	Actions          []string `json:"actions,omitempty"`
	NotActions       []string `json:"notActions,omitempty"`
	DataActions      []string `json:"dataActions,omitempty"`
	NotDataActions   []string `json:"notDataActions,omitempty"`
	AssignableScopes []string `json:"assignableScopes,omitempty"`
}

// Role types.
const (
	BuiltInRole = "BuiltInRole"
	CustomRole  = "CustomRole"
)

var (
	guidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	partnerIDRE = regexp.MustCompile(`^[0-9]{6,7}$`)
)

func isGUID(s string) bool { return guidRE.MatchString(strings.ToLower(s)) }

// norm lower-cases and trims an ID.
func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// roleGUID cuts a full role definition ID to its GUID.
func roleGUID(s string) string {
	s = norm(s)
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// derivedGUID returns a name-based GUID (SHA-1, version 5 layout) of parts.
func derivedGUID(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// reaches reports whether the principal of tenant tid, known by ids (its
// object ID and those of its groups, see [Emulator.principalIDs]), can reach
// s. The rule: s is in tid and ids[0] has direct access, or a delegation of s
// is managed by tid and names one of ids in its permanent OR its eligible
// (just-in-time) authorizations. Eligible ones count so that a subscription
// delegated only just-in-time is still visible and can be reported as having
// no permanent role, as the Azure portal shows it under "My customers". An
// authorization naming a group reaches every member of it, as Lighthouse
// does for group authorizations.
func (s *Subscription) reaches(tid string, ids []string) bool {
	if s.TenantID == tid && slices.Contains(s.DirectAccess, ids[0]) {
		return true
	}
	for _, d := range s.Delegations {
		if d.ManagedByTenantID != tid {
			continue
		}
		for _, a := range d.Authorizations {
			if slices.Contains(ids, a.PrincipalID) {
				return true
			}
		}
		for _, a := range d.EligibleAuthorizations {
			if slices.Contains(ids, a.PrincipalID) {
				return true
			}
		}
	}
	return false
}

// managedByTenants returns the distinct managing tenants of s's delegations, sorted.
func (s *Subscription) managedByTenants() []string {
	var ts []string
	for _, d := range s.Delegations {
		if !slices.Contains(ts, d.ManagedByTenantID) {
			ts = append(ts, d.ManagedByTenantID)
		}
	}
	slices.Sort(ts)
	return ts
}

func normAuthorizations(as []Authorization, where string) ([]Authorization, error) {
	if len(as) == 0 {
		return nil, nil
	}
	out := make([]Authorization, len(as))
	for i, a := range as {
		a.PrincipalID = norm(a.PrincipalID)
		a.RoleDefinitionID = roleGUID(a.RoleDefinitionID)
		if a.PrincipalID == "" || a.RoleDefinitionID == "" {
			return nil, fmt.Errorf("%s[%d]: principalId and roleDefinitionId are required", where, i)
		}
		out[i] = a
	}
	return out, nil
}

// normDelegations validates and normalizes ds (copied) of subscription subID.
func normDelegations(subID string, ds []Delegation) ([]Delegation, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	out := make([]Delegation, len(ds))
	seen := map[string]bool{}
	for i, d := range ds {
		where := fmt.Sprintf("subscription %s delegation %d", subID, i)
		d.ID = norm(d.ID)
		if d.ID == "" {
			d.ID = derivedGUID("registrationAssignment", subID, fmt.Sprint(i))
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("%s: duplicate id %s", where, d.ID)
		}
		seen[d.ID] = true
		d.DefinitionID = norm(d.DefinitionID)
		if d.DefinitionID == "" {
			d.DefinitionID = derivedGUID("registrationDefinition", d.ID)
		}
		d.ManagedByTenantID = norm(d.ManagedByTenantID)
		if d.ManagedByTenantID == "" {
			return nil, fmt.Errorf("%s: managedByTenantId is required", where)
		}
		if d.DefinitionName == "" {
			d.DefinitionName = "Delegation " + d.ID
		}
		var err error
		if d.Authorizations, err = normAuthorizations(d.Authorizations, where+" authorizations"); err != nil {
			return nil, err
		}
		if d.EligibleAuthorizations, err = normAuthorizations(d.EligibleAuthorizations, where+" eligibleAuthorizations"); err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// normSubscription validates and normalizes a copy of s.
func normSubscription(s Subscription) (Subscription, error) {
	s.ID = norm(s.ID)
	s.TenantID = norm(s.TenantID)
	if s.ID == "" || s.TenantID == "" {
		return Subscription{}, errors.New("subscription: id and tenantId are required")
	}
	if s.DisplayName == "" {
		s.DisplayName = s.ID
	}
	if s.State == "" {
		s.State = "Enabled"
	}
	var err error
	if s.Delegations, err = normDelegations(s.ID, s.Delegations); err != nil {
		return Subscription{}, err
	}
	s.DirectAccess = normIDs(s.DirectAccess)
	for i, g := range s.ResourceGroups {
		if g == "" || strings.ContainsAny(g, "/?#") || slices.ContainsFunc(s.ResourceGroups[:i], func(h string) bool { return strings.EqualFold(g, h) }) {
			return Subscription{}, fmt.Errorf("subscription %s: resource group %q is empty, malformed or repeated", s.ID, g)
		}
	}
	return s, nil
}

func normIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = norm(id); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// normLink validates and normalizes a copy of l.
func normLink(l Link) (Link, error) {
	l.TenantID = norm(l.TenantID)
	l.ObjectID = norm(l.ObjectID)
	l.PartnerID = strings.TrimSpace(l.PartnerID)
	if l.TenantID == "" || l.ObjectID == "" {
		return Link{}, errors.New("link: tenantId and objectId are required")
	}
	if !partnerIDRE.MatchString(l.PartnerID) {
		return Link{}, fmt.Errorf("link: partner ID %q is not 6 or 7 digits", l.PartnerID)
	}
	switch l.State {
	case "":
		l.State = LinkActive
	case LinkActive, LinkDeleted:
	default:
		return Link{}, fmt.Errorf("link: state %q is neither %s nor %s", l.State, LinkActive, LinkDeleted)
	}
	if l.Version < 0 {
		return Link{}, errors.New("link: negative version")
	}
	return l, nil
}

// normEstate validates est and returns a normalized deep copy.
func normEstate(est Estate) (Estate, error) {
	var out Estate
	if est.PageSize < 0 {
		return Estate{}, errors.New("estate: negative pageSize")
	}
	out.PageSize = est.PageSize
	if out.PageSize == 0 {
		out.PageSize = DefaultPageSize
	}
	seen := map[string]bool{}
	for _, t := range est.Tenants {
		t.ID = norm(t.ID)
		if t.ID == "" || seen[t.ID] {
			return Estate{}, fmt.Errorf("estate: tenant id %q is empty or repeated", t.ID)
		}
		seen[t.ID] = true
		out.Tenants = append(out.Tenants, t)
	}
	clear(seen)
	for _, id := range est.Identities {
		id.ClientID, id.TenantID, id.ObjectID = norm(id.ClientID), norm(id.TenantID), norm(id.ObjectID)
		if id.ClientID == "" || id.TenantID == "" || id.ObjectID == "" {
			return Estate{}, fmt.Errorf("estate: identity %q needs clientId, tenantId and objectId", id.DisplayName)
		}
		if seen[id.ClientID] {
			return Estate{}, fmt.Errorf("estate: identity client ID %s repeated", id.ClientID)
		}
		seen[id.ClientID] = true
		out.Identities = append(out.Identities, id)
	}
	clear(seen)
	for _, s := range est.Subscriptions {
		ns, err := normSubscription(s)
		if err != nil {
			return Estate{}, fmt.Errorf("estate: %w", err)
		}
		if seen[ns.ID] {
			return Estate{}, fmt.Errorf("estate: subscription %s repeated", ns.ID)
		}
		seen[ns.ID] = true
		out.Subscriptions = append(out.Subscriptions, ns)
	}
	clear(seen)
	for _, l := range est.Links {
		nl, err := normLink(l)
		if err != nil {
			return Estate{}, fmt.Errorf("estate: %w", err)
		}
		k := nl.TenantID + "/" + nl.ObjectID
		if seen[k] {
			return Estate{}, fmt.Errorf("estate: two links for tenant %s object %s", nl.TenantID, nl.ObjectID)
		}
		seen[k] = true
		out.Links = append(out.Links, nl)
	}
	for _, p := range est.KnownPartnerIDs {
		p = strings.TrimSpace(p)
		if !partnerIDRE.MatchString(p) {
			return Estate{}, fmt.Errorf("estate: known partner ID %q is not 6 or 7 digits", p)
		}
		out.KnownPartnerIDs = append(out.KnownPartnerIDs, p)
	}
	out.PartnerNames = maps.Clone(est.PartnerNames)
	clear(seen)
	for _, r := range est.CustomRoles {
		r = cloneRole(r)
		r.ID = roleGUID(r.ID)
		if r.ID == "" || r.Name == "" {
			return Estate{}, errors.New("estate: a custom role needs id and roleName")
		}
		if _, builtin := builtinRoles[r.ID]; builtin || seen[r.ID] {
			return Estate{}, fmt.Errorf("estate: custom role %s repeats a role ID", r.ID)
		}
		seen[r.ID] = true
		if r.Type == "" {
			r.Type = CustomRole
		}
		out.CustomRoles = append(out.CustomRoles, r)
	}
	if err := normDirectory(est, &out); err != nil {
		return Estate{}, err
	}
	if err := normGroups(est, &out); err != nil {
		return Estate{}, err
	}
	return out, nil
}

func cloneRole(r RoleDefinition) RoleDefinition {
	r.Actions = slices.Clone(r.Actions)
	r.NotActions = slices.Clone(r.NotActions)
	r.DataActions = slices.Clone(r.DataActions)
	r.NotDataActions = slices.Clone(r.NotDataActions)
	r.AssignableScopes = slices.Clone(r.AssignableScopes)
	return r
}

func cloneSubscription(s Subscription) Subscription {
	s.DirectAccess = slices.Clone(s.DirectAccess)
	s.ResourceGroups = slices.Clone(s.ResourceGroups)
	s.Tags = maps.Clone(s.Tags)
	if s.Delegations != nil {
		ds := make([]Delegation, len(s.Delegations))
		for i, d := range s.Delegations {
			d.Authorizations = cloneAuthorizations(d.Authorizations)
			d.EligibleAuthorizations = cloneAuthorizations(d.EligibleAuthorizations)
			ds[i] = d
		}
		s.Delegations = ds
	}
	return s
}

// cloneAuthorizations copies authorizations and their delegated role lists.
func cloneAuthorizations(as []Authorization) []Authorization {
	out := slices.Clone(as)
	for i := range out {
		out[i].DelegatedRoleDefinitionIDs = slices.Clone(out[i].DelegatedRoleDefinitionIDs)
	}
	return out
}
