package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// noHostJSON reads no host.json: the file does not exist.
func noHostJSON() ([]byte, error) { return nil, fs.ErrNotExist }

// hostJSON reads a host.json with the given text.
func hostJSON(text string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(text), nil }
}

// settingsFromMap is settingsFromEnv on a map, without a host.json.
func settingsFromMap(m map[string]string) (settings, error) {
	return loadSettings(envFrom(m), noHostJSON)
}

func TestSettingsDefaults(t *testing.T) {
	s, err := settingsFromMap(map[string]string{envPartnerID: "1234567"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"Credential", s.Credential, "azurecli"},
		{"Cloud", s.Cloud, "AzurePublic"},
		{"OnboardingQueue", s.OnboardingQueue, "pal-onboarding"},
		{"SweepQueue", s.SweepQueue, "pal-sweep"},
		{"SweepSchedule", s.SweepSchedule, "0 0 3 * * *"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if s.Port != 8080 || s.RelinkForeign {
		t.Errorf("Port, RelinkForeign = %d, %v; want 8080, false", s.Port, s.RelinkForeign)
	}
	if s.MaxAttempts != 8 || s.DelegationWait != 30*time.Minute || s.InvocationTimeout != 2*time.Minute || s.HTTPRole != "" {
		t.Errorf("MaxAttempts, DelegationWait, InvocationTimeout, HTTPRole = %d, %v, %v, %q; want 8, 30m, 2m, \"\"",
			s.MaxAttempts, s.DelegationWait, s.InvocationTimeout, s.HTTPRole)
	}
	s, _ = settingsFromMap(map[string]string{envPartnerID: "1234567", "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi"})
	if s.Credential != "managedidentity" {
		t.Errorf("Credential with IDENTITY_ENDPOINT = %q, want managedidentity", s.Credential)
	}
	s, _ = settingsFromMap(map[string]string{envPartnerID: "1234567", "MSI_ENDPOINT": "http://127.0.0.1:1/msi"})
	if s.Credential != "managedidentity" {
		t.Errorf("Credential with MSI_ENDPOINT = %q, want managedidentity", s.Credential)
	}
}

// TestSettingsRecordTableURL: PAL_RECORD_TABLE_URL, else the host storage's
// table endpoint, else none (memory); the name is the record package's.
func TestSettingsRecordTableURL(t *testing.T) {
	if envRecordTableURL != record.SettingTableURL {
		t.Fatalf("setting name %s; want the record package's %s", envRecordTableURL, record.SettingTableURL)
	}
	const own, host = "https://own.table.core.windows.net", "https://host.table.core.windows.net/"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"neither", map[string]string{}, ""},
		{"default", map[string]string{envWebJobsTableURL: host}, host},
		{"own", map[string]string{envRecordTableURL: own, envWebJobsTableURL: host}, own},
		{"emulator_path", map[string]string{envRecordTableURL: "https://127.0.0.1:10002/devstoreaccount1"}, "https://127.0.0.1:10002/devstoreaccount1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := settingsFromMap(env)
			if err != nil {
				t.Fatal(err)
			}
			if s.RecordTableURL != tt.want {
				t.Errorf("RecordTableURL = %q, want %q", s.RecordTableURL, tt.want)
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the setting the error must name
	}{
		{"missing_partner", map[string]string{}, envPartnerID},
		{"partner_not_digits", map[string]string{envPartnerID: "12ab"}, envPartnerID},
		{"allowed_not_digits", map[string]string{envAllowedPartnerIDs: "111, x"}, envAllowedPartnerIDs},
		{"relink_not_bool", map[string]string{envRelinkForeign: "maybe"}, envRelinkForeign},
		{"client_id_not_guid", map[string]string{envClientID: "not-a-guid"}, envClientID},
		{"credential_unknown", map[string]string{envCredential: "default"}, envCredential},
		{"cloud_unknown", map[string]string{envCloud: "Mars"}, envCloud},
		{"arm_endpoint_http", map[string]string{envARMEndpoint: "http://127.0.0.1:1"}, envARMEndpoint},
		{"graph_endpoint_http", map[string]string{envGraphEndpoint: "http://127.0.0.1:1"}, envGraphEndpoint},
		{"graph_membership_not_bool", map[string]string{envGraphMembership: "sometimes"}, envGraphMembership},
		{"graph_membership_direct", map[string]string{envGraphMembership: "true", envIdentity: "direct", envAppClientID: "0f3c8d2e-1111-2222-3333-444455556666", envCredential: "managedidentity"}, envGraphMembership},
		{"queue_bad", map[string]string{envOnboardingQueue: "bad queue!"}, envOnboardingQueue},
		{"sweep_queue_bad", map[string]string{envSweepQueue: "bad queue!"}, envSweepQueue},
		{"sweep_queue_is_onboarding", map[string]string{envSweepQueue: "pal-onboarding"}, envSweepQueue},
		{"schedule_five_fields", map[string]string{envSweepSchedule: "0 3 * * *"}, envSweepSchedule},
		{"schedule_hour_25", map[string]string{envSweepSchedule: "0 0 25 * * *"}, envSweepSchedule},
		{"schedule_minute_60", map[string]string{envSweepSchedule: "0 60 3 * * *"}, envSweepSchedule},
		{"schedule_blank", map[string]string{envSweepSchedule: "  "}, envSweepSchedule},
		{"schedule_descriptor", map[string]string{envSweepSchedule: "@daily"}, envSweepSchedule},
		{"partner_eleven_digits", map[string]string{envPartnerID: "12345678901"}, envPartnerID},
		{"namespace_bad", map[string]string{envServiceBus: "not a host"}, envServiceBus},
		{"port_bad", map[string]string{envPort: "http"}, envPort},
		{"attempts_zero", map[string]string{envMaxAttempts: "0"}, envMaxAttempts},
		{"onboarding_deliveries_zero", map[string]string{envOnboardingMaxDelivery: "0"}, envOnboardingMaxDelivery},
		{"sweep_deliveries_not_number", map[string]string{envSweepMaxDelivery: "ten"}, envSweepMaxDelivery},
		{"wait_not_duration", map[string]string{envDelegationWait: "30"}, envDelegationWait},
		{"timeout_too_small", map[string]string{envInvocationTimeout: "10ms"}, envInvocationTimeout},
		{"role_without_auth", map[string]string{envHTTPRole: "PAL.Operator"}, envHTTPRole},
		{"role_auth_false", map[string]string{envHTTPRole: "PAL.Operator", platformAuthEnabled: "false"}, envHTTPRole},
		{"role_auth_garbage", map[string]string{envHTTPRole: "PAL.Operator", platformAuthEnabled: "yes"}, envHTTPRole},
		{"record_http", map[string]string{envRecordTableURL: "http://a.table.core.windows.net"}, envRecordTableURL},
		{"record_sas", map[string]string{envRecordTableURL: "https://a.table.core.windows.net/?sv=2024&sig=SECRETSIG"}, envRecordTableURL},
		{"record_table_path", map[string]string{envRecordTableURL: "https://a.table.core.windows.net/acct/palrecord"}, envRecordTableURL},
		{"record_default_bad", map[string]string{envWebJobsTableURL: "not a url"}, envWebJobsTableURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			if tt.name == "missing_partner" {
				delete(env, envPartnerID)
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := settingsFromMap(env)
			if err == nil {
				t.Fatalf("settingsFromEnv(%v) = nil error, want one naming %s", tt.env, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRETSIG") {
				t.Errorf("error = %q echoes a SAS token", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.wantErr+":") || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting with %q", msg, tt.wantErr+":")
			}
		})
	}
}

func TestSettingsAccepts(t *testing.T) {
	s, err := settingsFromMap(map[string]string{
		envPartnerID: "1234567", envAllowedPartnerIDs: " 7654321 ,,1111111", envRelinkForeign: "TRUE",
		envClientID: "0F3C8D2E-1111-2222-3333-444455556666", envCredential: "ManagedIdentity", envCloud: "AzureChina",
		envARMEndpoint: "https://127.0.0.1:8443", envSweepSchedule: "00:30:00", envServiceBus: "contoso.servicebus.windows.net",
		envPort: "7071", envHTTPRole: "PAL.Operator", platformAuthEnabled: " True ",
		envGraphMembership: "true", envGraphEndpoint: "https://127.0.0.1:8444",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AllowedPartnerIDs) != 2 || !s.RelinkForeign || s.Credential != "managedidentity" || s.Port != 7071 ||
		s.HTTPRole != "PAL.Operator" || !s.AuthEnabled || s.Cloud != "AzureChina" || !s.GraphMembership || s.GraphEndpoint != "https://127.0.0.1:8444" {
		t.Errorf("settings = %+v", s)
	}
}

// TestSettingsRecordRetention: PAL_RECORD_RETENTION is whole days from 1
// to 3650, 400 when unset; anything else stops the start naming it.
func TestSettingsRecordRetention(t *testing.T) {
	for _, c := range []struct {
		value string
		want  time.Duration
		bad   bool
	}{
		{"", 400 * 24 * time.Hour, false}, {"30", 30 * 24 * time.Hour, false}, {" 3650 ", 3650 * 24 * time.Hour, false},
		{"0", 0, true}, {"3651", 0, true}, {"400d", 0, true}, {"-1", 0, true},
	} {
		env := map[string]string{envPartnerID: "1234567", record.SettingRetention: c.value}
		s, err := loadSettings(func(k string) string { return env[k] }, func() ([]byte, error) { return nil, os.ErrNotExist })
		switch {
		case c.bad && (err == nil || !strings.Contains(err.Error(), record.SettingRetention)):
			t.Errorf("%q: got %v, want an error naming %s", c.value, err, record.SettingRetention)
		case !c.bad && (err != nil || s.RecordRetention != c.want):
			t.Errorf("%q: got %v, %v, want %v", c.value, s.RecordRetention, err, c.want)
		}
	}
}

// TestLocalSettingsExampleNamesEverySetting keeps local.settings.json.example
// in step with the settings table.
func TestLocalSettingsExampleNamesEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../local.settings.json.example")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Values map[string]string `json:"Values"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("local.settings.json.example: %v", err)
	}
	// Every setting but the platform's, and a value given is the table's
	// default where it has one (a default is written once).
	for _, row := range settingTable() {
		v, ok := file.Values[row.Name]
		switch {
		case row.Terraform == tfPlatform:
		case !ok:
			t.Errorf("local.settings.json.example does not name %s", row.Name)
		case v != "" && row.Default != "" && v != row.Default:
			t.Errorf("local.settings.json.example: %s = %q, but its default is %q; write the default or leave it empty", row.Name, v, row.Default)
		}
	}
	// Its values must be valid settings themselves.
	// With the repository's host.json, as the host would run it.
	repoHost := func() ([]byte, error) { return os.ReadFile("../host.json") }
	s, err := loadSettings(func(k string) string { return file.Values[k] }, repoHost)
	if err != nil {
		t.Errorf("local.settings.json.example with ../host.json: %v", err)
	}
	if s.FunctionTimeout != 10*time.Minute || s.InvocationTimeout != 2*time.Minute {
		t.Errorf("FunctionTimeout, InvocationTimeout = %v, %v; want 10m (host.json), 2m", s.FunctionTimeout, s.InvocationTimeout)
	}
}

// TestSettingsHostFunctionTimeout: PAL_INVOCATION_TIMEOUT stays below
// host.json's functionTimeout, by default and when set.
func TestSettingsHostFunctionTimeout(t *testing.T) {
	tests := []struct {
		name        string
		host        func() ([]byte, error)
		env         map[string]string
		wantHost    time.Duration // FunctionTimeout
		wantTimeout time.Duration // InvocationTimeout
		wantErr     string        // the setting the error names; "" for none
	}{
		{"no_host_json", noHostJSON, nil, 0, 2 * time.Minute, ""},
		{"no_host_json_up_to_http_limit", noHostJSON, map[string]string{envInvocationTimeout: "207s"}, 0, 207 * time.Second, ""},
		// HTTP functions have 230 s to answer whatever functionTimeout says (the front end), so
		// the budget stays within nine tenths of it (issue 15 item 7; accepted before).
		{"no_host_json_above_http_limit", noHostJSON, map[string]string{envInvocationTimeout: "2h"}, 0, 0, envInvocationTimeout},
		{"above_http_limit_under_host", hostJSON(`{"functionTimeout":"00:10:00"}`), map[string]string{envInvocationTimeout: "4m"}, 0, 0, envInvocationTimeout},
		{"unbounded_above_http_limit", hostJSON(`{"functionTimeout":"-1"}`), map[string]string{envInvocationTimeout: "2h"}, 0, 0, envInvocationTimeout},
		{"repo_like", hostJSON(`{"version":"2.0","functionTimeout":"00:10:00"}`), nil, 10 * time.Minute, 2 * time.Minute, ""},
		{"key_any_case", hostJSON(`{"FunctionTimeout":"00:10:00"}`), nil, 10 * time.Minute, 2 * time.Minute, ""},
		{"days", hostJSON(`{"functionTimeout":"1.00:00:00"}`), map[string]string{envInvocationTimeout: "3m"}, 24 * time.Hour, 3 * time.Minute, ""},
		{"unbounded", hostJSON(`{"functionTimeout":"-1"}`), map[string]string{envInvocationTimeout: "3m"}, 0, 3 * time.Minute, ""},
		{"absent_consumption", hostJSON(`{"version":"2.0"}`), map[string]string{platformSKU: "Dynamic"}, 5 * time.Minute, 2 * time.Minute, ""},
		{"absent_flex", hostJSON(`{"version":"2.0"}`), map[string]string{platformSKU: "FlexConsumption"}, 30 * time.Minute, 2 * time.Minute, ""},
		{"null_is_absent", hostJSON(`{"functionTimeout":null}`), nil, 30 * time.Minute, 2 * time.Minute, ""},
		// The default shrinks below a short functionTimeout.
		{"default_below_short_host", hostJSON(`{"functionTimeout":"00:01:00"}`), nil, time.Minute, 54 * time.Second, ""},
		{"set_below", hostJSON(`{"functionTimeout":"00:03:00"}`), map[string]string{envInvocationTimeout: "162s"}, 3 * time.Minute, 162 * time.Second, ""},
		{"set_at_limit_plus", hostJSON(`{"functionTimeout":"00:03:00"}`), map[string]string{envInvocationTimeout: "163s"}, 0, 0, envInvocationTimeout},
		{"set_equal", hostJSON(`{"functionTimeout":"00:10:00"}`), map[string]string{envInvocationTimeout: "10m"}, 0, 0, envInvocationTimeout},
		{"set_above", hostJSON(`{"functionTimeout":"00:05:00"}`), map[string]string{envInvocationTimeout: "20m"}, 0, 0, envInvocationTimeout},
		{"consumption_default_host", hostJSON(`{}`), map[string]string{platformSKU: "Dynamic", envInvocationTimeout: "5m"}, 0, 0, envInvocationTimeout},
		{"bad_span", hostJSON(`{"functionTimeout":"ten minutes"}`), nil, 0, 0, hostJSONName},
		{"zero_span", hostJSON(`{"functionTimeout":"00:00:00"}`), nil, 0, 0, hostJSONName},
		{"not_json", hostJSON(`{"functionTimeout": // comment
			"00:10:00"}`), nil, 0, 0, hostJSONName},
		{"unreadable", func() ([]byte, error) { return nil, fs.ErrPermission }, nil, 0, 0, hostJSONName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := loadSettings(envFrom(env), tt.host)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("loadSettings = %+v, nil error; want one naming %s", s, tt.wantErr)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, tt.wantErr+":") || strings.Contains(msg, "\n") {
					t.Errorf("error = %q, want one line starting with %q", msg, tt.wantErr+":")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.FunctionTimeout != tt.wantHost || s.InvocationTimeout != tt.wantTimeout {
				t.Errorf("FunctionTimeout, InvocationTimeout = %v, %v; want %v, %v",
					s.FunctionTimeout, s.InvocationTimeout, tt.wantHost, tt.wantTimeout)
			}
		})
	}
}

func TestParseTimeSpan(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"00:10:00", 10 * time.Minute, true},
		{"00:00:00.5", 500 * time.Millisecond, true},
		{"01:30", 90 * time.Minute, true},
		{"2.03:00:00", 51 * time.Hour, true},
		{"-1", -24 * time.Hour, true},
		{"1", 24 * time.Hour, true},
		{"24:00:00", 0, false},
		{"00:60:00", 0, false},
		{"00:00:60", 0, false},
		{"00:00:1e1", 0, false},
		{"10m", 0, false},
		{"", 0, false},
		{"1:2:3:4", 0, false},
	}
	for _, tt := range tests {
		got, err := parseTimeSpan(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseTimeSpan(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestAppRoot(t *testing.T) {
	exe := func() (string, error) { return "/home/site/wwwroot/handler", nil }
	if got, _ := appRoot(envFrom(map[string]string{"FUNCTIONS_APP_ROOT_PATH": "/app"}), exe); got != "/app" {
		t.Errorf("appRoot with FUNCTIONS_APP_ROOT_PATH = %q, want /app", got)
	}
	if got, _ := appRoot(envFrom(nil), exe); got != "/home/site/wwwroot" {
		t.Errorf("appRoot beside the executable = %q, want /home/site/wwwroot", got)
	}
	broken := func() (string, error) { return "", errors.New("no /proc") }
	if _, err := appRoot(envFrom(nil), broken); err == nil {
		t.Error("appRoot without an executable path = nil error, want one")
	}
}

// TestSettingsReadHostJSONFromAppRoot: settingsFromEnv reads host.json from
// FUNCTIONS_APP_ROOT_PATH.
func TestSettingsReadHostJSONFromAppRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/host.json", []byte(`{"functionTimeout":"00:01:40"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := settingsFromEnv(envFrom(map[string]string{envPartnerID: "1234567", "FUNCTIONS_APP_ROOT_PATH": dir}))
	if err != nil || s.FunctionTimeout != 100*time.Second || s.InvocationTimeout != 90*time.Second {
		t.Errorf("settingsFromEnv = FunctionTimeout %v, InvocationTimeout %v, %v; want 1m40s, 1m30s, nil",
			s.FunctionTimeout, s.InvocationTimeout, err)
	}
}

// TestServeRefusesBadSettingsInOneLine: the program does not start, and says
// why in one line naming the setting.
func TestServeRefusesBadSettingsInOneLine(t *testing.T) {
	tests := []struct {
		name, want string
		env        map[string]string
	}{
		{"role_without_auth", "pal-keeper: invalid setting PAL_HTTP_ROLE: set, but App Service Authentication is off",
			map[string]string{envHTTPRole: "PAL.Operator"}},
		{"timeout_reaches_host", "pal-keeper: invalid setting PAL_INVOCATION_TIMEOUT: 10m0s does not stay below host.json functionTimeout 10m0s",
			map[string]string{envInvocationTimeout: "10m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567", "FUNCTIONS_APP_ROOT_PATH": "..", envPort: "1"}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr strings.Builder
			code := run(t.Context(), nil, envFrom(env), &stdout, &stderr, openAMQPQueues)
			if code != 1 || !strings.HasPrefix(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("run = %d, stderr %q; want 1 and one line starting %q", code, stderr.String(), tt.want)
			}
		})
	}
}
