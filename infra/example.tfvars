# Example inputs of the pal-keeper root module. Copy it and fill in your values:
#   cp example.tfvars terraform.tfvars   # terraform.tfvars is git-ignored
# Every value is checked by the variable validations in variables.tf.

subscription_id = "00000000-0000-4000-8000-000000000000" # the partner's subscription (managing tenant)
location        = "westeurope"
name            = "palkeeper"

pal_partner_id          = "1234567" # your location-based partner ID (PLA), digits only
pal_allowed_partner_ids = []        # e.g. ["7654321"] for a second location
pal_relink_foreign      = false     # true: take over an identity linked to an ID outside the allowed set
pal_cloud               = "AzurePublic"
pal_onboarding_queue    = "pal-onboarding"
pal_sweep_schedule      = "0 0 3 * * *" # daily at 03:00 UTC
pal_max_attempts        = 8
pal_delegation_wait     = "30m"
pal_invocation_timeout  = "2m"
pal_http_role           = ""    # only with App Service Authentication configured on the app
pal_graph_membership    = false # true: grant Graph Application.Read.All so delegations to groups are judged exactly

maximum_instance_count = 40 # Flex's lowest maximum; below 40 only in westeurope, australiaeast, westus2 (preview)
instance_memory_in_mb  = 2048
log_retention_in_days  = 30

# The GitHub OIDC identity of the deploy workflow (object ID); null to assign
# Website Contributor on the function app yourself.
deployer_principal_id = null

tags = {
  workload = "pal-keeper"
}

# Who is mailed when a subscription stops crediting the partner ("attribution
# lost"); [] creates no action group and no alert.
alert_emails = ["pal-keeper-alerts@example.com"]
