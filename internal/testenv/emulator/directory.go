package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxFederatedCredentials is how many federated identity credentials Entra ID
// accepts on one app registration.
const MaxFederatedCredentials = 20

// TokenExchangeAudience is the audience a federated identity credential names
// for Entra-issued assertions in the public cloud, and TokenExchangeAppID is the
// application ID of that audience: a managed identity's token for
// api://AzureADTokenExchange carries it as aud.
const (
	TokenExchangeAudience = "api://AzureADTokenExchange"
	TokenExchangeAppID    = "fb60f99c-7a34-4190-8149-302f77469936"
)

// Principal types of role assignments.
const (
	PrincipalServicePrincipal = "ServicePrincipal"
	PrincipalUser             = "User"
	PrincipalGroup            = "Group"
)

// App is an Entra ID app registration (the application object, in its home tenant).
type App struct {
	// AppID is the application (client) ID.
	AppID        string `json:"appId"`
	HomeTenantID string `json:"homeTenantId"`
	// MultiTenant is signInAudience AzureADMultipleOrgs: other tenants may consent
	// to it. A single-tenant app has a service principal in its home tenant only.
	MultiTenant bool   `json:"multiTenant,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// FederatedCredentials are the app's federated identity credentials, at most
	// [MaxFederatedCredentials].
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// FederatedCredential is a federated identity credential of an app: Entra accepts
// as the app's client assertion a token whose iss, sub and aud equal Issuer,
// Subject and the (single) audience, compared case-sensitively. To trust a
// managed identity: Issuer https://login.microsoftonline.com/{home tenant}/v2.0,
// Subject the identity's object (principal) ID, Audiences [TokenExchangeAudience].
type FederatedCredential struct {
	// Name defaults to "fic-{n}".
	Name      string   `json:"name,omitempty"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// ServicePrincipal is an app's service principal in one tenant: it exists in a
// customer tenant once an administrator there consented to the app.
type ServicePrincipal struct {
	TenantID string `json:"tenantId"`
	AppID    string `json:"appId"`
	// ObjectID is the service principal's object ID in TenantID (the oid of its
	// tokens there); empty means [ServicePrincipalObjectID].
	ObjectID string `json:"objectId,omitempty"`
}

// RoleAssignment is an Azure RBAC role assignment in direct mode (no Lighthouse):
// at a subscription (/subscriptions/{id}) or at a management group
// (/providers/Microsoft.Management/managementGroups/{id}), whence it applies to
// every subscription below the group.
type RoleAssignment struct {
	// ID is the assignment's name (a GUID); empty means one derived from the rest.
	ID          string `json:"id,omitempty"`
	Scope       string `json:"scope"`
	PrincipalID string `json:"principalId"`
	// PrincipalType defaults to ServicePrincipal.
	PrincipalType string `json:"principalType,omitempty"`
	// RoleDefinitionID is the role definition GUID (a full ID is cut to its GUID).
	RoleDefinitionID string `json:"roleDefinitionId"`
}

// ManagementGroup is a management group of a tenant with its subscriptions.
type ManagementGroup struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName,omitempty"`
	// ParentID is the parent management group; empty means the tenant root.
	ParentID      string   `json:"parentId,omitempty"`
	Subscriptions []string `json:"subscriptions,omitempty"`
}

// ServicePrincipalObjectID is the object ID the emulator gives the service
// principal of appID in tenantID when the estate or [Emulator.GrantConsent] names none.
func ServicePrincipalObjectID(tenantID, appID string) string {
	return derivedGUID("servicePrincipal", norm(tenantID), norm(appID))
}

// EntraIssuer is the issuer of Entra ID v2.0 tokens of a tenant (the issuer a
// federated credential trusting a managed identity of that tenant names).
func EntraIssuer(tenantID string) string {
	return "https://login.microsoftonline.com/" + norm(tenantID) + "/v2.0"
}

const (
	subScopePrefix = "/subscriptions/"
	mgScopePrefix  = "/providers/microsoft.management/managementgroups/"
)

// SubscriptionScope and ManagementGroupScope build role assignment scopes.
func SubscriptionScope(id string) string { return subScopePrefix + norm(id) }

// ManagementGroupScope is the scope of management group id.
func ManagementGroupScope(id string) string {
	return "/providers/Microsoft.Management/managementGroups/" + norm(id)
}

// parseScope returns ("subscription"|"managementGroup", id) of a scope.
func parseScope(scope string) (kind, id string, ok bool) {
	s := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(scope)), "/")
	switch {
	case strings.HasPrefix(s, subScopePrefix) && isGUID(s[len(subScopePrefix):]):
		return "subscription", s[len(subScopePrefix):], true
	case strings.HasPrefix(s, mgScopePrefix) && s[len(mgScopePrefix):] != "" && !strings.Contains(s[len(mgScopePrefix):], "/"):
		return "managementGroup", s[len(mgScopePrefix):], true
	}
	return "", "", false
}

func normApp(a App) (App, error) {
	a.AppID, a.HomeTenantID = norm(a.AppID), norm(a.HomeTenantID)
	if !isGUID(a.AppID) || a.HomeTenantID == "" {
		return App{}, fmt.Errorf("app %q: appId (a GUID) and homeTenantId are required", a.DisplayName)
	}
	if n := len(a.FederatedCredentials); n > MaxFederatedCredentials {
		return App{}, fmt.Errorf("app %s: %d federated identity credentials, Entra ID allows at most %d", a.AppID, n, MaxFederatedCredentials)
	}
	fics := make([]FederatedCredential, len(a.FederatedCredentials))
	for i, f := range a.FederatedCredentials {
		f.Name = strings.TrimSpace(f.Name)
		if f.Name == "" {
			f.Name = fmt.Sprintf("fic-%d", i+1)
		}
		f.Audiences = slices.Clone(f.Audiences)
		if f.Issuer == "" || f.Subject == "" || len(f.Audiences) != 1 || f.Audiences[0] == "" {
			return App{}, fmt.Errorf("app %s federated credential %q: issuer, subject and exactly one audience are required", a.AppID, f.Name)
		}
		if rest, ok := strings.CutPrefix(f.Issuer, "https://login.microsoftonline.com/"); ok {
			tid, _, _ := strings.Cut(rest, "/")
			if norm(tid) != a.HomeTenantID {
				return App{}, fmt.Errorf("app %s federated credential %q: an Entra ID issuer must be the app's home tenant %s (the identity must live there)", a.AppID, f.Name, a.HomeTenantID)
			}
		}
		for _, g := range fics[:i] {
			if g.Name == f.Name || (g.Issuer == f.Issuer && g.Subject == f.Subject) {
				return App{}, fmt.Errorf("app %s federated credential %q repeats a name or an issuer and subject", a.AppID, f.Name)
			}
		}
		fics[i] = f
	}
	if len(fics) == 0 {
		fics = nil
	}
	a.FederatedCredentials = fics
	return a, nil
}

// normServicePrincipal validates sp against the apps.
func normServicePrincipal(sp ServicePrincipal, apps []App) (ServicePrincipal, error) {
	sp.TenantID, sp.AppID, sp.ObjectID = norm(sp.TenantID), norm(sp.AppID), norm(sp.ObjectID)
	if sp.TenantID == "" || sp.AppID == "" {
		return ServicePrincipal{}, errors.New("service principal: tenantId and appId are required")
	}
	i := slices.IndexFunc(apps, func(a App) bool { return a.AppID == sp.AppID })
	if i < 0 {
		return ServicePrincipal{}, fmt.Errorf("service principal in %s: no app %s", sp.TenantID, sp.AppID)
	}
	if !apps[i].MultiTenant && sp.TenantID != apps[i].HomeTenantID {
		return ServicePrincipal{}, fmt.Errorf("service principal in %s: app %s is single-tenant (home %s); no other tenant can consent to it", sp.TenantID, sp.AppID, apps[i].HomeTenantID)
	}
	if sp.ObjectID == "" {
		sp.ObjectID = ServicePrincipalObjectID(sp.TenantID, sp.AppID)
	}
	return sp, nil
}

// normRoleAssignment validates ra against the subscriptions and management groups.
func normRoleAssignment(ra RoleAssignment, subs []Subscription, mgs []ManagementGroup) (RoleAssignment, error) {
	kind, id, ok := parseScope(ra.Scope)
	if !ok {
		return RoleAssignment{}, fmt.Errorf("role assignment %s: scope %q is neither /subscriptions/{id} nor /providers/Microsoft.Management/managementGroups/{id}", ra.ID, ra.Scope)
	}
	if kind == "subscription" {
		if !slices.ContainsFunc(subs, func(s Subscription) bool { return s.ID == id }) {
			return RoleAssignment{}, fmt.Errorf("role assignment %s: no subscription %s", ra.ID, id)
		}
		ra.Scope = SubscriptionScope(id)
	} else {
		if !slices.ContainsFunc(mgs, func(m ManagementGroup) bool { return m.ID == id }) {
			return RoleAssignment{}, fmt.Errorf("role assignment %s: no management group %s", ra.ID, id)
		}
		ra.Scope = ManagementGroupScope(id)
	}
	ra.PrincipalID, ra.RoleDefinitionID = norm(ra.PrincipalID), roleGUID(ra.RoleDefinitionID)
	if ra.PrincipalID == "" || ra.RoleDefinitionID == "" {
		return RoleAssignment{}, fmt.Errorf("role assignment at %s: principalId and roleDefinitionId are required", ra.Scope)
	}
	switch ra.PrincipalType {
	case "":
		ra.PrincipalType = PrincipalServicePrincipal
	case PrincipalServicePrincipal, PrincipalUser, PrincipalGroup:
	default:
		return RoleAssignment{}, fmt.Errorf("role assignment at %s: principalType %q is not ServicePrincipal, User or Group", ra.Scope, ra.PrincipalType)
	}
	ra.ID = norm(ra.ID)
	if ra.ID == "" {
		ra.ID = derivedGUID("roleAssignment", strings.ToLower(ra.Scope), ra.PrincipalID, ra.RoleDefinitionID)
	}
	if !isGUID(ra.ID) {
		return RoleAssignment{}, fmt.Errorf("role assignment id %q is not a GUID", ra.ID)
	}
	return ra, nil
}

// normDirectory validates and copies the apps, service principals, management
// groups and role assignments of in into out (whose subscriptions are normalized).
func normDirectory(in Estate, out *Estate) error {
	for _, a := range in.Apps {
		na, err := normApp(a)
		if err != nil {
			return fmt.Errorf("estate: %w", err)
		}
		if slices.ContainsFunc(out.Apps, func(b App) bool { return b.AppID == na.AppID }) {
			return fmt.Errorf("estate: app %s repeated", na.AppID)
		}
		out.Apps = append(out.Apps, na)
	}
	for _, sp := range in.ServicePrincipals {
		nsp, err := normServicePrincipal(sp, out.Apps)
		if err != nil {
			return fmt.Errorf("estate: %w", err)
		}
		if slices.ContainsFunc(out.ServicePrincipals, func(o ServicePrincipal) bool {
			return o.TenantID == nsp.TenantID && (o.AppID == nsp.AppID || o.ObjectID == nsp.ObjectID)
		}) {
			return fmt.Errorf("estate: a second service principal of app %s or object %s in tenant %s", nsp.AppID, nsp.ObjectID, nsp.TenantID)
		}
		out.ServicePrincipals = append(out.ServicePrincipals, nsp)
	}
	owner := map[string]string{} // subscription -> management group
	for _, m := range in.ManagementGroups {
		m.ID, m.TenantID, m.ParentID = norm(m.ID), norm(m.TenantID), norm(m.ParentID)
		if m.ID == "" || m.TenantID == "" || strings.Contains(m.ID, "/") {
			return fmt.Errorf("estate: management group %q needs an id without '/' and a tenantId", m.ID)
		}
		if slices.ContainsFunc(out.ManagementGroups, func(o ManagementGroup) bool { return o.ID == m.ID }) {
			return fmt.Errorf("estate: management group %s repeated", m.ID)
		}
		if m.DisplayName == "" {
			m.DisplayName = m.ID
		}
		m.Subscriptions = normIDs(m.Subscriptions)
		for _, sid := range m.Subscriptions {
			i := slices.IndexFunc(out.Subscriptions, func(s Subscription) bool { return s.ID == sid })
			if i < 0 || out.Subscriptions[i].TenantID != m.TenantID {
				return fmt.Errorf("estate: management group %s: subscription %s is not a subscription of tenant %s", m.ID, sid, m.TenantID)
			}
			if prev, dup := owner[sid]; dup {
				return fmt.Errorf("estate: subscription %s is in management groups %s and %s", sid, prev, m.ID)
			}
			owner[sid] = m.ID
		}
		out.ManagementGroups = append(out.ManagementGroups, m)
	}
	for _, m := range out.ManagementGroups {
		seen := map[string]bool{m.ID: true}
		for p := m.ParentID; p != ""; {
			i := slices.IndexFunc(out.ManagementGroups, func(o ManagementGroup) bool { return o.ID == p })
			if i < 0 || out.ManagementGroups[i].TenantID != m.TenantID {
				return fmt.Errorf("estate: management group %s: parent %s is not a management group of tenant %s", m.ID, p, m.TenantID)
			}
			if seen[p] {
				return fmt.Errorf("estate: management group %s: its parents form a cycle", m.ID)
			}
			seen[p] = true
			p = out.ManagementGroups[i].ParentID
		}
	}
	for _, ra := range in.RoleAssignments {
		nra, err := normRoleAssignment(ra, out.Subscriptions, out.ManagementGroups)
		if err != nil {
			return fmt.Errorf("estate: %w", err)
		}
		if slices.ContainsFunc(out.RoleAssignments, func(o RoleAssignment) bool { return o.ID == nra.ID }) {
			return fmt.Errorf("estate: role assignment %s repeated", nra.ID)
		}
		out.RoleAssignments = append(out.RoleAssignments, nra)
	}
	return nil
}

// cloneDirectory deep-copies the directory parts of in into out.
func cloneDirectory(in Estate, out *Estate) {
	out.Apps = make([]App, len(in.Apps))
	for i, a := range in.Apps {
		a.FederatedCredentials = slices.Clone(a.FederatedCredentials)
		for j := range a.FederatedCredentials {
			a.FederatedCredentials[j].Audiences = slices.Clone(a.FederatedCredentials[j].Audiences)
		}
		out.Apps[i] = a
	}
	out.ServicePrincipals = slices.Clone(in.ServicePrincipals)
	out.RoleAssignments = slices.Clone(in.RoleAssignments)
	out.ManagementGroups = make([]ManagementGroup, len(in.ManagementGroups))
	for i, m := range in.ManagementGroups {
		m.Subscriptions = slices.Clone(m.Subscriptions)
		out.ManagementGroups[i] = m
	}
}

// ---- lookups (e.mu must be held) ----

func (e *Emulator) findApp(appID string) (App, bool) {
	i := slices.IndexFunc(e.estate.Apps, func(a App) bool { return a.AppID == appID })
	if i < 0 {
		return App{}, false
	}
	return e.estate.Apps[i], true
}

func (e *Emulator) findServicePrincipal(tenantID, appID string) (ServicePrincipal, bool) {
	i := slices.IndexFunc(e.estate.ServicePrincipals, func(sp ServicePrincipal) bool {
		return sp.TenantID == tenantID && sp.AppID == appID
	})
	if i < 0 {
		return ServicePrincipal{}, false
	}
	return e.estate.ServicePrincipals[i], true
}

// tenantKnown reports whether Entra knows tenant id: it is listed in Tenants or
// holds a subscription, identity, app, service principal or management group.
func (e *Emulator) tenantKnown(id string) bool {
	est := &e.estate
	return slices.ContainsFunc(est.Tenants, func(t Tenant) bool { return t.ID == id }) ||
		slices.ContainsFunc(est.Subscriptions, func(s Subscription) bool { return s.TenantID == id }) ||
		slices.ContainsFunc(est.Identities, func(i Identity) bool { return i.TenantID == id }) ||
		slices.ContainsFunc(est.Apps, func(a App) bool { return a.HomeTenantID == id }) ||
		slices.ContainsFunc(est.ServicePrincipals, func(s ServicePrincipal) bool { return s.TenantID == id }) ||
		slices.ContainsFunc(est.ManagementGroups, func(m ManagementGroup) bool { return m.TenantID == id })
}

// ---- runtime changes ----

// GrantConsent makes app appID consented in tenantID, as an administrator's
// admin consent does: the app's service principal appears there. It returns the
// service principal's object ID ([ServicePrincipalObjectID]); granting again
// returns the existing one. A single-tenant app outside its home tenant, or an
// unknown app, is an error (Entra offers no consent for them).
func (e *Emulator) GrantConsent(tenantID, appID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tenantID, appID = norm(tenantID), norm(appID)
	if sp, ok := e.findServicePrincipal(tenantID, appID); ok {
		return sp.ObjectID, nil
	}
	sp, err := normServicePrincipal(ServicePrincipal{TenantID: tenantID, AppID: appID}, e.estate.Apps)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	e.estate.ServicePrincipals = append(e.estate.ServicePrincipals, sp)
	return sp.ObjectID, nil
}

// RevokeConsent deletes the service principal of appID in tenantID (the
// customer removed the enterprise application); false when there was none. Its
// role assignments stay, as they do in Azure (orphaned, "Identity not found").
func (e *Emulator) RevokeConsent(tenantID, appID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	tenantID, appID = norm(tenantID), norm(appID)
	n := len(e.estate.ServicePrincipals)
	e.estate.ServicePrincipals = slices.DeleteFunc(e.estate.ServicePrincipals, func(sp ServicePrincipal) bool {
		return sp.TenantID == tenantID && sp.AppID == appID
	})
	return len(e.estate.ServicePrincipals) < n
}

// AddRoleAssignment adds ra (validated as in an estate) and returns its ID.
func (e *Emulator) AddRoleAssignment(ra RoleAssignment) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	nra, err := normRoleAssignment(ra, e.estate.Subscriptions, e.estate.ManagementGroups)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	if slices.ContainsFunc(e.estate.RoleAssignments, func(o RoleAssignment) bool { return o.ID == nra.ID }) {
		return "", fmt.Errorf("emulator: role assignment %s exists (ARM: RoleAssignmentExists)", nra.ID)
	}
	e.estate.RoleAssignments = append(e.estate.RoleAssignments, nra)
	return nra.ID, nil
}

// RemoveRoleAssignment removes the role assignment with the given ID; false when
// there was none.
func (e *Emulator) RemoveRoleAssignment(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	id = norm(id)
	n := len(e.estate.RoleAssignments)
	e.estate.RoleAssignments = slices.DeleteFunc(e.estate.RoleAssignments, func(ra RoleAssignment) bool { return ra.ID == id })
	return len(e.estate.RoleAssignments) < n
}
