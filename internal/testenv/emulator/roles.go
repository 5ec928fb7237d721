package emulator

import "slices"

// Built-in role definition GUIDs (the same in every tenant and cloud).
const (
	RoleOwner                                       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleContributor                                 = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleReader                                      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleSupportRequestContributor                   = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"
	RoleUserAccessAdministrator                     = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RoleSecurityReader                              = "39bc4728-0917-49c7-9d2c-d95423bc2eb4"
	RoleMonitoringReader                            = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
	RoleMonitoringContributor                       = "749f88d5-cbae-40b8-bcfc-e573ddc772fa"
	RoleVirtualMachineContributor                   = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
	RoleManagedServicesRegistrationAssignmentDelete = "91c1777a-f3dc-4fae-b103-61d183457e46"
	RoleCostManagementReader                        = "72fafb9e-0641-4937-9268-a91bfd8191a3"
	RoleBackupReader                                = "a795c7a0-d4a2-40c1-ae25-d81f01202912"
	RoleBackupContributor                           = "5e467623-bb1f-42f4-a55d-6e525e11384b"
	RoleBillingReader                               = "fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64"
	RoleLogAnalyticsReader                          = "73c42c96-874c-492b-b04d-ab87d138a893"
	RoleLogAnalyticsContributor                     = "92aaf0da-9dab-42b6-94a3-d43ce8d16293"
	RoleNetworkContributor                          = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	RoleSecurityAdmin                               = "fb1c8493-542b-48eb-b624-b4c8fea62acd"
	RoleKeyVaultContributor                         = "f25e0fa2-a7c8-4377-a976-54943a77a395"
	RoleStorageAccountContributor                   = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
	RoleStorageBlobDataContributor                  = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	RoleStorageBlobDataReader                       = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
)

// builtinRoles is a table of real built-in roles with their real permissions, as
// Microsoft documents them (actions, notActions, dataActions, notDataActions):
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// (per category, e.g. .../built-in-roles/management-and-governance#support-request-contributor
// and #managed-services-registration-assignment-delete-role; source
// MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/*.md,
// ms.date 04/25/2024). The emulator authorizes every read with them, so the
// lists that decide a read pal-keeper makes (Owner, Contributor, Reader, Support
// Request Contributor, the Delete Role, and the */read of the reader roles) are
// verbatim; a few long lists of roles pal-keeper never relies on are cut to
// their first entries.
var builtinRoles = map[string]RoleDefinition{}

func init() {
	for _, r := range []RoleDefinition{
		{ID: RoleOwner, Name: "Owner", Description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
			Actions: []string{"*"}},
		{ID: RoleContributor, Name: "Contributor", Description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
			Actions: []string{"*"},
			NotActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
				"Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
				"Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete", "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
				"Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"}},
		{ID: RoleReader, Name: "Reader", Description: "View all resources, but does not allow you to make any changes.",
			Actions: []string{"*/read"}},
		{ID: RoleSupportRequestContributor, Name: "Support Request Contributor", Description: "Lets you create and manage Support requests",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
		{ID: RoleUserAccessAdministrator, Name: "User Access Administrator", Description: "Lets you manage user access to Azure resources.",
			Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}},
		{ID: RoleSecurityReader, Name: "Security Reader", Description: "Security Reader Role",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/read", "Microsoft.operationalInsights/workspaces/*/read",
				"Microsoft.Resources/deployments/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Security/*/read",
				"Microsoft.IoTSecurity/*/read", "Microsoft.Support/*/read", "Microsoft.Management/managementGroups/read"}},
		{ID: RoleMonitoringReader, Name: "Monitoring Reader", Description: "Can read all monitoring data.",
			Actions: []string{"*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"}},
		{ID: RoleMonitoringContributor, Name: "Monitoring Contributor", Description: "Can read all monitoring data and update monitoring settings.",
			Actions: []string{"*/read", "Microsoft.AlertsManagement/alerts/*", "Microsoft.AlertsManagement/alertsSummary/*", "Microsoft.Insights/actiongroups/*",
				"Microsoft.Insights/activityLogAlerts/*", "Microsoft.Insights/diagnosticSettings/*", "Microsoft.Insights/metricAlerts/*",
				"Microsoft.Insights/scheduledqueryrules/*", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"}},
		{ID: RoleVirtualMachineContributor, Name: "Virtual Machine Contributor", Description: "Create and manage virtual machines, manage disks, install and run software, reset password of the root user of the virtual machine using VM extensions, and manage local user accounts using VM extensions. This role does not grant you management access to the virtual network or storage account the virtual machines are connected to. This role does not allow you to assign roles in Azure RBAC.",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Compute/availabilitySets/*", "Microsoft.Compute/locations/*",
				"Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachineScaleSets/*", "Microsoft.Compute/disks/write",
				"Microsoft.Compute/disks/read", "Microsoft.Compute/disks/delete", "Microsoft.Network/networkInterfaces/*",
				"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
		{ID: RoleManagedServicesRegistrationAssignmentDelete, Name: "Managed Services Registration assignment Delete Role",
			Description: "Managed Services Registration Assignment Delete Role allows the managing tenant users to delete the registration assignment assigned to their tenant.",
			Actions:     []string{"Microsoft.ManagedServices/registrationAssignments/read", "Microsoft.ManagedServices/registrationAssignments/delete", "Microsoft.ManagedServices/operationStatuses/read"}},
		{ID: RoleCostManagementReader, Name: "Cost Management Reader", Description: "Can view cost data and configuration (e.g. budgets, exports)",
			Actions: []string{"Microsoft.Consumption/*/read", "Microsoft.CostManagement/*/read", "Microsoft.Billing/billingPeriods/read",
				"Microsoft.Resources/subscriptions/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
				"Microsoft.Advisor/configurations/read", "Microsoft.Advisor/recommendations/read", "Microsoft.Management/managementGroups/read",
				"Microsoft.Billing/billingProperty/read"}},
		{ID: RoleBackupReader, Name: "Backup Reader", Description: "Can view backup services, but can't make changes",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/locations/allocatedStamp/read",
				"Microsoft.RecoveryServices/Vaults/backupJobs/read", "Microsoft.RecoveryServices/Vaults/backupPolicies/read",
				"Microsoft.RecoveryServices/Vaults/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
		{ID: RoleBackupContributor, Name: "Backup Contributor", Description: "Lets you manage backup service, but can't create vaults and give access to others",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/Vaults/backupFabrics/*", "Microsoft.RecoveryServices/Vaults/backupPolicies/*",
				"Microsoft.RecoveryServices/Vaults/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
		{ID: RoleBillingReader, Name: "Billing Reader", Description: "Allows read access to billing data",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Billing/*/read", "Microsoft.Commerce/*/read", "Microsoft.Consumption/*/read",
				"Microsoft.Management/managementGroups/read", "Microsoft.CostManagement/*/read", "Microsoft.Support/*"}},
		{ID: RoleLogAnalyticsReader, Name: "Log Analytics Reader", Description: "Log Analytics Reader can view and search all monitoring data as well as and view monitoring settings, including viewing the configuration of Azure diagnostics on all Azure resources.",
			Actions:    []string{"*/read", "Microsoft.OperationalInsights/workspaces/analytics/query/action", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"},
			NotActions: []string{"Microsoft.OperationalInsights/workspaces/sharedKeys/read"}},
		{ID: RoleLogAnalyticsContributor, Name: "Log Analytics Contributor", Description: "Log Analytics Contributor can read all monitoring data and edit monitoring settings.",
			Actions: []string{"*/read", "Microsoft.ClassicCompute/virtualMachines/extensions/*", "Microsoft.Compute/virtualMachines/extensions/*",
				"Microsoft.Insights/diagnosticSettings/*", "Microsoft.OperationalInsights/*", "Microsoft.OperationsManagement/*",
				"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourcegroups/deployments/*", "Microsoft.Support/*"}},
		{ID: RoleNetworkContributor, Name: "Network Contributor", Description: "Lets you manage networks, but not access to them.",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Network/*", "Microsoft.ResourceHealth/availabilityStatuses/read",
				"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
		{ID: RoleSecurityAdmin, Name: "Security Admin", Description: "Security Admin Role",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Authorization/policyAssignments/*", "Microsoft.Authorization/policyDefinitions/*",
				"Microsoft.Insights/alertRules/read", "Microsoft.Management/managementGroups/read", "Microsoft.operationalInsights/workspaces/*/read",
				"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Security/*", "Microsoft.Support/*"}},
		{ID: RoleKeyVaultContributor, Name: "Key Vault Contributor", Description: "Lets you manage key vaults, but not access to them.",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.KeyVault/*", "Microsoft.Resources/deployments/*",
				"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"},
			NotActions: []string{"Microsoft.KeyVault/locations/deletedVaults/purge/action", "Microsoft.KeyVault/hsmPools/*", "Microsoft.KeyVault/managedHsms/*"}},
		{ID: RoleStorageAccountContributor, Name: "Storage Account Contributor", Description: "Permits management of storage accounts. Provides access to the account key, which can be used to access data via Shared Key authorization.",
			Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Insights/diagnosticSettings/*", "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
				"Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
				"Microsoft.Storage/storageAccounts/*", "Microsoft.Support/*"}},
		{ID: RoleStorageBlobDataContributor, Name: "Storage Blob Data Contributor", Description: "Allows for read, write and delete access to Azure Storage blob containers and data",
			Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/delete", "Microsoft.Storage/storageAccounts/blobServices/containers/read",
				"Microsoft.Storage/storageAccounts/blobServices/containers/write", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"},
			DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
				"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
				"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"}},
		{ID: RoleStorageBlobDataReader, Name: "Storage Blob Data Reader", Description: "Allows for read access to Azure Storage blob containers and data",
			Actions:     []string{"Microsoft.Storage/storageAccounts/blobServices/containers/read", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"},
			DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"}},
	} {
		r.Type = BuiltInRole
		r.AssignableScopes = []string{"/"}
		builtinRoles[r.ID] = r
	}
}

// BuiltinRoles returns the built-in role table, sorted by name.
func BuiltinRoles() []RoleDefinition {
	out := make([]RoleDefinition, 0, len(builtinRoles))
	for _, r := range builtinRoles {
		out = append(out, cloneRole(r))
	}
	slices.SortFunc(out, func(a, b RoleDefinition) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}
