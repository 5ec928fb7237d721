# Inputs of the customer-side Lighthouse module. The partner fills in its tenant
# and pal-keeper's principal ID (terraform outputs of infra/); the customer picks
# the subscription.

variable "subscription_id" {
  type        = string
  description = "The customer subscription to delegate."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "managing_tenant_id" {
  type        = string
  description = "The partner's (managing) tenant ID: terraform output managing_tenant_id of infra/."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.managing_tenant_id))
    error_message = "managing_tenant_id must be a tenant GUID."
  }
}

variable "pal_keeper_principal_id" {
  type        = string
  description = "Principal (object) ID of pal-keeper's managed identity: terraform output identity_principal_id of infra/. Not its client ID."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.pal_keeper_principal_id))
    error_message = "pal_keeper_principal_id must be an object ID (GUID)."
  }
}

variable "pal_keeper_principal_display_name" {
  type        = string
  description = "Display name of pal-keeper's identity as the customer sees it."
  default     = "pal-keeper (Partner Admin Link automation)"
}

variable "pal_keeper_role_definition_id" {
  type        = string
  description = "PEC-eligible built-in role of pal-keeper's identity, as a permanent authorization: Support Request Contributor (cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e, the default) or Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c). To read its own delegation the identity needs Microsoft.ManagedServices/registrationAssignments/read: Contributor grants it, Support Request Contributor does not, and the Managed Services Registration assignment Delete Role does (the identity holds it when registration_delete_principal_id is null, the default). Without it pal-keeper infers the identity's roles from its effective permissions; a permission set that matches no built-in role is reported unverifiable."
  default     = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"

  validation {
    condition     = contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c"], lower(var.pal_keeper_role_definition_id))
    error_message = "pal_keeper_role_definition_id must be Support Request Contributor (cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e) or Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c): Owner cannot be delegated, and Reader-type roles earn no partner credit."
  }
}

variable "registration_delete_principal_id" {
  type        = string
  description = "Object ID (managing tenant) that gets the Managed Services Registration assignment Delete Role, so the partner can remove the delegation. null (the default): pal-keeper's identity, which also lets it read its own delegation (Microsoft.ManagedServices/registrationAssignments/read) when its role is Support Request Contributor."
  default     = null

  validation {
    condition     = var.registration_delete_principal_id == null || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.registration_delete_principal_id))
    error_message = "registration_delete_principal_id must be null or an object ID (GUID)."
  }
}

variable "registration_delete_principal_display_name" {
  type        = string
  description = "Display name of registration_delete_principal_id (unused when it is null)."
  default     = "Partner administrators"
}

variable "additional_authorizations" {
  type = list(object({
    principal_id                  = string
    principal_display_name        = optional(string)
    role_definition_id            = string
    delegated_role_definition_ids = optional(list(string), [])
  }))
  description = "Further permanent authorizations for the partner's people (object IDs in the managing tenant, built-in role GUIDs). Give them a PEC-eligible role and link them to the partner ID (handler link) and their work earns recognition too."
  default     = []

  validation {
    condition = alltrue([for a in var.additional_authorizations :
      can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", a.principal_id)) &&
      can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", a.role_definition_id))
    ])
    error_message = "additional_authorizations: principal_id and role_definition_id must be GUIDs (an object ID and a built-in role definition ID)."
  }

  validation {
    condition     = alltrue([for a in var.additional_authorizations : lower(a.role_definition_id) != "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"])
    error_message = "additional_authorizations: Owner (8e3af657-a8ff-443c-a75c-2fe8c4bcb635) cannot be delegated with Azure Lighthouse."
  }

  validation {
    condition = alltrue([for a in var.additional_authorizations :
      lower(a.role_definition_id) != "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9" || length(a.delegated_role_definition_ids) > 0
    ])
    error_message = "additional_authorizations: User Access Administrator (18d7d88d-d35e-4fb5-a5c3-7773c20a72d9) needs delegated_role_definition_ids: the roles it may assign to managed identities."
  }
}

variable "offer_name" {
  type        = string
  description = "Name of the offer as the customer sees it under Service providers."
  default     = "pal-keeper managed services"

  validation {
    condition     = length(trimspace(var.offer_name)) > 0 && length(var.offer_name) <= 200
    error_message = "offer_name must be 1-200 characters."
  }
}

variable "offer_description" {
  type        = string
  description = "Description of the offer."
  default     = "Managed services with Partner Admin Link automation (pal-keeper)."
}
