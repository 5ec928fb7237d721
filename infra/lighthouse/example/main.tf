# Example root configuration a customer applies in THEIR tenant to delegate one
# subscription to the partner running pal-keeper:
#   az login --tenant <customer tenant>
#   terraform init && terraform apply -var subscription_id=<subscription> -var customer_tenant_id=<tenant>

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

variable "subscription_id" {
  type        = string
  description = "The customer subscription to delegate."
}

variable "customer_tenant_id" {
  type        = string
  description = "The customer's tenant (the provider signs in there)."
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  tenant_id       = var.customer_tenant_id
}

module "pal_keeper_delegation" {
  source = "../"

  subscription_id = var.subscription_id

  # From the partner: terraform output of infra/.
  managing_tenant_id      = "c0000000-0000-4000-8000-000000000001" # managing_tenant_id
  pal_keeper_principal_id = "c2000000-0000-4000-8000-000000000001" # identity_principal_id (NOT the client ID)

  pal_keeper_role_definition_id    = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e" # Support Request Contributor
  registration_delete_principal_id = "c3000000-0000-4000-8000-000000000001"

  additional_authorizations = [
    {
      principal_id           = "c3000000-0000-4000-8000-000000000002"
      principal_display_name = "Contoso MSP operations engineers"
      role_definition_id     = "b24988ac-6180-42a0-ab88-20f7382dd24c" # Contributor
    },
  ]
}

output "lighthouse_assignment_id" {
  value = module.pal_keeper_delegation.lighthouse_assignment_id
}
