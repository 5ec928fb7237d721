package infracheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// repoRoot is the repository root seen from this package's directory.
const repoRoot = "../.."

// TestRepository runs every check on the repository as it is.
func TestRepository(t *testing.T) {
	for _, err := range CheckAll(repoRoot) {
		t.Error(err)
	}
}

// TestNeeds pins what the repository requires of infra, so that a new
// %SETTING% or connection in a function.json shows up here and in the checks.
func TestNeeds(t *testing.T) {
	n, err := LoadNeeds(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"connections", n.Connections, []string{"ServiceBusConnection"}},
		{"placeholders", n.Placeholders, []string{"PAL_ONBOARDING_QUEUE", "PAL_SWEEP_QUEUE", "PAL_SWEEP_SCHEDULE"}},
		{"queue settings", n.QueueSettings, []string{"PAL_ONBOARDING_QUEUE", "PAL_SWEEP_QUEUE"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	for _, s := range []string{"PAL_PARTNER_ID", "PAL_ALLOWED_PARTNER_IDS", "PAL_RELINK_FOREIGN", "AZURE_CLIENT_ID", "PAL_CREDENTIAL",
		"PAL_CLOUD", "PAL_ARM_ENDPOINT", "PAL_ONBOARDING_QUEUE", "PAL_SWEEP_SCHEDULE", "ServiceBusConnection__fullyQualifiedNamespace"} {
		if !slices.Contains(n.Settings, s) {
			t.Errorf("settings: got %q, want it to contain %s", n.Settings, s)
		}
	}
	if slices.Contains(n.Settings, "FUNCTIONS_CUSTOMHANDLER_PORT") {
		t.Errorf("settings: got %q, want no FUNCTIONS_CUSTOMHANDLER_PORT (the host sets it)", n.Settings)
	}
}

// mutation is a change to one file of a copy of the repository that breaks an
// invariant, and what the checks must then say.
type mutation struct {
	name string
	file string // relative to the repository root
	old  string // must occur in the file exactly once
	new  string
	want string // a problem must contain this
}

var mutations = []mutation{
	// infra/lighthouse: the identity must be able to read its own delegation by default, and the docs say so.
	{"delete role not the identity's by default", "infra/lighthouse/variables.tf", "description = \"Object ID (managing tenant) that gets the Managed Services Registration assignment Delete Role, so the partner can remove the delegation. null (the default): pal-keeper's identity, which also lets it read its own delegation (Microsoft.ManagedServices/registrationAssignments/read) when its role is Support Request Contributor.\"\n  default     = null", "description = \"x\"\n  default     = \"c3000000-0000-4000-8000-000000000001\"", "registration_delete_principal_id must default to null"},
	{"role description silent on reading the delegation", "infra/lighthouse/variables.tf", "To read its own delegation the identity needs Microsoft.ManagedServices/registrationAssignments/read: Contributor", "Contributor", "pal_keeper_role_definition_id's description must say"},
	{"template delete role not the identity's by default", "infra/lighthouse/lighthouse.json", "\"registrationDeletePrincipalId\": {\n      \"type\": \"string\",\n      \"defaultValue\": \"\"", "\"registrationDeletePrincipalId\": {\n      \"type\": \"string\",\n      \"defaultValue\": \"c3000000-0000-4000-8000-000000000001\"", "registrationDeletePrincipalId must default to"},
	{"template role description silent", "infra/lighthouse/lighthouse.json", "so neither is allowed. To read its own delegation the identity needs Microsoft.ManagedServices/registrationAssignments/read", "so neither is allowed. To read", "palKeeperRoleDefinitionId's description must say"},
	// infra/identity.tf: the app registration trusting the function's identity.
	{"FIC subject the client ID", "infra/identity.tf", `subject        = azurerm_user_assigned_identity.func.principal_id`, `subject        = azurerm_user_assigned_identity.func.client_id`, "subject must be azurerm_user_assigned_identity.func.principal_id"},
	{"FIC audience literal", "infra/identity.tf", `audiences      = [local.exchange_audience]`, `audiences      = ["api://AzureADTokenExchange"]`, "audiences must be [local.exchange_audience]"},
	{"FIC issuer without tenant", "infra/identity.tf", `issuer         = "${local.federated_issuer_host}/${azurerm_user_assigned_identity.func.tenant_id}/v2.0"`, `issuer         = "${local.federated_issuer_host}/common/v2.0"`, "issuer must be"},
	// Issue 15 item 3: Azure China's issuer is login.partner.microsoftonline.cn, not the authority host.
	{"China issuer is the authority host", "infra/identity.tf", `AzureChina        = "https://login.partner.microsoftonline.cn"`, `AzureChina        = "https://login.chinacloudapi.cn"`, "local.federated_issuer_host: AzureChina"},
	{"FIC issuer not from the issuer map", "infra/identity.tf", `issuer         = "${local.federated_issuer_host}/${azurerm_user_assigned_identity.func.tenant_id}/v2.0"`, `issuer         = "https://login.microsoftonline.com/${azurerm_user_assigned_identity.func.tenant_id}/v2.0"`, "issuer must be ${local.federated_issuer_host}"},
	{"direct app single-tenant", "infra/identity.tf", `sign_in_audience = var.pal_identity == "direct" ? "AzureADMultipleOrgs" : "AzureADMyOrg"`, `sign_in_audience = "AzureADMyOrg"`, "sign_in_audience must be AzureADMultipleOrgs"},
	{"app client ID literal", "infra/main.tf", `PAL_APP_CLIENT_ID       = local.use_app ? azuread_application.pal[0].client_id : ""`, `PAL_APP_CLIENT_ID       = ""`, "want a reference to azuread_application.pal"},
	// infra/main.tf: the function app.
	{"runtime not custom", "infra/main.tf", `runtime_name    = "custom"`, `runtime_name    = "node"`, `runtime_name = "node", want "custom"`},
	{"FUNCTIONS_WORKER_RUNTIME on Flex", "infra/main.tf", "    AzureWebJobsStorage__blobServiceUri", "    FUNCTIONS_WORKER_RUNTIME = \"custom\"\n    AzureWebJobsStorage__blobServiceUri", "app setting FUNCTIONS_WORKER_RUNTIME"},
	{"key-based AzureWebJobsStorage", "infra/main.tf", "    AzureWebJobsStorage__blobServiceUri", "    AzureWebJobsStorage = \"DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc\"\n    AzureWebJobsStorage__blobServiceUri", "AccountKey="},
	// Issue 15 item 2: no AzureWebJobsStorage at all, and the app settings put back without azurerm's key-based one.
	{"empty AzureWebJobsStorage", "infra/main.tf", "    AzureWebJobsStorage__blobServiceUri", "    AzureWebJobsStorage = \"\"\n    AzureWebJobsStorage__blobServiceUri", "app setting AzureWebJobsStorage = \"\": must be absent"},
	{"app settings not put back", "infra/main.tf", `resource "azapi_resource_action" "app_settings" {`, `resource "azapi_resource_action" "other" {`, "azapi_resource_action.app_settings is missing"},
	{"app settings PATCHed", "infra/main.tf", `  method      = "PUT"`, `  method      = "PATCH"`, "want PUT"},
	{"app settings put back once only", "infra/main.tf", "    replace_triggered_by = [azurerm_function_app_flex_consumption.main]", "    replace_triggered_by = []", "replace_triggered_by must name"},
	{"app settings put back with AzureWebJobsStorage", "infra/main.tf", "      APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.main.connection_string\n", "      APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.main.connection_string\n      AzureWebJobsStorage = \"\"\n", "body must not set AzureWebJobsStorage"},
	{"azapi not required", "infra/versions.tf", "    azapi = {\n      source  = \"azure/azapi\"\n      version = \"~> 2.0\"\n    }\n", "", "azapi is missing"},
	// Issue 15 item 1: Flex's lowest maximum is 40, lower only in the preview regions.
	{"maximum below 40 by default", "infra/variables.tf", "  default     = 40\n", "  default     = 4\n", "default must be at least 40"},
	{"no scale precondition", "infra/main.tf", "      condition     = var.maximum_instance_count >= 40 || contains(local.flex_low_maximum_regions, var.location)", "      condition     = true", "want a lifecycle precondition"},
	{"scale precondition too lax", "infra/main.tf", "var.maximum_instance_count >= 40 ||", "var.maximum_instance_count >= 4 ||", "39 in eastus accepted = true, want false"},
	{"undocumented preview region", "infra/main.tf", `flex_low_maximum_regions = ["westeurope", "australiaeast", "westus2"]`, `flex_low_maximum_regions = ["westeurope", "australiaeast", "westus2", "eastus"]`, "want the documented preview regions"},
	{"storage key reference", "infra/main.tf", `storage_authentication_type       = "UserAssignedIdentity"`, "storage_authentication_type       = \"StorageAccountConnectionString\"\n  storage_access_key = azurerm_storage_account.host.primary_access_key", "key-based access"},
	{"schedule setting missing", "infra/main.tf", "    PAL_SWEEP_SCHEDULE      = var.pal_sweep_schedule\n", "", "app setting PAL_SWEEP_SCHEDULE is missing"},
	{"queue setting not the queue", "infra/main.tf", `PAL_ONBOARDING_QUEUE    = azurerm_servicebus_queue.onboarding.name`, `PAL_ONBOARDING_QUEUE    = "pal-onboarding"`, "want a reference to azurerm_servicebus_queue.onboarding.name"},
	{"partner ID not from its variable", "infra/main.tf", `PAL_PARTNER_ID          = var.pal_partner_id`, `PAL_PARTNER_ID          = "1234567"`, "want a reference to var.pal_partner_id"},
	{"trigger connection by key", "infra/main.tf", `ServiceBusConnection__credential              = "managedidentity"`, `ServiceBusConnection__credential              = "connectionstring"`, `ServiceBusConnection__credential = "connectionstring", want "managedidentity"`},
	{"client ID of another identity", "infra/main.tf", `ServiceBusConnection__clientId                = azurerm_user_assigned_identity.func.client_id`, `ServiceBusConnection__clientId                = "00000000-0000-4000-8000-000000000000"`, "ServiceBusConnection__clientId"},
	{"shared keys on", "infra/main.tf", `shared_access_key_enabled       = false`, `shared_access_key_enabled       = true`, "shared_access_key_enabled = true, want false"},
	{"SAS on Service Bus", "infra/main.tf", `local_auth_enabled  = false`, `local_auth_enabled  = true`, "local_auth_enabled = true, want false"},
	{"App Insights keys", "infra/main.tf", `local_authentication_disabled = true`, `local_authentication_disabled = false`, "local_authentication_disabled = false, want true"},
	{"no duplicate detection", "infra/main.tf", `requires_duplicate_detection            = true
  duplicate_detection_history_time_window = "PT10M"

  requires_session           = false # function.json: isSessionsEnabled false
  partitioning_enabled       = false
  batched_operations_enabled = true
  max_size_in_megabytes      = 1024
}

# The work queue`, `requires_duplicate_detection            = false
  duplicate_detection_history_time_window = "PT10M"

  requires_session           = false # function.json: isSessionsEnabled false
  partitioning_enabled       = false
  batched_operations_enabled = true
  max_size_in_megabytes      = 1024
}

# The work queue`, "requires_duplicate_detection = false, want true"},
	{"expired messages vanish", "infra/main.tf", `dead_lettering_on_message_expiration = true

  # Duplicate detection over 10 minutes: a sender`, `dead_lettering_on_message_expiration = false

  # Duplicate detection over 10 minutes: a sender`, "dead_lettering_on_message_expiration"},
	{"no max delivery count", "infra/main.tf", "  max_delivery_count = 5\n", "", "max_delivery_count must be set"},
	{"undocumented attempts default", "infra/variables.tf", "  default     = 8\n", "  default     = 5\n", `docs/operations.md documents PAL_MAX_ATTEMPTS's default as "8"`},
	{"lock too long", "infra/main.tf", `lock_duration = "PT1M"

  # 7 days.`, `lock_duration = "PT10M"

  # 7 days.`, `lock_duration = "PT10M"`},
	{"sweep lock too long", "infra/main.tf", `lock_duration = "PT1M"

  # A work item`, `lock_duration = "PT10M"

  # A work item`, `azurerm_servicebus_queue.sweep: lock_duration = "PT10M"`},
	{"sweep queue without a setting", "infra/main.tf", `name         = var.pal_sweep_queue`, `name         = "pal-sweep"`, "no azurerm_servicebus_queue is named from var.pal_sweep_queue"},
	{"sweep queue dead-letters nothing", "infra/main.tf", `max_delivery_count = 10`, `max_delivery_count = 1000`, "azurerm_servicebus_queue.sweep: max_delivery_count"},
	{"delivery count not the queue's", "infra/main.tf", `tostring(azurerm_servicebus_queue.sweep.max_delivery_count)`, `"10"`, "want a reference to azurerm_servicebus_queue.sweep.max_delivery_count"},
	{"sweep setting not its queue", "infra/main.tf", `PAL_SWEEP_QUEUE         = azurerm_servicebus_queue.sweep.name`, `PAL_SWEEP_QUEUE         = azurerm_servicebus_queue.onboarding.name`, "want a reference to azurerm_servicebus_queue.sweep.name"},
	{"Basic namespace", "infra/main.tf", `sku                 = "Standard"`, `sku                 = "Basic"`, `sku "Basic"`},
	{"consumption plan", "infra/main.tf", `sku_name            = "FC1"`, `sku_name            = "Y1"`, `sku_name = "Y1", want "FC1"`},
	{"azurerm floor below 4.58", "infra/versions.tf", `version = "~> 4.58"`, `version = "~> 4.40"`, `version "~> 4.40", want at least ~> 4.58`},
	{"azurerm not pessimistic", "infra/versions.tf", `version = "~> 4.58"`, `version = ">= 4.58"`, `want a pessimistic constraint`},
	{"HCL syntax error", "infra/main.tf", "resource \"azurerm_service_plan\" \"main\" {", "resource \"azurerm_service_plan\" \"main\" {{", "main.tf"},
	{"syntax error in another module", "infra/lighthouse/example/main.tf", `output "lighthouse_assignment_id" {`, `output "lighthouse_assignment_id" {{`, "example/main.tf"},
	// Issue 15 item 10: the shipped handler is built by PACKAGE_GOTOOLCHAIN, scanned as built.
	{"package built by go.mod's Go", "Makefile", "\tGOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN) $(GO) run ./internal/tools/mkzip", "\t$(GO) run ./internal/tools/mkzip", "target package must build with GOTOOLCHAIN"},
	{"package toolchain not newer", "Makefile", "PACKAGE_GOTOOLCHAIN := go1.27.3", "PACKAGE_GOTOOLCHAIN := go1.26.8", "is not newer than go.mod's"},
	{"toolchain directive in go.mod", "go.mod", "go 1.26.8\n", "go 1.26.8\n\ntoolchain go1.27.3\n", "no toolchain directive"},
	{"govulncheck scans the runner's Go", ".ci/run", `GOTOOLCHAIN="$package_toolchain" CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \`, `CGO_ENABLED=0 \`, "govulncheck must scan the package build"},
	// infra/roles.tf: least privilege.
	{"owner on the namespace", "infra/roles.tf", "scope                = azurerm_servicebus_queue.onboarding.id\n  role_definition_name = \"Azure Service Bus Data Owner\"", "scope                = azurerm_servicebus_namespace.main.id\n  role_definition_name = \"Azure Service Bus Data Owner\"", `"Azure Service Bus Data Owner" is scoped to "azurerm_servicebus_namespace"`},
	// Issue 15 item 6: Data Receiver alone does not let the Flex scale controller count the queue.
	{"receiver only on the onboarding queue", "infra/roles.tf", "scope                = azurerm_servicebus_queue.onboarding.id\n  role_definition_name = \"Azure Service Bus Data Owner\"", "scope                = azurerm_servicebus_queue.onboarding.id\n  role_definition_name = \"Azure Service Bus Data Receiver\"", `must not hold "Azure Service Bus Data Receiver"`},
	{"no owner on the sweep queue", "infra/roles.tf", "scope                = azurerm_servicebus_queue.sweep.id\n  role_definition_name = \"Azure Service Bus Data Owner\"", "scope                = azurerm_servicebus_queue.onboarding.id\n  role_definition_name = \"Azure Service Bus Data Owner\"", `lacks "Azure Service Bus Data Owner" on azurerm_servicebus_queue.sweep`},
	{"no metrics publisher", "infra/roles.tf", `role_definition_name = "Monitoring Metrics Publisher"`, `role_definition_name = "Reader"`, `lacks "Monitoring Metrics Publisher"`},
	{"role for client ID", "infra/roles.tf", "role_definition_name = \"Storage Table Data Contributor\"\n  principal_id         = azurerm_user_assigned_identity.func.principal_id", "role_definition_name = \"Storage Table Data Contributor\"\n  principal_id         = azurerm_user_assigned_identity.func.client_id", "not its client ID"},
	// The compliance record and its drift alert (infra/main.tf, roles.tf, alerts.tf).
	{"record table elsewhere", "infra/main.tf", `PAL_RECORD_TABLE_URL = azurerm_storage_account.host.primary_table_endpoint`, `PAL_RECORD_TABLE_URL = "https://other.table.core.windows.net"`, "want the primary_table_endpoint"},
	{"record table on blob", "infra/main.tf", `PAL_RECORD_TABLE_URL = azurerm_storage_account.host.primary_table_endpoint`, `PAL_RECORD_TABLE_URL = azurerm_storage_account.host.primary_blob_endpoint`, "want the primary_table_endpoint"},
	{"record table URL missing", "infra/main.tf", "    PAL_RECORD_TABLE_URL = azurerm_storage_account.host.primary_table_endpoint\n", "", "app setting PAL_RECORD_TABLE_URL is missing"},
	{"table role too broad", "infra/roles.tf", `role_definition_name = "Storage Table Data Contributor"`, `role_definition_name = "Storage Account Contributor"`, `must not hold "Storage Account Contributor"`},
	{"table role on the resource group", "infra/roles.tf", "scope                = azurerm_storage_account.host.id\n  role_definition_name = \"Storage Table Data Contributor\"", "scope                = azurerm_resource_group.main.id\n  role_definition_name = \"Storage Table Data Contributor\"", `"Storage Table Data Contributor" is scoped to "azurerm_resource_group"`},
	{"alert without e-mails", "infra/alerts.tf", `drift_alert = length(var.alert_emails) > 0 ? 1 : 0`, `drift_alert = 1`, "count is 1 with 0 e-mail(s), want 0"},
	{"alert never created", "infra/alerts.tf", `drift_alert = length(var.alert_emails) > 0 ? 1 : 0`, `drift_alert = 0`, "count is 0 with 1 e-mail(s), want 1"},
	{"alert without count", "infra/alerts.tf", "  count               = local.drift_alert\n  name                = \"alert-", "  name                = \"alert-", "want count = 0 when var.alert_emails is empty"},
	{"fixed receivers", "infra/alerts.tf", `for_each = var.alert_emails`, `for_each = ["ops@example.com"]`, `want a dynamic "email_receiver" block with for_each = var.alert_emails`},
	{"query misses the drift line", "infra/alerts.tf", `| where message contains "attribution lost"`, `| where message contains "attribution"`, `the query must search traces for "attribution lost"`},
	{"alert on another resource", "infra/alerts.tf", `scopes               = [azurerm_application_insights.main.id]`, `scopes               = [azurerm_log_analytics_workspace.main.id]`, "want a reference to azurerm_application_insights.main"},
	{"alert threshold", "infra/alerts.tf", `threshold               = 0`, `threshold               = 5`, "want 0 (one drift line is enough)"},
	{"alert mails nobody", "infra/alerts.tf", `action_groups = [azurerm_monitor_action_group.drift[0].id]`, `action_groups = []`, "want an action block whose action_groups"},
	{"alert e-mails not validated", "infra/variables.tf", `can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s.]+$", e))`, `can(regex(".*", e))`, `variable alert_emails accepts ["ops"]`},
	{"alert e-mails on by default", "infra/variables.tf", "  default     = []\n\n  validation {\n    condition     = alltrue([for e in var.alert_emails", "  default     = [\"ops@example.com\"]\n\n  validation {\n    condition     = alltrue([for e in var.alert_emails", "want []"},
	{"bad example e-mail", "infra/example.tfvars", `alert_emails = ["pal-keeper-alerts@example.com"]`, `alert_emails = ["pal-keeper-alerts"]`, "alert_emails = [\"pal-keeper-alerts\"] is rejected"},
	// infra/outputs.tf, variables.tf, example.tfvars.
	{"principal output is the client ID", "infra/outputs.tf", "value       = azurerm_user_assigned_identity.func.principal_id", "value       = azurerm_user_assigned_identity.func.client_id", "want a reference to azurerm_user_assigned_identity.func.principal_id"},
	{"partner ID not validated", "infra/variables.tf", `can(regex("^[0-9]{1,10}$", var.pal_partner_id))`, `can(regex(".*", var.pal_partner_id))`, `variable pal_partner_id accepts "12a4567"`},
	{"five-field schedule accepted", "infra/variables.tf", `condition     = length(split(" ", trimspace(var.pal_sweep_schedule))) == 6 &&`, `condition     = true || length(split(" ", trimspace(var.pal_sweep_schedule))) == 6 &&`, `variable pal_sweep_schedule accepts "0 0 3 * *"`},
	{"schedule ranges unchecked", "infra/variables.tf", `max   = [59, 59, 23, 31, 12, 6][i]`, `max   = [59, 59, 99, 31, 12, 6][i]`, `variable pal_sweep_schedule accepts "0 0 24 * * *"`},
	{"untyped variable", "infra/variables.tf", "  type        = bool\n", "", "variable pal_relink_foreign has no type"},
	{"bad example partner ID", "infra/example.tfvars", `pal_partner_id          = "1234567"`, `pal_partner_id          = "PLA-1234567"`, "pal_partner_id = \"PLA-1234567\" is rejected"},
	// infra/lighthouse: Terraform module and ARM template.
	{"module allows Owner", "infra/lighthouse/variables.tf", `contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c"]`, `contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"]`, "variable pal_keeper_role_definition_id accepts \"8e3af657"},
	{"module just-in-time", "infra/lighthouse/main.tf", "  # pal-keeper's identity: the PEC-eligible role, permanently.\n  authorization {", "  # pal-keeper's identity: the PEC-eligible role, permanently.\n  eligible_authorization {", "eligible (just-in-time) authorizations earn no partner credit"},
	{"module without delete role", "infra/lighthouse/main.tf", `registration_assignment_delete_role = "91c1777a-f3dc-4fae-b103-61d183457e46"`, `registration_assignment_delete_role = "acdd72a7-3385-48ef-bd42-f606fba81ae7"`, "no authorization with the Managed Services Registration assignment Delete Role"},
	{"example passes Owner", "infra/lighthouse/example/main.tf", `role_definition_id     = "b24988ac-6180-42a0-ab88-20f7382dd24c" # Contributor`, `role_definition_id     = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"`, "additional_authorizations is rejected"},
	{"template allows Reader", "infra/lighthouse/lighthouse.json", "        \"b24988ac-6180-42a0-ab88-20f7382dd24c\"\n      ],", "        \"b24988ac-6180-42a0-ab88-20f7382dd24c\",\n        \"acdd72a7-3385-48ef-bd42-f606fba81ae7\"\n      ],", `palKeeperRoleDefinitionId allows "acdd72a7`},
	{"template defaults to Contributor", "infra/lighthouse/lighthouse.json", `"defaultValue": "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e",`, `"defaultValue": "b24988ac-6180-42a0-ab88-20f7382dd24c",`, "want Support Request Contributor"},
	{"template just-in-time", "infra/lighthouse/lighthouse.json", `"authorizations": "[concat(`, `"eligibleAuthorizations": "[concat(`, "eligibleAuthorizations"},
	{"template names the client ID", "infra/lighthouse/lighthouse.json", `"principalId": "[parameters('palKeeperPrincipalId')]"`, `"principalId": "[parameters('palKeeperClientId')]"`, "no authorization with principalId [parameters('palKeeperPrincipalId')]"},
	{"parameters delegate Owner", "infra/lighthouse/lighthouse.parameters.example.json", `"roleDefinitionId": "b24988ac-6180-42a0-ab88-20f7382dd24c"`, `"roleDefinitionId": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"`, "Owner cannot be delegated"},
	// infra/direct: Terraform module and ARM template (direct mode, customer side).
	{"direct module allows Owner", "infra/direct/variables.tf", `contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c"]`, `contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"]`, "variable pal_keeper_role_definition_id accepts \"8e3af657"},
	{"direct module defaults to Contributor", "infra/direct/variables.tf", `default     = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"`, `default     = "b24988ac-6180-42a0-ab88-20f7382dd24c"`, "pal_keeper_role_definition_id defaults to \"b24988ac"},
	{"direct module any principal", "infra/direct/variables.tf", `can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.pal_keeper_service_principal_id))`, `true`, "variable pal_keeper_service_principal_id accepts \"pal-keeper\""},
	{"direct module assigns to another principal", "infra/direct/main.tf", `principal_id       = var.pal_keeper_service_principal_id`, `principal_id       = var.subscription_id`, "principal_id must refer to var.pal_keeper_service_principal_id"},
	{"direct module role by name", "infra/direct/main.tf", "  role_definition_id = \"/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${var.pal_keeper_role_definition_id}\"\n", "  role_definition_name = \"Owner\"\n", "role_definition_id must refer to var.pal_keeper_role_definition_id"},
	{"direct module a user", "infra/direct/main.tf", `principal_type     = "ServicePrincipal"`, `principal_type     = "User"`, `principal_type "User", want "ServicePrincipal"`},
	{"direct module on a resource group", "infra/direct/main.tf", `scope              = "/subscriptions/${var.subscription_id}"`, `scope              = "/subscriptions/x/resourceGroups/rg"`, "scope must refer to var.subscription_id"},
	{"direct template allows Owner", "infra/direct/direct.json", "        \"b24988ac-6180-42a0-ab88-20f7382dd24c\"\n      ],", "        \"b24988ac-6180-42a0-ab88-20f7382dd24c\",\n        \"8e3af657-a8ff-443c-a75c-2fe8c4bcb635\"\n      ],", `palKeeperRoleDefinitionId allows "8e3af657`},
	{"direct template any role", "infra/direct/direct.json", "      \"allowedValues\": [\n        \"cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e\",\n        \"b24988ac-6180-42a0-ab88-20f7382dd24c\"\n      ],\n", "", "has no allowedValues"},
	{"direct template defaults to Contributor", "infra/direct/direct.json", `"defaultValue": "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e",`, `"defaultValue": "b24988ac-6180-42a0-ab88-20f7382dd24c",`, "want Support Request Contributor"},
	{"direct template fixed Owner", "infra/direct/direct.json", `"roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('palKeeperRoleDefinitionId'))]"`, `"roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635')]"`, "must be built from [parameters('palKeeperRoleDefinitionId')]"},
	{"direct template assigns to the client ID", "infra/direct/direct.json", `"principalId": "[parameters('palKeeperServicePrincipalId')]"`, `"principalId": "[parameters('palKeeperClientId')]"`, "principalId must be [parameters('palKeeperServicePrincipalId')]"},
	{"direct template a group", "infra/direct/direct.json", `"principalType": "ServicePrincipal"`, `"principalType": "Group"`, `principalType "Group"`},
	{"direct template no consent step", "infra/direct/direct.json", "/adminconsent?client_id=<the app's client ID>", "", "must give the admin-consent URL"},
	// handler/settings.json ↔ infra: emulator-only settings and tuning knobs stay out (failed before: the
	// checker read the env* constants of handler/settings.go, and PAL_AUTHORITY_HOST was a variable).
	{"emulator-only setting wired", "infra/main.tf", "    PAL_DIRECT_TENANTS      = join(\",\", var.pal_direct_tenants)\n", "    PAL_DIRECT_TENANTS      = join(\",\", var.pal_direct_tenants)\n    PAL_AUTHORITY_HOST      = \"\"\n", "app setting PAL_AUTHORITY_HOST: handler/settings.json says Terraform does not set it"},
	{"emulator-only variable", "infra/identity.tf", "locals {\n  use_app", "variable \"pal_authority_host\" {\n  type    = string\n  default = \"\"\n}\n\nlocals {\n  use_app", "variable pal_authority_host: PAL_AUTHORITY_HOST is emulator-only"},
	{"tuning knob wired", "infra/main.tf", "    PAL_DIRECT_TENANTS      = join(\",\", var.pal_direct_tenants)\n", "    PAL_DIRECT_TENANTS      = join(\",\", var.pal_direct_tenants)\n    PAL_ARM_CONCURRENCY     = \"64\"\n", "app setting PAL_ARM_CONCURRENCY: handler/settings.json says Terraform does not set it"},
	{"variable default is not the handler's", "handler/settings.json", `"default": "30m",`, `"default": "31m",`, `var.pal_delegation_wait defaults to "30m", but the handler's default for PAL_DELEGATION_WAIT is "31m"`},
	{"setting the table drops", "handler/settings.json", `"name": "PAL_RELINK_FOREIGN",`, `"name": "PAL_RELINK_OTHER",`, "PAL_RELINK_OTHER (read by the handler, set by infra) has no row in the settings table"},
	// function.json ↔ infra ↔ docs.
	{"placeholder infra does not set", "functions/onboarding/function.json", `"%PAL_ONBOARDING_QUEUE%"`, `"%ONBOARDING_QUEUE_NAME%"`, "app setting ONBOARDING_QUEUE_NAME is missing"},
	{"connection infra does not set", "functions/onboarding/function.json", `"connection": "ServiceBusConnection"`, `"connection": "OnboardingBus"`, "app setting OnboardingBus__fullyQualifiedNamespace is missing"},
	{"undocumented default", "infra/variables.tf", `default     = "0 0 3 * * *"`, `default     = "0 0 4 * * *"`, `docs/operations.md documents PAL_SWEEP_SCHEDULE's default as "0 0 3 * * *"`},
	{"deploy steps out of order", "docs/deploy.md", "The steps, in order:", "Verify with `handler sweep`. The steps, in order:", `"handler sweep" is first named before "az deployment sub create"`},
	{"no rollback", "docs/deploy.md", "## Roll back", "## Undo", `nothing about "roll back"`},
	{"undocumented setting", "docs/operations.md", "| `PAL_RELINK_FOREIGN` |", "| `PAL_RELINK_OTHER` |", "PAL_RELINK_FOREIGN (read by the handler, set by infra) has no row in the settings table"},
	// .github/workflows.
	{"no OIDC token", ".github/workflows/deploy.yml", "  id-token: write # OIDC token for azure/login\n", "", "want id-token: write"},
	{"artifact deploy", ".github/workflows/deploy.yml", "      - name: Package (dist/functionapp.zip)\n        run: make package\n", "      - uses: actions/download-artifact@v4\n        with:\n          name: functionapp\n", "make package must run in the same job"},
	{"wrong package", ".github/workflows/deploy.yml", "package: dist/functionapp.zip", "package: .", `package = ".", want dist/functionapp.zip`},
	{"client secret", ".github/workflows/deploy.yml", "client-id: ${{ vars.AZURE_CLIENT_ID }}", "creds: ${{ secrets.AZURE_CREDENTIALS }}\n          client-id: ${{ vars.AZURE_CLIENT_ID }}", "creds is a client secret"},
	{"unpinned action", ".github/workflows/ci.yml", "actions/setup-go@v5", "actions/setup-go@main", `pin actions to a major version`},
	{"no package in CI", ".github/workflows/ci.yml", "        run: make package\n", "        run: echo skipped\n", "then runs make package"},
}

// TestMutations breaks one invariant at a time in a copy of the repository and
// checks that the checks catch it.
func TestMutations(t *testing.T) {
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			t.Parallel()
			root := copyRepo(t)
			path := filepath.Join(root, filepath.FromSlash(mu.file))
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(raw), mu.old); n != 1 {
				t.Fatalf("%s holds %q %d times, want once: update the mutation", mu.file, mu.old, n)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(raw), mu.old, mu.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			errs := CheckAll(root)
			for _, err := range errs {
				if strings.Contains(err.Error(), mu.want) {
					return
				}
			}
			t.Errorf("got %d problems, want one containing %q:\n%s", len(errs), mu.want, join(errs))
		})
	}
}

// TestEveryTerraformDirectoryParses: a new module anywhere under infra/ is
// at least syntax-checked.
func TestEveryTerraformDirectoryParses(t *testing.T) {
	root := copyRepo(t)
	extra := filepath.Join(root, "infra", "modules", "extra")
	if err := os.MkdirAll(extra, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(extra, "main.tf"), []byte("resource \"x\" \"y\" {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, err := range CheckAll(root) {
		if strings.Contains(err.Error(), filepath.Join("modules", "extra", "main.tf")) {
			return
		}
	}
	t.Error("a syntax error in infra/modules/extra/main.tf went unreported")
}

// TestDeployGuideRequired: docs/deploy.md must exist.
func TestDeployGuideRequired(t *testing.T) {
	root := copyRepo(t)
	if err := os.Remove(filepath.Join(root, "docs", "deploy.md")); err != nil {
		t.Fatal(err)
	}
	errs := CheckAll(root)
	found := false
	for _, err := range errs {
		found = found || strings.Contains(err.Error(), "docs/deploy.md: no deploy guide")
	}
	if !found {
		t.Errorf("without docs/deploy.md: got\n%s\nwant a problem about the missing guide", join(errs))
	}
}

// TestValidate evaluates variable validations directly: typed values, optional
// attributes with defaults, and the Terraform functions they use.
func TestValidate(t *testing.T) {
	m, err := LoadModule(filepath.Join(repoRoot, "infra", "lighthouse"))
	if err != nil {
		t.Fatal(err)
	}
	var p problems
	checkVariableCases(m, lighthouseVariableCases, &p)
	for _, err := range p {
		t.Error(err)
	}
	if _, err := m.Validate("no_such_variable", cty.StringVal("x")); err == nil {
		t.Error("Validate(no_such_variable): got no error, want one")
	}
}

// TestDirect runs the direct-mode checks alone on the repository.
func TestDirect(t *testing.T) {
	dir := filepath.Join(repoRoot, "infra", "direct")
	for _, err := range append(CheckDirectModule(dir), CheckDirectTemplate(filepath.Join(dir, "direct.json"))...) {
		t.Error(err)
	}
}

func TestISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means invalid
	}{
		{"PT1M", "1m0s"},
		{"PT10M", "10m0s"},
		{"P7D", "168h0m0s"},
		{"P1DT2H3M4S", "26h3m4s"},
		{"PT30S", "30s"},
		{"P", ""},
		{"PT", ""},
		{"10 minutes", ""},
		{"00:10:00", ""},
	}
	for _, tt := range tests {
		d, ok := isoDuration(tt.in)
		got := ""
		if ok {
			got = d.String()
		}
		if got != tt.want {
			t.Errorf("isoDuration(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// copyRepo copies the files the checks read into a temporary directory.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"infra", "functions", ".github", "docs"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".terraform" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(root, rel), 0o755)
			}
			return copyFile(path, filepath.Join(root, rel))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"README.md", "host.json", filepath.Join("handler", "settings.json"), "Makefile", "go.mod", filepath.Join(".ci", "run")} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(filepath.Join(repoRoot, f), filepath.Join(root, f)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func copyFile(src, dst string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, raw, 0o644)
}

func join(errs []error) string {
	var b strings.Builder
	for _, err := range errs {
		b.WriteString("  " + err.Error() + "\n")
	}
	return b.String()
}
