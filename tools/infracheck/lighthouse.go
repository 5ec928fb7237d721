package infracheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Built-in role definition IDs the Lighthouse checks know.
const (
	RoleContributor               = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleSupportRequestContributor = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"
	RoleReader                    = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleOwner                     = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleUserAccessAdministrator   = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RoleRegistrationDelete        = "91c1777a-f3dc-4fae-b103-61d183457e46"
)

// pecRoles are the roles pal-keeper's identity may hold in a delegation:
// PEC-eligible, built-in, delegable, and no more than it needs.
var pecRoles = map[string]string{
	RoleSupportRequestContributor: "Support Request Contributor",
	RoleContributor:               "Contributor",
}

// lighthouseVariableCases are values the Lighthouse module's variables must
// accept or reject.
var lighthouseVariableCases = []variableCase{
	{"pal_keeper_role_definition_id", `"` + RoleSupportRequestContributor + `"`, true},
	{"pal_keeper_role_definition_id", `"` + RoleContributor + `"`, true},
	{"pal_keeper_role_definition_id", `"` + strings.ToUpper(RoleContributor) + `"`, true},
	{"pal_keeper_role_definition_id", `"` + RoleOwner + `"`, false},
	{"pal_keeper_role_definition_id", `"` + RoleReader + `"`, false},
	{"pal_keeper_role_definition_id", `""`, false},
	{"pal_keeper_principal_id", `"c2000000-0000-4000-8000-000000000001"`, true},
	{"pal_keeper_principal_id", `"pal-keeper"`, false},
	{"managing_tenant_id", `"c0000000-0000-4000-8000-000000000001"`, true},
	{"managing_tenant_id", `"contoso.onmicrosoft.com"`, false},
	{"subscription_id", `"fab00001-0000-4000-8000-000000000001"`, true},
	{"subscription_id", `"/subscriptions/fab00001-0000-4000-8000-000000000001"`, false},
	{"registration_delete_principal_id", `null`, true},
	{"registration_delete_principal_id", `"c3000000-0000-4000-8000-000000000001"`, true},
	{"registration_delete_principal_id", `"admins"`, false},
	{"additional_authorizations", `[]`, true},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002", principal_display_name = "Ops", role_definition_id = "` + RoleContributor + `"}]`, true},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002", role_definition_id = "` + RoleReader + `"}]`, true},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002", role_definition_id = "` + RoleOwner + `"}]`, false},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002", role_definition_id = "` + RoleUserAccessAdministrator + `"}]`, false},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002", role_definition_id = "` + RoleUserAccessAdministrator + `", delegated_role_definition_ids = ["` + RoleContributor + `"]}]`, true},
	{"additional_authorizations", `[{principal_id = "ops", role_definition_id = "` + RoleContributor + `"}]`, false},
	{"additional_authorizations", `[{principal_id = "c3000000-0000-4000-8000-000000000002"}]`, false},
}

// loadCustomerModule loads a customer-side module (infra/lighthouse,
// infra/direct) and checks what both must hold: one terraform block with the
// required providers, no provider configuration (the caller signs in to the
// customer's tenant), declared and validated variables (cases), and the
// pal-keeper role defaulting to Support Request Contributor, the least
// privilege that is PEC-eligible.
func loadCustomerModule(dir string, cases []variableCase) (*Module, problems, error) {
	m, err := LoadModule(dir)
	if err != nil {
		return nil, nil, err
	}
	var p problems
	if tf := m.blocks("terraform"); len(tf) != 1 {
		p.addf(dir, "want one terraform block, found %d", len(tf))
	} else {
		checkRequiredProviders(tf[0], &p, 0)
	}
	for _, b := range m.blocks("provider") {
		p.addf(where(b.DefRange()), "a module must not configure providers: the caller signs in to the customer's tenant")
	}
	checkVariableDeclarations(m, &p)
	checkVariableCases(m, cases, &p)
	if v := m.variable("pal_keeper_role_definition_id"); v != nil {
		if d, _ := attrString(v.Body, "default"); d != RoleSupportRequestContributor {
			p.addf(where(v.DefRange()), "pal_keeper_role_definition_id defaults to %q, want Support Request Contributor %s (the least privilege that is PEC-eligible)", d, RoleSupportRequestContributor)
		}
	}
	return m, p, nil
}

// CheckLighthouseModule checks the customer-side Terraform module in dir
// (infra/lighthouse): a registration definition naming pal-keeper's principal
// ID in a permanent authorization with a PEC-eligible role (validated: Support
// Request Contributor or Contributor, never Owner or Reader), the registration
// assignment Delete Role, further authorizations for the partner's people, the
// assignment, and the example root in dir/example.
func CheckLighthouseModule(dir string) []error {
	m, p, err := loadCustomerModule(dir, lighthouseVariableCases)
	if err != nil {
		return []error{err}
	}
	if v := m.variable("pal_keeper_role_definition_id"); v != nil {
		if d, _ := attrString(v.Body, "description"); !strings.Contains(d, delegationReadAction) {
			p.addf(where(v.DefRange()), "pal_keeper_role_definition_id's description must say which roles let the identity read its own delegation (%s) and what pal-keeper does without it", delegationReadAction)
		}
	}
	if v := m.variable("registration_delete_principal_id"); v != nil {
		a := attr(v.Body, "default")
		d, ok := cty.NilVal, false
		if a != nil {
			d, ok = constant(a.Expr)
		}
		if !ok || !d.IsNull() {
			p.addf(where(v.DefRange()), "registration_delete_principal_id must default to null: pal-keeper's identity then holds the Delete Role, whose %s lets it read its own delegation also with Support Request Contributor", delegationReadAction)
		}
	}

	defs := m.resources("azurerm_lighthouse_definition")
	if len(defs) != 1 {
		p.addf(dir, "want one azurerm_lighthouse_definition, found %d", len(defs))
		return p
	}
	def := defs[0]
	wantRef := func(b *hclsyntax.Block, name, target string) {
		if a := attr(b.Body, name); a == nil || !refersTo(a.Expr, target) {
			p.addf(where(b.DefRange()), "%s: %s must refer to %s", address(b), name, target)
		}
	}
	wantRef(def, "scope", "var.subscription_id")
	wantRef(def, "managing_tenant_id", "var.managing_tenant_id")

	for _, b := range def.Body.Blocks {
		if b.Type == "eligible_authorization" || (b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "eligible_authorization") {
			p.addf(where(b.DefRange()), "%s: eligible (just-in-time) authorizations earn no partner credit; use permanent authorization blocks", address(def))
		}
	}
	var palKeeper, deleteRole, people bool
	for _, b := range subBlocks(def.Body, "authorization") {
		role := attr(b.Body, "role_definition_id")
		principal := attr(b.Body, "principal_id")
		if role == nil || principal == nil {
			p.addf(where(b.DefRange()), "authorization: want principal_id and role_definition_id")
			continue
		}
		if refersTo(principal.Expr, "var.pal_keeper_principal_id") && refersTo(role.Expr, "var.pal_keeper_role_definition_id") {
			palKeeper = true
			continue
		}
		if v, ok := m.resolve(role.Expr); ok && v.Type().Equals(cty.String) {
			switch strings.ToLower(v.AsString()) {
			case RoleRegistrationDelete:
				deleteRole = true
			case RoleOwner:
				p.addf(where(role.SrcRange), "authorization: Owner cannot be delegated")
			}
		}
	}
	for _, b := range def.Body.Blocks {
		if b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "authorization" {
			if fe := attr(b.Body, "for_each"); fe != nil && refersTo(fe.Expr, "var.additional_authorizations") {
				people = true
			}
		}
	}
	if !palKeeper {
		p.addf(where(def.DefRange()), "%s: no authorization with principal_id = var.pal_keeper_principal_id and role_definition_id = var.pal_keeper_role_definition_id", address(def))
	}
	if !deleteRole {
		p.addf(where(def.DefRange()), "%s: no authorization with the Managed Services Registration assignment Delete Role (%s)", address(def), RoleRegistrationDelete)
	}
	if !people {
		p.addf(where(def.DefRange()), "%s: no dynamic \"authorization\" over var.additional_authorizations for the partner's people", address(def))
	}

	as := m.resources("azurerm_lighthouse_assignment")
	if len(as) != 1 {
		p.addf(dir, "want one azurerm_lighthouse_assignment, found %d", len(as))
	} else {
		wantRef(as[0], "lighthouse_definition_id", address(def)+".id")
	}

	if _, err := os.Stat(filepath.Join(dir, "example")); err == nil {
		p = append(p, checkModuleCalls(filepath.Join(dir, "example"), m)...)
	}
	return p
}

// checkModuleCalls checks the module blocks of the root in dir that call
// target: every argument is a variable of target, every required variable is
// passed, and every constant argument passes the variable's validations.
func checkModuleCalls(dir string, target *Module) []error {
	root, err := LoadModule(dir)
	if err != nil {
		return []error{err}
	}
	var p problems
	absTarget, _ := filepath.Abs(target.Dir)
	calls := 0
	for _, b := range root.blocks("module") {
		src, _ := attrString(b.Body, "source")
		if abs, _ := filepath.Abs(filepath.Join(dir, src)); abs != absTarget {
			continue
		}
		calls++
		for name, a := range b.Body.Attributes {
			switch name {
			case "source", "version", "providers", "count", "for_each", "depends_on":
				continue
			}
			if target.variable(name) == nil {
				p.addf(where(a.SrcRange), "module %s: %s is not a variable of %s", b.Labels[0], name, target.Dir)
				continue
			}
			v, ok := constant(a.Expr)
			if !ok {
				continue
			}
			rejected, err := target.Validate(name, v)
			if err != nil {
				p.add(err)
			}
			for _, r := range rejected {
				p.addf(where(a.SrcRange), "module %s: %s is rejected: %s", b.Labels[0], name, r)
			}
		}
		for _, v := range target.blocks("variable") {
			if attr(v.Body, "default") == nil && attr(b.Body, v.Labels[0]) == nil {
				p.addf(where(b.DefRange()), "module %s: required variable %s is not passed", b.Labels[0], v.Labels[0])
			}
		}
	}
	if calls == 0 {
		p.addf(dir, "no module block calls %s", target.Dir)
	}
	return p
}

// armTemplate is the part of an ARM template the checks read.
type armTemplate struct {
	Schema     string                  `json:"$schema"`
	Parameters map[string]armParameter `json:"parameters"`
	Variables  map[string]any          `json:"variables"`
	Resources  []armResource           `json:"resources"`
}

type armParameter struct {
	Type          string `json:"type"`
	DefaultValue  any    `json:"defaultValue"`
	AllowedValues []any  `json:"allowedValues"`
	Metadata      struct {
		Description string `json:"description"`
	} `json:"metadata"`
}

// delegationReadAction is the action that lets pal-keeper's identity read its
// own delegation; the template and module must say which roles grant it.
const delegationReadAction = "Microsoft.ManagedServices/registrationAssignments/read"

type armResource struct {
	Type       string         `json:"type"`
	APIVersion string         `json:"apiVersion"`
	Name       string         `json:"name"`
	DependsOn  []string       `json:"dependsOn"`
	Properties map[string]any `json:"properties"`
}

var armCall = regexp.MustCompile(`^(parameters|variables)\('([^']+)'\)$`)

// armRef parses "[parameters('x')]" or "[variables('x')]".
func armRef(v any) (kind, name string, ok bool) {
	s, isString := v.(string)
	if !isString || !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return "", "", false
	}
	m := armCall.FindStringSubmatch(strings.TrimSpace(s[1 : len(s)-1]))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// CheckLighthouseTemplate checks the customer-side ARM template (subscription
// scope) and, when paramsPath is not empty, its example parameters file.
func CheckLighthouseTemplate(templatePath, paramsPath string) []error {
	var p problems
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		return []error{err}
	}
	var t armTemplate
	if err := json.Unmarshal(raw, &t); err != nil {
		return []error{fmt.Errorf("%s: %w", templatePath, err)}
	}
	at := templatePath
	if !strings.Contains(t.Schema, "subscriptionDeploymentTemplate.json") {
		p.addf(at, "$schema %q: want a subscription deployment template (az deployment sub create)", t.Schema)
	}
	if strings.Contains(strings.ToLower(string(raw)), "eligibleauthorizations") {
		p.addf(at, "eligibleAuthorizations (just-in-time) earn no partner credit; pal-keeper's role must be a permanent authorization")
	}

	var def, asg *armResource
	for i := range t.Resources {
		r := &t.Resources[i]
		switch r.Type {
		case "Microsoft.ManagedServices/registrationDefinitions":
			def = r
		case "Microsoft.ManagedServices/registrationAssignments":
			asg = r
		default:
			p.addf(at, "unexpected resource %s: the template only delegates", r.Type)
		}
		if r.APIVersion < "2019-09-01" {
			p.addf(at, "%s: apiVersion %s is too old", r.Type, r.APIVersion)
		}
	}
	if def == nil || asg == nil {
		p.addf(at, "want a registrationDefinitions and a registrationAssignments resource")
		return p
	}
	if k, n, ok := armRef(def.Properties["managedByTenantId"]); !ok || k != "parameters" || n != "managedByTenantId" {
		p.addf(at, "registrationDefinitions: managedByTenantId must be [parameters('managedByTenantId')]")
	}
	if id, _ := asg.Properties["registrationDefinitionId"].(string); !strings.Contains(id, "Microsoft.ManagedServices/registrationDefinitions") || len(asg.DependsOn) == 0 {
		p.addf(at, "registrationAssignments: must refer to and depend on the registration definition")
	}

	auths, extra := t.authorizations(def.Properties["authorizations"], &p, at)
	var palKeeper, deleteRole bool
	for _, a := range auths {
		role := t.resolve(a["roleDefinitionId"])
		principal := a["principalId"]
		switch {
		case isParam(principal, "palKeeperPrincipalId") && isParam(a["roleDefinitionId"], "palKeeperRoleDefinitionId"):
			palKeeper = true
		case strings.EqualFold(role, RoleRegistrationDelete):
			deleteRole = true
		case strings.EqualFold(role, RoleOwner):
			p.addf(at, "an authorization holds Owner, which cannot be delegated")
		}
		if _, ok := a["roleDefinitionId"]; !ok {
			p.addf(at, "an authorization has no roleDefinitionId")
		}
	}
	if !palKeeper {
		p.addf(at, "no authorization with principalId [parameters('palKeeperPrincipalId')] and roleDefinitionId [parameters('palKeeperRoleDefinitionId')]")
	}
	if !deleteRole {
		p.addf(at, "no authorization with the Managed Services Registration assignment Delete Role (%s)", RoleRegistrationDelete)
	}
	if extra == "" {
		p.addf(at, "authorizations: want the partner's further authorizations concatenated from an array parameter")
	} else if ep, ok := t.Parameters[extra]; !ok || ep.Type != "array" {
		p.addf(at, "parameter %s must be an array", extra)
	} else if list, ok := ep.DefaultValue.([]any); ok {
		checkARMAuthorizations(list, &p, at+": parameter "+extra+" default")
	}

	principal, ok := t.Parameters["palKeeperPrincipalId"]
	if !ok || principal.Type != "string" || principal.DefaultValue != nil {
		p.addf(at, "parameter palKeeperPrincipalId must be a string without default: the partner's identity_principal_id")
	}
	role, ok := t.Parameters["palKeeperRoleDefinitionId"]
	if !ok {
		p.addf(at, "parameter palKeeperRoleDefinitionId is missing")
	} else {
		checkRoleParameter(&p, at, role)
	}
	if role, ok := t.Parameters["palKeeperRoleDefinitionId"]; ok && !strings.Contains(role.Metadata.Description, delegationReadAction) {
		p.addf(at, "palKeeperRoleDefinitionId's description must say which roles let the identity read its own delegation (%s) and what pal-keeper does without it", delegationReadAction)
	}
	if del, ok := t.Parameters["registrationDeletePrincipalId"]; !ok || del.DefaultValue != "" {
		p.addf(at, "registrationDeletePrincipalId must default to \"\": pal-keeper's identity then holds the Delete Role, whose %s lets it read its own delegation also with Support Request Contributor", delegationReadAction)
	}
	if paramsPath != "" {
		p = append(p, checkARMParameters(paramsPath, t)...)
	}
	return p
}

func isParam(v any, name string) bool {
	k, n, ok := armRef(v)
	return ok && k == "parameters" && n == name
}

// resolve returns the string v stands for: itself, or a variable's value.
func (t armTemplate) resolve(v any) string {
	if k, n, ok := armRef(v); ok && k == "variables" {
		s, _ := t.Variables[n].(string)
		return s
	}
	s, _ := v.(string)
	return s
}

var concatPattern = regexp.MustCompile(`^\[concat\((.*)\)\]$`)

// authorizations returns the authorization objects the template writes itself
// (an array, a variable, or a concat of them) and the name of the array
// parameter concatenated for the partner's people, if any.
func (t armTemplate) authorizations(v any, p *problems, at string) (auths []map[string]any, extraParam string) {
	var parts []any
	if s, ok := v.(string); ok {
		m := concatPattern.FindStringSubmatch(s)
		if m == nil {
			parts = []any{s}
		} else {
			for _, arg := range strings.Split(m[1], ",") {
				parts = append(parts, "["+strings.TrimSpace(arg)+"]")
			}
		}
	} else {
		parts = []any{v}
	}
	for _, part := range parts {
		if k, n, ok := armRef(part); ok {
			if k == "parameters" {
				extraParam = n
				continue
			}
			part = t.Variables[n]
		}
		list, ok := part.([]any)
		if !ok {
			p.addf(at, "authorizations: cannot read %v", part)
			continue
		}
		for _, item := range list {
			if obj, ok := item.(map[string]any); ok {
				auths = append(auths, obj)
			}
		}
	}
	return auths, extraParam
}

// checkARMAuthorizations checks authorization objects given as data (defaults,
// parameter files): GUIDs, known keys, no Owner, User Access Administrator only
// with delegatedRoleDefinitionIds.
func checkARMAuthorizations(list []any, p *problems, at string) {
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			p.addf(at, "authorization %d is not an object", i)
			continue
		}
		for _, k := range sortedKeys(obj) {
			switch k {
			case "principalId", "principalIdDisplayName", "roleDefinitionId", "delegatedRoleDefinitionIds":
			default:
				p.addf(at, "authorization %d: unknown key %q", i, k)
			}
		}
		principal, _ := obj["principalId"].(string)
		role, _ := obj["roleDefinitionId"].(string)
		if !isGUID(principal) || !isGUID(role) {
			p.addf(at, "authorization %d: principalId and roleDefinitionId must be GUIDs (object ID, built-in role ID)", i)
		}
		switch strings.ToLower(role) {
		case RoleOwner:
			p.addf(at, "authorization %d: Owner cannot be delegated", i)
		case RoleUserAccessAdministrator:
			if ids, _ := obj["delegatedRoleDefinitionIds"].([]any); len(ids) == 0 {
				p.addf(at, "authorization %d: User Access Administrator needs delegatedRoleDefinitionIds", i)
			}
		}
	}
}

// checkARMParameters checks a deployment parameters file against template t.
func checkARMParameters(path string, t armTemplate) []error {
	var p problems
	raw, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	var params struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	names := make([]string, 0, len(params.Parameters))
	for n := range params.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def, ok := t.Parameters[n]
		if !ok {
			p.addf(path, "parameter %s is not in the template", n)
			continue
		}
		v := params.Parameters[n].Value
		if len(def.AllowedValues) > 0 && !containsValue(def.AllowedValues, v) {
			p.addf(path, "parameter %s = %v is not an allowed value", n, v)
		}
		if def.Type == "array" {
			if list, ok := v.([]any); ok {
				checkARMAuthorizations(list, &p, path+": "+n)
			}
		}
		if s, ok := v.(string); ok && strings.HasSuffix(n, "Id") && s != "" && !isGUID(s) {
			p.addf(path, "parameter %s = %q is not a GUID", n, s)
		}
	}
	for _, n := range sortedKeys(t.Parameters) {
		if t.Parameters[n].DefaultValue == nil {
			if _, ok := params.Parameters[n]; !ok {
				p.addf(path, "required parameter %s is not set", n)
			}
		}
	}
	return p
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if fmt.Sprint(x) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

// guidPattern is a GUID in its 8-4-4-4-12 form, either case.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isGUID reports whether s is a GUID.
func isGUID(s string) bool { return guidPattern.MatchString(s) }

// checkRoleParameter checks a template's palKeeperRoleDefinitionId parameter
// (the Lighthouse and the direct-mode templates alike): Support Request
// Contributor by default, and exactly the PEC-eligible roles allowed.
func checkRoleParameter(p *problems, at string, role armParameter) {
	if d, _ := role.DefaultValue.(string); d != RoleSupportRequestContributor {
		p.addf(at, "palKeeperRoleDefinitionId defaults to %q, want Support Request Contributor %s", d, RoleSupportRequestContributor)
	}
	if len(role.AllowedValues) == 0 {
		p.addf(at, "palKeeperRoleDefinitionId has no allowedValues: any role, Owner included, could be assigned")
	}
	allowed := map[string]bool{}
	for _, v := range role.AllowedValues {
		s, _ := v.(string)
		allowed[strings.ToLower(s)] = true
		if _, ok := pecRoles[strings.ToLower(s)]; !ok {
			p.addf(at, "palKeeperRoleDefinitionId allows %q: only PEC-eligible Support Request Contributor or Contributor (never Owner or Reader)", s)
		}
	}
	for id, name := range pecRoles {
		if !allowed[id] {
			p.addf(at, "palKeeperRoleDefinitionId must allow %s (%s)", name, id)
		}
	}
}
