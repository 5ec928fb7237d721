# Drift alert: a subscription that was attributed and is not any more logs one
# warning line whose message is "attribution lost" (internal/record's
# LogDrift, once per change, not on every sweep). The custom handler's lines
# reach Application Insights as traces; this rule searches them and mails the
# addresses of var.alert_emails. No addresses: no action group and no alert.

locals {
  drift_alert = length(var.alert_emails) > 0 ? 1 : 0
}

resource "azurerm_monitor_action_group" "drift" {
  count               = local.drift_alert
  name                = "ag-${var.name}-drift"
  resource_group_name = azurerm_resource_group.main.name
  short_name          = "paldrift" # at most 12 characters, shown in e-mails and SMS

  dynamic "email_receiver" {
    for_each = var.alert_emails
    content {
      name                    = "email-${email_receiver.key}"
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }

  tags = var.tags
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "drift" {
  count               = local.drift_alert
  name                = "alert-${var.name}-attribution-lost"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  display_name        = "pal-keeper: attribution lost"
  description         = "A customer subscription that credited the partner (Partner Admin Link) stopped doing so: see tenant_id, subscription_id, status and detail in the trace."

  scopes               = [azurerm_application_insights.main.id]
  severity             = 2 # warning
  evaluation_frequency = "PT15M"
  window_duration      = "PT15M"

  criteria {
    # Every drift line counts; the e-mail links to the query's results, which
    # name the subscriptions.
    query                   = <<-QUERY
      traces
      | where message contains "attribution lost"
      | project timestamp, message
    QUERY
    time_aggregation_method = "Count"
    operator                = "GreaterThan"
    threshold               = 0

    failing_periods {
      minimum_failing_periods_to_trigger_alert = 1
      number_of_evaluation_periods             = 1
    }
  }

  # Each drift is its own event: the alert fires again for the next one and
  # does not resolve itself in between.
  auto_mitigation_enabled = false

  action {
    action_groups = [azurerm_monitor_action_group.drift[0].id]
  }

  tags = var.tags
}
