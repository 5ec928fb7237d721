package emulator

// Demo identifiers of the app registration the function's managed identity acts
// as (PAL_IDENTITY app and direct).
const (
	// DemoAppClientID is the client ID of the "pal-keeper" app registration, in
	// DemoManagingTenantID.
	DemoAppClientID = "a1000000-0000-4000-8000-000000000001"
	// DemoAppObjectID is the object ID of the app's service principal in the
	// managing tenant: what delegations name in DemoAppEstate.
	DemoAppObjectID = "a2000000-0000-4000-8000-000000000001"

	// DemoDirectAdatumTenantID is Adatum, a direct customer that consented to
	// the app: Contributor on a subscription, Contributor inherited from a
	// management group on another, nothing on a third.
	DemoDirectAdatumTenantID = "ada00000-0000-4000-8000-000000000001"
	// DemoDirectAdatumObjectID is the app's service principal in Adatum.
	DemoDirectAdatumObjectID = "a2000000-0000-4000-8000-000000000002"
	// DemoDirectBellowsTenantID is Bellows College, a direct customer that
	// consented to the app and gave it Reader only.
	DemoDirectBellowsTenantID = "b0e00000-0000-4000-8000-000000000001"
	// DemoDirectBellowsObjectID is the app's service principal in Bellows.
	DemoDirectBellowsObjectID = "a2000000-0000-4000-8000-000000000003"
	// DemoDirectCohoTenantID is Coho Winery, which has not consented to the app:
	// no service principal, so no token there (AADSTS700016).
	DemoDirectCohoTenantID = "c0c00000-0000-4000-8000-000000000001"

	// Direct-mode subscriptions.
	DemoDirectAdatumProduction = "ada00001-0000-4000-8000-000000000001" // Contributor at the subscription
	DemoDirectAdatumLanding    = "ada00002-0000-4000-8000-000000000001" // Contributor from management group adatum-platform
	DemoDirectAdatumArchive    = "ada00003-0000-4000-8000-000000000001" // no role for the app (a user is Owner)
	DemoDirectBellowsReporting = "b0e00001-0000-4000-8000-000000000001" // Reader only
	DemoDirectCohoMain         = "c0c00001-0000-4000-8000-000000000001" // no consent

	// DemoDirectAdatumManagementGroup holds DemoDirectAdatumLanding; the app's
	// Contributor assignment is on its parent, adatum-root.
	DemoDirectAdatumManagementGroup = "adatum-platform"
)

// demoApp is the "pal-keeper" app registration trusting the function's managed
// identity (DemoObjectID) as its federated identity credential.
func demoApp(multiTenant bool) App {
	return App{
		AppID: DemoAppClientID, HomeTenantID: DemoManagingTenantID, MultiTenant: multiTenant, DisplayName: "pal-keeper",
		FederatedCredentials: []FederatedCredential{{
			Name:      "pal-keeper-func",
			Issuer:    EntraIssuer(DemoManagingTenantID),
			Subject:   DemoObjectID,
			Audiences: []string{TokenExchangeAudience},
		}},
	}
}

// DemoAppEstate is [DemoEstate] for PAL_IDENTITY=app: the same customers and
// delegations, but every authorization (and the direct access) that named the
// function's managed identity names the service principal of the single-tenant
// app DemoAppClientID (object DemoAppObjectID) instead. The app trusts the
// managed identity (still the estate's first identity) as its federated
// credential, so the function gets ARM tokens as the app with
// azidentity.NewClientAssertionCredential against [Emulator.AuthorityURL].
func DemoAppEstate() Estate {
	est := DemoEstate()
	for i := range est.Subscriptions {
		s := &est.Subscriptions[i]
		for j := range s.Delegations {
			d := &s.Delegations[j]
			for _, as := range [][]Authorization{d.Authorizations, d.EligibleAuthorizations} {
				for k := range as {
					if as[k].PrincipalID == DemoObjectID {
						as[k].PrincipalID, as[k].PrincipalDisplayName = DemoAppObjectID, "pal-keeper (app)"
					}
				}
			}
		}
		for k, id := range s.DirectAccess {
			if id == DemoObjectID {
				s.DirectAccess[k] = DemoAppObjectID
			}
		}
	}
	for i := range est.Groups {
		for k, m := range est.Groups[i].Members {
			if m == DemoObjectID {
				est.Groups[i].Members[k] = DemoAppObjectID
			}
		}
	}
	est.Apps = []App{demoApp(false)}
	est.ServicePrincipals = []ServicePrincipal{{TenantID: DemoManagingTenantID, AppID: DemoAppClientID, ObjectID: DemoAppObjectID}}
	return est
}

// DemoDirectEstate is an estate for PAL_IDENTITY=direct: no Lighthouse. Contoso
// MSP's multi-tenant app DemoAppClientID trusts the function's managed identity;
// customers consented to it (or not) and assigned it roles:
//
//	Adatum   ada00001 Adatum Production  Contributor at the subscription          attributed
//	Adatum   ada00002 Adatum Landing     Contributor inherited from adatum-root  attributed
//	Adatum   ada00003 Adatum Archive     no role for the app (a user is Owner)   not visible
//	Bellows  b0e00001 Bellows Reporting  Reader only                             ineligible-role
//	Coho     c0c00001 Coho Main          no admin consent (AADSTS700016)         not-delegated
//
// (Attributed once the app's service principal is linked in that tenant.)
func DemoDirectEstate() Estate {
	const adatumOwner = "ada0e000-0000-4000-8000-000000000001" // a user in Adatum
	return Estate{
		Tenants: []Tenant{
			{ID: DemoManagingTenantID, Name: "Contoso MSP"},
			{ID: DemoDirectAdatumTenantID, Name: "Adatum Corporation"},
			{ID: DemoDirectBellowsTenantID, Name: "Bellows College"},
			{ID: DemoDirectCohoTenantID, Name: "Coho Winery"},
		},
		Identities: []Identity{{
			ClientID: DemoClientID, TenantID: DemoManagingTenantID, ObjectID: DemoObjectID, DisplayName: "pal-keeper-func",
			ResourceID: "/subscriptions/c0500000-0000-4000-8000-000000000001/resourceGroups/rg-pal-keeper/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pal-keeper-func",
		}},
		Subscriptions: []Subscription{
			{ID: DemoDirectAdatumProduction, TenantID: DemoDirectAdatumTenantID, DisplayName: "Adatum Production"},
			{ID: DemoDirectAdatumLanding, TenantID: DemoDirectAdatumTenantID, DisplayName: "Adatum Landing Zone"},
			{ID: DemoDirectAdatumArchive, TenantID: DemoDirectAdatumTenantID, DisplayName: "Adatum Archive"},
			{ID: DemoDirectBellowsReporting, TenantID: DemoDirectBellowsTenantID, DisplayName: "Bellows Reporting"},
			{ID: DemoDirectCohoMain, TenantID: DemoDirectCohoTenantID, DisplayName: "Coho Main"},
		},
		Apps: []App{demoApp(true)},
		ServicePrincipals: []ServicePrincipal{
			{TenantID: DemoManagingTenantID, AppID: DemoAppClientID, ObjectID: DemoAppObjectID},
			{TenantID: DemoDirectAdatumTenantID, AppID: DemoAppClientID, ObjectID: DemoDirectAdatumObjectID},
			{TenantID: DemoDirectBellowsTenantID, AppID: DemoAppClientID, ObjectID: DemoDirectBellowsObjectID},
		},
		ManagementGroups: []ManagementGroup{
			{ID: "adatum-root", TenantID: DemoDirectAdatumTenantID, DisplayName: "Adatum"},
			{ID: DemoDirectAdatumManagementGroup, TenantID: DemoDirectAdatumTenantID, DisplayName: "Adatum Platform",
				ParentID: "adatum-root", Subscriptions: []string{DemoDirectAdatumLanding}},
		},
		RoleAssignments: []RoleAssignment{
			{Scope: SubscriptionScope(DemoDirectAdatumProduction), PrincipalID: DemoDirectAdatumObjectID, RoleDefinitionID: RoleContributor},
			{Scope: ManagementGroupScope("adatum-root"), PrincipalID: DemoDirectAdatumObjectID, RoleDefinitionID: RoleContributor},
			{Scope: SubscriptionScope(DemoDirectAdatumProduction), PrincipalID: adatumOwner, PrincipalType: PrincipalUser, RoleDefinitionID: RoleOwner},
			{Scope: SubscriptionScope(DemoDirectAdatumArchive), PrincipalID: adatumOwner, PrincipalType: PrincipalUser, RoleDefinitionID: RoleOwner},
			{Scope: SubscriptionScope(DemoDirectBellowsReporting), PrincipalID: DemoDirectBellowsObjectID, RoleDefinitionID: RoleReader},
		},
		KnownPartnerIDs: []string{DemoPartnerID, DemoOtherPartnerID},
		PartnerNames: map[string]string{
			DemoPartnerID:      "Contoso MSP (Seattle)",
			DemoOtherPartnerID: "Contoso MSP (Dublin)",
		},
		PageSize: 4,
	}
}
