package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// The actions ARM checks for the reads the emulator serves.
const (
	actionSubscriptionRead    = "Microsoft.Resources/subscriptions/read"
	actionResourceGroupsRead  = "Microsoft.Resources/subscriptions/resourceGroups/read"
	actionAssignmentsRead     = "Microsoft.ManagedServices/registrationAssignments/read"
	actionRoleDefinitionsRead = "Microsoft.Authorization/roleDefinitions/read"
	actionPermissionsRead     = "Microsoft.Authorization/permissions/read"
)

// access is what a principal may do on one subscription: the roles of its
// permanent authorizations there (and Owner for direct access).
type access struct {
	sub   Subscription
	roles []RoleDefinition
}

// permits reports whether the roles grant action: some role lists it in its
// actions and does not exclude it in its notActions (ARM's rule: each role's
// actions minus its notActions, then the union over the roles).
func (a access) permits(action string) bool {
	for _, r := range a.roles {
		if rolePermits(r, action) {
			return true
		}
	}
	return false
}

// rolePermits reports whether one role grants action.
func rolePermits(r RoleDefinition, action string) bool {
	allowed := false
	for _, p := range r.Actions {
		if actionMatches(p, action) {
			allowed = true
			break
		}
	}
	if !allowed {
		return false
	}
	for _, p := range r.NotActions {
		if actionMatches(p, action) {
			return false
		}
	}
	return true
}

// actionMatches matches an action against a permission pattern as ARM does:
// case-insensitively, each "*" standing for any run of characters, slashes
// included ("Microsoft.Authorization/*/read", "*/read", "*").
func actionMatches(pattern, action string) bool {
	p, s := strings.ToLower(pattern), strings.ToLower(action)
	// Iterative glob match with backtracking to the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// rolesOf returns the role definitions principal p holds on s: those of the
// permanent authorizations that name p or one of its groups in the delegations
// its tenant manages, those of eligible (just-in-time) ones while activated
// ([Emulator.ActivateEligible]), and Owner for direct access in s's own
// tenant. An eligible authorization not activated grants nothing. e.mu must be
// held.
func (e *Emulator) rolesOf(s *Subscription, p principal) []RoleDefinition {
	var roles []RoleDefinition
	for _, id := range e.lighthouseRoleIDs(s, p, e.principalIDs(p)) {
		if r, ok := e.lookupRole(id); ok {
			roles = append(roles, r)
		}
	}
	return roles
}

// lighthouseRoleIDs returns the role GUIDs p (known by ids) holds on s through
// direct access and the delegations its tenant manages (see rolesOf); e.mu
// must be held.
func (e *Emulator) lighthouseRoleIDs(s *Subscription, p principal, ids []string) []string {
	var out []string
	if s.TenantID == p.tid && slices.Contains(s.DirectAccess, p.oid) {
		out = append(out, RoleOwner)
	}
	add := func(a Authorization) {
		if slices.Contains(ids, a.PrincipalID) && !slices.Contains(out, a.RoleDefinitionID) {
			out = append(out, a.RoleDefinitionID)
		}
	}
	for _, d := range s.Delegations {
		if d.ManagedByTenantID != p.tid {
			continue
		}
		for _, a := range d.Authorizations {
			add(a)
		}
		for _, a := range d.EligibleAuthorizations {
			if a.Activated {
				add(a)
			}
		}
	}
	return out
}

// lookupRole finds a built-in or custom role definition; e.mu must be held.
func (e *Emulator) lookupRole(id string) (RoleDefinition, bool) {
	if r, ok := builtinRoles[id]; ok {
		return cloneRole(r), true
	}
	if i := slices.IndexFunc(e.estate.CustomRoles, func(r RoleDefinition) bool { return r.ID == id }); i >= 0 {
		return cloneRole(e.estate.CustomRoles[i]), true
	}
	return RoleDefinition{}, false
}

// accessTo returns subscription id and p's roles there, or the error ARM gives
// a caller that cannot reach it (see reachSubscription).
func (e *Emulator) accessTo(id string, p principal) (access, *armError) {
	s, aerr := e.reachSubscription(id, p)
	if aerr != nil {
		return access{}, aerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return access{sub: s, roles: e.rolesOf(&s, p)}, nil
}

// authorize is accessTo that also requires action over scope.
func (e *Emulator) authorize(id string, p principal, action, scope string) (access, *armError) {
	a, aerr := e.accessTo(id, p)
	if aerr != nil {
		return access{}, aerr
	}
	if !a.permits(action) {
		return access{}, forbidden(p, action, scope)
	}
	return a, nil
}

// forbidden is ARM's 403 AuthorizationFailed for action over scope.
func forbidden(p principal, action, scope string) *armError {
	return newARMError(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		p.oid, p.oid, action, scope)
}

// ---- effective permissions ----

// listPermissions serves GET /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.Authorization/permissions:
// one entry per role the caller holds there (roles at the subscription are
// inherited by its resource groups). Like ARM, it answers any caller that
// reaches the subscription, with an empty list for one without a permanent role.
func (e *Emulator) listPermissions(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	a, aerr := e.accessTo(args[0], p)
	if aerr != nil {
		return aerr
	}
	if len(args) == 2 {
		if aerr := e.findResourceGroup(a.sub, args[1]); aerr != nil {
			return aerr
		}
	} else {
		e.mu.Lock()
		refused := e.refuseSubscriptionPermissions
		e.mu.Unlock()
		if refused {
			return forbidden(p, actionPermissionsRead, "/subscriptions/"+a.sub.ID)
		}
	}
	items := make([]permissionJSON, 0, len(a.roles))
	for _, role := range a.roles {
		items = append(items, permissionJSON{
			Actions: orEmpty(role.Actions), NotActions: orEmpty(role.NotActions),
			DataActions: orEmpty(role.DataActions), NotDataActions: orEmpty(role.NotDataActions),
		})
	}
	writeJSON(w, http.StatusOK, listJSON[permissionJSON]{Value: items})
	return nil
}

// RefuseSubscriptionPermissions makes GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions
// answer 403 AuthorizationFailed for every caller (the REST spec documents the
// permissions API only at resource-group and resource scope), so that a test can
// exercise a client's resource-group fallback. false restores the default.
func (e *Emulator) RefuseSubscriptionPermissions(refuse bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refuseSubscriptionPermissions = refuse
}

// ---- resource groups ----

type resourceGroupJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Properties map[string]string `json:"properties"`
}

// findResourceGroup checks that s has resource group name.
func (e *Emulator) findResourceGroup(s Subscription, name string) *armError {
	if !slices.ContainsFunc(s.ResourceGroups, func(g string) bool { return strings.EqualFold(g, name) }) {
		return newARMError(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", name)
	}
	return nil
}

// listResourceGroups serves GET /subscriptions/{id}/resourcegroups; it needs
// Microsoft.Resources/subscriptions/resourceGroups/read.
func (e *Emulator) listResourceGroups(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	a, aerr := e.authorize(args[0], p, actionResourceGroupsRead, "/subscriptions/"+norm(args[0]))
	if aerr != nil {
		return aerr
	}
	items := make([]resourceGroupJSON, 0, len(a.sub.ResourceGroups))
	for _, g := range a.sub.ResourceGroups {
		items = append(items, resourceGroupJSON{
			ID: "/subscriptions/" + a.sub.ID + "/resourceGroups/" + g, Name: g,
			Type: "Microsoft.Resources/resourceGroups", Location: "westeurope",
			Properties: map[string]string{"provisioningState": "Succeeded"},
		})
	}
	e.mu.Lock()
	size := e.estate.PageSize
	e.mu.Unlock()
	out, aerr := page(r, items, size)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- role definition lists ----

// roleFilter parses the $filter of a role definition list: empty, "type eq '…'"
// or "roleName eq '…'". Anything else is 400, as ARM rejects what it cannot parse.
func roleFilter(r *http.Request) (func(RoleDefinition) bool, *armError) {
	f := strings.TrimSpace(r.URL.Query().Get("$filter"))
	if f == "" {
		return func(RoleDefinition) bool { return true }, nil
	}
	field, value, ok := strings.Cut(f, " eq ")
	value = strings.TrimSpace(value)
	if !ok || len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return nil, newARMError(http.StatusBadRequest, "InvalidFilter", "The filter '%s' is not supported.", f)
	}
	value = value[1 : len(value)-1]
	switch strings.TrimSpace(field) {
	case "type":
		return func(d RoleDefinition) bool { return strings.EqualFold(d.Type, value) }, nil
	case "roleName":
		return func(d RoleDefinition) bool { return strings.EqualFold(d.Name, value) }, nil
	}
	return nil, newARMError(http.StatusBadRequest, "InvalidFilter", "The filter '%s' is not supported.", f)
}

// listRoleDefinitions serves GET [/subscriptions/{id}]/providers/Microsoft.Authorization/roleDefinitions.
// At subscription scope it needs Microsoft.Authorization/roleDefinitions/read
// there; at the tenant root any authenticated caller may read them.
func (e *Emulator) listRoleDefinitions(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	scope := ""
	if len(args) == 1 {
		a, aerr := e.authorize(args[0], p, actionRoleDefinitionsRead, "/subscriptions/"+norm(args[0]))
		if aerr != nil {
			return aerr
		}
		scope = "/subscriptions/" + a.sub.ID
	}
	keep, aerr := roleFilter(r)
	if aerr != nil {
		return aerr
	}
	e.mu.Lock()
	all := BuiltinRoles()
	for _, c := range e.estate.CustomRoles {
		all = append(all, cloneRole(c))
	}
	size := e.estate.PageSize
	e.mu.Unlock()
	items := make([]roleJSON, 0, len(all))
	for _, d := range all {
		if keep(d) {
			items = append(items, renderRole(scope, d))
		}
	}
	out, aerr := page(r, items, size)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
