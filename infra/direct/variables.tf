variable "subscription_id" {
  type        = string
  description = "The customer's subscription the partner's app gets its role on."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "pal_keeper_service_principal_id" {
  type        = string
  description = "Object ID of the partner app's service principal in THIS (the customer's) tenant, after admin consent. Not the app's client ID."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.pal_keeper_service_principal_id))
    error_message = "pal_keeper_service_principal_id must be an object ID (GUID)."
  }
}

variable "pal_keeper_role_definition_id" {
  type        = string
  description = "Built-in role GUID: Support Request Contributor (default, least privilege that is PEC-eligible) or Contributor. Owner is refused."
  default     = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"

  validation {
    condition     = contains(["cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e", "b24988ac-6180-42a0-ab88-20f7382dd24c"], lower(var.pal_keeper_role_definition_id))
    error_message = "pal_keeper_role_definition_id must be Support Request Contributor (cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e) or Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c); Owner is refused and Reader is not PEC-eligible."
  }
}
