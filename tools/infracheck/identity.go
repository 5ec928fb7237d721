package infracheck

import (
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The app registration of PAL_IDENTITY=app/direct (infra/identity.tf).
const (
	appClientIDSetting = "PAL_APP_CLIENT_ID"
	appResource        = "azuread_application.pal"
)

// appIdentity checks the app registration that trusts the function's identity:
// multi-tenant exactly in direct mode, a service principal for it, and one
// federated credential whose issuer is the identity's tenant, whose subject is
// the user-assigned identity's principal ID (a system-assigned one cannot be
// a federated credential) and whose audience is the cloud's token-exchange
// audience. A wrong value is accepted by Entra at creation and only fails at
// the exchange (AADSTS700211/700213/700212), so it is caught here.
func (c *rootChecker) appIdentity() {
	app := c.m.block("resource", "azuread_application", "pal")
	if app == nil {
		c.p.addf(c.m.Dir, "resource azuread_application.pal (PAL_IDENTITY=app/direct) is missing")
		return
	}
	if a := attr(app.Body, "sign_in_audience"); a == nil ||
		!strings.Contains(c.m.text(a.Expr.Range()), `"direct" ? "AzureADMultipleOrgs" : "AzureADMyOrg"`) {
		c.p.addf(where(app.DefRange()), "azuread_application.pal: sign_in_audience must be AzureADMultipleOrgs in direct mode and AzureADMyOrg otherwise")
	}
	if sp := c.m.block("resource", "azuread_service_principal", "pal"); sp == nil {
		c.p.addf(c.m.Dir, "resource azuread_service_principal.pal (what delegations name and what is linked) is missing")
	} else if a := attr(sp.Body, "client_id"); a == nil || !refersTo(a.Expr, appResource) {
		c.p.addf(where(sp.DefRange()), "azuread_service_principal.pal: client_id must be azuread_application.pal's")
	}
	fic := c.m.block("resource", "azuread_application_federated_identity_credential", "function")
	if fic == nil {
		c.p.addf(c.m.Dir, "resource azuread_application_federated_identity_credential.function is missing")
		return
	}
	if a := attr(fic.Body, "subject"); a == nil || !refersTo(a.Expr, "azurerm_user_assigned_identity.func.principal_id") {
		c.p.addf(where(fic.DefRange()), "federated credential: subject must be azurerm_user_assigned_identity.func.principal_id (the user-assigned identity's object ID)")
	}
	if a := attr(fic.Body, "issuer"); a == nil || !refersTo(a.Expr, "azurerm_user_assigned_identity.func.tenant_id") ||
		!refersTo(a.Expr, "local.federated_issuer_host") || !strings.Contains(c.m.text(a.Expr.Range()), "/v2.0") {
		c.p.addf(where(fic.DefRange()), "federated credential: issuer must be ${local.federated_issuer_host}/<the identity's tenant_id>/v2.0")
	}
	c.issuerHosts()
	if a := attr(fic.Body, "audiences"); a == nil || !refersTo(a.Expr, "local.exchange_audience") {
		c.p.addf(where(fic.DefRange()), "federated credential: audiences must be [local.exchange_audience] (api://AzureADTokenExchange in the public cloud)")
	}
	if a := attr(fic.Body, "application_id"); a == nil || !refersTo(a.Expr, appResource) {
		c.p.addf(where(fic.DefRange()), "federated credential: application_id must be azuread_application.pal's")
	}
	ex := c.m.local("exchange_audience")
	if ex == nil || !strings.Contains(c.m.text(ex.Range()), `"api://AzureADTokenExchange"`) ||
		!strings.Contains(c.m.text(ex.Range()), `"api://AzureADTokenExchangeUSGov"`) || !strings.Contains(c.m.text(ex.Range()), `"api://AzureADTokenExchangeChina"`) {
		c.p.addf(c.m.Dir, "local.exchange_audience must map each cloud to its token-exchange audience")
	}
}

// federatedIssuerHosts is the issuer host of a managed identity's tokens per
// cloud, what a federated credential trusting it names
// (<host>/<tenant>/v2.0): Microsoft's "Configure an application to trust a
// managed identity" (learn.microsoft.com; Azure China: docs.azure.cn, where
// it is login.partner.microsoftonline.cn, not the authority host). The
// product's azure.FederatedIssuerHost holds the same values.
func federatedIssuerHosts() map[string]string {
	return map[string]string{
		"AzurePublic":       "https://login.microsoftonline.com",
		"AzureUSGovernment": "https://login.microsoftonline.us",
		"AzureChina":        "https://login.partner.microsoftonline.cn",
	}
}

// issuerHosts checks local.federated_issuer_host: exactly the issuer host of
// each cloud, indexed by var.pal_cloud.
func (c *rootChecker) issuerHosts() {
	expr := c.m.local("federated_issuer_host")
	idx, ok := expr.(*hclsyntax.IndexExpr)
	if !ok || !refersTo(idx.Key, "var.pal_cloud") {
		c.p.addf(c.m.Dir, "local.federated_issuer_host must be { <cloud> = <issuer host> }[var.pal_cloud]")
		return
	}
	items, ok := objectItems(idx.Collection)
	if !ok {
		c.p.addf(c.m.Dir, "local.federated_issuer_host must be { <cloud> = <issuer host> }[var.pal_cloud]")
		return
	}
	want := federatedIssuerHosts()
	for cloud, host := range want {
		if got, _ := constString(items[cloud]); got != host {
			c.p.addf(c.m.Dir, "local.federated_issuer_host: %s is %q, want %q (the issuer of its managed identities' tokens)", cloud, got, host)
		}
	}
	for cloud := range items {
		if _, known := want[cloud]; !known {
			c.p.addf(c.m.Dir, "local.federated_issuer_host: unknown cloud %s", cloud)
		}
	}
}
