package emulator

// Demo estate identifiers.
const (
	// DemoPartnerID is the demo's location-based partner ID ("Contoso MSP (Seattle)").
	DemoPartnerID = "1234567"
	// DemoOtherPartnerID is a second known partner ID ("Contoso MSP (Dublin)").
	DemoOtherPartnerID = "7654321"
	// DemoManagingTenantID is the tenant of Contoso MSP, the managing tenant.
	DemoManagingTenantID = "c0000000-0000-4000-8000-000000000001"
	// DemoClientID is the client ID of the function's user-assigned managed identity.
	DemoClientID = "c1000000-0000-4000-8000-000000000001"
	// DemoObjectID is the object ID of the function's managed identity.
	DemoObjectID = "c2000000-0000-4000-8000-000000000001"
	// DemoPALGroupID is the Entra group "Contoso MSP pal-keeper" of the
	// managing tenant; the function's identity is its member, and Woodgrove's
	// delegation authorizes the group, not the identity.
	DemoPALGroupID = "c3000000-0000-4000-8000-000000000002"
)

// DemoEstate returns a small, readable estate for the sandbox. Contoso MSP manages
// four customers through Azure Lighthouse; the function's identity
// ("pal-keeper-func", [DemoClientID]) is the estate's first identity. No link exists
// at start and the page size is 4, so listing subscriptions takes three pages.
//
// Subscriptions and what pal-keeper should make of them in lighthouse mode:
//
//	Fabrikam    fab00001 Fabrikam Production     Contributor permanent           attributed
//	Fabrikam    fab00002 Fabrikam Development    Support Request Contributor     attributed
//	Fabrikam    fab00003 Fabrikam Analytics      Reader only                     ineligible-role
//	Northwind   0a700001 Northwind Core          Contributor (+ Litware Reader)  attributed
//	Northwind   0a700002 Northwind Sandbox       Reader, Contributor only JIT    ineligible-role
//	Northwind   0a700003 Northwind Legacy        delegated to another identity   not-delegated (unreachable)
//	Tailspin    7a100001 Tailspin Web            Contributor + MSRA Delete Role  attributed
//	Tailspin    7a100002 Tailspin Data           Support Request Contributor     attributed
//	Woodgrove   3d000001 Woodgrove Payments      Contributor to group DemoPALGroupID attributed (through the group)
//	Contoso MSP c0500001 Contoso Shared Services direct access, no delegation    reachable, not a customer subscription
//
// (The attributed ones are attributed once the link to [DemoPartnerID] exists.)
func DemoEstate() Estate {
	const (
		fabrikam  = "fab00000-0000-4000-8000-000000000001"
		northwind = "0a700000-0000-4000-8000-000000000001"
		tailspin  = "7a100000-0000-4000-8000-000000000001"
		litware   = "11700000-0000-4000-8000-000000000001"
		woodgrove = "3d000000-0000-4000-8000-000000000001"

		opsClientID = "c1000000-0000-4000-8000-000000000002"
		opsObjectID = "c2000000-0000-4000-8000-000000000002"
		engineers   = "c3000000-0000-4000-8000-000000000001" // a group of engineers
		litwareSOC  = "11720000-0000-4000-8000-000000000001"
	)
	fn := func(role string) Authorization {
		return Authorization{PrincipalID: DemoObjectID, PrincipalDisplayName: "pal-keeper-func", RoleDefinitionID: role}
	}
	eng := func(role string) Authorization {
		return Authorization{PrincipalID: engineers, PrincipalDisplayName: "Contoso MSP Engineers", RoleDefinitionID: role}
	}
	contoso := func(name string, permanent []Authorization, eligible ...Authorization) []Delegation {
		return []Delegation{{
			DefinitionName:         name,
			Description:            "Contoso MSP managed services",
			ManagedByTenantID:      DemoManagingTenantID,
			Authorizations:         permanent,
			EligibleAuthorizations: eligible,
		}}
	}
	return Estate{
		Tenants: []Tenant{
			{ID: DemoManagingTenantID, Name: "Contoso MSP"},
			{ID: fabrikam, Name: "Fabrikam"},
			{ID: northwind, Name: "Northwind Traders"},
			{ID: tailspin, Name: "Tailspin Toys"},
			{ID: litware, Name: "Litware Security"},
			{ID: woodgrove, Name: "Woodgrove Bank"},
		},
		Identities: []Identity{
			{
				ClientID: DemoClientID, TenantID: DemoManagingTenantID, ObjectID: DemoObjectID, DisplayName: "pal-keeper-func",
				ResourceID: "/subscriptions/c0500000-0000-4000-8000-000000000001/resourceGroups/rg-pal-keeper/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pal-keeper-func",
			},
			{ClientID: opsClientID, TenantID: DemoManagingTenantID, ObjectID: opsObjectID, DisplayName: "contoso-ops-automation"},
		},
		Subscriptions: []Subscription{
			{ID: "fab00001-0000-4000-8000-000000000001", TenantID: fabrikam, DisplayName: "Fabrikam Production",
				Delegations: contoso("Contoso MSP - Fabrikam operations",
					[]Authorization{fn(RoleContributor), eng(RoleReader), eng(RoleManagedServicesRegistrationAssignmentDelete)},
					eng(RoleContributor))},
			{ID: "fab00002-0000-4000-8000-000000000001", TenantID: fabrikam, DisplayName: "Fabrikam Development",
				Delegations: contoso("Contoso MSP - Fabrikam support",
					[]Authorization{fn(RoleSupportRequestContributor), eng(RoleContributor)})},
			{ID: "fab00003-0000-4000-8000-000000000001", TenantID: fabrikam, DisplayName: "Fabrikam Analytics",
				Delegations: contoso("Contoso MSP - Fabrikam read-only",
					[]Authorization{fn(RoleReader), eng(RoleReader)})},
			{ID: "0a700001-0000-4000-8000-000000000001", TenantID: northwind, DisplayName: "Northwind Core",
				Delegations: append(contoso("Contoso MSP - Northwind operations",
					[]Authorization{fn(RoleContributor), eng(RoleVirtualMachineContributor)}),
					Delegation{
						DefinitionName: "Litware SOC", Description: "Litware managed security",
						ManagedByTenantID: litware,
						Authorizations: []Authorization{
							{PrincipalID: litwareSOC, PrincipalDisplayName: "Litware SOC analysts", RoleDefinitionID: RoleSecurityReader},
							{PrincipalID: litwareSOC, PrincipalDisplayName: "Litware SOC analysts", RoleDefinitionID: RoleReader},
						},
					})},
			{ID: "0a700002-0000-4000-8000-000000000001", TenantID: northwind, DisplayName: "Northwind Sandbox",
				Delegations: contoso("Contoso MSP - Northwind sandbox (just-in-time)",
					[]Authorization{fn(RoleReader), eng(RoleReader)},
					fn(RoleContributor), eng(RoleContributor))},
			{ID: "0a700003-0000-4000-8000-000000000001", TenantID: northwind, DisplayName: "Northwind Legacy",
				Delegations: contoso("Contoso MSP - Northwind legacy (ops automation only)",
					[]Authorization{{PrincipalID: opsObjectID, PrincipalDisplayName: "contoso-ops-automation", RoleDefinitionID: RoleContributor}})},
			{ID: "7a100001-0000-4000-8000-000000000001", TenantID: tailspin, DisplayName: "Tailspin Web",
				Delegations: contoso("Contoso MSP - Tailspin web",
					[]Authorization{fn(RoleContributor), fn(RoleManagedServicesRegistrationAssignmentDelete), eng(RoleMonitoringContributor)})},
			{ID: "7a100002-0000-4000-8000-000000000001", TenantID: tailspin, DisplayName: "Tailspin Data",
				Delegations: contoso("Contoso MSP - Tailspin data",
					[]Authorization{fn(RoleSupportRequestContributor), fn(RoleMonitoringReader), eng(RoleBackupReader)})},
			{ID: "3d000001-0000-4000-8000-000000000001", TenantID: woodgrove, DisplayName: "Woodgrove Payments",
				Delegations: contoso("Contoso MSP - Woodgrove (groups)",
					[]Authorization{
						{PrincipalID: DemoPALGroupID, PrincipalDisplayName: "Contoso MSP pal-keeper", RoleDefinitionID: RoleContributor},
						eng(RoleReader),
					})},
			{ID: "c0500001-0000-4000-8000-000000000001", TenantID: DemoManagingTenantID, DisplayName: "Contoso Shared Services",
				DirectAccess: []string{DemoObjectID, opsObjectID}},
		},
		// Lighthouse guidance recommends delegating to groups: the
		// function's identity is in the pal-keeper group, the automation
		// identity in the engineers'.
		Groups: []Group{
			{ID: DemoPALGroupID, TenantID: DemoManagingTenantID, DisplayName: "Contoso MSP pal-keeper", Members: []string{DemoObjectID}},
			{ID: engineers, TenantID: DemoManagingTenantID, DisplayName: "Contoso MSP Engineers", Members: []string{opsObjectID}},
		},
		KnownPartnerIDs: []string{DemoPartnerID, DemoOtherPartnerID},
		PartnerNames: map[string]string{
			DemoPartnerID:      "Contoso MSP (Seattle)",
			DemoOtherPartnerID: "Contoso MSP (Dublin)",
		},
		PageSize: 4,
	}
}
