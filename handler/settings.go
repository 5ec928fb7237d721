package main

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// settings are the app settings (docs/operations.md, "Settings"), read from the environment.
type settings struct {
	PartnerID         string
	AllowedPartnerIDs []string
	RelinkForeign     bool
	ClientID          string
	Credential        string
	Cloud             string
	ARMEndpoint       string
	OnboardingQueue   string
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
	// the host gives up on the invocation and restarts the handler.
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
	// scaleSettings: PAL_ARM_CONCURRENCY and PAL_SWEEP_TIMEOUT (settings_scale.go).
	scaleSettings

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
	// endpoint (see retryFromEnv); zero fields keep the SDK's defaults.
	Retry policy.RetryOptions
	// RecordTableURL is the compliance record's table service URL
	// (PAL_RECORD_TABLE_URL, else AzureWebJobsStorage__tableServiceUri); ""
	// keeps the record in memory for the life of the process.
	RecordTableURL string
	// recordSetting names the setting RecordTableURL came from.
	recordSetting string
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
	envOnboardingQueue   = "PAL_ONBOARDING_QUEUE"
	envSweepQueue        = "PAL_SWEEP_QUEUE"
	envSweepSchedule     = "PAL_SWEEP_SCHEDULE"
	envServiceBus        = "ServiceBusConnection__fullyQualifiedNamespace"
	envPort              = "FUNCTIONS_CUSTOMHANDLER_PORT"
	envMaxAttempts       = "PAL_MAX_ATTEMPTS"
	envDelegationWait    = "PAL_DELEGATION_WAIT"
	envInvocationTimeout = "PAL_INVOCATION_TIMEOUT"
	envHTTPRole          = "PAL_HTTP_ROLE"
	envIdentity          = "PAL_IDENTITY"
	envAppClientID       = "PAL_APP_CLIENT_ID"
	envAuthorityHost     = "PAL_AUTHORITY_HOST"
	envDirectTenants     = "PAL_DIRECT_TENANTS"
	// envRecordTableURL is the compliance record's table service URL
	// (record.SettingTableURL); envWebJobsTableURL its default
	// (record.SettingWebJobsTableURL), the host storage's identity setting.
	envRecordTableURL  = "PAL_RECORD_TABLE_URL"
	envWebJobsTableURL = "AzureWebJobsStorage__tableServiceUri"
)

// envOnboardingMaxDelivery and envSweepMaxDelivery are the queues' max
// delivery counts (default trigger.DefaultMaxDeliveryCount, Service Bus's).
const (
	envOnboardingMaxDelivery = "PAL_ONBOARDING_MAX_DELIVERY_COUNT"
	envSweepMaxDelivery      = "PAL_SWEEP_MAX_DELIVERY_COUNT"
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

// Settings the platform sets, not the operator (so not env*: the offline
// checks expect every env* setting in the Terraform app settings).
const (
	// platformAuthEnabled is "true" when App Service Authentication is on.
	platformAuthEnabled = "WEBSITE_AUTH_ENABLED"
	// platformSKU is the plan: "Dynamic" for Consumption.
	platformSKU = "WEBSITE_SKU"
)

const (
	// defaultInvocationTimeout is PAL_INVOCATION_TIMEOUT's default when the
	// host's functionTimeout leaves room for it.
	defaultInvocationTimeout = 2 * time.Minute
	// maxInvocationShare is the largest share of the host's functionTimeout an
	// invocation may use, in tenths: the rest is left for the answer to reach
	// the host before the host's own timer fires.
	maxInvocationShare = 9
)

var (
	timeSpanRegex = regexp.MustCompile(`^([0-9]+\.)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$`)
)

// settingsFromEnv reads the settings with getenv and host.json from the app
// root (see [readHostJSON]) and validates them rule by rule. The error names
// the setting and what is wrong, on one line.
func settingsFromEnv(getenv func(string) string) (settings, error) {
	return loadSettings(getenv, func() ([]byte, error) { return readHostJSON(getenv) })
}

// loadSettings is settingsFromEnv with host.json read by readHost (an
// fs.ErrNotExist error when there is none).
func loadSettings(getenv func(string) string, readHost func() ([]byte, error)) (settings, error) {
	s := settings{
		PartnerID:           strings.TrimSpace(getenv(envPartnerID)),
		ClientID:            strings.TrimSpace(getenv(envClientID)),
		Credential:          strings.TrimSpace(getenv(envCredential)),
		Cloud:               strings.TrimSpace(getenv(envCloud)),
		ARMEndpoint:         strings.TrimSpace(getenv(envARMEndpoint)),
		OnboardingQueue:     strings.TrimSpace(getenv(envOnboardingQueue)),
		SweepQueue:          strings.TrimSpace(getenv(envSweepQueue)),
		SweepSchedule:       strings.TrimSpace(getenv(envSweepSchedule)),
		ServiceBusNamespace: strings.TrimSpace(getenv(envServiceBus)),
		Port:                8080,
		MaxAttempts:         8,
		DelegationWait:      30 * time.Minute,
		InvocationTimeout:   defaultInvocationTimeout,
		HTTPRole:            strings.TrimSpace(getenv(envHTTPRole)),
		AuthEnabled:         strings.EqualFold(strings.TrimSpace(getenv(platformAuthEnabled)), "true"),
		RecordTableURL:      record.TableURL(getenv),
		recordSetting:       envRecordTableURL,
	}
	if strings.TrimSpace(getenv(envRecordTableURL)) == "" {
		s.recordSetting = envWebJobsTableURL
	}
	for _, id := range strings.Split(getenv(envAllowedPartnerIDs), ",") {
		if id = strings.TrimSpace(id); id != "" {
			s.AllowedPartnerIDs = append(s.AllowedPartnerIDs, id)
		}
	}
	if v := strings.TrimSpace(getenv(envRelinkForeign)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("%s: %q is not true or false", envRelinkForeign, v)
		}
		s.RelinkForeign = b
	}
	if s.Credential == "" {
		s.Credential = azure.CredentialAzureCLI
		if getenv("IDENTITY_ENDPOINT") != "" || getenv("MSI_ENDPOINT") != "" {
			s.Credential = azure.CredentialManagedIdentity
		}
	}
	if s.Cloud == "" {
		s.Cloud = azure.CloudAzurePublic
	}
	// The owners spell the names; a known name is kept in their spelling.
	if k, ok := azure.CredentialKind(s.Credential); ok {
		s.Credential = k
	}
	if c, ok := azure.CloudName(s.Cloud); ok {
		s.Cloud = c
	}
	if s.OnboardingQueue == "" {
		s.OnboardingQueue = "pal-onboarding"
	}
	if s.SweepQueue == "" {
		s.SweepQueue = "pal-sweep"
	}
	if s.SweepSchedule == "" {
		s.SweepSchedule = "0 0 3 * * *"
	}
	if v := strings.TrimSpace(getenv(envPort)); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return s, fmt.Errorf("%s: %q is not a TCP port (1-65535)", envPort, v)
		}
		s.Port = p
	}
	if v := strings.TrimSpace(getenv(envMaxAttempts)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return s, fmt.Errorf("%s: %q is not a whole number from 1 to 100", envMaxAttempts, v)
		}
		s.MaxAttempts = n
	}
	s.OnboardingMaxDeliveryCount, s.SweepMaxDeliveryCount = trigger.DefaultMaxDeliveryCount, trigger.DefaultMaxDeliveryCount
	for _, d := range []struct {
		name string
		to   *int
	}{{envOnboardingMaxDelivery, &s.OnboardingMaxDeliveryCount}, {envSweepMaxDelivery, &s.SweepMaxDeliveryCount}} {
		if v := strings.TrimSpace(getenv(d.name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return s, fmt.Errorf("%s: %q is not a whole number of at least 1 (the queue's max_delivery_count)", d.name, v)
			}
			*d.to = n
		}
	}
	var err error
	if s.DelegationWait, err = durationSetting(getenv, envDelegationWait, s.DelegationWait, 0, 24*time.Hour); err != nil {
		return s, err
	}
	raw, readErr := readHost()
	if s.FunctionTimeout, err = functionTimeoutOf(raw, readErr, getenv(platformSKU)); err != nil {
		return s, err
	}
	limit := s.invocationLimit()
	if limit > 0 && s.InvocationTimeout > limit {
		s.InvocationTimeout = limit
	}
	if s.InvocationTimeout, err = durationSetting(getenv, envInvocationTimeout, s.InvocationTimeout, time.Second, 2*time.Hour); err != nil {
		return s, err
	}
	if limit > 0 && s.InvocationTimeout > limit {
		return s, fmt.Errorf("%s: %v does not stay below host.json functionTimeout %v: at most %v (nine tenths of it, so the answer reaches the host before the host gives up)",
			envInvocationTimeout, s.InvocationTimeout, s.FunctionTimeout, limit)
	}
	if err = s.scaleSettings.read(getenv, s.FunctionTimeout); err != nil {
		return s, err
	}
	if err := s.loadIdentity(getenv); err != nil {
		return s, err
	}
	if s.Retry, err = retryFromEnv(getenv); err != nil {
		return s, err
	}
	return s, s.validate()
}

// loadIdentity reads and checks the identity settings (PAL_IDENTITY,
// PAL_APP_CLIENT_ID, PAL_AUTHORITY_HOST, PAL_DIRECT_TENANTS).
func (s *settings) loadIdentity(getenv func(string) string) error {
	s.Identity = strings.ToLower(strings.TrimSpace(getenv(envIdentity)))
	s.AppClientID = strings.ToLower(strings.TrimSpace(getenv(envAppClientID)))
	s.AuthorityHost = strings.TrimSpace(getenv(envAuthorityHost))
	for _, t := range strings.Split(getenv(envDirectTenants), ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			s.DirectTenants = append(s.DirectTenants, t)
		}
	}
	if s.Identity == "" {
		s.Identity = identityManaged
	}
	switch s.Identity {
	case identityManaged, identityApp, identityDirect:
	default:
		return fmt.Errorf("%s: %q is not %s", envIdentity, s.Identity, orList([]string{identityManaged, identityApp, identityDirect}))
	}
	if s.Identity == identityManaged {
		if s.AppClientID != "" {
			return fmt.Errorf("%s: set, but %s is %s; set %s=app or direct, or leave it empty", envAppClientID, envIdentity, identityManaged, envIdentity)
		}
	} else {
		switch {
		case s.AppClientID == "":
			return fmt.Errorf("%s: required when %s=%s: the application (client) ID of the app registration trusting the managed identity", envAppClientID, envIdentity, s.Identity)
		case !pal.IsGUID(s.AppClientID):
			return fmt.Errorf("%s: %q is not a GUID (the application (client) ID)", envAppClientID, s.AppClientID)
		case s.Credential != azure.CredentialManagedIdentity:
			return fmt.Errorf("%s: %s=%s needs %s=%s: the managed identity's token is the app's client assertion", envCredential, envIdentity, s.Identity, envCredential, azure.CredentialManagedIdentity)
		}
	}
	if len(s.DirectTenants) > 0 && s.Identity != identityDirect {
		return fmt.Errorf("%s: set, but %s is %s, not %s", envDirectTenants, envIdentity, s.Identity, identityDirect)
	}
	for _, t := range s.DirectTenants {
		if !pal.IsGUID(t) {
			return fmt.Errorf("%s: %q is not a GUID: a comma-separated list of customer tenant IDs", envDirectTenants, t)
		}
	}
	if s.AuthorityHost != "" {
		u, err := url.Parse(s.AuthorityHost)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s: %q is not an https URL without query (e.g. https://127.0.0.1:8443/)", envAuthorityHost, s.AuthorityHost)
		}
	}
	return nil
}

// invocationLimit is the longest InvocationTimeout the host's functionTimeout
// allows, or zero for no limit.
func (s settings) invocationLimit() time.Duration {
	return s.FunctionTimeout / 10 * maxInvocationShare
}

// durationSetting reads a Go duration ("30m", "90s") within [min, max].
func durationSetting(getenv func(string) string, name string, def, min, max time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30m or 90s", name, v)
	}
	if d < min || d > max {
		return 0, fmt.Errorf("%s: %v is outside %v to %v", name, d, min, max)
	}
	return d, nil
}

// validate checks each rule and returns the first broken one.
func (s settings) validate() error {
	switch {
	case s.PartnerID == "":
		return errors.New(envPartnerID + ": required: the location-based partner ID (digits) to link")
	case !pal.ValidPartnerID(s.PartnerID):
		return fmt.Errorf("%s: %q is not a partner ID: digits only, e.g. 1234567", envPartnerID, s.PartnerID)
	}
	for _, id := range s.AllowedPartnerIDs {
		if !pal.ValidPartnerID(id) {
			return fmt.Errorf("%s: %q is not a partner ID: a comma-separated list of digits", envAllowedPartnerIDs, id)
		}
	}
	if s.ClientID != "" && !pal.IsGUID(s.ClientID) {
		return fmt.Errorf("%s: %q is not a GUID (the client ID of the user-assigned managed identity)", envClientID, s.ClientID)
	}
	if _, ok := azure.CredentialKind(s.Credential); !ok {
		return fmt.Errorf("%s: %q is not %s", envCredential, s.Credential, orList(azure.CredentialKinds()))
	}
	if _, ok := azure.CloudName(s.Cloud); !ok {
		return fmt.Errorf("%s: %q is not %s", envCloud, s.Cloud, orList(azure.Clouds()))
	}
	if s.HTTPRole != "" && !s.AuthEnabled {
		return fmt.Errorf("%s: set, but App Service Authentication is off (%s is not true), so any caller could forge the role header; turn Authentication on or leave %s empty",
			envHTTPRole, platformAuthEnabled, envHTTPRole)
	}
	if s.ARMEndpoint != "" {
		u, err := url.Parse(s.ARMEndpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("%s: %q is not an https URL", envARMEndpoint, s.ARMEndpoint)
		}
	}
	if servicebus.CheckQueue(s.SweepQueue) != nil || strings.EqualFold(s.SweepQueue, s.OnboardingQueue) {
		return fmt.Errorf("%s: %q is not a Service Bus queue name other than %s", envSweepQueue, s.SweepQueue, envOnboardingQueue)
	}
	if servicebus.CheckQueue(s.OnboardingQueue) != nil {
		return fmt.Errorf("%s: %q is not a Service Bus queue name", envOnboardingQueue, s.OnboardingQueue)
	}
	if err := checkSchedule(s.SweepSchedule); err != nil {
		return fmt.Errorf("%s: %q %v", envSweepSchedule, s.SweepSchedule, err)
	}
	if s.ServiceBusNamespace != "" && servicebus.CheckNamespace(s.ServiceBusNamespace) != nil {
		return fmt.Errorf("%s: %q is not a namespace host name such as contoso.servicebus.windows.net", envServiceBus, s.ServiceBusNamespace)
	}
	if s.RecordTableURL != "" {
		if err := record.CheckTableURL(s.RecordTableURL); err != nil {
			// The value is not echoed: a URL with a query may carry a SAS token.
			why := strings.TrimPrefix(err.Error(), "record: "+record.SettingTableURL+" ")
			return fmt.Errorf("%s: %s", s.recordSetting, why)
		}
	}
	return nil
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// checkSchedule accepts a six-field NCRONTAB expression or a TimeSpan.
func checkSchedule(v string) error {
	if timeSpanRegex.MatchString(v) {
		return nil
	}
	fields := strings.Fields(v)
	if len(fields) != 6 {
		return fmt.Errorf("is not an NCRONTAB expression: want six fields {second} {minute} {hour} {day} {month} {day-of-week}, got %d", len(fields))
	}
	for _, f := range fields {
		if strings.Trim(f, "0123456789*/,-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			return fmt.Errorf("is not an NCRONTAB expression: field %q has characters outside digits, letters and * / , -", f)
		}
	}
	return nil
}
