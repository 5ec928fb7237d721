package infracheck

import (
	"strings"
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
	if a := attr(fic.Body, "issuer"); a == nil || !refersTo(a.Expr, "azurerm_user_assigned_identity.func.tenant_id") || !strings.Contains(c.m.text(a.Expr.Range()), "/v2.0") {
		c.p.addf(where(fic.DefRange()), "federated credential: issuer must be <authority>/<the identity's tenant_id>/v2.0")
	}
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
