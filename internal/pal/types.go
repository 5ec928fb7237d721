package pal

// Principal identifies the caller: the identity whose link is managed.
type Principal struct {
	// TenantID is the identity's home (managing) tenant, the token's tid claim.
	TenantID string `json:"tenantId"`
	// ObjectID is the identity's object ID, the token's oid claim.
	ObjectID string `json:"objectId"`
}

// Link is the caller's Partner Admin Link as the Management Partner API returns it.
type Link struct {
	PartnerID   string
	PartnerName string
	TenantID    string
	ObjectID    string
	// State is "Active" or "Deleted".
	State string
}

// Active reports whether the link is present and not soft-deleted.
func (l *Link) Active() bool {
	return l != nil && l.PartnerID != "" && l.State != "Deleted"
}

// Subscription is a subscription the identity can reach.
type Subscription struct {
	// ID is the subscription GUID, lower case, without the /subscriptions/ prefix.
	ID string
	// TenantID is the tenant the subscription belongs to (the customer's tenant).
	TenantID    string
	DisplayName string
	State       string
}

// Delegation is one Azure Lighthouse registration assignment on a subscription,
// with its expanded registration definition.
type Delegation struct {
	AssignmentID      string
	DefinitionName    string
	ManagedByTenantID string
	// Authorizations are the permanent authorizations.
	Authorizations []Authorization
	// EligibleAuthorizations are the just-in-time authorizations.
	EligibleAuthorizations []Authorization
}

// Authorization grants a role to a principal in a Lighthouse delegation.
type Authorization struct {
	PrincipalID          string
	PrincipalDisplayName string
	// RoleDefinitionID is the role definition GUID (lower case, no path).
	RoleDefinitionID string
}

// RoleDefinition is what the authorization provider says of a role.
type RoleDefinition struct {
	// ID is the role definition GUID (lower case, no path).
	ID   string
	Name string
	// BuiltIn is true for roleType BuiltInRole.
	BuiltIn bool
	// HasDataActions is true when any permission lists dataActions.
	HasDataActions bool
	// Permissions are the role's permission blocks (filled by listings, not
	// necessarily by single lookups).
	Permissions []PermissionSet
}

// PermissionSet is one permission block: of a role definition, or one entry of
// the effective permissions API (one per role the caller holds at a scope).
type PermissionSet struct {
	Actions        []string
	NotActions     []string
	DataActions    []string
	NotDataActions []string
}
