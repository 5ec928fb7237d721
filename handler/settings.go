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
)

// settings are the app settings of DESIGN.md, read from the environment.
type settings struct {
	PartnerID           string
	AllowedPartnerIDs   []string
	RelinkForeign       bool
	ClientID            string
	Credential          string
	Cloud               string
	ARMEndpoint         string
	OnboardingQueue     string
	SweepSchedule       string
	ServiceBusNamespace string
	Port                int
	// MaxAttempts bounds the scheduled retries of one onboarding message.
	MaxAttempts int
	// DelegationWait is how long a message's unreachable subscriptions are
	// treated as a delegation still on its way.
	DelegationWait time.Duration
	// InvocationTimeout bounds one invocation's work.
	InvocationTimeout time.Duration
	// HTTPRole, when set, is the App Service Authentication role an HTTP caller needs.
	HTTPRole string
	// Retry is the Azure SDK's retry policy for ARM and the managed-identity
	// endpoint (see retryFromEnv); zero fields keep the SDK's defaults.
	Retry policy.RetryOptions
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
	envSweepSchedule     = "PAL_SWEEP_SCHEDULE"
	envServiceBus        = "ServiceBusConnection__fullyQualifiedNamespace"
	envPort              = "FUNCTIONS_CUSTOMHANDLER_PORT"
	envMaxAttempts       = "PAL_MAX_ATTEMPTS"
	envDelegationWait    = "PAL_DELEGATION_WAIT"
	envInvocationTimeout = "PAL_INVOCATION_TIMEOUT"
	envHTTPRole          = "PAL_HTTP_ROLE"
)

var (
	digits        = regexp.MustCompile(`^[0-9]{1,10}$`)
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	queuePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,259}$`)
	fqdnPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+$`)
	timeSpanRegex = regexp.MustCompile(`^([0-9]+\.)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$`)
)

// settingsFromEnv reads the settings with getenv and validates them rule by
// rule. The error names the setting and what is wrong, on one line.
func settingsFromEnv(getenv func(string) string) (settings, error) {
	s := settings{
		PartnerID:           strings.TrimSpace(getenv(envPartnerID)),
		ClientID:            strings.TrimSpace(getenv(envClientID)),
		Credential:          strings.ToLower(strings.TrimSpace(getenv(envCredential))),
		Cloud:               strings.TrimSpace(getenv(envCloud)),
		ARMEndpoint:         strings.TrimSpace(getenv(envARMEndpoint)),
		OnboardingQueue:     strings.TrimSpace(getenv(envOnboardingQueue)),
		SweepSchedule:       strings.TrimSpace(getenv(envSweepSchedule)),
		ServiceBusNamespace: strings.TrimSpace(getenv(envServiceBus)),
		Port:                8080,
		MaxAttempts:         8,
		DelegationWait:      30 * time.Minute,
		InvocationTimeout:   2 * time.Minute,
		HTTPRole:            strings.TrimSpace(getenv(envHTTPRole)),
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
		s.Credential = "azurecli"
		if getenv("IDENTITY_ENDPOINT") != "" || getenv("MSI_ENDPOINT") != "" {
			s.Credential = "managedidentity"
		}
	}
	if s.Cloud == "" {
		s.Cloud = "AzurePublic"
	}
	if s.OnboardingQueue == "" {
		s.OnboardingQueue = "pal-onboarding"
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
	var err error
	if s.DelegationWait, err = durationSetting(getenv, envDelegationWait, s.DelegationWait, 0, 24*time.Hour); err != nil {
		return s, err
	}
	if s.InvocationTimeout, err = durationSetting(getenv, envInvocationTimeout, s.InvocationTimeout, time.Second, 2*time.Hour); err != nil {
		return s, err
	}
	if s.Retry, err = retryFromEnv(getenv); err != nil {
		return s, err
	}
	return s, s.validate()
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
	case !digits.MatchString(s.PartnerID):
		return fmt.Errorf("%s: %q is not a partner ID: digits only, e.g. 1234567", envPartnerID, s.PartnerID)
	}
	for _, id := range s.AllowedPartnerIDs {
		if !digits.MatchString(id) {
			return fmt.Errorf("%s: %q is not a partner ID: a comma-separated list of digits", envAllowedPartnerIDs, id)
		}
	}
	if s.ClientID != "" && !guidPattern.MatchString(s.ClientID) {
		return fmt.Errorf("%s: %q is not a GUID (the client ID of the user-assigned managed identity)", envClientID, s.ClientID)
	}
	switch s.Credential {
	case "managedidentity", "azurecli":
	default:
		return fmt.Errorf("%s: %q is not managedidentity or azurecli", envCredential, s.Credential)
	}
	switch s.Cloud {
	case "AzurePublic", "AzureUSGovernment", "AzureChina":
	default:
		return fmt.Errorf("%s: %q is not AzurePublic, AzureUSGovernment or AzureChina", envCloud, s.Cloud)
	}
	if s.ARMEndpoint != "" {
		u, err := url.Parse(s.ARMEndpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("%s: %q is not an https URL", envARMEndpoint, s.ARMEndpoint)
		}
	}
	if !queuePattern.MatchString(s.OnboardingQueue) {
		return fmt.Errorf("%s: %q is not a Service Bus queue name", envOnboardingQueue, s.OnboardingQueue)
	}
	if err := checkSchedule(s.SweepSchedule); err != nil {
		return fmt.Errorf("%s: %q %v", envSweepSchedule, s.SweepSchedule, err)
	}
	if s.ServiceBusNamespace != "" && !fqdnPattern.MatchString(s.ServiceBusNamespace) {
		return fmt.Errorf("%s: %q is not a namespace host name such as contoso.servicebus.windows.net", envServiceBus, s.ServiceBusNamespace)
	}
	return nil
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
