# The customer-side Lighthouse delegation as a Terraform module: the same
# registration definition and assignment as lighthouse.json. The caller passes an
# azurerm provider signed in to the CUSTOMER's tenant as a non-guest account that
# may create role assignments on the subscription (e.g. Owner); see example/.

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}
