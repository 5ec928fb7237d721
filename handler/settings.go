package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/ncrontab"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/servicebus"
)

// settings are the app settings (docs/operations.md, "Settings"), read from
// the environment by [loadSettings] through [settingTable].
type settings struct {
	PartnerID         string
	AllowedPartnerIDs []string
	RelinkForeign     bool
	ClientID          string
	Credential        string
	Cloud             string
	ARMEndpoint       string
	// GraphMembership lets the engine read the identity's group memberships
	// from Microsoft Graph (PAL_GRAPH_MEMBERSHIP); GraphEndpoint overrides
	// the cloud's Graph base URL (an emulator).
	GraphMembership bool
	GraphEndpoint   string
	OnboardingQueue string
	// SweepQueue is the work queue of the distributed sweep (PAL_SWEEP_QUEUE).
	SweepQueue          string
	SweepSchedule       string
	ServiceBusNamespace string
	Port                int
	// MaxAttempts bounds the scheduled retries of one onboarding message.
	MaxAttempts int
	// OnboardingMaxDeliveryCount and SweepMaxDeliveryCount are the queues'
	// max_delivery_count (PAL_ONBOARDING_MAX_DELIVERY_COUNT,
	// PAL_SWEEP_MAX_DELIVERY_COUNT), which Terraform sets from each queue.
	OnboardingMaxDeliveryCount int
	SweepMaxDeliveryCount      int
	// DelegationWait is how long a message's unreachable subscriptions are
	// treated as a delegation still on its way.
	DelegationWait time.Duration
	// InvocationTimeout bounds one invocation's work. It stays within
	// [maxInvocationShare] of FunctionTimeout, so the handler answers before
	// the host gives up on the invocation and restarts the handler, and within
	// [maxInvocationShare] of the front end's [httpResponseLimit], so an HTTP
	// function answers before the front end cuts the request.
	InvocationTimeout time.Duration
	// FunctionTimeout is the host's functionTimeout from host.json in the app
	// root (the host's plan default when host.json leaves it out). Zero means
	// no bound: no host.json (the CLI on a workstation) or functionTimeout -1.
	FunctionTimeout time.Duration
	// HTTPRole, when set, is the App Service Authentication role an HTTP
	// caller needs. It is only accepted with AuthEnabled.
	HTTPRole string
	// AuthEnabled is true when App Service Authentication is on
	// (WEBSITE_AUTH_ENABLED): only then is X-MS-CLIENT-PRINCIPAL set by the
	// platform rather than by the caller.
	AuthEnabled bool
	// ARMConcurrency bounds the ARM requests one invocation runs at once; the
	// HTTP client keeps as many idle connections per host.
	ARMConcurrency int
	// SweepTimeout is the in-process sweep's budget (timer trigger without
	// Service Bus, and `handler sweep`), instead of PAL_INVOCATION_TIMEOUT.
	SweepTimeout time.Duration

	// Identity settings (PAL_IDENTITY and friends, docs/identities.md).
	// Identity is who acts: identityManaged, identityApp or identityDirect.
	Identity string
	// AppClientID is the app registration trusting the managed identity.
	AppClientID string
	// AuthorityHost overrides the cloud's Entra authority (an emulator).
	AuthorityHost string
	// DirectTenants are customer tenants every direct-mode sweep covers.
	DirectTenants []string
	// Retry is the Azure SDK's retry policy for ARM and the managed-identity
	// endpoint; zero fields keep the SDK's defaults.
	Retry policy.RetryOptions
	// RecordTableURL is the compliance record's table service URL
	// (PAL_RECORD_TABLE_URL, else AzureWebJobsStorage__tableServiceUri); ""
	// keeps the record in memory for the life of the process.
	RecordTableURL string
	// recordSetting names the setting RecordTableURL came from.
	recordSetting string
	// RecordRetention is how long the record keeps changes and runs
	// (PAL_RECORD_RETENTION, whole days; record.Retention).
	RecordRetention time.Duration

	// Read from the table, used by the rules and derived defaults only.
	webJobsTableURL   string
	onManagedIDHost   bool
	invocationIsSet   bool
	sweepTimeoutIsSet bool
}

// Setting names.
const (
	envPartnerID         = "PAL_PARTNER_ID"
	envAllowedPartnerIDs = "PAL_ALLOWED_PARTNER_IDS"
	envRelinkForeign     = "PAL_RELINK_FOREIGN"
	envClientID          = "AZURE_CLIENT_ID"
	envCredential        = "PAL_CREDENTIAL"
	envCloud             = "PAL_CLOUD"
	envARMEndpoint       = "PAL_ARM_ENDPOINT"
	envGraphMembership   = "PAL_GRAPH_MEMBERSHIP"
	envGraphEndpoint     = "PAL_GRAPH_ENDPOINT"
	envOnboardingQueue   = "PAL_ONBOARDING_QUEUE"
	envSweepQueue        = "PAL_SWEEP_QUEUE"
	envSweepSchedule     = "PAL_SWEEP_SCHEDULE"
	envServiceBus        = "ServiceBusConnection__fullyQualifiedNamespace"
	envPort              = "FUNCTIONS_CUSTOMHANDLER_PORT"
	envMaxAttempts       = "PAL_MAX_ATTEMPTS"
	// envOnboardingMaxDelivery and envSweepMaxDelivery are the queues' max
	// delivery counts (default Service Bus's, 10).
	envOnboardingMaxDelivery = "PAL_ONBOARDING_MAX_DELIVERY_COUNT"
	envSweepMaxDelivery      = "PAL_SWEEP_MAX_DELIVERY_COUNT"
	envDelegationWait        = "PAL_DELEGATION_WAIT"
	envInvocationTimeout     = "PAL_INVOCATION_TIMEOUT"
	envHTTPRole              = "PAL_HTTP_ROLE"
	envIdentity              = "PAL_IDENTITY"
	envAppClientID           = "PAL_APP_CLIENT_ID"
	envAuthorityHost         = "PAL_AUTHORITY_HOST"
	envDirectTenants         = "PAL_DIRECT_TENANTS"
	envARMConcurrency        = "PAL_ARM_CONCURRENCY"
	envSweepTimeout          = "PAL_SWEEP_TIMEOUT"
	// envRecordTableURL is the compliance record's table service URL
	// (record.SettingTableURL); envWebJobsTableURL its default, the host
	// storage's identity setting.
	envRecordTableURL  = "PAL_RECORD_TABLE_URL"
	envWebJobsTableURL = "AzureWebJobsStorage__tableServiceUri"
	// The Azure SDK's retry policy, for ARM requests and token requests alike.
	envAzureMaxRetries    = "PAL_AZURE_MAX_RETRIES"
	envAzureRetryDelay    = "PAL_AZURE_RETRY_DELAY"
	envAzureMaxRetryDelay = "PAL_AZURE_MAX_RETRY_DELAY"
)

// Settings the platform sets, not the operator.
const (
	// platformAuthEnabled is "true" when App Service Authentication is on.
	platformAuthEnabled = "WEBSITE_AUTH_ENABLED"
	// platformSKU is the plan: "Dynamic" for Consumption.
	platformSKU = "WEBSITE_SKU"
	// platformAppRoot is the app root, where host.json is.
	platformAppRoot = "FUNCTIONS_APP_ROOT_PATH"
	// platformIdentityEndpoint and platformMSIEndpoint: a managed identity
	// endpoint is there (App Service's, or the older one).
	platformIdentityEndpoint = "IDENTITY_ENDPOINT"
	platformMSIEndpoint      = "MSI_ENDPOINT"
)

// PAL_IDENTITY values: who acts.
const (
	// identityManaged: the managed identity itself (Lighthouse).
	identityManaged = "managedidentity"
	// identityApp: an app trusting the managed identity, in the managing tenant (Lighthouse).
	identityApp = "app"
	// identityDirect: a multi-tenant app in each customer tenant (no Lighthouse).
	identityDirect = "direct"
)

const (
	// maxInvocationShare is the largest share of a time limit (the host's
	// functionTimeout, the front end's HTTP limit) an invocation may use, in
	// tenths: the rest is left for the answer to arrive before the limit.
	maxInvocationShare = 9
	// httpResponseLimit is the most time an HTTP-triggered function has to
	// answer, whatever functionTimeout says: the front end's load balancer
	// cuts the request at 230 s (docs/reference.md). PAL_INVOCATION_TIMEOUT
	// also bounds the HTTP functions, so it stays within nine tenths of it.
	httpResponseLimit = 230 * time.Second
	maxARMConcurrency = 512
	// sweepTimeoutMargin is how much sooner than the host's functionTimeout
	// the sweep stops, so it can report before the host gives up on it.
	sweepTimeoutMargin = 30 * time.Second
	// hostFunctionTimeout is host.json's functionTimeout as shipped (10 min,
	// the Consumption plan's maximum); PAL_SWEEP_TIMEOUT's default is
	// sweepTimeoutMargin under it.
	hostFunctionTimeout = 10 * time.Minute
	// defaultInvocationTimeout is PAL_INVOCATION_TIMEOUT's default, lowered
	// to nine tenths of a shorter functionTimeout (see [settings.deriveDefaults]).
	defaultInvocationTimeout = 2 * time.Minute
)

// terraform says who sets a setting in a deployment (the "terraform" of
// handler/settings.json, which tools/infracheck checks infra/ against).
type terraform string

const (
	// tfSet: infra/main.tf sets it in the function app's app settings.
	tfSet terraform = "yes"
	// tfUnset: a tuning knob Terraform deliberately leaves unset.
	tfUnset terraform = "no"
	// tfEmulatorOnly: points the handler at an emulator; never a Terraform
	// variable nor an app setting of a deployment.
	tfEmulatorOnly terraform = "emulator-only"
	// tfPlatform: the Functions platform or host sets it.
	tfPlatform terraform = "platform"
)

// setting is one row of [settingTable].
type setting struct {
	// Name is the app setting (environment variable).
	Name string
	// Default is the value used when the setting is unset or blank, as an
	// operator would write it; "" when there is none or it is derived from
	// other settings (see [settings.deriveDefaults]).
	Default string
	// Terraform says who sets it in a deployment.
	Terraform terraform
	// Doc is one line on what it is.
	Doc string
	// parse stores v (trimmed; Default when unset) in s, or says in one line,
	// without the setting's name, what is wrong with it.
	parse func(s *settings, v string) error
}

// refusesBlank says whether a value of only white space is an error rather
// than the default: for the sweep's schedule, a blank value is a schedule
// that was meant to be written and was not (the host refuses it too).
func (r setting) refusesBlank() bool { return r.Name == envSweepSchedule }

// settingTable is every setting the handler reads, once. docs/operations.md's
// settings table and handler/settings.json follow it (settings_table_test.go).
func settingTable() []setting {
	return []setting{
		{envPartnerID, "", tfSet, "the location-based partner ID (digits) to link",
			text(func(s *settings) *string { return &s.PartnerID })},
		{envAllowedPartnerIDs, "", tfSet, "further partner IDs a request may name (comma-separated)",
			list(false, func(s *settings) *[]string { return &s.AllowedPartnerIDs })},
		{envRelinkForeign, "false", tfSet, "relink (PATCH) an identity linked to an ID outside the allowed set",
			boolean(func(s *settings) *bool { return &s.RelinkForeign })},
		{envClientID, "", tfSet, "client ID of the user-assigned managed identity",
			text(func(s *settings) *string { return &s.ClientID })},
		{envCredential, "", tfSet, "which azidentity credential to use (managedidentity on Azure, else azurecli)",
			func(s *settings, v string) error {
				s.Credential = v
				if k, ok := azure.CredentialKind(v); ok { // the owner's spelling
					s.Credential = k
				} else if v != "" {
					return fmt.Errorf("%q is not %s", v, orList(azure.CredentialKinds()))
				}
				return nil
			}},
		{envCloud, azure.CloudAzurePublic, tfSet, "AzurePublic, AzureUSGovernment or AzureChina",
			func(s *settings, v string) error {
				c, ok := azure.CloudName(v)
				if !ok {
					return fmt.Errorf("%q is not %s", v, orList(azure.Clouds()))
				}
				s.Cloud = c
				return nil
			}},
		{envARMEndpoint, "", tfSet, "Resource Manager base URL (an https override)",
			func(s *settings, v string) error {
				if v != "" {
					if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
						return fmt.Errorf("%q is not an https URL", v)
					}
				}
				s.ARMEndpoint = v
				return nil
			}},
		{envGraphMembership, "false", tfSet, "read the identity's Entra group memberships from Microsoft Graph (Application.Read.All)",
			boolean(func(s *settings) *bool { return &s.GraphMembership })},
		{envGraphEndpoint, "", tfSet, "Microsoft Graph base URL (an https override)",
			func(s *settings, v string) error {
				if v != "" {
					if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
						return fmt.Errorf("%q is not an https URL", v)
					}
				}
				s.GraphEndpoint = v
				return nil
			}},
		{envOnboardingQueue, "pal-onboarding", tfSet, "the onboarding queue (%PAL_ONBOARDING_QUEUE% in function.json)",
			queueName(func(s *settings) *string { return &s.OnboardingQueue })},
		{envSweepQueue, "pal-sweep", tfSet, "the distributed sweep's work queue (%PAL_SWEEP_QUEUE%)",
			queueName(func(s *settings) *string { return &s.SweepQueue })},
		{envSweepSchedule, "0 0 3 * * *", tfSet, "NCRONTAB of the sweep (%PAL_SWEEP_SCHEDULE%)",
			func(s *settings, v string) error {
				if err := ncrontab.Check(v); err != nil {
					return fmt.Errorf("%q %v", v, err)
				}
				s.SweepSchedule = v
				return nil
			}},
		{envServiceBus, "", tfSet, "the Service Bus namespace of the trigger connection; set, the handler also sends",
			func(s *settings, v string) error {
				if v != "" && servicebus.CheckNamespace(v) != nil {
					return fmt.Errorf("%q is not a namespace host name such as contoso.servicebus.windows.net", v)
				}
				s.ServiceBusNamespace = v
				return nil
			}},
		{envMaxAttempts, "8", tfSet, "scheduled attempts of one onboarding message (1-100)",
			intIn(1, 100, func(s *settings) *int { return &s.MaxAttempts })},
		{envOnboardingMaxDelivery, "10", tfSet, "the onboarding queue's max_delivery_count, from Terraform's queue",
			deliveryCount(func(s *settings) *int { return &s.OnboardingMaxDeliveryCount })},
		{envSweepMaxDelivery, "10", tfSet, "the sweep queue's max_delivery_count, from Terraform's queue",
			deliveryCount(func(s *settings) *int { return &s.SweepMaxDeliveryCount })},
		{envDelegationWait, "30m", tfSet, "how long an unreachable named subscription counts as a delegation on its way",
			durationIn(0, 24*time.Hour, func(s *settings) *time.Duration { return &s.DelegationWait })},
		{envInvocationTimeout, "", tfSet, "the budget of every invocation but the in-process sweep (default " + shortDuration(defaultInvocationTimeout) + ")",
			func(s *settings, v string) error {
				s.invocationIsSet = v != ""
				if !s.invocationIsSet {
					return nil
				}
				return durationIn(time.Second, 2*time.Hour, func(s *settings) *time.Duration { return &s.InvocationTimeout })(s, v)
			}},
		{envSweepTimeout, "", tfUnset, "the in-process sweep's budget (default 30 s under functionTimeout)",
			func(s *settings, v string) error {
				s.sweepTimeoutIsSet = v != ""
				if !s.sweepTimeoutIsSet {
					return nil
				}
				return durationIn(time.Second, 24*time.Hour, func(s *settings) *time.Duration { return &s.SweepTimeout })(s, v)
			}},
		{envARMConcurrency, strconv.Itoa(pal.DefaultConcurrency), tfUnset, "the most ARM requests one invocation runs at once (1-512)",
			intIn(1, maxARMConcurrency, func(s *settings) *int { return &s.ARMConcurrency })},
		{envHTTPRole, "", tfSet, "the App Service Authentication role an HTTP caller needs",
			text(func(s *settings) *string { return &s.HTTPRole })},
		{envIdentity, identityManaged, tfSet, "who acts: managedidentity, app or direct",
			func(s *settings, v string) error {
				v = strings.ToLower(v)
				switch v {
				case identityManaged, identityApp, identityDirect:
				default:
					return fmt.Errorf("%q is not %s", v, orList([]string{identityManaged, identityApp, identityDirect}))
				}
				s.Identity = v
				return nil
			}},
		{envAppClientID, "", tfSet, "the app registration's application (client) ID (app and direct)",
			func(s *settings, v string) error {
				s.AppClientID = strings.ToLower(v)
				if v != "" && !pal.IsGUID(s.AppClientID) {
					return fmt.Errorf("%q is not a GUID (the application (client) ID)", s.AppClientID)
				}
				return nil
			}},
		{envAuthorityHost, "", tfEmulatorOnly, "an https URL replacing the cloud's Entra authority (an emulator)",
			func(s *settings, v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
						return fmt.Errorf("%q is not an https URL without query (e.g. https://127.0.0.1:8443/)", v)
					}
				}
				s.AuthorityHost = v
				return nil
			}},
		{envDirectTenants, "", tfSet, "direct mode: customer tenant IDs every sweep covers (comma-separated)",
			func(s *settings, v string) error {
				if err := list(true, func(s *settings) *[]string { return &s.DirectTenants })(s, v); err != nil {
					return err
				}
				for _, t := range s.DirectTenants {
					if !pal.IsGUID(t) {
						return fmt.Errorf("%q is not a GUID: a comma-separated list of customer tenant IDs", t)
					}
				}
				return nil
			}},
		{envRecordTableURL, "", tfSet, "the compliance record's table service URL (default " + envWebJobsTableURL + ", else memory)",
			text(func(s *settings) *string { return &s.RecordTableURL })},
		{envWebJobsTableURL, "", tfSet, "the host storage's table endpoint (identity-based host storage)",
			text(func(s *settings) *string { return &s.webJobsTableURL })},
		{record.SettingRetention, strconv.Itoa(int(record.DefaultRetention / (24 * time.Hour))), tfUnset,
			"how many days the compliance record keeps changes and runs (1-3650)",
			func(s *settings, v string) error {
				d, err := record.Retention(v)
				s.RecordRetention = d
				return err
			}},
		{envAzureMaxRetries, "", tfUnset, "retries of one Azure request by azcore (0-10; unset: the SDK's)",
			func(s *settings, v string) error {
				if v == "" {
					return nil
				}
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 10 {
					return fmt.Errorf("%q is not a whole number from 0 to 10", v)
				}
				s.Retry.MaxRetries = int32(n)
				if n == 0 {
					s.Retry.MaxRetries = -1 // azcore: zero means the default, below zero no retries
				}
				return nil
			}},
		{envAzureRetryDelay, "", tfUnset, "azcore's first backoff (1ms-1m; unset: the SDK's)",
			durationIn(time.Millisecond, time.Minute, func(s *settings) *time.Duration { return &s.Retry.RetryDelay })},
		{envAzureMaxRetryDelay, "", tfUnset, "azcore's longest wait between tries (1ms-10m; unset: the SDK's)",
			durationIn(time.Millisecond, 10*time.Minute, func(s *settings) *time.Duration { return &s.Retry.MaxRetryDelay })},
		{envPort, "8080", tfPlatform, "the port the host forwards to",
			func(s *settings, v string) error {
				p, err := strconv.Atoi(v)
				if err != nil || p < 1 || p > 65535 {
					return fmt.Errorf("%q is not a TCP port (1-65535)", v)
				}
				s.Port = p
				return nil
			}},
		{platformAuthEnabled, "", tfPlatform, "true when App Service Authentication is on",
			func(s *settings, v string) error { s.AuthEnabled = strings.EqualFold(v, "true"); return nil }},
		{platformSKU, "", tfPlatform, "the plan (Dynamic = Consumption), for host.json's default functionTimeout",
			func(*settings, string) error { return nil }}, // read by the host.json step
		{platformAppRoot, "", tfPlatform, "the app root, where host.json is",
			func(*settings, string) error { return nil }}, // read by the host.json step
		{platformIdentityEndpoint, "", tfPlatform, "App Service's managed identity endpoint",
			func(s *settings, v string) error { s.onManagedIDHost = s.onManagedIDHost || v != ""; return nil }},
		{platformMSIEndpoint, "", tfPlatform, "the older managed identity endpoint",
			func(s *settings, v string) error { s.onManagedIDHost = s.onManagedIDHost || v != ""; return nil }},
	}
}

// settingsFromEnv reads the settings with getenv and host.json from the app
// root (see [readHostJSON]) and validates them rule by rule. The error names
// the setting and what is wrong, on one line.
func settingsFromEnv(getenv func(string) string) (settings, error) {
	return loadSettings(getenv, func() ([]byte, error) { return readHostJSON(getenv) })
}

// loadSettings is settingsFromEnv with host.json read by readHost (an
// fs.ErrNotExist error when there is none). It runs in four steps: the host's
// functionTimeout from host.json, every row of [settingTable], the defaults
// derived from other settings, then the rules across settings.
func loadSettings(getenv func(string) string, readHost func() ([]byte, error)) (settings, error) {
	var s settings
	raw, readErr := readHost()
	var err error
	if s.FunctionTimeout, err = functionTimeoutOf(raw, readErr, getenv(platformSKU)); err != nil {
		return s, err
	}
	for _, row := range settingTable() {
		raw := getenv(row.Name)
		v := strings.TrimSpace(raw)
		if v == "" {
			if raw != "" && row.refusesBlank() {
				return s, fmt.Errorf("%s: set but blank; unset it for the default %q", row.Name, row.Default)
			}
			v = row.Default
		}
		if err := row.parse(&s, v); err != nil {
			return s, fmt.Errorf("%s: %w", row.Name, err)
		}
	}
	s.deriveDefaults()
	return s, s.validate()
}

// deriveDefaults sets the defaults that depend on other settings.
func (s *settings) deriveDefaults() {
	if s.Credential == "" {
		s.Credential = azure.CredentialAzureCLI
		if s.onManagedIDHost {
			s.Credential = azure.CredentialManagedIdentity
		}
	}
	if !s.invocationIsSet {
		s.InvocationTimeout = defaultInvocationTimeout
		if limit := s.invocationLimit(); s.InvocationTimeout > limit {
			s.InvocationTimeout = limit
		}
	}
	if !s.sweepTimeoutIsSet {
		s.SweepTimeout = defaultSweepTimeout(s.FunctionTimeout)
	}
	s.recordSetting = envRecordTableURL
	if s.RecordTableURL == "" {
		s.RecordTableURL, s.recordSetting = s.webJobsTableURL, envWebJobsTableURL
	}
}

// invocationLimit is the longest InvocationTimeout allowed: nine tenths of
// the front end's HTTP limit and of the host's functionTimeout (when bounded).
func (s settings) invocationLimit() time.Duration {
	limit := httpResponseLimit / 10 * maxInvocationShare
	if s.FunctionTimeout > 0 {
		limit = min(limit, s.FunctionTimeout/10*maxInvocationShare)
	}
	return limit
}

// defaultSweepTimeout is the sweep's budget when PAL_SWEEP_TIMEOUT is unset:
// sweepTimeoutMargin under the host's functionTimeout. functionTimeout zero
// (unknown or unbounded) means host.json's shipped value, giving 9m30s.
func defaultSweepTimeout(functionTimeout time.Duration) time.Duration {
	if functionTimeout <= 0 {
		functionTimeout = hostFunctionTimeout
	}
	return max(functionTimeout-sweepTimeoutMargin, functionTimeout/2)
}

// validate checks each rule across settings and returns the first broken one,
// in one line naming the setting to fix.
func (s settings) validate() error {
	switch {
	case s.PartnerID == "":
		return fmt.Errorf("%s: required: the location-based partner ID (digits) to link", envPartnerID)
	case !pal.ValidPartnerID(s.PartnerID):
		return fmt.Errorf("%s: %s", envPartnerID, pal.PartnerIDProblem(s.PartnerID))
	}
	for _, id := range s.AllowedPartnerIDs {
		if !pal.ValidPartnerID(id) {
			return fmt.Errorf("%s: %s (a comma-separated list)", envAllowedPartnerIDs, pal.PartnerIDProblem(id))
		}
	}
	if s.ClientID != "" && !pal.IsGUID(s.ClientID) {
		return fmt.Errorf("%s: %q is not a GUID (the client ID of the user-assigned managed identity)", envClientID, s.ClientID)
	}
	if limit := s.FunctionTimeout / 10 * maxInvocationShare; s.FunctionTimeout > 0 && s.InvocationTimeout > limit {
		return fmt.Errorf("%s: %v does not stay below host.json functionTimeout %v: at most %v (nine tenths of it, so the answer reaches the host before the host gives up)",
			envInvocationTimeout, s.InvocationTimeout, s.FunctionTimeout, limit)
	}
	if limit := httpResponseLimit / 10 * maxInvocationShare; s.InvocationTimeout > limit {
		return fmt.Errorf("%s: %v does not stay below the %v an HTTP function has to answer (the front end's limit, whatever functionTimeout says): at most %v (nine tenths of it)",
			envInvocationTimeout, s.InvocationTimeout, httpResponseLimit, limit)
	}
	if s.FunctionTimeout > 0 && s.SweepTimeout >= s.FunctionTimeout {
		return fmt.Errorf("%s: %v does not stay below host.json functionTimeout %v: the sweep must report before the host gives up on it",
			envSweepTimeout, s.SweepTimeout, s.FunctionTimeout)
	}
	if s.Identity == identityManaged {
		if s.AppClientID != "" {
			return fmt.Errorf("%s: set, but %s is %s; set %s=app or direct, or leave it empty", envAppClientID, envIdentity, identityManaged, envIdentity)
		}
	} else {
		switch {
		case s.AppClientID == "":
			return fmt.Errorf("%s: required when %s=%s: the application (client) ID of the app registration trusting the managed identity", envAppClientID, envIdentity, s.Identity)
		case s.Credential != azure.CredentialManagedIdentity:
			return fmt.Errorf("%s: %s=%s needs %s=%s: the managed identity's token is the app's client assertion", envCredential, envIdentity, s.Identity, envCredential, azure.CredentialManagedIdentity)
		}
	}
	if len(s.DirectTenants) > 0 && s.Identity != identityDirect {
		return fmt.Errorf("%s: set, but %s is %s, not %s", envDirectTenants, envIdentity, s.Identity, identityDirect)
	}
	if s.GraphMembership && s.Identity == identityDirect {
		return fmt.Errorf("%s: true, but %s is %s: group memberships are read for Lighthouse delegations only; leave it false", envGraphMembership, envIdentity, identityDirect)
	}
	if s.HTTPRole != "" && !s.AuthEnabled {
		return fmt.Errorf("%s: set, but App Service Authentication is off (%s is not true), so any caller could forge the role header; turn Authentication on or leave %s empty",
			envHTTPRole, platformAuthEnabled, envHTTPRole)
	}
	if strings.EqualFold(s.SweepQueue, s.OnboardingQueue) {
		return fmt.Errorf("%s: %q is not a Service Bus queue name other than %s", envSweepQueue, s.SweepQueue, envOnboardingQueue)
	}
	if s.RecordTableURL != "" {
		if err := record.CheckTableURL(s.RecordTableURL); err != nil {
			// The value is not echoed: a URL with a query may carry a SAS token.
			why := strings.TrimPrefix(err.Error(), "record: "+record.SettingTableURL+" ")
			return fmt.Errorf("%s: %s", s.recordSetting, why)
		}
	}
	if first, most := orDefault(s.Retry.RetryDelay, sdkRetryDelay), orDefault(s.Retry.MaxRetryDelay, sdkMaxRetryDelay); most < first {
		return fmt.Errorf("%s: %v is below %s (%v)", envAzureMaxRetryDelay, most, envAzureRetryDelay, first)
	}
	return nil
}

// azcore's retry delays when the settings leave them unset (ARM; the
// managed-identity endpoint of App Service has the same).
const (
	sdkRetryDelay    = 800 * time.Millisecond
	sdkMaxRetryDelay = 60 * time.Second
)

// orDefault is d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// text stores the value as it is.
func text(field func(*settings) *string) func(*settings, string) error {
	return func(s *settings, v string) error { *field(s) = v; return nil }
}

// list stores a comma-separated list without blanks, lowercased if lower.
func list(lower bool, field func(*settings) *[]string) func(*settings, string) error {
	return func(s *settings, v string) error {
		var out []string
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				if lower {
					e = strings.ToLower(e)
				}
				out = append(out, e)
			}
		}
		*field(s) = out
		return nil
	}
}

// boolean stores true or false (strconv.ParseBool).
func boolean(field func(*settings) *bool) func(*settings, string) error {
	return func(s *settings, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(s) = b
		return nil
	}
}

// intIn stores a whole number within [lo, hi].
func intIn(lo, hi int, field func(*settings) *int) func(*settings, string) error {
	return func(s *settings, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
		}
		*field(s) = n
		return nil
	}
}

// durationIn stores a Go duration ("30m", "90s") within [lo, hi]; "" stores zero.
func durationIn(lo, hi time.Duration, field func(*settings) *time.Duration) func(*settings, string) error {
	return func(s *settings, v string) error {
		if v == "" {
			*field(s) = 0
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30m or 90s", v)
		}
		if d < lo || d > hi {
			return fmt.Errorf("%v is outside %v to %v", d, lo, hi)
		}
		*field(s) = d
		return nil
	}
}

// deliveryCount stores a queue's max_delivery_count: a whole number of at least 1.
func deliveryCount(field func(*settings) *int) func(*settings, string) error {
	return func(s *settings, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a whole number of at least 1 (the queue's max_delivery_count)", v)
		}
		*field(s) = n
		return nil
	}
}

// queueName stores a Service Bus queue name.
func queueName(field func(*settings) *string) func(*settings, string) error {
	return func(s *settings, v string) error {
		if servicebus.CheckQueue(v) != nil {
			return fmt.Errorf("%q is not a Service Bus queue name", v)
		}
		*field(s) = v
		return nil
	}
}

// shortDuration writes d as an operator would: 2m rather than 2m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
