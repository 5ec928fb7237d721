# Customer side of pal-keeper direct mode: run with credentials of the
# customer's tenant.
terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.58"
    }
  }
}
