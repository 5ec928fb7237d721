# Group memberships from Microsoft Graph (PAL_GRAPH_MEMBERSHIP, docs/operations.md
# "Delegations to groups"): with pal_graph_membership the identity that acts is
# granted Graph's Application.Read.All application permission, the least
# privileged one for GET /servicePrincipals/{id}/transitiveMemberOf. Granting
# an application permission needs an Entra role that may consent to it
# (Privileged Role Administrator, or Global Administrator) for whoever applies.

locals {
  # The principal the delegations name and whose memberships are read.
  acting_principal_id = local.use_app ? azuread_service_principal.pal[0].object_id : azurerm_user_assigned_identity.func.principal_id
}

data "azuread_application_published_app_ids" "well_known" {
  count = var.pal_graph_membership ? 1 : 0
}

data "azuread_service_principal" "msgraph" {
  count     = var.pal_graph_membership ? 1 : 0
  client_id = data.azuread_application_published_app_ids.well_known[0].result["MicrosoftGraph"]
}

resource "azuread_app_role_assignment" "graph_membership" {
  count               = var.pal_graph_membership ? 1 : 0
  app_role_id         = data.azuread_service_principal.msgraph[0].app_role_ids["Application.Read.All"]
  principal_object_id = local.acting_principal_id
  resource_object_id  = data.azuread_service_principal.msgraph[0].object_id

  lifecycle {
    precondition {
      condition     = var.pal_identity != "direct"
      error_message = "pal_graph_membership is for Lighthouse (pal_identity managedidentity or app), not direct mode."
    }
  }
}

variable "pal_graph_membership" {
  type        = bool
  description = "PAL_GRAPH_MEMBERSHIP: grant the identity that acts (the managed identity, or the app's service principal with pal_identity = app) Microsoft Graph's Application.Read.All application permission and let pal-keeper read its group memberships (transitiveMemberOf), so delegations that authorize Entra groups are judged exactly. false judges them from ARM alone (effective permissions; a role also granted just-in-time is then unverifiable). Not for pal_identity = direct."
  default     = false
}

variable "pal_graph_endpoint" {
  type        = string
  description = "PAL_GRAPH_ENDPOINT: Microsoft Graph base URL override; empty means the cloud's own. Leave empty in production."
  default     = ""

  validation {
    condition     = var.pal_graph_endpoint == "" || can(regex("^https://[^/\\s]+", var.pal_graph_endpoint))
    error_message = "pal_graph_endpoint must be empty or an https URL."
  }
}
