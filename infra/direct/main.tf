# pal-keeper direct mode, customer side: a permanent PEC-eligible built-in role
# for the partner's multi-tenant app on one subscription. Run it in the
# CUSTOMER's tenant after an administrator granted the app admin consent
# (https://login.microsoftonline.com/<tenant>/adminconsent?client_id=<app>),
# which created the service principal this assigns the role to.

resource "azurerm_role_assignment" "pal_keeper" {
  scope              = "/subscriptions/${var.subscription_id}"
  role_definition_id = "/subscriptions/${var.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/${var.pal_keeper_role_definition_id}"
  principal_id       = var.pal_keeper_service_principal_id
  principal_type     = "ServicePrincipal"
  description        = "pal-keeper (Partner Admin Link, direct mode): permanent PEC-eligible role of the partner's app"
}
