package infracheck

import (
	"math/big"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Needs is what the rest of the repository requires of the root module's app
// settings (see [LoadNeeds]).
type Needs struct {
	// Settings the handler reads that Terraform sets (handler/settings.json,
	// "terraform": "yes").
	Settings []string
	// Unwired are the handler's settings Terraform must not set: tuning knobs,
	// emulator-only and platform settings.
	Unwired []string
	// EmulatorOnly are the settings that point the handler at an emulator: no
	// Terraform variable may carry them.
	EmulatorOnly []string
	// Defaults are the settings' defaults where the handler has a literal one;
	// the variable that sets a setting defaults to the same.
	Defaults map[string]string
	// Record names the compliance record's setting, role and drift message.
	Record RecordNames
	// Connections named by function.json bindings; each must be identity-based
	// (NAME__fullyQualifiedNamespace, NAME__credential, NAME__clientId).
	Connections []string
	// Placeholders are the %NAME% of function.json; the host resolves them from app settings.
	Placeholders []string
	// QueueSettings are the placeholders used as a Service Bus trigger's
	// queueName: their app setting must be the name of the queue infra creates.
	QueueSettings []string
}

// RecordNames are the compliance record's names infra must use
// (internal/record's, via handler/settings.json).
type RecordNames struct {
	// TableURLSetting is the app setting of the record's table service URL.
	TableURLSetting string `json:"tableURLSetting"`
	// TableRole is the role the identity needs on the storage account.
	TableRole string `json:"tableRole"`
	// DriftMessage is the message of the drift warning the alert searches for.
	DriftMessage string `json:"driftMessage"`
}

// Resource types of the root module.
const (
	identityType  = "azurerm_user_assigned_identity"
	flexAppType   = "azurerm_function_app_flex_consumption"
	planType      = "azurerm_service_plan"
	storageType   = "azurerm_storage_account"
	containerType = "azurerm_storage_container"
	lawType       = "azurerm_log_analytics_workspace"
	appiType      = "azurerm_application_insights"
	namespaceType = "azurerm_servicebus_namespace"
	queueType     = "azurerm_servicebus_queue"
	roleType      = "azurerm_role_assignment"
)

// identityRoles are the roles of the function's identity: exactly these, each
// on a scope of the given resource type (least privilege: the queue, not the
// namespace; the account, not the resource group).
var identityRoles = map[string]string{
	"Storage Blob Data Owner":        storageType,
	"Storage Table Data Contributor": storageType, // host diagnostics and the compliance record
	"Azure Service Bus Data Owner":   queueType,   // each triggered queue: receive, send, and the scale controller's message count (queueOwners)
	"Monitoring Metrics Publisher":   appiType,
}

// forbiddenAppSettings must not be app settings of the Flex Consumption app.
var forbiddenAppSettings = map[string]string{
	"FUNCTIONS_WORKER_RUNTIME":                 "Flex Consumption takes the stack from runtime_name and rejects this setting",
	"FUNCTIONS_EXTENSION_VERSION":              "not allowed on Flex Consumption",
	"WEBSITE_RUN_FROM_PACKAGE":                 "Flex Consumption runs from its deployment container",
	"WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "a key-based content share; Flex Consumption has none",
	"WEBSITE_CONTENTSHARE":                     "Flex Consumption has no content share",
	"APPINSIGHTS_INSTRUMENTATIONKEY":           "instrumentation keys are local auth; use the connection string with APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
	"SCM_DO_BUILD_DURING_DEPLOYMENT":           "the package is built in CI; no remote build",
	"ENABLE_ORYX_BUILD":                        "the package is built in CI; no remote build",
}

// keyAttributes are provider attributes that hold or pass account keys.
var keyAttributes = []string{
	"primary_access_key", "secondary_access_key", "primary_connection_string", "secondary_connection_string",
	"default_primary_connection_string", "default_secondary_connection_string", "default_primary_key",
	"primary_shared_key", "secondary_shared_key", "instrumentation_key",
	"storage_access_key", "storage_account_access_key", "function_app_storage_account_access_key",
}

// secretMarkers must not appear in any string of the Terraform.
var secretMarkers = []string{"AccountKey=", "SharedAccessKey=", "SharedAccessSignature", "InstrumentationKey="}

// rootVariableCases are values the root module's variables must accept or reject.
var rootVariableCases = []variableCase{
	{"subscription_id", `"00000000-0000-4000-8000-000000000000"`, true},
	{"subscription_id", `"my-subscription"`, false},
	{"pal_partner_id", `"1234567"`, true},
	{"pal_partner_id", `"12a4567"`, false},
	{"pal_partner_id", `""`, false},
	{"pal_partner_id", `"12345678901"`, false},
	{"pal_allowed_partner_ids", `[]`, true},
	{"pal_allowed_partner_ids", `["7654321", "1"]`, true},
	{"pal_allowed_partner_ids", `["76x"]`, false},
	{"pal_relink_foreign", `true`, true},
	{"pal_relink_foreign", `"maybe"`, false},
	{"pal_credential", `"managedidentity"`, true},
	{"pal_credential", `"azurecli"`, false},
	{"pal_cloud", `"AzurePublic"`, true},
	{"pal_cloud", `"AzureChina"`, true},
	{"pal_cloud", `"Azure"`, false},
	{"pal_arm_endpoint", `""`, true},
	{"pal_arm_endpoint", `"https://management.azure.com"`, true},
	{"pal_arm_endpoint", `"http://management.azure.com"`, false},
	{"pal_onboarding_queue", `"pal-onboarding"`, true},
	{"pal_onboarding_queue", `""`, false},
	{"pal_onboarding_queue", `"bad name"`, false},
	{"pal_sweep_schedule", `"0 0 3 * * *"`, true},
	{"pal_sweep_schedule", `"0 */15 * * * *"`, true},
	{"pal_sweep_schedule", `""`, false},
	{"pal_sweep_schedule", `"   "`, false},
	{"pal_sweep_schedule", `"0 0 3 * *"`, false},
	{"pal_sweep_schedule", `"00:05:00"`, false},
	// Field ranges, as internal/ncrontab (robfig/cron) checks them at start.
	{"pal_sweep_schedule", `"0 30 9 * * MON-FRI"`, true},
	{"pal_sweep_schedule", `"0 0 0 1 jan-dec/2 sun"`, true},
	{"pal_sweep_schedule", `"5/10 0 1,2,23 31 12 6"`, true},
	{"pal_sweep_schedule", `"60 0 3 * * *"`, false},
	{"pal_sweep_schedule", `"0 60 3 * * *"`, false},
	{"pal_sweep_schedule", `"0 0 24 * * *"`, false},
	{"pal_sweep_schedule", `"0 0 1,2,25 * * *"`, false},
	{"pal_sweep_schedule", `"0 0 3 0 * *"`, false},
	{"pal_sweep_schedule", `"0 0 3 32 * *"`, false},
	{"pal_sweep_schedule", `"0 0 3 * 13 *"`, false},
	{"pal_sweep_schedule", `"0 0 3 * * 7"`, false},
	{"pal_sweep_schedule", `"0 0 5-3 * * *"`, false},
	{"pal_sweep_schedule", `"0 0 3 * DEC-JAN *"`, false},
	{"pal_sweep_schedule", `"0 */0 * * * *"`, false},
	{"pal_sweep_schedule", `"0 0 JAN * * *"`, false},
	{"pal_sweep_schedule", `"0 0 3 * * FOO"`, false},
	{"pal_sweep_schedule", `"0 0 3 ? * *"`, false},
	{"pal_max_attempts", `8`, true},
	{"pal_max_attempts", `0`, false},
	{"pal_max_attempts", `2.5`, false},
	{"pal_max_attempts", `101`, false},
	{"pal_delegation_wait", `"30m"`, true},
	{"pal_delegation_wait", `"0s"`, true},
	{"pal_delegation_wait", `"1h30m"`, true},
	{"pal_delegation_wait", `"30 minutes"`, false},
	{"pal_delegation_wait", `""`, false},
	{"pal_invocation_timeout", `"2m"`, true},
	{"pal_invocation_timeout", `"90s"`, true},
	{"pal_invocation_timeout", `"00:02:00"`, false},
	// HTTP functions answer within 230 s; the handler refuses more than nine tenths (issue 15 item 7).
	{"pal_invocation_timeout", `"3m27s"`, true},
	{"pal_invocation_timeout", `"1s"`, true},
	{"pal_invocation_timeout", `"3m28s"`, false},
	{"pal_invocation_timeout", `"4m"`, false},
	{"pal_invocation_timeout", `"9m"`, false},
	{"pal_invocation_timeout", `"0s"`, false},
	{"pal_invocation_timeout", `""`, false},
	{"pal_http_role", `""`, true},
	{"pal_http_role", `"PalKeeper.Operator"`, true},
	{"pal_http_role", `"Pal Keeper"`, false},
	{"maximum_instance_count", `40`, true},
	{"maximum_instance_count", `4`, true}, // the preview regions; the precondition refuses it elsewhere (flexScale)
	{"maximum_instance_count", `0`, false},
	{"maximum_instance_count", `1.5`, false},
	{"maximum_instance_count", `1001`, false},
	{"deployer_principal_id", `null`, true},
	{"deployer_principal_id", `"00000000-0000-4000-8000-000000000000"`, true},
	{"deployer_principal_id", `"deployer"`, false},
}

// requiredOutputs are the outputs of the root module and the attribute each
// must return: "<identity>.principal_id" etc., with the resource filled in.
var requiredOutputs = []struct{ name, resourceType, attribute string }{
	{"identity_principal_id", identityType, "principal_id"},
	{"identity_client_id", identityType, "client_id"},
	{"function_app_name", flexAppType, "name"},
	{"function_app_default_hostname", flexAppType, "default_hostname"},
	{"servicebus_namespace", namespaceType, "name"},
}

// rootChecker holds what the checks of one root module share.
type rootChecker struct {
	m     *Module
	p     problems
	needs Needs
	id    string // address of the identity, "azurerm_user_assigned_identity.x"
	app   *hclsyntax.Block
	// queues maps each queue setting (PAL_*_QUEUE) to the queue named from its variable.
	queues map[string]*hclsyntax.Block
}

// CheckRoot checks the Terraform root module in dir (infra/): the resources and
// their settings the design requires, the app settings needs asks for, least
// privilege, outputs, variable validations, and the example .tfvars.
func CheckRoot(dir string, needs Needs) []error {
	m, err := LoadModule(dir)
	if err != nil {
		return []error{err}
	}
	return checkRoot(m, needs)
}

// checkRoot is CheckRoot of the root module m, loaded from m.Dir.
func checkRoot(m *Module, needs Needs) []error {
	dir := m.Dir
	c := &rootChecker{m: m, needs: needs}
	c.providers()
	c.noKeys()
	c.identity()
	c.storage()
	c.monitoring()
	c.serviceBus()
	c.functionApp()
	c.roles()
	c.recordStorage()
	c.driftAlert()
	c.appIdentity()
	c.outputs()
	checkVariableDeclarations(m, &c.p)
	checkVariableCases(m, rootVariableCases, &c.p)
	c.tfvars(filepath.Join(dir, "example.tfvars"))
	return c.p
}

// one returns the single resource of typ, reporting none or several.
func (c *rootChecker) one(typ string) *hclsyntax.Block {
	rs := c.m.resources(typ)
	if len(rs) != 1 {
		c.p.addf(c.m.Dir, "want exactly one %s resource, found %d", typ, len(rs))
		if len(rs) == 0 {
			return nil
		}
	}
	return rs[0]
}

// want reports attribute name of b unless it is the constant want.
func (c *rootChecker) want(b *hclsyntax.Block, name string, want cty.Value, why string) {
	a := attr(b.Body, name)
	if a == nil {
		c.p.addf(where(b.DefRange()), "%s: %s is not set, want %s (%s)", address(b), name, show(want), why)
		return
	}
	got, ok := constant(a.Expr)
	if !ok || got.IsNull() || !got.Type().Equals(want.Type()) || !got.Equals(want).True() {
		c.p.addf(where(a.SrcRange), "%s: %s = %s, want %s (%s)", address(b), name, c.m.text(a.Expr.Range()), show(want), why)
	}
}

// wantRef reports attribute name of b unless it refers to target.
func (c *rootChecker) wantRef(b *hclsyntax.Block, name, target, why string) {
	a := attr(b.Body, name)
	switch {
	case a == nil:
		c.p.addf(where(b.DefRange()), "%s: %s is not set, want a reference to %s (%s)", address(b), name, target, why)
	case !refersTo(a.Expr, target):
		c.p.addf(where(a.SrcRange), "%s: %s = %s, want a reference to %s (%s)", address(b), name, c.m.text(a.Expr.Range()), target, why)
	}
}

func show(v cty.Value) string {
	switch {
	case v.Type().Equals(cty.String):
		return strconv.Quote(v.AsString())
	case v.Type().Equals(cty.Bool):
		return strconv.FormatBool(v.True())
	case v.Type().Equals(cty.Number):
		return v.AsBigFloat().Text('f', -1)
	}
	return v.GoString()
}

func (c *rootChecker) providers() {
	tf := c.m.blocks("terraform")
	if len(tf) != 1 {
		c.p.addf(c.m.Dir, "want one terraform block, found %d", len(tf))
		return
	}
	if attr(tf[0].Body, "required_version") == nil {
		c.p.addf(where(tf[0].DefRange()), "terraform: required_version is not set")
	}
	checkRequiredProviders(tf[0], &c.p, rootAzurermMinor)
	prov := c.m.block("provider", "azurerm")
	if prov == nil {
		c.p.addf(c.m.Dir, `no provider "azurerm" block`)
		return
	}
	if len(subBlocks(prov.Body, "features")) != 1 {
		c.p.addf(where(prov.DefRange()), "provider azurerm: want a features {} block")
	}
	if v, ok := attrBool(prov.Body, "storage_use_azuread"); !ok || !v {
		c.p.addf(where(prov.DefRange()), "provider azurerm: storage_use_azuread must be true (shared keys are off)")
	}
}

// rootAzurermMinor is the root module's azurerm floor, ~> 4.58: 4.58.0 is the
// first azurerm release that accepts a Flex Consumption maximum_instance_count
// below 40 (the range went from 40-1000 to 1-1000 in
// https://github.com/hashicorp/terraform-provider-azurerm/pull/31392), and the
// root module's default is 4.
const rootAzurermMinor = 58

// checkRequiredProviders requires a pessimistic azurerm 4.x constraint whose
// floor is at least 4.minMinor (and azapi 2.x, when used).
func checkRequiredProviders(tf *hclsyntax.Block, p *problems, minMinor int) {
	var rp *hclsyntax.Block
	for _, b := range subBlocks(tf.Body, "required_providers") {
		rp = b
	}
	if rp == nil {
		p.addf(where(tf.DefRange()), "terraform: no required_providers block")
		return
	}
	want := map[string]struct{ source, version string }{
		"azurerm": {"hashicorp/azurerm", `^~> ?4\.[0-9]+(\.[0-9]+)?$`},
		"azapi":   {"azure/azapi", `^~> ?2\.`},
		"azuread": {"hashicorp/azuread", `^~> ?3\.`},
	}
	for name, a := range rp.Body.Attributes {
		w, known := want[name]
		if !known {
			p.addf(where(a.SrcRange), "required_providers: %s is not azurerm, azapi or azuread", name)
			continue
		}
		items, ok := objectItems(a.Expr)
		if !ok {
			p.addf(where(a.SrcRange), "required_providers.%s: want { source = ..., version = ... }", name)
			continue
		}
		if s, _ := constString(items["source"]); !strings.EqualFold(s, w.source) {
			p.addf(where(a.SrcRange), "required_providers.%s: source %q, want %q", name, s, w.source)
		}
		v, _ := constString(items["version"])
		if !regexp.MustCompile(w.version).MatchString(v) {
			p.addf(where(a.SrcRange), "required_providers.%s: version %q, want a pessimistic constraint matching %s", name, v, w.version)
		} else if name == "azurerm" && azurermMinor(v) < minMinor {
			p.addf(where(a.SrcRange), "required_providers.azurerm: version %q, want at least ~> 4.%d", v, minMinor)
		}
	}
	if _, ok := rp.Body.Attributes["azurerm"]; !ok {
		p.addf(where(rp.DefRange()), "required_providers: azurerm is missing")
	}
}

// noKeys forbids account keys and connection strings anywhere in the module.
func (c *rootChecker) noKeys() {
	for _, b := range c.m.Blocks {
		walkAttributes(b.Body, func(a *hclsyntax.Attribute) {
			for _, k := range keyAttributes {
				if a.Name == k {
					c.p.addf(where(a.SrcRange), "%s: key-based access; everything here is identity-based", a.Name)
				}
			}
			for _, r := range refs(a.Expr) {
				parts := strings.Split(r, ".")
				for _, k := range keyAttributes {
					if parts[len(parts)-1] == k {
						c.p.addf(where(a.SrcRange), "%s refers to %s: key-based access; everything here is identity-based", a.Name, r)
					}
				}
			}
			src := c.m.text(a.Expr.Range())
			for _, s := range secretMarkers {
				if strings.Contains(src, s) {
					c.p.addf(where(a.SrcRange), "%s holds %q: no keys or SAS in Terraform", a.Name, s)
				}
			}
		})
	}
}

func (c *rootChecker) identity() {
	if b := c.one(identityType); b != nil {
		c.id = address(b)
	}
	c.one("azurerm_resource_group")
}

func (c *rootChecker) storage() {
	accounts := c.m.resources(storageType)
	if len(accounts) == 0 {
		c.p.addf(c.m.Dir, "no %s", storageType)
	}
	for _, b := range accounts {
		c.want(b, "shared_access_key_enabled", cty.False, "Entra ID only")
		c.want(b, "allow_nested_items_to_be_public", cty.False, "no anonymous blob access")
		c.want(b, "min_tls_version", cty.StringVal("TLS1_2"), "TLS 1.2")
	}
	containers := c.m.resources(containerType)
	if len(containers) == 0 {
		c.p.addf(c.m.Dir, "no %s for the deployment package", containerType)
	}
	for _, b := range containers {
		c.wantRef(b, "storage_account_id", storageType, "the container lives in the host storage account")
		if a := attr(b.Body, "container_access_type"); a != nil {
			c.want(b, "container_access_type", cty.StringVal("private"), "the package is not public")
		}
	}
}

func (c *rootChecker) monitoring() {
	if law := c.one(lawType); law != nil {
		if attr(law.Body, "local_authentication_disabled") != nil {
			c.want(law, "local_authentication_disabled", cty.True, "Entra ID auth only")
		} else {
			c.want(law, "local_authentication_enabled", cty.False, "Entra ID auth only")
		}
	}
	if appi := c.one(appiType); appi != nil {
		c.want(appi, "local_authentication_disabled", cty.True, "telemetry with Entra ID auth only")
		c.wantRef(appi, "workspace_id", lawType, "workspace-based Application Insights")
	}
}

func (c *rootChecker) serviceBus() {
	ns := c.one(namespaceType)
	if ns != nil {
		if sku, _ := attrString(ns.Body, "sku"); sku != "Standard" && sku != "Premium" {
			c.p.addf(where(ns.DefRange()), "%s: sku %q, want Standard (duplicate detection and scheduled messages need it)", address(ns), sku)
		}
		c.want(ns, "local_auth_enabled", cty.False, "no SAS keys: Entra ID only")
	}
	c.queues = map[string]*hclsyntax.Block{}
	used := map[*hclsyntax.Block]bool{}
	for _, setting := range c.needs.QueueSettings {
		v := "var." + strings.ToLower(setting)
		for _, q := range c.m.resources(queueType) {
			if a := attr(q.Body, "name"); a != nil && refersTo(a.Expr, v) {
				c.queues[setting], used[q] = q, true
			}
		}
		if c.queues[setting] == nil {
			c.p.addf(c.m.Dir, "no %s is named from %s (the queue the host resolves %%%s%% to)", queueType, v, setting)
		}
	}
	for _, q := range c.m.resources(queueType) {
		if !used[q] {
			c.p.addf(where(q.DefRange()), "%s: no function.json listens on it (its name is not a queue setting's variable)", address(q))
		}
		c.checkQueue(q)
	}
}

// checkQueue checks one queue's delivery and dead-letter policy.
func (c *rootChecker) checkQueue(q *hclsyntax.Block) {
	c.wantRef(q, "namespace_id", namespaceType, "the queue lives in the namespace")
	c.want(q, "dead_lettering_on_message_expiration", cty.True, "expired messages are kept for inspection")
	c.want(q, "requires_duplicate_detection", cty.True, "resent messages are folded")
	if v, ok := attrBool(q.Body, "requires_session"); ok && v {
		c.p.addf(where(q.DefRange()), "%s: requires_session must be false (function.json: isSessionsEnabled false)", address(q))
	}
	if n, ok := attrNumber(q.Body, "max_delivery_count"); !ok || n < 2 || n > 100 {
		c.p.addf(where(q.DefRange()), "%s: max_delivery_count must be set to a whole number from 2 to 100 (bad input dead-letters, transient trouble is redelivered)", address(q))
	}
	c.duration(q, "lock_duration", 5*time.Second, 5*time.Minute)
	c.duration(q, "duplicate_detection_history_time_window", 20*time.Second, 7*24*time.Hour)
	c.duration(q, "default_message_ttl", time.Minute, 365*24*time.Hour)
}

// attrNumber returns the constant whole number of body's attribute name.
func attrNumber(body *hclsyntax.Body, name string) (int64, bool) {
	a := attr(body, name)
	if a == nil {
		return 0, false
	}
	v, ok := constant(a.Expr)
	if !ok || v.IsNull() || !v.Type().Equals(cty.Number) {
		return 0, false
	}
	n, acc := v.AsBigFloat().Int64()
	return n, acc == big.Exact
}

// duration requires an ISO 8601 duration between lo and hi.
func (c *rootChecker) duration(b *hclsyntax.Block, name string, lo, hi time.Duration) {
	s, ok := attrString(b.Body, name)
	d, valid := isoDuration(s)
	if !ok || !valid || d < lo || d > hi {
		c.p.addf(where(b.DefRange()), "%s: %s = %q, want an ISO 8601 duration from %v to %v", address(b), name, s, lo, hi)
	}
}

var isoPattern = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// isoDuration parses the ISO 8601 durations Service Bus uses (PnDTnHnMnS).
func isoDuration(s string) (time.Duration, bool) {
	m := isoPattern.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, false
			}
			d += time.Duration(n) * unit
		}
	}
	return d, true
}

func (c *rootChecker) functionApp() {
	for _, other := range []string{"azurerm_linux_function_app", "azurerm_windows_function_app", "azurerm_function_app"} {
		for _, b := range c.m.resources(other) {
			c.p.addf(where(b.DefRange()), "%s: the app runs on Flex Consumption (%s), not %s", address(b), flexAppType, other)
		}
	}
	app := c.one(flexAppType)
	if app == nil {
		return
	}
	c.app = app
	c.want(app, "runtime_name", cty.StringVal("custom"), "the Go custom handler is Flex's custom stack")
	c.want(app, "runtime_version", cty.StringVal("1.0"), "the custom stack's version")
	c.want(app, "https_only", cty.True, "HTTPS only")
	c.want(app, "storage_container_type", cty.StringVal("blobContainer"), "Flex deployment container")
	c.want(app, "storage_authentication_type", cty.StringVal("UserAssignedIdentity"), "the deployment package is read with the managed identity, not a key")
	c.wantRef(app, "storage_container_endpoint", containerType, "the deployment container infra creates")
	if c.id != "" {
		c.wantRef(app, "storage_user_assigned_identity_id", c.id+".id", "the function's identity")
	}
	if plan := c.one(planType); plan != nil {
		c.want(plan, "sku_name", cty.StringVal("FC1"), "Flex Consumption")
		c.want(plan, "os_type", cty.StringVal("Linux"), "Flex Consumption is Linux")
		c.wantRef(app, "service_plan_id", address(plan), "the Flex Consumption plan")
	}
	ids := subBlocks(app.Body, "identity")
	if len(ids) != 1 {
		c.p.addf(where(app.DefRange()), "%s: want one identity block", address(app))
	} else {
		c.want(ids[0], "type", cty.StringVal("UserAssigned"), "one user-assigned identity for everything")
		if c.id != "" {
			c.wantRef(ids[0], "identity_ids", c.id+".id", "the function's identity")
		}
	}
	sc := subBlocks(app.Body, "site_config")
	if len(sc) != 1 {
		c.p.addf(where(app.DefRange()), "%s: want one site_config block", address(app))
	} else {
		c.wantRef(sc[0], "application_insights_connection_string", appiType, "telemetry to the Application Insights infra creates")
	}
	c.appSettings(app)
	c.flexScale(app)
	c.appSettingsPut(app)
}

// appSettings checks the function app's app_settings against the design and needs.
func (c *rootChecker) appSettings(app *hclsyntax.Block) {
	a := attr(app.Body, "app_settings")
	if a == nil {
		c.p.addf(where(app.DefRange()), "%s: no app_settings", address(app))
		return
	}
	items, ok := objectItems(a.Expr)
	if !ok {
		c.p.addf(where(a.SrcRange), "%s: app_settings must be an object constructor { NAME = value } so it can be checked", address(app))
		return
	}
	at := where(a.SrcRange)
	clientID := c.id + ".client_id"
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if why, bad := forbiddenAppSettings[k]; bad {
			c.p.addf(where(items[k].Range()), "app setting %s: %s", k, why)
		}
	}
	missing := map[string]bool{}
	need := func(name string) hclsyntax.Expression {
		e := items[name]
		if e == nil && !missing[name] {
			missing[name] = true
			c.p.addf(at, "app setting %s is missing", name)
		}
		return e
	}
	wantConst := func(name, want string) {
		if e := need(name); e != nil {
			if got, ok := constString(e); !ok || got != want {
				c.p.addf(where(e.Range()), "app setting %s = %s, want %q", name, c.m.text(e.Range()), want)
			}
		}
	}
	wantRef := func(name, target, why string) {
		if e := need(name); e != nil && !refersTo(e, target) {
			c.p.addf(where(e.Range()), "app setting %s = %s, want a reference to %s (%s)", name, c.m.text(e.Range()), target, why)
		}
	}

	// Host storage: identity-based, and no AzureWebJobsStorage at all: an empty
	// value breaks the host's start (azure-functions-host#11796), a key-based
	// one needs the shared keys that are off, and azurerm never converges on
	// either (it strips the setting on read): appSettingsPut.
	if e := items["AzureWebJobsStorage"]; e != nil {
		c.p.addf(where(e.Range()), "app setting AzureWebJobsStorage = %s: must be absent, neither empty nor key-based (identity-based AzureWebJobsStorage__* instead)", c.m.text(e.Range()))
	}
	wantConst("AzureWebJobsStorage__credential", "managedidentity")
	wantRef("AzureWebJobsStorage__clientId", clientID, "the user-assigned identity's client ID")
	if items["AzureWebJobsStorage__accountName"] == nil && items["AzureWebJobsStorage__blobServiceUri"] == nil {
		c.p.addf(at, "app settings: want AzureWebJobsStorage__accountName or AzureWebJobsStorage__blobServiceUri")
	}

	// Telemetry: Entra ID.
	if e := need("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"); e != nil {
		if !strings.Contains(c.m.text(e.Range()), "Authorization=AAD") || !refersTo(e, clientID) {
			c.p.addf(where(e.Range()), "app setting APPLICATIONINSIGHTS_AUTHENTICATION_STRING = %s, want \"ClientId=${%s};Authorization=AAD\"", c.m.text(e.Range()), clientID)
		}
	}

	// Trigger connections: identity-based.
	for _, conn := range c.needs.Connections {
		if e := need(conn + "__fullyQualifiedNamespace"); e != nil {
			if s, ok := constString(e); ok && s == "" {
				c.p.addf(where(e.Range()), "app setting %s__fullyQualifiedNamespace is empty", conn)
			}
		}
		wantConst(conn+"__credential", "managedidentity")
		wantRef(conn+"__clientId", clientID, "the user-assigned identity's client ID")
		for k := range items {
			if strings.HasPrefix(k, conn) && !strings.HasPrefix(k, conn+"__") {
				c.p.addf(where(items[k].Range()), "app setting %s: connection %s must be identity-based (%s__*), not a connection string", k, conn, conn)
			}
		}
	}

	// The handler's settings and the host's placeholders.
	isQueue := map[string]bool{}
	for _, s := range c.needs.QueueSettings {
		isQueue[s] = true
		if q := c.queues[s]; q != nil {
			wantRef(s, address(q)+".name", "the queue infra creates")
		}
	}
	for _, s := range c.needs.Placeholders {
		need(s)
	}
	for _, s := range c.needs.Settings {
		switch {
		case s == "AZURE_CLIENT_ID":
			wantRef(s, clientID, "the user-assigned identity's client ID")
		case isQueue[s]:
		case deliveryCountOf(s) != "":
			if q := c.queues[deliveryCountOf(s)]; q != nil {
				wantRef(s, address(q)+".max_delivery_count", "the queue's own max_delivery_count")
			}
		case s == c.needs.Record.TableURLSetting: // recordStorage: the host account's table endpoint
		case s == appClientIDSetting:
			wantRef(s, appResource, "the app registration infra creates (identity.tf)")
		case strings.HasPrefix(s, "PAL_"):
			v := "var." + strings.ToLower(s)
			wantRef(s, v, "every PAL_* setting is wired from its variable")
			if v := c.m.variable(strings.ToLower(s)); v == nil {
				c.p.addf(c.m.Dir, "variable %s (for app setting %s) is missing", strings.ToLower(s), s)
			} else {
				c.defaultIsTheHandlers(v, s)
			}
		default:
			need(s)
		}
	}
	// Tuning knobs, emulator-only and platform settings stay out of the app
	// settings; an emulator-only one is no Terraform variable either.
	for _, s := range c.needs.Unwired {
		if e := items[s]; e != nil {
			c.p.addf(where(e.Range()), "app setting %s: handler/settings.json says Terraform does not set it", s)
		}
	}
	for _, s := range c.needs.EmulatorOnly {
		if v := c.m.variable(strings.ToLower(s)); v != nil {
			c.p.addf(where(v.DefRange()), "variable %s: %s is emulator-only (handler/settings.json): not a Terraform variable", strings.ToLower(s), s)
		}
	}
}

// deliveryCountOf returns the queue setting whose queue's
// max_delivery_count Terraform passes as setting s ("" for other settings).
func deliveryCountOf(s string) string {
	switch s {
	case "PAL_ONBOARDING_MAX_DELIVERY_COUNT":
		return "PAL_ONBOARDING_QUEUE"
	case "PAL_SWEEP_MAX_DELIVERY_COUNT":
		return "PAL_SWEEP_QUEUE"
	}
	return ""
}

func (c *rootChecker) roles() {
	if c.id == "" {
		return
	}
	principal := c.id + ".principal_id"
	seen := map[string]bool{}
	for _, b := range c.m.resources(roleType) {
		pa := attr(b.Body, "principal_id")
		if pa == nil {
			c.p.addf(where(b.DefRange()), "%s: no principal_id", address(b))
			continue
		}
		if refersTo(pa.Expr, c.id+".client_id") {
			c.p.addf(where(pa.SrcRange), "%s: principal_id must be the identity's principal (object) ID, not its client ID", address(b))
			continue
		}
		role, ok := attrString(b.Body, "role_definition_name")
		if !ok {
			c.p.addf(where(b.DefRange()), "%s: want role_definition_name with a built-in role name (checked against the least-privilege set)", address(b))
			continue
		}
		scopeType := ""
		if sa := attr(b.Body, "scope"); sa != nil {
			if rs := refs(sa.Expr); len(rs) > 0 {
				scopeType = strings.Split(rs[0], ".")[0]
			}
		}
		if !refersTo(pa.Expr, principal) {
			// Not the function's identity: only the optional CI/CD deployer.
			if role != "Website Contributor" || scopeType != flexAppType {
				c.p.addf(where(b.DefRange()), "%s: %q on %s for another principal; the only other assignment is Website Contributor on the function app for the deployer", address(b), role, scopeType)
			}
			continue
		}
		if want, ok := identityRoles[role]; !ok {
			c.p.addf(where(b.DefRange()), "%s: the function's identity must not hold %q (least privilege: %s)", address(b), role, roleList())
		} else if scopeType != want {
			c.p.addf(where(b.DefRange()), "%s: %q is scoped to %q, want the %s (least privilege)", address(b), role, scopeType, want)
		}
		if pt, _ := attrString(b.Body, "principal_type"); pt != "ServicePrincipal" {
			c.p.addf(where(b.DefRange()), "%s: principal_type should be \"ServicePrincipal\" (no Graph lookup, no replication race)", address(b))
		}
		seen[role] = true
	}
	for _, role := range sortedKeys(identityRoles) {
		if !seen[role] {
			c.p.addf(c.m.Dir, "the function's identity lacks %q on its %s", role, identityRoles[role])
		}
	}
	c.queueOwners(principal)
}

// queueOwners requires Azure Service Bus Data Owner on every queue a function
// is triggered by (the queues of needs' queue settings): the Flex scale
// controller reads the queue's message count with the app's identity, which
// needs the Manage right; with Data Receiver alone it falls back to the first
// message's age and does not scale to the backlog (docs/reference.md, "Flex
// Consumption scale").
func (c *rootChecker) queueOwners(principal string) {
	for _, s := range c.needs.QueueSettings {
		q := c.queues[s]
		if q == nil {
			continue
		}
		found := false
		for _, b := range c.m.resources(roleType) {
			role, _ := attrString(b.Body, "role_definition_name")
			if role != "Azure Service Bus Data Owner" || !refersTo(attrExpr(b.Body, "principal_id"), principal) {
				continue
			}
			found = found || refersTo(attrExpr(b.Body, "scope"), address(q)+".id")
		}
		if !found {
			c.p.addf(c.m.Dir, "the function's identity lacks \"Azure Service Bus Data Owner\" on %s (%s): the scale controller cannot count its messages", address(q), s)
		}
	}
}

func roleList() string { return strings.Join(sortedKeys(identityRoles), ", ") }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *rootChecker) outputs() {
	for _, o := range requiredOutputs {
		b := c.m.block("output", o.name)
		if b == nil {
			c.p.addf(c.m.Dir, "output %s is missing", o.name)
			continue
		}
		if d, ok := attrString(b.Body, "description"); !ok || d == "" {
			c.p.addf(where(b.DefRange()), "output %s has no description", o.name)
		}
		rs := c.m.resources(o.resourceType)
		if len(rs) == 0 {
			continue
		}
		c.wantRef(b, "value", address(rs[0])+"."+o.attribute, "output "+o.name)
	}
}

// tfvars checks an example .tfvars: every key is a variable, every required
// variable is set, every value passes the variable's validations.
func (c *rootChecker) tfvars(path string) {
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(path)
	if diags.HasErrors() {
		c.p.addf(path, "%s", diags.Error())
		return
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		c.p.addf(path, "%s", diags.Error())
		return
	}
	for name, a := range attrs {
		if c.m.variable(name) == nil {
			c.p.addf(where(a.Range), "%s is not a variable of %s", name, c.m.Dir)
			continue
		}
		v, d := a.Expr.Value(nil)
		if d.HasErrors() {
			c.p.addf(where(a.Range), "%s: %s", name, d.Error())
			continue
		}
		rejected, err := c.m.Validate(name, v)
		if err != nil {
			c.p.add(err)
		}
		for _, r := range rejected {
			c.p.addf(where(a.Range), "%s = %s is rejected: %s", name, a.Expr.Range().SliceBytes(parser.Sources()[path]), r)
		}
	}
	for _, v := range c.m.blocks("variable") {
		if attr(v.Body, "default") == nil && attrs[v.Labels[0]] == nil {
			c.p.addf(path, "required variable %s is not set", v.Labels[0])
		}
	}
}

// azurermMinor is the minor version of a constraint like "~> 4.58" or
// "~> 4.58.1" (-1 when it has none).
func azurermMinor(constraint string) int {
	m := regexp.MustCompile(`^~> ?4\.([0-9]+)`).FindStringSubmatch(constraint)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}

// defaultIsTheHandlers checks that variable v, which sets app setting name,
// defaults to the handler's default for it (handler/settings.json), when both
// are plain values.
func (c *rootChecker) defaultIsTheHandlers(v *hclsyntax.Block, name string) {
	want, ok := c.needs.Defaults[name]
	d := attr(v.Body, "default")
	if !ok || d == nil {
		return
	}
	val, ok := constant(d.Expr)
	if !ok || val.IsNull() || !(val.Type().Equals(cty.String) || val.Type().Equals(cty.Bool) || val.Type().Equals(cty.Number)) {
		return
	}
	if got := strings.Trim(show(val), `"`); got != want {
		c.p.addf(where(d.SrcRange), "var.%s defaults to %s, but the handler's default for %s is %q (handler/settings.json)", strings.ToLower(name), show(val), name, want)
	}
}
