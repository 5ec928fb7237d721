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

# Service Bus: Azure Service Bus Data Owner on each queue a function is triggered by,
# and nothing on the namespace. The triggers receive, complete and abandon; the
# handler sends retry copies and sweep work items (docs/contracts.md, "Failure
# semantics"); and the Flex scale controller reads each queue's runtime
# properties (its message count) with this identity. Reading them needs the
# Manage right, which among the Service Bus data roles only Data Owner holds:
# with Data Receiver alone the scaler cannot count the queue, logs "does not
# have Manage claim", and falls back to the first message's age (one message
# at a time) instead of scaling to the backlog (ServiceBusMetricsProvider in
# Azure/azure-sdk-for-net; the Functions Service Bus docs list Data Receiver
# and Data Owner for the trigger; docs/reference.md, "Flex Consumption scale").
# Data Owner includes send and receive, so no Receiver or Sender besides it.
# Scoped to the queue it gives no right on any other entity.
resource "azurerm_role_assignment" "queue_owner" {
  scope                = azurerm_servicebus_queue.onboarding.id
  role_definition_name = "Azure Service Bus Data Owner"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: the onboarding trigger, its retry copies and the scale controller's message count"
}

resource "azurerm_role_assignment" "sweep_queue_owner" {
  scope                = azurerm_servicebus_queue.sweep.id
  role_definition_name = "Azure Service Bus Data Owner"
  principal_id         = azurerm_user_assigned_identity.func.principal_id
  principal_type       = "ServicePrincipal"
  description          = "pal-keeper: sweep work items, the sweep-check trigger and the scale controller's message count"
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
