package emulator

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// actionRoleAssignmentsRead is what listing role assignments needs.
const actionRoleAssignmentsRead = "Microsoft.Authorization/roleAssignments/read"

// directRoutes are the ARM routes of direct mode (RBAC without Lighthouse).
func (e *Emulator) directRoutes() []armRoute {
	return []armRoute{
		{http.MethodGet, []string{"subscriptions", "*", "providers", "microsoft.authorization", "roleassignments"}, e.listRoleAssignments},
	}
}

// mgChain returns the management groups subscription subID sits in, nearest
// first, up to the top; e.mu must be held.
func (e *Emulator) mgChain(subID string) []string {
	var chain []string
	i := slices.IndexFunc(e.estate.ManagementGroups, func(m ManagementGroup) bool { return slices.Contains(m.Subscriptions, subID) })
	for i >= 0 && !slices.Contains(chain, e.estate.ManagementGroups[i].ID) {
		m := e.estate.ManagementGroups[i]
		chain = append(chain, m.ID)
		if m.ParentID == "" {
			break
		}
		i = slices.IndexFunc(e.estate.ManagementGroups, func(o ManagementGroup) bool { return o.ID == m.ParentID })
	}
	return chain
}

// applyingAssignments returns the role assignments that apply to subscription s:
// at its scope or inherited from a management group above it; e.mu must be held.
func (e *Emulator) applyingAssignments(s *Subscription) []RoleAssignment {
	scopes := []string{strings.ToLower(SubscriptionScope(s.ID))}
	for _, mg := range e.mgChain(s.ID) {
		scopes = append(scopes, strings.ToLower(ManagementGroupScope(mg)))
	}
	var out []RoleAssignment
	for _, ra := range e.estate.RoleAssignments {
		if slices.Contains(scopes, strings.ToLower(ra.Scope)) {
			out = append(out, ra)
		}
	}
	return out
}

// directRoleIDs returns the role definition GUIDs principal p holds on s through
// role assignments (direct mode: only a principal of s's own tenant) naming it
// or one of its groups (ids, see [Emulator.principalIDs]); e.mu must be held.
func (e *Emulator) directRoleIDs(s *Subscription, p principal, ids []string) []string {
	if s.TenantID != p.tid {
		return nil
	}
	var out []string
	for _, ra := range e.applyingAssignments(s) {
		if slices.Contains(ids, ra.PrincipalID) && !slices.Contains(out, ra.RoleDefinitionID) {
			out = append(out, ra.RoleDefinitionID)
		}
	}
	return out
}

// canReach is the reachability rule of [Subscription] extended with direct
// mode: a principal of s's tenant with any role assignment that applies to s
// (at s or inherited from a management group) reaches it. ids are p's object
// ID and its groups' ([Emulator.principalIDs]); e.mu must be held.
func (e *Emulator) canReach(s *Subscription, p principal, ids []string) bool {
	return s.reaches(p.tid, ids) || len(e.directRoleIDs(s, p, ids)) > 0
}

// allRoleIDs returns every role p holds on s: role assignments, Owner for
// direct access, and the Lighthouse authorizations naming p or its groups in
// delegations its tenant manages (eligible ones while activated); e.mu must be
// held.
func (e *Emulator) allRoleIDs(s *Subscription, p principal) []string {
	ids := e.principalIDs(p)
	out := e.directRoleIDs(s, p, ids)
	for _, id := range e.lighthouseRoleIDs(s, p, ids) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// roleGrants reports whether role definition id grants action (actions minus
// notActions, wildcards case-insensitive); e.mu must be held.
func (e *Emulator) roleGrants(id, action string) bool {
	r, ok := builtinRoles[id]
	if !ok {
		i := slices.IndexFunc(e.estate.CustomRoles, func(c RoleDefinition) bool { return c.ID == id })
		if i < 0 {
			return false
		}
		r = e.estate.CustomRoles[i]
	}
	return slices.ContainsFunc(r.Actions, func(p string) bool { return globMatch(p, action) }) &&
		!slices.ContainsFunc(r.NotActions, func(p string) bool { return globMatch(p, action) })
}

// globMatch matches an RBAC action pattern ("*" is any run, slashes included)
// case-insensitively.
func globMatch(pattern, s string) bool {
	p, s := strings.ToLower(pattern), strings.ToLower(s)
	before, after, found := strings.Cut(p, "*")
	if !found {
		return p == s
	}
	if !strings.HasPrefix(s, before) {
		return false
	}
	s = s[len(before):]
	for i := 0; i <= len(s); i++ {
		if globMatch(after, s[i:]) {
			return true
		}
	}
	return false
}

// roleAssignmentFilter is a parsed $filter of the role assignments list.
type roleAssignmentFilter struct {
	atScope   bool
	principal string // "" means any
}

var (
	reAtScope     = regexp.MustCompile(`^atScope\(\)$`)
	reAssignedTo  = regexp.MustCompile(`^assignedTo\('([^']+)'\)$`)
	rePrincipalEq = regexp.MustCompile(`^principalId eq '([^']+)'$`)
	reAtScopeAnd  = regexp.MustCompile(`^atScope\(\) and assignedTo\('([^']+)'\)$`)
)

// parseRoleAssignmentFilter accepts ARM's forms: atScope(), assignedTo('{id}'),
// principalId eq '{id}' and atScope() and assignedTo('{id}'); anything else
// (atScope() with principalId included) is 400 UnsupportedQuery.
func parseRoleAssignmentFilter(f string) (roleAssignmentFilter, *armError) {
	if f == "" {
		return roleAssignmentFilter{}, nil
	}
	switch {
	case reAtScope.MatchString(f):
		return roleAssignmentFilter{atScope: true}, nil
	case reAssignedTo.MatchString(f):
		return roleAssignmentFilter{principal: norm(reAssignedTo.FindStringSubmatch(f)[1])}, nil
	case rePrincipalEq.MatchString(f):
		return roleAssignmentFilter{principal: norm(rePrincipalEq.FindStringSubmatch(f)[1])}, nil
	case reAtScopeAnd.MatchString(f):
		return roleAssignmentFilter{atScope: true, principal: norm(reAtScopeAnd.FindStringSubmatch(f)[1])}, nil
	}
	return roleAssignmentFilter{}, newARMError(http.StatusBadRequest, "UnsupportedQuery",
		"The filter '%s' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'.", f)
}

type roleAssignmentPropertiesJSON struct {
	RoleDefinitionID                   string  `json:"roleDefinitionId"`
	PrincipalID                        string  `json:"principalId"`
	PrincipalType                      string  `json:"principalType"`
	Scope                              string  `json:"scope"`
	Condition                          *string `json:"condition"`
	ConditionVersion                   *string `json:"conditionVersion"`
	CreatedOn                          string  `json:"createdOn"`
	UpdatedOn                          string  `json:"updatedOn"`
	CreatedBy                          *string `json:"createdBy"`
	UpdatedBy                          *string `json:"updatedBy"`
	DelegatedManagedIdentityResourceID *string `json:"delegatedManagedIdentityResourceId"`
	Description                        *string `json:"description"`
}

type roleAssignmentJSON struct {
	Properties roleAssignmentPropertiesJSON `json:"properties"`
	ID         string                       `json:"id"`
	Type       string                       `json:"type"`
	Name       string                       `json:"name"`
}

// roleAssignmentTime is the createdOn and updatedOn of every role assignment.
const roleAssignmentTime = "2025-01-06T09:30:00.0000000Z"

// renderRoleAssignment renders ra as listed at subscription subID: the role
// definition ID is given under the subscription, the scope is ra's own.
func renderRoleAssignment(subID string, ra RoleAssignment) roleAssignmentJSON {
	return roleAssignmentJSON{
		ID:   ra.Scope + "/providers/Microsoft.Authorization/roleAssignments/" + ra.ID,
		Type: "Microsoft.Authorization/roleAssignments",
		Name: ra.ID,
		Properties: roleAssignmentPropertiesJSON{
			RoleDefinitionID: "/subscriptions/" + subID + "/providers/Microsoft.Authorization/roleDefinitions/" + ra.RoleDefinitionID,
			PrincipalID:      ra.PrincipalID,
			PrincipalType:    ra.PrincipalType,
			Scope:            ra.Scope,
			CreatedOn:        roleAssignmentTime,
			UpdatedOn:        roleAssignmentTime,
		},
	}
}

// listRoleAssignments serves GET /subscriptions/{id}/providers/Microsoft.Authorization/roleAssignments
// (api-version 2022-04-01): the assignments at the subscription and inherited
// from its management groups, filtered by $filter, for a caller that may read
// role assignments there.
func (e *Emulator) listRoleAssignments(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	s, aerr := e.reachSubscription(args[0], p)
	if aerr != nil {
		return aerr
	}
	scope := "/subscriptions/" + s.ID
	e.mu.Lock()
	allowed := slices.ContainsFunc(e.allRoleIDs(&s, p), func(id string) bool { return e.roleGrants(id, actionRoleAssignmentsRead) })
	e.mu.Unlock()
	if !allowed {
		return newARMError(http.StatusForbidden, "AuthorizationFailed",
			"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
			p.oid, p.oid, actionRoleAssignmentsRead, scope)
	}
	flt, aerr := parseRoleAssignmentFilter(r.URL.Query().Get("$filter"))
	if aerr != nil {
		return aerr
	}
	e.mu.Lock()
	ras := e.applyingAssignments(&s)
	size := e.estate.PageSize
	e.mu.Unlock()
	// atScope() keeps the assignments at or above the scope: all the modelled ones.
	items := make([]roleAssignmentJSON, 0, len(ras))
	for _, ra := range ras {
		if flt.principal == "" || ra.PrincipalID == flt.principal {
			items = append(items, renderRoleAssignment(s.ID, ra))
		}
	}
	slices.SortFunc(items, func(a, b roleAssignmentJSON) int { return strings.Compare(a.Name, b.Name) })
	out, aerr := page(r, items, size)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
