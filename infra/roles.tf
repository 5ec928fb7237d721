# Least-privilege role assignments of the function's identity, each on the
# narrowest scope that works. The identity needs no role for the Partner Admin
# Link itself (the Management Partner API acts on the caller) and gets its reach
# into customer subscriptions only from their Lighthouse delegations.

# Host storage (AzureWebJobsStorage): host keys, timer singleton locks and
# listener leases live in blobs, and Flex reads the deployment package from the
# app-package container. Blob Data Owner is the role the Functions host documents
# for an identity-based AzureWebJobsStorage.
resource "azurerm_role_assignment" "host_storage_blob" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: Functions host storage and the Flex deployment package"
}

# The host writes its diagnostic events to Table storage (AZFD0003 otherwise),
# and the handler keeps its compliance record there (PAL_RECORD_TABLE_URL: the
# table "palrecord", created on first use): read, insert, update, create table;
# no keys, no SAS, no management rights. No Storage Queue role: queues in host storage are used only by blob triggers
# and Durable Functions, which pal-keeper does not have.
resource "azurerm_role_assignment" "host_storage_table" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Table Data Contributor"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: Functions host diagnostic events and the compliance record"
}

# The onboarding trigger receives, completes and abandons messages on this one queue.
# (Without Manage rights the Service Bus scaler estimates backlog from the oldest
# message instead of the queue length; fine for onboarding volumes, and far less
# than Data Owner on the namespace.)
resource "azurerm_role_assignment" "queue_receiver" {
  scope                = azurerm_servicebus_queue.onboarding.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: the onboarding trigger"
}

# The handler may schedule a delayed copy of a message that hit transient trouble
# (docs/contracts.md, "Failure semantics"): send on the same queue only.
resource "azurerm_role_assignment" "queue_sender" {
  scope                = azurerm_servicebus_queue.onboarding.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: delayed retry copies of onboarding messages"
}

# The distributed sweep: the coordinator sends work items and the workers schedule
# retry copies (Sender); the sweep-check trigger receives them (Receiver). This one
# queue only.
resource "azurerm_role_assignment" "sweep_queue_sender" {
  scope                = azurerm_servicebus_queue.sweep.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: sweep work items and their retry copies"
}

resource "azurerm_role_assignment" "sweep_queue_receiver" {
  scope                = azurerm_servicebus_queue.sweep.id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: the sweep-check trigger"
}

# Application Insights accepts only Entra ID-authenticated telemetry
# (local_authentication_disabled): the host sends it as this identity.
resource "azurerm_role_assignment" "metrics_publisher" {
  scope                = azurerm_application_insights.main.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: telemetry with Entra ID auth"
}

# Optional: the CI/CD identity may deploy packages to this one app (OneDeploy
# through Azure/functions-action with OIDC) and nothing else.
resource "azurerm_role_assignment" "deployer" {
  count                = var.deployer_principal_id == null ? 0 : 1
  scope                = azurerm_function_app_flex_consumption.main.id
  role_definition_name = "Website Contributor"
  principal_id         = var.deployer_principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: CI/CD package deployment"
}
