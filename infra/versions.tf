# pal-keeper infrastructure: the function app and everything it needs, in the
# partner's (managing) tenant. See infra/DEPLOY-SECTION.md (README "Deploy").

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      # 4.58.0 is the first release that accepts a maximum_instance_count below
      # 40 on azurerm_function_app_flex_consumption (the range went from 40-1000
      # to 1-1000: https://github.com/hashicorp/terraform-provider-azurerm/pull/31392),
      # which the preview regions of lower maximums need (variables.tf).
      version = "~> 4.58"
    }
    # azapi_resource_action.app_settings (main.tf): the app settings without
    # the key-based AzureWebJobsStorage azurerm writes on Flex apps.
    azapi = {
      source  = "azure/azapi"
      version = "~> 2.0"
    }
    # The app registration of PAL_IDENTITY=app/direct (identity.tf).
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
  }

  # State is local by default. For a team, keep it in a storage account with
  # Entra ID auth, e.g. a backend.tf holding:
  #   terraform { backend "azurerm" { use_azuread_auth = true } }
  # and `terraform init -backend-config=...` (see the README, "Deploy").
}

provider "azurerm" {
  features {}

  subscription_id = var.subscription_id

  # Shared keys are off on the storage account (shared_access_key_enabled = false),
  # so every data-plane call the provider makes must use Entra ID.
  storage_use_azuread = true
}

# Entra ID, in the tenant Terraform signs in to: the managing tenant.
provider "azuread" {}

# ARM, as the same signed-in identity, for the one call azurerm cannot make.
provider "azapi" {
  subscription_id = var.subscription_id
}
