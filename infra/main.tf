# pal-keeper in the partner's (managing) tenant: one Flex Consumption function app
# running the Go custom handler, its user-assigned managed identity, the
# onboarding queue, host storage and monitoring. No keys or connection strings:
# every connection is identity-based (AzureWebJobsStorage__*, ServiceBusConnection__*,
# Application Insights with Entra ID).

locals {
  # The regions where Flex Consumption lets maximum_instance_count go below 40,
  # as a preview (azure-functions-host#10523, 2026-01-05: "West Europe,
  # Australia East, and West US 2"); everywhere else the lowest maximum is 40
  # (learn.microsoft.com azure-functions flex-consumption-plan, "Scale").
  flex_low_maximum_regions = ["westeurope", "australiaeast", "westus2"]

  # Suffix for the names that must be globally unique (storage account, Service Bus
  # namespace, function app): stable for a subscription and base name.
  suffix = substr(sha256("${var.subscription_id}/${var.name}"), 0, 6)

  # Host name suffix of Service Bus namespaces in each cloud PAL_CLOUD names.
  servicebus_suffix = {
    AzurePublic       = "servicebus.windows.net"
    AzureUSGovernment = "servicebus.usgovcloudapi.net"
    AzureChina        = "servicebus.chinacloudapi.cn"
  }[var.pal_cloud]

  servicebus_fqdn = "${azurerm_servicebus_namespace.main.name}.${local.servicebus_suffix}"
}

resource "azurerm_resource_group" "main" {
  name     = "rg-${var.name}"
  location = var.location
  tags     = var.tags
}

# The function's identity. Its principal (object) ID is what every customer's
# Lighthouse delegation names (infra/lighthouse), and what the Partner Admin Link
# belongs to; its client ID is what the app settings name (AZURE_CLIENT_ID, __clientId).
resource "azurerm_user_assigned_identity" "func" {
  name                = "id-${var.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  tags                = var.tags
}

# --- host storage and the deployment container -------------------------------------

resource "azurerm_storage_account" "host" {
  name                     = "st${var.name}${local.suffix}"
  resource_group_name      = azurerm_resource_group.main.name
  location                 = azurerm_resource_group.main.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "LRS"

  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  shared_access_key_enabled       = false # Entra ID only: the host and the deployment use the managed identity
  default_to_oauth_authentication = true
  allow_nested_items_to_be_public = false

  tags = var.tags
}

# Flex Consumption runs the app from a package in this container; the platform
# reads it with the user-assigned identity (storage_authentication_type below).
resource "azurerm_storage_container" "deployment" {
  name                  = "app-package"
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
}

# --- monitoring, Entra ID auth only ---------------------------------------------------

resource "azurerm_log_analytics_workspace" "main" {
  name                         = "log-${var.name}-${local.suffix}"
  resource_group_name          = azurerm_resource_group.main.name
  location                     = azurerm_resource_group.main.location
  sku                          = "PerGB2018"
  retention_in_days            = var.log_retention_in_days
  local_authentication_enabled = false
  tags                         = var.tags
}

resource "azurerm_application_insights" "main" {
  name                = "appi-${var.name}-${local.suffix}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  application_type    = "other"
  workspace_id        = azurerm_log_analytics_workspace.main.id

  # Telemetry is accepted only with an Entra ID token: the host sends it as the
  # managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below, role
  # Monitoring Metrics Publisher in roles.tf).
  local_authentication_disabled = true

  tags = var.tags
}

# --- Service Bus: the onboarding queue ------------------------------------------------

resource "azurerm_servicebus_namespace" "main" {
  name                = "sb-${var.name}-${local.suffix}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location

  # Standard, not Basic: Basic has no duplicate detection and no scheduled
  # messages (the handler may schedule a delayed retry copy).
  sku                 = "Standard"
  local_auth_enabled  = false # no SAS keys: senders and the trigger use Entra ID
  minimum_tls_version = "1.2"

  tags = var.tags
}

resource "azurerm_servicebus_queue" "onboarding" {
  name         = var.pal_onboarding_queue
  namespace_id = azurerm_servicebus_namespace.main.id

  # 5 deliveries, then the dead-letter queue. Transient trouble (ARM 429/5xx,
  # token endpoint down) does not spend deliveries: the handler completes the
  # message and schedules a copy honouring Retry-After, up to PAL_MAX_ATTEMPTS
  # copies. Redelivery is left for what scheduling cannot cover: bad input
  # (malformed, unknown field, partner ID not allowed), which fails the same way
  # every time and should reach the dead-letter queue intact after a few fast,
  # write-free attempts; the last attempt after PAL_MAX_ATTEMPTS; an instance that
  # died mid-invocation; a failed schedule. Five covers a crash and a hiccup
  # without keeping a poison message around. Onboarding is idempotent (the link
  # is read before any write), so a redelivery never double-writes. The handler
  # reads it as PAL_ONBOARDING_MAX_DELIVERY_COUNT (the app settings below).
  max_delivery_count = 5

  # 1 minute. The host renews the lock for up to host.json's
  # maxAutoLockRenewalDuration (15 min, longer than functionTimeout), so a long
  # invocation keeps its message; the lock duration only decides how soon a
  # message held by an instance that died (or was scaled in) comes back.
  lock_duration = "PT1M"

  # 7 days. An onboarding request that has not run in a week is stale (the nightly
  # sweep judges every subscription anyway), but it should not vanish: expired
  # messages go to the dead-letter queue, where they can be inspected and resubmitted.
  default_message_ttl                  = "P7D"
  dead_lettering_on_message_expiration = true

  # Duplicate detection over 10 minutes: a sender that retries after a timeout
  # (same MessageId) and a portal form submitted twice (POST /api/links?async=true
  # uses a hash of the request as MessageId) run once. The handler's scheduled
  # retry copies carry their own IDs (<original>/attempt-N), so the window only
  # drops a repeated schedule of the same attempt. The work is idempotent, so the
  # window only has to cover resends; a longer one costs throughput for nothing.
  # (requires_duplicate_detection cannot be changed in place: changing it replaces
  # the queue and drops its messages.)
  requires_duplicate_detection            = true
  duplicate_detection_history_time_window = "PT10M"

  requires_session           = false # function.json: isSessionsEnabled false
  partitioning_enabled       = false
  batched_operations_enabled = true
  max_size_in_megabytes      = 1024
}

# The work queue of the distributed sweep: the timer function (coordinator) sends
# one "check" work item per batch of a tenant's subscriptions; sweep-check judges
# them (docs/contracts.md, "Sweep work items").
resource "azurerm_servicebus_queue" "sweep" {
  name         = var.pal_sweep_queue
  namespace_id = azurerm_servicebus_namespace.main.id

  # 10 deliveries (Service Bus's default), passed to the handler as
  # PAL_SWEEP_MAX_DELIVERY_COUNT: on the last one a failing work item is counted
  # as failed in its run, with its reason, before it dead-letters. Transient
  # trouble schedules copies instead.
  max_delivery_count = 10

  # 1 minute, as for onboarding: the host renews the lock while an item is judged.
  lock_duration = "PT1M"

  # A work item older than a day belongs to a run the next nightly sweep replaces;
  # it dead-letters (inspectable) rather than vanishing.
  default_message_ttl                  = "P1D"
  dead_lettering_on_message_expiration = true

  # The coordinator's MessageIds are <runId>/<tenantId>/<item>: a resent batch
  # after a timeout is dropped. Workers count each item once anyway.
  requires_duplicate_detection            = true
  duplicate_detection_history_time_window = "PT10M"

  requires_session           = false # function.json: isSessionsEnabled false
  partitioning_enabled       = false
  batched_operations_enabled = true
  max_size_in_megabytes      = 1024
}

# --- the function app -------------------------------------------------------------------

resource "azurerm_service_plan" "main" {
  name                = "asp-${var.name}-${local.suffix}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  os_type             = "Linux"
  sku_name            = "FC1" # Flex Consumption
  tags                = var.tags
}

resource "azurerm_function_app_flex_consumption" "main" {
  name                = "func-${var.name}-${local.suffix}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  service_plan_id     = azurerm_service_plan.main.id

  # The Go custom handler: Flex runs it as the "custom" stack. No
  # FUNCTIONS_WORKER_RUNTIME or FUNCTIONS_EXTENSION_VERSION app settings on Flex.
  runtime_name    = "custom"
  runtime_version = "1.0"

  storage_container_type            = "blobContainer"
  storage_container_endpoint        = "${azurerm_storage_account.host.primary_blob_endpoint}${azurerm_storage_container.deployment.name}"
  storage_authentication_type       = "UserAssignedIdentity"
  storage_user_assigned_identity_id = azurerm_user_assigned_identity.func.id

  maximum_instance_count = var.maximum_instance_count
  instance_memory_in_mb  = var.instance_memory_in_mb

  https_only = true
  # Deployments authenticate with Entra ID (OIDC in CI, az login by hand): no
  # publishing basic-auth credentials.
  webdeploy_publish_basic_authentication_enabled = false

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.func.id]
  }

  site_config {
    application_insights_connection_string = azurerm_application_insights.main.connection_string
    minimum_tls_version                    = "1.2"
  }

  app_settings = {
    # Host storage, identity-based: no AzureWebJobsStorage setting at all (an
    # empty one breaks the host's start, azure-functions-host#11796). azurerm
    # 4.58 still writes a key-based AzureWebJobsStorage on every create and
    # update and strips it on read (terraform-provider-azurerm#29149, #33211), so
    # azapi_resource_action.app_settings below puts the app settings back
    # without it.
    AzureWebJobsStorage__blobServiceUri  = azurerm_storage_account.host.primary_blob_endpoint
    AzureWebJobsStorage__queueServiceUri = azurerm_storage_account.host.primary_queue_endpoint
    AzureWebJobsStorage__tableServiceUri = azurerm_storage_account.host.primary_table_endpoint
    AzureWebJobsStorage__credential      = "managedidentity"
    AzureWebJobsStorage__clientId        = azurerm_user_assigned_identity.func.client_id

    APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "ClientId=${azurerm_user_assigned_identity.func.client_id};Authorization=AAD"

    # The trigger's connection "ServiceBusConnection" (functions/onboarding/function.json),
    # identity-based; the handler also reads the namespace to send retry copies.
    ServiceBusConnection__fullyQualifiedNamespace = local.servicebus_fqdn
    ServiceBusConnection__credential              = "managedidentity"
    ServiceBusConnection__clientId                = azurerm_user_assigned_identity.func.client_id

    # The handler's settings (README "Settings"). The host itself resolves
    # %PAL_ONBOARDING_QUEUE% and %PAL_SWEEP_SCHEDULE% in function.json from these
    # app settings, so both must be set here: the handler's defaults do not reach the host.
    AZURE_CLIENT_ID         = azurerm_user_assigned_identity.func.client_id
    PAL_PARTNER_ID          = var.pal_partner_id
    PAL_ALLOWED_PARTNER_IDS = join(",", var.pal_allowed_partner_ids)
    PAL_RELINK_FOREIGN      = tostring(var.pal_relink_foreign)
    PAL_CREDENTIAL          = var.pal_credential
    PAL_CLOUD               = var.pal_cloud
    PAL_ARM_ENDPOINT        = var.pal_arm_endpoint
    PAL_GRAPH_MEMBERSHIP    = tostring(var.pal_graph_membership)
    PAL_GRAPH_ENDPOINT      = var.pal_graph_endpoint
    PAL_ONBOARDING_QUEUE    = azurerm_servicebus_queue.onboarding.name
    PAL_SWEEP_QUEUE         = azurerm_servicebus_queue.sweep.name
    PAL_SWEEP_SCHEDULE      = var.pal_sweep_schedule
    PAL_MAX_ATTEMPTS        = tostring(var.pal_max_attempts)
    PAL_DELEGATION_WAIT     = var.pal_delegation_wait
    PAL_INVOCATION_TIMEOUT  = var.pal_invocation_timeout
    PAL_HTTP_ROLE           = var.pal_http_role
    PAL_IDENTITY            = var.pal_identity
    PAL_APP_CLIENT_ID       = local.use_app ? azuread_application.pal[0].client_id : ""
    PAL_DIRECT_TENANTS      = join(",", var.pal_direct_tenants)

    # Each queue's max_delivery_count, so the handler knows its last delivery.
    PAL_ONBOARDING_MAX_DELIVERY_COUNT = tostring(azurerm_servicebus_queue.onboarding.max_delivery_count)
    PAL_SWEEP_MAX_DELIVERY_COUNT      = tostring(azurerm_servicebus_queue.sweep.max_delivery_count)

    # The compliance record (internal/record): tables in the host storage
    # account, where the identity holds Storage Table Data Contributor
    # (roles.tf). The handler would default to AzureWebJobsStorage__tableServiceUri;
    # set explicitly so the record's home is visible here.
    PAL_RECORD_TABLE_URL = azurerm_storage_account.host.primary_table_endpoint
  }

  tags = var.tags

  lifecycle {
    # Flex Consumption refuses a maximum below 40 except as a preview in a few
    # regions (variables.tf, local.flex_low_maximum_regions).
    precondition {
      condition     = var.maximum_instance_count >= 40 || contains(local.flex_low_maximum_regions, var.location)
      error_message = "maximum_instance_count must be at least 40 (Flex Consumption's lowest maximum); lower values are a preview only in westeurope, australiaeast and westus2."
    }
  }

  # The host must be able to reach its storage, queue and telemetry from its
  # first start: create the role assignments before the app.
  depends_on = [
    azurerm_role_assignment.host_storage_blob,
    azurerm_role_assignment.host_storage_table,
    azurerm_role_assignment.queue_owner,
    azurerm_role_assignment.sweep_queue_owner,
    azurerm_role_assignment.metrics_publisher,
  ]
}

# The app settings as they must be: exactly the function app's app_settings
# (and the Application Insights connection string the provider writes from
# site_config), without the key-based AzureWebJobsStorage that azurerm 4.58
# writes on every create and update of a Flex app
# (terraform-provider-azurerm#29149, #30732, #33211: it builds the setting
# from storage_access_key even with identity-based storage, and drops it from
# app_settings on read, so a value set in app_settings never converges). PUT
# replaces the whole dictionary; it runs again whenever the app is updated
# (replace_triggered_by), so the key-based value never stays. A second plan
# shows no change: the provider's read strips AzureWebJobsStorage, and this
# body is unchanged.
resource "azapi_resource_action" "app_settings" {
  type        = "Microsoft.Web/sites/config@2024-04-01"
  resource_id = "${azurerm_function_app_flex_consumption.main.id}/config/appsettings"
  method      = "PUT"
  body = {
    properties = merge(azurerm_function_app_flex_consumption.main.app_settings, {
      APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.main.connection_string
    })
  }

  lifecycle {
    replace_triggered_by = [azurerm_function_app_flex_consumption.main]
  }
}
