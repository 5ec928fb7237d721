package infracheck

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// flexLowestMaximum is Flex Consumption's lowest maximum instance count ("The
// lowest maximum scale is currently 40", learn.microsoft.com azure-functions
// flex-consumption-plan); the provider accepts 1-1000, so plan passes and
// apply fails below it.
const flexLowestMaximum = 40

// flexLowMaximumRegions are the regions where a maximum below 40 is a preview
// (azure-functions-host#10523, 2026-01-05: West Europe, Australia East, West US 2).
func flexLowMaximumRegions() []string { return []string{"westeurope", "australiaeast", "westus2"} }

// precondCase is a maximum_instance_count and a location the function app's
// scale precondition must accept or reject.
type precondCase struct {
	max      int64
	location string
	accept   bool
}

// flexScaleCases pin the scale rule: at least 40, lower only in a preview region.
var flexScaleCases = []precondCase{
	{40, "eastus", true},
	{1000, "swedencentral", true},
	{39, "eastus", false},
	{4, "swedencentral", false},
	{4, "westeurope", true},
	{1, "australiaeast", true},
	{1, "westus2", true},
	{1, "westus3", false},
}

// flexScale checks the function app's scale: maximum_instance_count comes from
// its variable, whose default is at least 40, the preview regions are the
// documented ones, and a lifecycle precondition refuses a maximum below 40
// outside them (evaluated here on flexScaleCases).
func (c *rootChecker) flexScale(app *hclsyntax.Block) {
	c.wantRef(app, "maximum_instance_count", "var.maximum_instance_count", "the variable whose default and precondition follow Flex's limits")
	if v := c.m.variable("maximum_instance_count"); v != nil {
		var def hclsyntax.Expression
		if a := attr(v.Body, "default"); a != nil {
			def = a.Expr
		}
		if d, ok := constant(def); !ok || !d.Type().Equals(cty.Number) || d.LessThan(cty.NumberIntVal(flexLowestMaximum)).True() {
			c.p.addf(where(v.DefRange()), "variable maximum_instance_count: default must be at least %d (Flex Consumption's lowest maximum)", flexLowestMaximum)
		}
	}
	regions, ok := constant(c.m.local("flex_low_maximum_regions"))
	var got []string
	if ok && regions.CanIterateElements() {
		for it := regions.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if s, err := convert.Convert(e, cty.String); err == nil && !s.IsNull() {
				got = append(got, s.AsString())
			}
		}
	}
	slices.Sort(got)
	want := flexLowMaximumRegions()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		c.p.addf(c.m.Dir, "local.flex_low_maximum_regions = %q, want the documented preview regions %q", got, want)
	}
	var cond *hclsyntax.Attribute
	for _, lc := range subBlocks(app.Body, "lifecycle") {
		for _, pc := range subBlocks(lc.Body, "precondition") {
			if a := attr(pc.Body, "condition"); a != nil && refersTo(a.Expr, "var.maximum_instance_count") {
				cond = a
			}
		}
	}
	if cond == nil {
		c.p.addf(where(app.DefRange()), "%s: want a lifecycle precondition on var.maximum_instance_count (at least %d outside the preview regions)", address(app), flexLowestMaximum)
		return
	}
	for _, tc := range flexScaleCases {
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{
				"var":   cty.ObjectVal(map[string]cty.Value{"maximum_instance_count": cty.NumberIntVal(tc.max), "location": cty.StringVal(tc.location)}),
				"local": cty.ObjectVal(map[string]cty.Value{"flex_low_maximum_regions": regions}),
			},
			Functions: terraformFunctions,
		}
		v, diags := cond.Expr.Value(ctx)
		if diags.HasErrors() || !v.Type().Equals(cty.Bool) || v.IsNull() {
			c.p.addf(where(cond.SrcRange), "precondition on maximum_instance_count: cannot evaluate (%s)", diags.Error())
			return
		}
		if v.True() != tc.accept {
			c.p.addf(where(cond.SrcRange), "precondition on maximum_instance_count: %d in %s accepted = %v, want %v", tc.max, tc.location, v.True(), tc.accept)
		}
	}
}

// appSettingsPut checks the azapi_resource_action that puts the app settings
// back without the key-based AzureWebJobsStorage azurerm writes on every
// create and update of a Flex app (terraform-provider-azurerm#29149, #33211):
// a PUT of the site's config/appsettings whose body is the app's own
// app_settings, run again whenever the app changes, with azapi required.
func (c *rootChecker) appSettingsPut(app *hclsyntax.Block) {
	act := c.m.block("resource", "azapi_resource_action", "app_settings")
	if act == nil {
		c.p.addf(c.m.Dir, "resource azapi_resource_action.app_settings is missing: azurerm writes a key-based AzureWebJobsStorage on Flex apps, which only a PUT of config/appsettings removes")
		return
	}
	at := where(act.DefRange())
	appID := address(app)
	if s, _ := attrString(act.Body, "type"); !strings.HasPrefix(s, "Microsoft.Web/sites/config@") {
		c.p.addf(at, "azapi_resource_action.app_settings: type %q, want Microsoft.Web/sites/config@<api-version>", s)
	}
	if s, _ := attrString(act.Body, "method"); s != "PUT" {
		c.p.addf(at, "azapi_resource_action.app_settings: method %q, want PUT (replaces the whole dictionary)", s)
	}
	if a := attr(act.Body, "resource_id"); a == nil || !refersTo(a.Expr, appID+".id") || !strings.HasSuffix(strings.Trim(c.m.text(a.Expr.Range()), `"`), "/config/appsettings") {
		c.p.addf(at, "azapi_resource_action.app_settings: resource_id must be \"${%s.id}/config/appsettings\"", appID)
	}
	body := attr(act.Body, "body")
	if body == nil || !refersTo(body.Expr, appID+".app_settings") || !refersTo(body.Expr, appiType) {
		c.p.addf(at, "azapi_resource_action.app_settings: body must be { properties = merge(%s.app_settings, { APPLICATIONINSIGHTS_CONNECTION_STRING = ... }) }", appID)
	} else if strings.Contains(c.m.text(body.Expr.Range()), "AzureWebJobsStorage ") || strings.Contains(c.m.text(body.Expr.Range()), "AzureWebJobsStorage=") {
		c.p.addf(at, "azapi_resource_action.app_settings: body must not set AzureWebJobsStorage")
	}
	triggered := false
	for _, lc := range subBlocks(act.Body, "lifecycle") {
		if a := attr(lc.Body, "replace_triggered_by"); a != nil && refersTo(a.Expr, appID) {
			triggered = true
		}
	}
	if !triggered {
		c.p.addf(at, "azapi_resource_action.app_settings: lifecycle replace_triggered_by must name %s (every update of the app writes AzureWebJobsStorage again)", appID)
	}
	if tf := c.m.blocks("terraform"); len(tf) == 1 {
		has := false
		for _, rp := range subBlocks(tf[0].Body, "required_providers") {
			has = has || attr(rp.Body, "azapi") != nil
		}
		if !has {
			c.p.addf(where(tf[0].DefRange()), "required_providers: azapi is missing (azapi_resource_action.app_settings)")
		}
	}
}
