package emulator

import (
	"errors"
	"fmt"
	"slices"
)

// Group is an Entra ID security group. A Lighthouse authorization or a role
// assignment naming it grants its role to every member, nested members
// included, as Azure RBAC does.
type Group struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	// DisplayName defaults to the ID.
	DisplayName string `json:"displayName,omitempty"`
	// Members are object IDs of the tenant: identities, service principals or
	// other groups (nested groups make their members transitive members).
	Members []string `json:"members,omitempty"`
}

// GraphAppRole grants one Microsoft Graph application permission (an app role
// such as "Application.Read.All") to a service principal or managed identity
// of a tenant. It reaches the principal's Graph tokens as their roles claim:
// a token obtained before the grant does not carry it.
type GraphAppRole struct {
	TenantID    string `json:"tenantId"`
	PrincipalID string `json:"principalId"`
	Value       string `json:"value"`
}

// normGroups validates and normalizes in's groups and Graph app roles into out.
func normGroups(in Estate, out *Estate) error {
	for _, g := range in.Groups {
		g.ID, g.TenantID = norm(g.ID), norm(g.TenantID)
		if !isGUID(g.ID) || g.TenantID == "" {
			return fmt.Errorf("estate: group %q needs a GUID id and a tenantId", g.ID)
		}
		if slices.ContainsFunc(out.Groups, func(o Group) bool { return o.ID == g.ID }) {
			return fmt.Errorf("estate: group %s repeated", g.ID)
		}
		if g.DisplayName == "" {
			g.DisplayName = g.ID
		}
		g.Members = normIDs(g.Members)
		if slices.Contains(g.Members, g.ID) {
			return fmt.Errorf("estate: group %s is a member of itself", g.ID)
		}
		out.Groups = append(out.Groups, g)
	}
	for _, r := range in.GraphAppRoles {
		r.TenantID, r.PrincipalID = norm(r.TenantID), norm(r.PrincipalID)
		if r.TenantID == "" || r.PrincipalID == "" || r.Value == "" {
			return errors.New("estate: a Graph app role needs tenantId, principalId and value")
		}
		out.GraphAppRoles = append(out.GraphAppRoles, r)
	}
	return nil
}

// cloneGroups deep-copies the groups and Graph app roles of in into out.
func cloneGroups(in Estate, out *Estate) {
	out.Groups = make([]Group, len(in.Groups))
	for i, g := range in.Groups {
		g.Members = slices.Clone(g.Members)
		out.Groups[i] = g
	}
	out.GraphAppRoles = slices.Clone(in.GraphAppRoles)
}

// transitiveGroups returns the groups of tenant tid that oid is a member of,
// directly or through nested groups, in estate order; e.mu must be held.
func (e *Emulator) transitiveGroups(tid, oid string) []Group {
	if len(e.estate.Groups) == 0 {
		return nil
	}
	in := map[string]bool{}
	frontier := []string{oid}
	for len(frontier) > 0 {
		var next []string
		for _, g := range e.estate.Groups {
			if g.TenantID != tid || in[g.ID] {
				continue
			}
			if slices.ContainsFunc(frontier, func(m string) bool { return slices.Contains(g.Members, m) }) {
				in[g.ID] = true
				next = append(next, g.ID)
			}
		}
		frontier = next
	}
	var out []Group
	for _, g := range e.estate.Groups {
		if in[g.ID] {
			out = append(out, g)
		}
	}
	return out
}

// principalIDs returns the object IDs authorizations and role assignments
// may name to grant p something: its own and those of its groups in its
// tenant; e.mu must be held.
func (e *Emulator) principalIDs(p principal) []string {
	ids := []string{p.oid}
	for _, g := range e.transitiveGroups(p.tid, p.oid) {
		ids = append(ids, g.ID)
	}
	return ids
}

// SetGroupMembers replaces the members of group id.
func (e *Emulator) SetGroupMembers(id string, members ...string) error {
	id = norm(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.IndexFunc(e.estate.Groups, func(g Group) bool { return g.ID == id })
	if i < 0 {
		return fmt.Errorf("emulator: no group %s", id)
	}
	ms := normIDs(members)
	if slices.Contains(ms, id) {
		return fmt.Errorf("emulator: group %s cannot be a member of itself", id)
	}
	e.estate.Groups[i].Members = ms
	return nil
}

// ActivateEligible activates (active true) or ends (false) the just-in-time
// authorization of subscription subID that grants roleID to principalID: while
// active it grants its role as a permanent one does (reads, effective
// permissions), as a PIM activation does; the delegation itself, as ARM lists
// it, does not change. It fails when no eligible authorization matches.
func (e *Emulator) ActivateEligible(subID, principalID, roleID string, active bool) error {
	subID, principalID, roleID = norm(subID), norm(principalID), roleGUID(roleID)
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.subIndex(subID)
	if i < 0 {
		return fmt.Errorf("emulator: no subscription %s", subID)
	}
	found := false
	for d := range e.estate.Subscriptions[i].Delegations {
		as := e.estate.Subscriptions[i].Delegations[d].EligibleAuthorizations
		for a := range as {
			if as[a].PrincipalID == principalID && as[a].RoleDefinitionID == roleID {
				as[a].Activated = active
				found = true
			}
		}
	}
	if !found {
		return fmt.Errorf("emulator: subscription %s has no eligible authorization of role %s for %s", subID, roleID, principalID)
	}
	return nil
}
