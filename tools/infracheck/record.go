package infracheck

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Resource types of the drift alert.
const (
	actionGroupType = "azurerm_monitor_action_group"
	queryAlertType  = "azurerm_monitor_scheduled_query_rules_alert_v2"
)

// alertEmailsVar is the variable with the drift alert's e-mail receivers.
const alertEmailsVar = "alert_emails"

// recordVariableCases are values alert_emails must accept or reject.
var recordVariableCases = []variableCase{
	{alertEmailsVar, `[]`, true},
	{alertEmailsVar, `["ops@example.com"]`, true},
	{alertEmailsVar, `["ops@example.com", "first.last+pal@sub.example.co.uk"]`, true},
	{alertEmailsVar, `["ops"]`, false},
	{alertEmailsVar, `["ops@example"]`, false},
	{alertEmailsVar, `["ops@@example.com"]`, false},
	{alertEmailsVar, `["ops @example.com"]`, false},
	{alertEmailsVar, `[""]`, false},
	{alertEmailsVar, `["ops@example.com", "ops@example.com"]`, false},
	{alertEmailsVar, `"ops@example.com"`, false},
}

// recordStorage checks the compliance record's wiring: PAL_RECORD_TABLE_URL is
// the table endpoint of the storage account where the identity holds Storage
// Table Data Contributor (roles() checks the role and its scope).
func (c *rootChecker) recordStorage() {
	if c.app == nil {
		return
	}
	a := attr(c.app.Body, "app_settings")
	if a == nil {
		return
	}
	items, ok := objectItems(a.Expr)
	if !ok {
		return
	}
	e := items[c.needs.Record.TableURLSetting]
	if e == nil {
		c.p.addf(where(a.SrcRange), "app setting %s is missing (the compliance record's table service)", c.needs.Record.TableURLSetting)
		return
	}
	for _, acct := range c.m.resources(storageType) {
		if refersTo(e, address(acct)+".primary_table_endpoint") {
			return
		}
	}
	c.p.addf(where(e.Range()), "app setting %s = %s, want the primary_table_endpoint of the %s the identity holds %q on",
		c.needs.Record.TableURLSetting, c.m.text(e.Range()), storageType, c.needs.Record.TableRole)
}

// driftAlert checks the "attribution lost" alert: an action group whose e-mail
// receivers are var.alert_emails and a scheduled-query alert on Application
// Insights traces carrying the drift message, both present exactly when
// alert_emails is not empty.
func (c *rootChecker) driftAlert() {
	v := c.m.variable(alertEmailsVar)
	if v == nil {
		c.p.addf(c.m.Dir, "variable %s is missing (the e-mail receivers of the drift alert)", alertEmailsVar)
		return
	}
	if d := attr(v.Body, "default"); d == nil {
		c.p.addf(where(v.DefRange()), "variable %s: want default = [] (no e-mails, no alert)", alertEmailsVar)
	} else if val, ok := constant(d.Expr); !ok || !val.CanIterateElements() || val.LengthInt() != 0 {
		c.p.addf(where(d.SrcRange), "variable %s: default = %s, want []", alertEmailsVar, c.m.text(d.Expr.Range()))
	}
	checkVariableCases(c.m, recordVariableCases, &c.p)

	ag, alert := c.one(actionGroupType), c.one(queryAlertType)
	for _, b := range []*hclsyntax.Block{ag, alert} {
		if b != nil {
			c.countIffEmails(b)
		}
	}
	if ag != nil {
		receivers := subBlocks(ag.Body, "dynamic")
		ok := false
		for _, d := range receivers {
			if len(d.Labels) == 1 && d.Labels[0] == "email_receiver" && refersTo(attrExpr(d.Body, "for_each"), "var."+alertEmailsVar) {
				ok = true
			}
		}
		if !ok {
			c.p.addf(where(ag.DefRange()), "%s: want a dynamic \"email_receiver\" block with for_each = var.%s", address(ag), alertEmailsVar)
		}
	}
	if alert == nil {
		return
	}
	if appi := c.m.resources(appiType); len(appi) > 0 {
		c.wantRef(alert, "scopes", address(appi[0]), "the handler's lines land in Application Insights")
	}
	crit := subBlocks(alert.Body, "criteria")
	if len(crit) != 1 {
		c.p.addf(where(alert.DefRange()), "%s: want one criteria block", address(alert))
	} else {
		q, _ := attrString(crit[0].Body, "query")
		if !strings.Contains(q, "traces") || !strings.Contains(q, `"`+c.needs.Record.DriftMessage+`"`) {
			c.p.addf(where(crit[0].DefRange()), "%s: the query must search traces for %q (internal/c.needs.Record.DriftMessage), got %q", address(alert), c.needs.Record.DriftMessage, q)
		}
		if op, _ := attrString(crit[0].Body, "operator"); op != "GreaterThan" {
			c.p.addf(where(crit[0].DefRange()), "%s: operator %q, want GreaterThan (with threshold 0: any drift line fires)", address(alert), op)
		}
		if th := attr(crit[0].Body, "threshold"); th == nil {
			c.p.addf(where(crit[0].DefRange()), "%s: no threshold", address(alert))
		} else if val, ok := constant(th.Expr); !ok || !val.Type().Equals(cty.Number) || !val.RawEquals(cty.NumberIntVal(0)) {
			c.p.addf(where(th.SrcRange), "%s: threshold = %s, want 0 (one drift line is enough)", address(alert), c.m.text(th.Expr.Range()))
		}
	}
	acts := subBlocks(alert.Body, "action")
	if len(acts) != 1 || !refersTo(attrExpr(acts[0].Body, "action_groups"), actionGroupType) {
		c.p.addf(where(alert.DefRange()), "%s: want an action block whose action_groups is the %s", address(alert), actionGroupType)
	}
}

// attrExpr returns the expression of body's attribute name, or nil.
func attrExpr(body *hclsyntax.Body, name string) hcl.Expression {
	if a := attr(body, name); a != nil {
		return a.Expr
	}
	return nil
}

// countIffEmails checks that b's count is 0 for alert_emails = [] and 1 for
// one address: evaluated with Terraform's functions, through one local value.
func (c *rootChecker) countIffEmails(b *hclsyntax.Block) {
	a := attr(b.Body, "count")
	if a == nil {
		c.p.addf(where(b.DefRange()), "%s: want count = 0 when var.%s is empty (no e-mails, no alert)", address(b), alertEmailsVar)
		return
	}
	for _, tc := range []struct {
		emails cty.Value
		want   int64
	}{
		{cty.ListValEmpty(cty.String), 0},
		{cty.ListVal([]cty.Value{cty.StringVal("ops@example.com")}), 1},
		{cty.ListVal([]cty.Value{cty.StringVal("a@example.com"), cty.StringVal("b@example.com")}), 1},
	} {
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{alertEmailsVar: tc.emails})},
			Functions: terraformFunctions,
		}
		locals := map[string]cty.Value{}
		for _, r := range refs(a.Expr) {
			if name, ok := strings.CutPrefix(r, "local."); ok {
				if l := c.m.local(name); l != nil {
					if v, diags := l.Value(ctx); !diags.HasErrors() {
						locals[name] = v
					}
				}
			}
		}
		if len(locals) > 0 {
			ctx.Variables["local"] = cty.ObjectVal(locals)
		}
		got, diags := a.Expr.Value(ctx)
		if diags.HasErrors() || got.IsNull() || !got.Type().Equals(cty.Number) {
			c.p.addf(where(a.SrcRange), "%s: count = %s cannot be evaluated from var.%s alone", address(b), c.m.text(a.Expr.Range()), alertEmailsVar)
			return
		}
		if n, _ := got.AsBigFloat().Int64(); n != tc.want {
			c.p.addf(where(a.SrcRange), "%s: count is %d with %d e-mail(s), want %d (the alert exists exactly when there are e-mails)",
				address(b), n, tc.emails.LengthInt(), tc.want)
		}
	}
}
