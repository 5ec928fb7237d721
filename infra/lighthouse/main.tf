# Customer side: delegate one subscription to the partner's tenant with Azure
# Lighthouse. pal-keeper's identity gets a permanent (authorization, not
# eligible_authorization) PEC-eligible built-in role, which is what makes the
# partner's Partner Admin Link credit this subscription.

locals {
  registration_assignment_delete_role = "91c1777a-f3dc-4fae-b103-61d183457e46"

  delete_principal_id           = coalesce(var.registration_delete_principal_id, var.pal_keeper_principal_id)
  delete_principal_display_name = var.registration_delete_principal_id == null ? var.pal_keeper_principal_display_name : var.registration_delete_principal_display_name
}

resource "azurerm_lighthouse_definition" "pal_keeper" {
  # The same delegation ID for the same tenant, subscription and offer, so a
  # re-apply after a lost state finds the existing definition.
  lighthouse_definition_id = uuidv5("url", "https://github.com/pal-keeper/pal-keeper/lighthouse/${lower(var.managing_tenant_id)}/${lower(var.subscription_id)}/${var.offer_name}")

  name               = var.offer_name
  description        = var.offer_description
  managing_tenant_id = var.managing_tenant_id
  scope              = "/subscriptions/${var.subscription_id}"

  # pal-keeper's identity: the PEC-eligible role, permanently.
  authorization {
    principal_id           = var.pal_keeper_principal_id
    principal_display_name = var.pal_keeper_principal_display_name
    role_definition_id     = var.pal_keeper_role_definition_id
  }

  # Who may remove the delegation from the partner's side. By default that is
  # pal-keeper's identity: the role's registrationAssignments/read also lets it
  # read this delegation, which Support Request Contributor alone may not (ARM
  # answers 403; pal-keeper then infers its roles from its effective permissions).
  authorization {
    principal_id           = local.delete_principal_id
    principal_display_name = local.delete_principal_display_name
    role_definition_id     = local.registration_assignment_delete_role
  }

  # The partner's people.
  dynamic "authorization" {
    for_each = var.additional_authorizations
    content {
      principal_id                  = authorization.value.principal_id
      principal_display_name        = authorization.value.principal_display_name
      role_definition_id            = authorization.value.role_definition_id
      delegated_role_definition_ids = length(authorization.value.delegated_role_definition_ids) > 0 ? authorization.value.delegated_role_definition_ids : null
    }
  }
}

resource "azurerm_lighthouse_assignment" "pal_keeper" {
  scope                    = azurerm_lighthouse_definition.pal_keeper.scope
  lighthouse_definition_id = azurerm_lighthouse_definition.pal_keeper.id
}
