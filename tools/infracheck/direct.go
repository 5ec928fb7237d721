package infracheck

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// directVariableCases are values the direct-mode module's variables must
// accept or reject.
var directVariableCases = []variableCase{
	{"pal_keeper_role_definition_id", `"` + RoleSupportRequestContributor + `"`, true},
	{"pal_keeper_role_definition_id", `"` + RoleContributor + `"`, true},
	{"pal_keeper_role_definition_id", `"` + strings.ToUpper(RoleContributor) + `"`, true},
	{"pal_keeper_role_definition_id", `"` + RoleOwner + `"`, false},
	{"pal_keeper_role_definition_id", `"` + RoleReader + `"`, false},
	{"pal_keeper_role_definition_id", `"` + RoleUserAccessAdministrator + `"`, false},
	{"pal_keeper_role_definition_id", `""`, false},
	{"pal_keeper_service_principal_id", `"a2000000-0000-4000-8000-000000000002"`, true},
	{"pal_keeper_service_principal_id", `"pal-keeper"`, false},
	{"pal_keeper_service_principal_id", `""`, false},
	{"subscription_id", `"ada00001-0000-4000-8000-000000000001"`, true},
	{"subscription_id", `"/subscriptions/ada00001-0000-4000-8000-000000000001"`, false},
}

// CheckDirectModule checks the customer-side Terraform module of direct mode
// in dir (infra/direct): one azurerm_role_assignment of the role
// var.pal_keeper_role_definition_id (validated: Support Request Contributor,
// the default, or Contributor; never Owner or Reader) to the service
// principal var.pal_keeper_service_principal_id, on var.subscription_id, and
// nothing else.
func CheckDirectModule(dir string) []error {
	m, p, err := loadCustomerModule(dir, directVariableCases)
	if err != nil {
		return []error{err}
	}
	if v := m.variable("pal_keeper_service_principal_id"); v != nil && attr(v.Body, "default") != nil {
		p.addf(where(v.DefRange()), "pal_keeper_service_principal_id must have no default: it is the app's service principal in the customer's tenant")
	}

	for _, b := range m.blocks("resource") {
		if len(b.Labels) > 0 && b.Labels[0] != "azurerm_role_assignment" {
			p.addf(where(b.DefRange()), "%s: the module only assigns pal-keeper's role", address(b))
		}
	}
	ras := m.resources("azurerm_role_assignment")
	if len(ras) != 1 {
		p.addf(dir, "want one azurerm_role_assignment, found %d", len(ras))
		return p
	}
	ra := ras[0]
	wantRef := func(name, target string) {
		if a := attr(ra.Body, name); a == nil || !refersTo(a.Expr, target) {
			p.addf(where(ra.DefRange()), "%s: %s must refer to %s", address(ra), name, target)
		}
	}
	wantRef("principal_id", "var.pal_keeper_service_principal_id")
	wantRef("role_definition_id", "var.pal_keeper_role_definition_id")
	wantRef("scope", "var.subscription_id")
	if attr(ra.Body, "role_definition_name") != nil {
		p.addf(where(ra.DefRange()), "%s: role_definition_name bypasses the validated var.pal_keeper_role_definition_id", address(ra))
	}
	if a := attr(ra.Body, "principal_id"); a != nil {
		for _, other := range refs(a.Expr) {
			if other != "var.pal_keeper_service_principal_id" {
				p.addf(where(a.SrcRange), "%s: principal_id refers to %s; it must be the app's service principal only", address(ra), other)
			}
		}
	}
	if pt, _ := attrString(ra.Body, "principal_type"); pt != "ServicePrincipal" {
		p.addf(where(ra.DefRange()), "%s: principal_type %q, want \"ServicePrincipal\" (the assignment is for the app's service principal)", address(ra), pt)
	}
	if a := attr(ra.Body, "condition"); a != nil {
		p.addf(where(a.SrcRange), "%s: a condition may keep the role from applying to the whole subscription", address(ra))
	}
	return p
}

// CheckDirectTemplate checks the customer-side ARM template of direct mode
// (subscription scope): one Microsoft.Authorization/roleAssignments giving
// the service principal [parameters('palKeeperServicePrincipalId')] the role
// [parameters('palKeeperRoleDefinitionId')], whose allowed values are the
// PEC-eligible Support Request Contributor (the default) and Contributor, and
// a description that tells the admin-consent step.
func CheckDirectTemplate(templatePath string) []error {
	var p problems
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		return []error{err}
	}
	var t struct {
		armTemplate
		Metadata struct {
			Description string `json:"description"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return []error{fmt.Errorf("%s: %w", templatePath, err)}
	}
	at := templatePath
	if !strings.Contains(t.Schema, "subscriptionDeploymentTemplate.json") {
		p.addf(at, "$schema %q: want a subscription deployment template (az deployment sub create)", t.Schema)
	}
	if !strings.Contains(t.Metadata.Description, "/adminconsent?client_id=") {
		p.addf(at, "metadata.description must give the admin-consent URL (…/adminconsent?client_id=…): without consent there is no service principal to assign")
	}

	var ra *armResource
	for i := range t.Resources {
		r := &t.Resources[i]
		if r.Type != "Microsoft.Authorization/roleAssignments" {
			p.addf(at, "unexpected resource %s: the template only assigns pal-keeper's role", r.Type)
			continue
		}
		if ra != nil {
			p.addf(at, "more than one role assignment")
		}
		ra = r
		if r.APIVersion < "2022-04-01" {
			p.addf(at, "%s: apiVersion %s is too old", r.Type, r.APIVersion)
		}
	}
	if ra == nil {
		p.addf(at, "want a Microsoft.Authorization/roleAssignments resource")
		return p
	}
	if !isParam(ra.Properties["principalId"], "palKeeperServicePrincipalId") {
		p.addf(at, "roleAssignments: principalId must be [parameters('palKeeperServicePrincipalId')], the app's service principal in this tenant")
	}
	if role, _ := ra.Properties["roleDefinitionId"].(string); !strings.Contains(role, "parameters('palKeeperRoleDefinitionId')") {
		p.addf(at, "roleAssignments: roleDefinitionId %q must be built from [parameters('palKeeperRoleDefinitionId')]", role)
	} else if strings.Contains(strings.ToLower(role), RoleOwner) {
		p.addf(at, "roleAssignments: roleDefinitionId names Owner")
	}
	if pt, _ := ra.Properties["principalType"].(string); pt != "ServicePrincipal" {
		p.addf(at, "roleAssignments: principalType %q, want \"ServicePrincipal\"", pt)
	}
	if _, ok := ra.Properties["condition"]; ok {
		p.addf(at, "roleAssignments: a condition may keep the role from applying to the whole subscription")
	}

	sp, ok := t.Parameters["palKeeperServicePrincipalId"]
	if !ok || sp.Type != "string" || sp.DefaultValue != nil {
		p.addf(at, "parameter palKeeperServicePrincipalId must be a string without default: the app's service principal in the customer's tenant")
	}
	role, ok := t.Parameters["palKeeperRoleDefinitionId"]
	if !ok {
		p.addf(at, "parameter palKeeperRoleDefinitionId is missing")
		return p
	}
	checkRoleParameter(&p, at, role)
	return p
}
