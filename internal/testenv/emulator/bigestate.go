package emulator

import "fmt"

// The managing tenant and identity of a [BigEstate].
const (
	BigManagingTenant = "f0000000-0000-4000-8000-000000000000"
	BigClientID       = "f1000000-0000-4000-8000-000000000000"
	BigObjectID       = "f2000000-0000-4000-8000-000000000000"
	// BigPartnerID is the partner ID the identity is linked to (when Linked).
	BigPartnerID = "1234567"
)

// BigEstateOptions shape a [BigEstate].
type BigEstateOptions struct {
	Tenants                int
	SubscriptionsPerTenant int
	// ReaderEvery makes every n-th subscription of a tenant (the first
	// included) delegate only Reader, so it is judged ineligible-role; zero
	// means none.
	ReaderEvery int
	// Linked links the identity to BigPartnerID at start.
	Linked bool
	// PageSize of the lists; zero means [DefaultPageSize].
	PageSize int
}

// BigTenantID is the ID of customer tenant i (0-based) of a [BigEstate].
func BigTenantID(i int) string { return fmt.Sprintf("%08x-0000-4000-a000-000000000000", 0x10000000+i) }

// BigSubscriptionID is the ID of subscription j of tenant i of a [BigEstate].
// IDs sort by tenant, then subscription, so a listing keeps tenants together.
func BigSubscriptionID(i, j int) string {
	return fmt.Sprintf("%08x-%04x-4000-b000-000000000000", 0x10000000+i, j)
}

// BigEstate builds a large estate fast, for load tests and benchmarks: a
// managing tenant with one identity (BigClientID) and o.Tenants customer
// tenants of o.SubscriptionsPerTenant subscriptions each, every one delegated
// to the identity with Contributor (or Reader, see ReaderEvery).
func BigEstate(o BigEstateOptions) Estate {
	est := Estate{
		Tenants:    make([]Tenant, 0, o.Tenants+1),
		Identities: []Identity{{ClientID: BigClientID, TenantID: BigManagingTenant, ObjectID: BigObjectID, DisplayName: "pal-keeper"}},
		PageSize:   o.PageSize,
	}
	est.Tenants = append(est.Tenants, Tenant{ID: BigManagingTenant, Name: "Managing"})
	est.Subscriptions = make([]Subscription, 0, o.Tenants*o.SubscriptionsPerTenant)
	for i := range o.Tenants {
		tid := BigTenantID(i)
		est.Tenants = append(est.Tenants, Tenant{ID: tid, Name: fmt.Sprintf("Customer %d", i)})
		for j := range o.SubscriptionsPerTenant {
			role := RoleContributor
			if o.ReaderEvery > 0 && j%o.ReaderEvery == 0 {
				role = RoleReader
			}
			est.Subscriptions = append(est.Subscriptions, Subscription{
				ID: BigSubscriptionID(i, j), TenantID: tid,
				Delegations: []Delegation{{DefinitionName: "Managed services", ManagedByTenantID: BigManagingTenant,
					Authorizations: []Authorization{{PrincipalID: BigObjectID, RoleDefinitionID: role}}}},
			})
		}
	}
	if o.Linked {
		est.Links = []Link{{TenantID: BigManagingTenant, ObjectID: BigObjectID, PartnerID: BigPartnerID}}
	}
	return est
}
