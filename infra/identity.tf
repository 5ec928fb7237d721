# Who acts (PAL_IDENTITY, docs/identities.md): the function's user-assigned
# identity itself (managedidentity), or an app registration that trusts that
# identity as a federated identity credential, so the function acts as the
# app's service principal with no secret anywhere: in the managing tenant
# (app, Lighthouse) or in each consenting customer tenant (direct).

variable "pal_identity" {
  type        = string
  description = "PAL_IDENTITY: managedidentity (the function's identity is linked and delegated to), app (an app registration trusting it, in the managing tenant, Lighthouse) or direct (a multi-tenant app consented in each customer tenant, no Lighthouse)."
  default     = "managedidentity"

  validation {
    condition     = contains(["managedidentity", "app", "direct"], var.pal_identity)
    error_message = "pal_identity must be managedidentity, app or direct."
  }
}

variable "pal_direct_tenants" {
  type        = list(string)
  description = "PAL_DIRECT_TENANTS: customer tenant IDs every sweep covers in direct mode (besides those the compliance record knows)."
  default     = []

  validation {
    condition     = alltrue([for t in var.pal_direct_tenants : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", t))])
    error_message = "pal_direct_tenants must be tenant GUIDs."
  }
}

locals {
  use_app = var.pal_identity != "managedidentity"

  # The token-exchange audience of each cloud: the managed identity's token for
  # it is the app's client assertion.
  exchange_audience = {
    AzurePublic       = "api://AzureADTokenExchange"
    AzureUSGovernment = "api://AzureADTokenExchangeUSGov"
    AzureChina        = "api://AzureADTokenExchangeChina"
  }[var.pal_cloud]

  # The issuer host of the managed identity's tokens in each cloud: what the
  # federated credential names (<host>/<tenant>/v2.0). In Azure China it is
  # not the authority host login.chinacloudapi.cn (docs/reference.md, "Entra
  # ID: the app's token"); azure.FederatedIssuerHost is the same map.
  federated_issuer_host = {
    AzurePublic       = "https://login.microsoftonline.com"
    AzureUSGovernment = "https://login.microsoftonline.us"
    AzureChina        = "https://login.partner.microsoftonline.cn"
  }[var.pal_cloud]
}

data "azuread_client_config" "current" {}

# The app registration. Multi-tenant only in direct mode: there it must be
# consented (provisioned) in each customer tenant.
resource "azuread_application" "pal" {
  count            = local.use_app ? 1 : 0
  display_name     = "pal-keeper ${var.name}"
  sign_in_audience = var.pal_identity == "direct" ? "AzureADMultipleOrgs" : "AzureADMyOrg"
  owners           = [data.azuread_client_config.current.object_id]

  # ARM user_impersonation: what admin consent in a customer tenant grants.
  required_resource_access {
    resource_app_id = "797f4846-ba00-4fd7-ba43-dac1f8f63013" # Azure Service Management

    resource_access {
      id   = "41094075-9dad-400e-a0bd-54e686782033" # user_impersonation
      type = "Scope"
    }
  }
}

# The app's service principal in the managing tenant: in app mode, what the
# Lighthouse delegations name and what is linked, once.
resource "azuread_service_principal" "pal" {
  count     = local.use_app ? 1 : 0
  client_id = azuread_application.pal[0].client_id
  owners    = [data.azuread_client_config.current.object_id]
}

# The federated credential trusting the function's user-assigned identity
# (a system-assigned identity cannot be one). A wrong issuer, subject or
# audience is accepted here and only fails at the exchange (AADSTS700211,
# 700213, 700212).
resource "azuread_application_federated_identity_credential" "function" {
  count          = local.use_app ? 1 : 0
  application_id = azuread_application.pal[0].id
  display_name   = "pal-keeper-function"
  description    = "The pal-keeper function's user-assigned managed identity"
  issuer         = "${local.federated_issuer_host}/${azurerm_user_assigned_identity.func.tenant_id}/v2.0"
  subject        = azurerm_user_assigned_identity.func.principal_id
  audiences      = [local.exchange_audience]
}
