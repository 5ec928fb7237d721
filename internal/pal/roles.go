package pal

import (
	"strings"
	"sync"
)

// PEC eligibility of Azure built-in roles, from the documented table
// (learn.microsoft.com partner-center/billing/azure-roles-perms-pec; see
// docs/reference.md, "PEC-eligible roles"). Names are compared case-insensitively.

// pecEligibleRoles are the built-in roles the table marks eligible (built on
// first use: nothing is built at package init, see docs/reliability.md).
var pecEligibleRoles = sync.OnceValue(func() map[string]bool {
	return roleSet(
		"Owner", "Contributor", "AcrDelete", "AcrImageSigner", "AcrPull", "AcrPush", "AcrQuarantineWriter",
		"API Management Service Contributor", "API Management Service Operator Role",
		"Application Insights Component Contributor", "Application Insights Snapshot Debugger",
		"Automation Job Operator", "Automation Operator", "Automation Runbook Operator",
		"Avere Contributor", "Avere Operator",
		"Azure Event Hubs Data Owner", "Azure Event Hubs Data Receiver", "Azure Event Hubs Data Sender",
		"Azure Kubernetes Service Cluster Admin Role", "Azure Kubernetes Service Cluster User Role",
		"Azure Service Bus Data Owner", "Azure Service Bus Data Receiver", "Azure Service Bus Data Sender",
		"Azure Stack Registration Owner", "Backup Contributor", "Backup Operator", "BizTalk Contributor",
		"Blockchain Member Node Access (Preview)", "Blueprint Contributor", "Blueprint Operator",
		"CDN Endpoint Contributor", "CDN Profile Contributor", "Classic Network Contributor",
		"Classic Storage Account Contributor", "Classic Storage Account Key Operator Service Role",
		"Classic Virtual Machine Contributor", "Cognitive Services Contributor", "Cosmos DB Operator",
		"CosmosBackupOperator", "Cost Management Contributor", "Data Box Contributor", "Data Factory Contributor",
		"Data Lake Analytics Developer", "Data Purger", "DevTest Labs User", "DNS Zone Contributor",
		"DocumentDB Account Contributor", "EventGrid EventSubscription Contributor", "HDInsight Cluster Operator",
		"HDInsight Domain Services Contributor", "Intelligent Systems Account Contributor", "Key Vault Contributor",
		"Lab Creator", "Log Analytics Contributor", "Logic App Contributor", "Logic App Operator",
		"Managed Application Operator Role", "Managed Identity Contributor", "Managed Identity Operator",
		"Management Group Contributor", "Monitoring Contributor", "Monitoring Metrics Publisher",
		"Network Contributor", "New Relic APM Account Contributor", "Reader and Data Access",
		"Redis Cache Contributor", "Resource Policy Contributor", "Scheduler Job Collections Contributor",
		"Search Service Contributor", "Security Admin", "Security Manager (Legacy)", "Site Recovery Contributor",
		"Site Recovery Operator", "Spatial Anchors Account Contributor", "Spatial Anchors Account Owner",
		"SQL DB Contributor", "SQL Managed Instance Contributor", "SQL Security Manager", "SQL Server Contributor",
		"Storage Account Contributor", "Storage Account Key Operator Service Role", "Storage Blob Data Contributor",
		"Storage Blob Data Owner", "Storage Blob Delegator", "Storage File Data SMB Share Contributor",
		"Storage File Data SMB Share Elevated Contributor", "Storage Queue Data Contributor",
		"Storage Queue Data Message Processor", "Storage Queue Data Message Sender", "Support Request Contributor",
		"Traffic Manager Contributor", "User Access Administrator", "Virtual Machine Administrator Login",
		"Virtual Machine Contributor", "Virtual Machine User Login", "Web Plan Contributor", "Website Contributor",
	)
})

// pecIneligibleRoles are the built-in roles the table marks not eligible
// (built on first use).
var pecIneligibleRoles = sync.OnceValue(func() map[string]bool {
	return roleSet(
		"Reader", "AcrQuarantineReader", "API Management Service Reader Role", "Azure Maps Data Reader",
		"Backup Reader", "Billing Reader", "CDN Endpoint Reader", "CDN Profile Reader",
		"Cognitive Services Data Reader (Preview)", "Cognitive Services User", "Cosmos DB Account Reader Role",
		"Cost Management Reader", "Data Box Reader", "EventGrid EventSubscription Reader", "Log Analytics Reader",
		"Managed Applications Reader", "Management Group Reader", "Monitoring Reader", "Security Reader",
		"Site Recovery Reader", "Spatial Anchors Account Reader", "Storage Blob Data Reader",
		"Storage File Data SMB Share Reader", "Storage Queue Data Reader",
		// Not in the table, but it grants nothing on resources: it only lets the customer's
		// delegation be removed by the partner.
		"Managed Services Registration assignment Delete Role",
	)
})

// wellKnownRoles maps the GUIDs of common built-in roles to their names, so that
// the usual Lighthouse delegations need no role-definition lookup.
var wellKnownRoles = map[string]string{
	"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
	"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
	"acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
	"cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e": "Support Request Contributor",
	"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
	"39bc4728-0917-49c7-9d2c-d95423bc2eb4": "Security Reader",
	"43d0d8ad-25c7-4714-9337-8ba259a9fe05": "Monitoring Reader",
	"749f88d5-cbae-40b8-bcfc-e573ddc772fa": "Monitoring Contributor",
	"73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader",
	"92aaf0da-9dab-42b6-94a3-d43ce8d16293": "Log Analytics Contributor",
	"fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64": "Billing Reader",
	"72fafb9e-0641-4937-9268-a91bfd8191a3": "Cost Management Reader",
	"434105ed-43f6-45c7-a02f-909b2ba83430": "Cost Management Contributor",
	"4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
	"17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
	"5e467623-bb1f-42f4-a55d-6e525e11384b": "Backup Contributor",
	"00c29273-979b-4161-815c-10b084fb9324": "Backup Operator",
	"a795c7a0-d4a2-40c1-ae25-d81f01202912": "Backup Reader",
	"fb1c8493-542b-48eb-b624-b4c8fea62acd": "Security Admin",
	"36243c78-bf99-498c-9df9-86d9f8d28608": "Resource Policy Contributor",
	"91c1777a-f3dc-4fae-b103-61d183457e46": "Managed Services Registration assignment Delete Role",
}

func roleSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// roleVerdict is the engine's judgement of one role.
type roleVerdict struct {
	Name     string
	Eligible bool
	// Reason says why, in a few words ("documented PEC-eligible role", …).
	Reason string
}

// judgeRole applies the eligibility rule to a role definition:
//
//  1. A role that is not built-in is not eligible (PEC counts built-in roles,
//     and Lighthouse cannot delegate custom roles).
//  2. A role named in the documented table is judged as the table says.
//  3. Otherwise a built-in role whose name contains "Reader" is not eligible,
//     and one whose name ends in "Contributor" is eligible (the documented rule
//     of thumb: reader roles are not eligible, contributor roles are).
//  4. Anything else is not eligible: it cannot be verified.
func judgeRole(def RoleDefinition) roleVerdict {
	name := strings.TrimSpace(def.Name)
	key := strings.ToLower(name)
	switch {
	case !def.BuiltIn:
		return roleVerdict{name, false, "custom roles are not PEC-eligible"}
	case pecEligibleRoles()[key]:
		return roleVerdict{name, true, "documented PEC-eligible role"}
	case pecIneligibleRoles()[key]:
		return roleVerdict{name, false, "documented as not PEC-eligible"}
	case strings.Contains(key, "reader"):
		return roleVerdict{name, false, "reader roles are not PEC-eligible"}
	case strings.HasSuffix(key, "contributor"):
		return roleVerdict{name, true, "built-in contributor role"}
	default:
		return roleVerdict{name, false, "not in the documented PEC-eligible table"}
	}
}
