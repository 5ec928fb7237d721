package web

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Directory tells the dashboard "who": the names of the customers' tenants
// and the identity whose partner link credits the partner. The record knows
// tenants only by ID; the names come from Azure (the handler's adapter reads
// the ARM tenants list and the identity's link, and caches them in the
// process). The dashboard asks on every load, within directoryTimeout; an
// error, a timeout or a nil Directory leaves the page with IDs only and the
// link "not known": the page never fails for it.
type Directory interface {
	// TenantNames returns the tenants the identity sees, by lower-case tenant ID.
	TenantNames(ctx context.Context) (map[string]TenantName, error)
	// Identity returns the acting identity and its partner link.
	Identity(ctx context.Context) (*Identity, error)
}

// TenantName is a tenant as the ARM tenants list names it.
type TenantName struct {
	DisplayName   string
	DefaultDomain string
}

// Identity kinds, as the dashboard names them (PAL_IDENTITY
// managedidentity, app and direct).
const (
	KindManagedIdentity = "managed identity"
	KindApp             = "app registration"
	KindDirect          = "app registration, direct (one link per customer tenant)"
)

// Identity is the identity pal-keeper acts as, and its partner link.
type Identity struct {
	// Kind is one of KindManagedIdentity, KindApp and KindDirect.
	Kind string
	// ClientID is the app's, or the user-assigned managed identity's,
	// client ID ("" for a system-assigned identity).
	ClientID string
	// TenantID and ObjectID are the identity's home tenant and object ID
	// (its token's tid and oid; "" when not known).
	TenantID, ObjectID string
	// PartnerID is PAL_PARTNER_ID; Allowed holds it and PAL_ALLOWED_PARTNER_IDS.
	PartnerID string
	Allowed   []string
	// Link is the identity's partner link when it was read: nil when the
	// identity has none. In direct mode every customer tenant has its own,
	// and Link is not read.
	Link *pal.Link
	// LinkProblem says why the link could not be read ("" when it was).
	LinkProblem string
}
