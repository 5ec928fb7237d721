# Inputs of the pal-keeper root module. Every PAL_* app setting of the handler
# (handler/settings.go, README "Settings") is wired from one of these; the
# validations mirror what the handler checks at start, so a bad value fails at
# `terraform plan` instead of at the first invocation.

# --- where ---------------------------------------------------------------------

variable "subscription_id" {
  type        = string
  description = "The partner's (managing tenant's) subscription that holds pal-keeper."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID."
  }
}

variable "location" {
  type        = string
  description = "Azure region of every resource, one that offers Flex Consumption (e.g. westeurope, eastus, swedencentral)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location must be a region name such as westeurope (lower case, no spaces)."
  }
}

variable "name" {
  type        = string
  description = "Short base name of every resource (lower-case letters and digits, 3-12 characters). Globally unique names get a suffix derived from the subscription."
  default     = "palkeeper"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name))
    error_message = "name must be 3-12 lower-case letters and digits, starting with a letter (it goes into the storage account name)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = {}
}

# --- the handler's settings (PAL_*) ----------------------------------------------

variable "pal_partner_id" {
  type        = string
  description = "PAL_PARTNER_ID: the location-based partner ID (digits) the function's identity is linked to."

  validation {
    condition     = can(regex("^[0-9]{1,10}$", var.pal_partner_id))
    error_message = "pal_partner_id must be the location-based partner ID: 1-10 digits, e.g. 1234567."
  }
}

variable "pal_allowed_partner_ids" {
  type        = list(string)
  description = "PAL_ALLOWED_PARTNER_IDS: further partner IDs an onboarding request may name. pal_partner_id is always allowed."
  default     = []

  validation {
    condition     = alltrue([for id in var.pal_allowed_partner_ids : can(regex("^[0-9]{1,10}$", id))])
    error_message = "pal_allowed_partner_ids must hold partner IDs: 1-10 digits each."
  }
}

variable "pal_relink_foreign" {
  type        = bool
  description = "PAL_RELINK_FOREIGN: when the identity is linked to a partner ID outside the allowed set, false reports it and true relinks (PATCH)."
  default     = false
}

variable "pal_credential" {
  type        = string
  description = "PAL_CREDENTIAL: the credential the handler uses. In the function app it is always the user-assigned managed identity; azurecli is for workstations only."
  default     = "managedidentity"

  validation {
    condition     = var.pal_credential == "managedidentity"
    error_message = "pal_credential must be managedidentity: a function app has no Azure CLI session."
  }
}

variable "pal_cloud" {
  type        = string
  description = "PAL_CLOUD: AzurePublic, AzureUSGovernment or AzureChina. Also picks the Service Bus host name suffix."
  default     = "AzurePublic"

  validation {
    condition     = contains(["AzurePublic", "AzureUSGovernment", "AzureChina"], var.pal_cloud)
    error_message = "pal_cloud must be AzurePublic, AzureUSGovernment or AzureChina."
  }
}

variable "pal_arm_endpoint" {
  type        = string
  description = "PAL_ARM_ENDPOINT: Resource Manager base URL override; empty means the cloud's own. Leave empty in production."
  default     = ""

  validation {
    condition     = var.pal_arm_endpoint == "" || can(regex("^https://[^/\\s]+", var.pal_arm_endpoint))
    error_message = "pal_arm_endpoint must be empty or an https URL."
  }
}

variable "pal_sweep_queue" {
  type        = string
  description = "PAL_SWEEP_QUEUE: name of the distributed sweep's work queue. Infra creates it and sets the app setting the host resolves %PAL_SWEEP_QUEUE% from."
  default     = "pal-sweep"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$", var.pal_sweep_queue)) && lower(var.pal_sweep_queue) != lower(var.pal_onboarding_queue)
    error_message = "pal_sweep_queue must be a Service Bus queue name other than pal_onboarding_queue."
  }
}

variable "pal_onboarding_queue" {
  type        = string
  description = "PAL_ONBOARDING_QUEUE: name of the onboarding queue. Infra creates it and sets the app setting the host resolves %PAL_ONBOARDING_QUEUE% from."
  default     = "pal-onboarding"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$", var.pal_onboarding_queue))
    error_message = "pal_onboarding_queue must be a Service Bus queue name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 260 characters."
  }
}

variable "pal_sweep_schedule" {
  type        = string
  description = "PAL_SWEEP_SCHEDULE: six-field NCRONTAB (UTC) of the compliance sweep; the host resolves %PAL_SWEEP_SCHEDULE% from this app setting. (A TimeSpan schedule works only on App Service plans, not on Flex Consumption.)"
  default     = "0 0 3 * * *"

  validation {
    condition     = trimspace(var.pal_sweep_schedule) != ""
    error_message = "pal_sweep_schedule must not be empty."
  }

  validation {
    condition     = length(split(" ", trimspace(var.pal_sweep_schedule))) == 6 && can(regex("^[0-9A-Za-z*/,-]+( [0-9A-Za-z*/,-]+){5}$", trimspace(var.pal_sweep_schedule)))
    error_message = "pal_sweep_schedule must be an NCRONTAB expression with six fields separated by single spaces: {second} {minute} {hour} {day} {month} {day-of-week}, e.g. \"0 0 3 * * *\"."
  }

  # Each field's values within its range, as the handler checks them at start
  # (internal/ncrontab): every comma-separated part is *, N, N-M or a name
  # (months JAN-DEC, days SUN-SAT), optionally /STEP; a range's start not after
  # its end; STEP at least 1.
  validation {
    condition = alltrue([
      for i, field in split(" ", trimspace(var.pal_sweep_schedule)) : alltrue([
        for part in split(",", field) : try([
          for g in [regex("^(?:(\\*)|([0-9]+|[A-Z]{3})(?:-([0-9]+|[A-Z]{3}))?)(?:/([0-9]+))?$", upper(part))] : [
            for v in [{
              min   = [0, 0, 0, 1, 1, 0][i]
              max   = [59, 59, 23, 31, 12, 6][i]
              names = i == 4 ? "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC" : i == 5 ? "SUN MON TUE WED THU FRI SAT" : ""
              }] : [
              for r in [{
                lo   = g[0] != null ? v.min : can(tonumber(g[1])) ? tonumber(g[1]) : index(split(" ", v.names), g[1]) + (i == 4 ? 1 : 0)
                hi   = g[0] != null || (g[2] == null && g[3] != null) ? v.max : can(tonumber(coalesce(g[2], g[1]))) ? tonumber(coalesce(g[2], g[1])) : index(split(" ", v.names), coalesce(g[2], g[1])) + (i == 4 ? 1 : 0)
                step = g[3] != null ? tonumber(g[3]) : 1
              }] : r.lo >= v.min && r.hi <= v.max && r.lo <= r.hi && r.step >= 1
            ][0]
          ][0]
        ][0], false)
      ])
    ])
    error_message = "pal_sweep_schedule has a value out of its field's range: second and minute 0-59, hour 0-23, day 1-31, month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT (Sunday 0); a range's start not after its end, a step of at least 1, e.g. \"0 30 9 * * MON-FRI\"."
  }
}

variable "pal_max_attempts" {
  type        = number
  description = "PAL_MAX_ATTEMPTS: scheduled attempts of one onboarding message (transient trouble) before the invocation fails and the message dead-letters after the queue's max_delivery_count."
  default     = 8

  validation {
    condition     = var.pal_max_attempts >= 1 && var.pal_max_attempts <= 100 && floor(var.pal_max_attempts) == var.pal_max_attempts
    error_message = "pal_max_attempts must be a whole number from 1 to 100."
  }
}

variable "pal_delegation_wait" {
  type        = string
  description = "PAL_DELEGATION_WAIT: Go duration during which a subscription a message names but the identity cannot reach counts as a Lighthouse delegation still on its way (retried, not reported); \"0s\" reports it not-delegated at once. At most 24h."
  default     = "30m"

  validation {
    condition     = can(regex("^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$", var.pal_delegation_wait))
    error_message = "pal_delegation_wait must be a Go duration such as 30m, 90s or 1h30m (0s to 24h)."
  }
}

variable "pal_invocation_timeout" {
  type        = string
  description = "PAL_INVOCATION_TIMEOUT: duration after which an invocation stops its Azure calls and fails as transient. It also bounds the HTTP functions, which the front end cuts at 230 s whatever functionTimeout says, so the handler refuses more than nine tenths of it (3m27s)."
  default     = "2m"

  # Minutes and/or seconds (a Go duration the handler reads), from 1s to 3m27s:
  # the handler stops at start above nine tenths of the 230 s an HTTP function
  # has to answer (docs/reference.md).
  validation {
    condition = try(
      coalesce(regex("^(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.pal_invocation_timeout)[0], "0") * 60 +
      coalesce(regex("^(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.pal_invocation_timeout)[1], "0") >= 1 &&
      coalesce(regex("^(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.pal_invocation_timeout)[0], "0") * 60 +
      coalesce(regex("^(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.pal_invocation_timeout)[1], "0") <= 207,
    false)
    error_message = "pal_invocation_timeout must be minutes and/or seconds such as 2m, 90s or 3m27s, from 1s to 3m27s: HTTP functions must answer within 230 s (the front end's limit) and the handler refuses more than nine tenths of it."
  }
}

variable "pal_http_role" {
  type        = string
  description = "PAL_HTTP_ROLE: app role an HTTP caller must carry in App Service Authentication's X-MS-CLIENT-PRINCIPAL, besides the function key; empty: the function key alone. Set it only after configuring App Service Authentication (Entra ID) on the app, which this module does not do."
  default     = ""

  validation {
    condition     = can(regex("^[^\\s,]*$", var.pal_http_role))
    error_message = "pal_http_role must be one app role value: no spaces or commas."
  }
}

# --- sizing and operations ---------------------------------------------------------

variable "maximum_instance_count" {
  type        = number
  description = "Most on-demand instances Flex Consumption may scale each function group out to (docs/reference.md, \"Flex Consumption scale\"). 40 is Flex's lowest maximum; lower values (1-39) are a preview only in westeurope, australiaeast and westus2 (azure-functions-host#10523), and apply refuses them elsewhere. The maximum applies per function group: the HTTP functions (links, report, dashboard) are one group, and onboarding, sweep-check and the sweep each scale on their own, so up to 4 x this many instances may run, every one calling ARM as the same identity (reads: 250 burst, 25/s per principal). ARM load is bounded per instance by PAL_ARM_CONCURRENCY (in-flight ARM requests of the process; host.json maxConcurrentCalls = 8 messages share them) and by the pacer, which slows every instance to 25 requests/s when ARM reports a bucket low; across instances azcore's retries honour ARM's 429 Retry-After."
  default     = 40

  validation {
    condition     = var.maximum_instance_count >= 1 && var.maximum_instance_count <= 1000 && floor(var.maximum_instance_count) == var.maximum_instance_count
    error_message = "maximum_instance_count must be a whole number from 1 to 1000 (at least 40 outside the preview regions westeurope, australiaeast, westus2)."
  }
}

variable "instance_memory_in_mb" {
  type        = number
  description = "Instance memory of the Flex Consumption app. The Go handler needs little; 2048 is the Flex default."
  default     = 2048

  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_in_mb)
    error_message = "instance_memory_in_mb must be 512, 2048 or 4096."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of the Log Analytics workspace behind Application Insights."
  default     = 30

  validation {
    condition     = var.log_retention_in_days >= 30 && var.log_retention_in_days <= 730
    error_message = "log_retention_in_days must be between 30 and 730."
  }
}

variable "deployer_principal_id" {
  type        = string
  description = "Optional object ID of the CI/CD identity (the GitHub OIDC service principal or managed identity). It gets Website Contributor on the function app, which is all the deploy workflow needs. null: assign it yourself."
  default     = null

  validation {
    condition     = var.deployer_principal_id == null || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.deployer_principal_id))
    error_message = "deployer_principal_id must be null or an object ID (GUID)."
  }
}

# --- alerts ----------------------------------------------------------------------

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses that receive the \"attribution lost\" alert (a subscription stopped crediting the partner). Empty: no action group and no alert."
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s.]+$", e))])
    error_message = "alert_emails must hold e-mail addresses such as ops@example.com."
  }

  validation {
    condition     = length(distinct(var.alert_emails)) == length(var.alert_emails) && length(var.alert_emails) <= 100
    error_message = "alert_emails must not repeat an address and may hold at most 100."
  }
}
