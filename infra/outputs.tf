# What the next steps need: the Lighthouse template (principal ID, managing
# tenant), the deploy workflow (app name), and verification (host name).

output "identity_principal_id" {
  description = "Principal (object) ID of the function's managed identity: the palKeeperPrincipalId every customer's Lighthouse delegation names. Not the client ID."
  value       = azurerm_user_assigned_identity.func.principal_id
}

output "identity_client_id" {
  description = "Client ID of the function's managed identity (AZURE_CLIENT_ID, __clientId)."
  value       = azurerm_user_assigned_identity.func.client_id
}

output "managing_tenant_id" {
  description = "The partner's (managing) tenant: managedByTenantId in the Lighthouse template."
  value       = azurerm_user_assigned_identity.func.tenant_id
}

output "resource_group_name" {
  description = "Resource group holding pal-keeper."
  value       = azurerm_resource_group.main.name
}

output "function_app_name" {
  description = "Name of the function app (AZURE_FUNCTIONAPP_NAME of the deploy workflow)."
  value       = azurerm_function_app_flex_consumption.main.name
}

output "function_app_default_hostname" {
  description = "Host name of the function app: https://<host>/api/links."
  value       = azurerm_function_app_flex_consumption.main.default_hostname
}

output "servicebus_namespace" {
  description = "Name of the Service Bus namespace holding the onboarding queue."
  value       = azurerm_servicebus_namespace.main.name
}

output "servicebus_namespace_fqdn" {
  description = "Fully qualified namespace (ServiceBusConnection__fullyQualifiedNamespace) that senders of onboarding messages connect to."
  value       = local.servicebus_fqdn
}

output "onboarding_queue_name" {
  description = "The onboarding queue (PAL_ONBOARDING_QUEUE)."
  value       = azurerm_servicebus_queue.onboarding.name
}

output "app_client_id" {
  description = "PAL_IDENTITY=app/direct: the app registration's client ID (PAL_APP_CLIENT_ID; in direct mode, the client_id of the admin-consent URL). Empty for managedidentity."
  value       = local.use_app ? azuread_application.pal[0].client_id : ""
}

output "app_service_principal_object_id" {
  description = "PAL_IDENTITY=app: the app's service principal object ID in the managing tenant: the principalId the customers' Lighthouse delegations name (instead of the managed identity's). Empty for managedidentity."
  value       = local.use_app ? azuread_service_principal.pal[0].object_id : ""
}
