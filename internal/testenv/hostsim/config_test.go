package hostsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBothFolderLayoutsAndDefaultExecutable(t *testing.T) {
	root := writeApp(t, basicHostJSON, map[string]string{
		"alpha/function.json":           pingFunction,                                                                   // deployed package layout
		"functions/beta/function.json":  `{"bindings": [{"type": "serviceBusTrigger", "name": "m", "queueName": "q"}]}`, // repository layout
		"functions/README.md":           "not a function",
		"notafunction/other.json":       "{}",
		"functions/gamma/function.json": `{"bindings": [{"type": "httpTrigger", "name": "req", "route": "/g/{id}/"}, {"type": "http", "direction": "out", "name": "res"}]}`,
	})
	exe, err := os.ReadFile(fakeHandler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "handler"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	h, _ := startHostAsConfigured(t, Options{AppRoot: root, Env: []string{"APP_ARG=x"}, FunctionKey: "k"})
	if h.exe != filepath.Join(h.AppRoot(), "handler") {
		t.Errorf("executable = %q, want defaultExecutablePath resolved against the app root", h.exe)
	}
	var names []string
	for _, f := range h.Functions() {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "alpha,beta,gamma" {
		t.Fatalf("functions = %v", names)
	}
	gamma, _ := h.Function("GAMMA")
	if gamma.Route != "g/{id}" || gamma.AuthLevel != AuthFunction || len(gamma.Methods) != 0 || gamma.Trigger.Name != "req" {
		t.Errorf("gamma = %+v", gamma)
	}
	beta, _ := h.Function("beta")
	if beta.Queue != "q" || beta.Trigger.Direction != "in" || beta.Dir != filepath.Join(h.AppRoot(), "functions", "beta") {
		t.Errorf("beta = %+v", beta)
	}
	ctx := testContext(t)
	if res, err := h.Invoke(ctx, "alpha", nil, nil); err != nil || res.Failed {
		t.Errorf("alpha: %v %v", res, err)
	}
	if res, err := h.HTTP(ctx, "GET", "/api/g/1?code=k", nil, nil); err != nil || res.StatusCode != 200 {
		t.Errorf("gamma: %v %v", res, err)
	}
	e := echoOf(t, mustInvoke(t, h, "alpha"))
	if strings.Join(e.Args, " ") != "--flag x" {
		t.Errorf("args = %q", e.Args)
	}
}

func mustInvoke(t *testing.T, h *Host, name string) *InvocationResult {
	t.Helper()
	res, err := h.Invoke(testContext(t), name, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConfigurationErrors(t *testing.T) {
	sb := `{"bindings": [{"type": "serviceBusTrigger", "name": "m", "queueName": "%APP_MISSING%"}]}`
	tests := []struct {
		name    string
		host    string
		files   map[string]string
		wantErr string
	}{
		{"unresolved_setting", basicHostJSON, map[string]string{"a/function.json": sb}, "APP_MISSING"},
		{"duplicate_function", basicHostJSON, map[string]string{"a/function.json": pingFunction, "functions/a/function.json": pingFunction}, "defined twice"},
		{"missing_version", `{"customHandler": {"description": {"defaultExecutablePath": "handler"}}}`, map[string]string{}, `"version" must be "2.0"`},
		{"bad_schedule", basicHostJSON, map[string]string{"a/function.json": `{"bindings": [{"type": "timerTrigger", "name": "t", "schedule": "0 0 25 * * *"}]}`}, "schedule"},
		{"two_triggers", basicHostJSON, map[string]string{"a/function.json": `{"bindings": [{"type": "timerTrigger", "name": "t", "schedule": "0 0 1 * * *"}, {"type": "httpTrigger", "name": "r"}]}`}, "exactly one trigger"},
		{"bad_auth_level", basicHostJSON, map[string]string{"a/function.json": `{"bindings": [{"type": "httpTrigger", "name": "r", "authLevel": "user"}]}`}, "authLevel"},
		{"bad_function_name", basicHostJSON, map[string]string{"a.b/function.json": pingFunction}, "not a valid function name"},
		{"bad_timeout", `{"version": "2.0", "functionTimeout": "soon", "customHandler": {"description": {"defaultExecutablePath": "handler"}}}`, map[string]string{}, "functionTimeout"},
		{"no_executable", `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "no-such-handler-xyz"}}}`, map[string]string{}, "neither in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{AppRoot: writeApp(t, tt.host, tt.files), Executable: fakeHandler}
			if tt.name == "no_executable" {
				opts.Executable = ""
			}
			_, err := Start(testContext(t), opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Start error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestDisabledByAppSetting(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t), Env: []string{"AzureWebJobs.ping.Disabled=true"}})
	if f, _ := h.Function("ping"); !f.Disabled {
		t.Error("function not disabled by AzureWebJobs.ping.Disabled")
	}
	if _, err := h.Invoke(testContext(t), "ping", nil, nil); err == nil {
		t.Error("a disabled function was invoked")
	}
}

func TestTimeSpans(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"00:05:00":         5 * time.Minute,
		"01:00":            time.Hour,
		"1.02:03:04":       26*time.Hour + 3*time.Minute + 4*time.Second,
		"00:00:00.5":       500 * time.Millisecond,
		"-1":               -24 * time.Hour,
		"2":                48 * time.Hour,
		"-00:00:01":        -time.Second,
		"00:00:01.0000001": time.Second + 100*time.Nanosecond,
	} {
		got, err := parseTimeSpan(in)
		if err != nil || got != want {
			t.Errorf("parseTimeSpan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "24:00:00", "00:60:00", "1:2:3:4"} {
		if _, err := parseTimeSpan(bad); err == nil {
			t.Errorf("parseTimeSpan(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]string{
		30 * time.Minute:                      "00:30:00",
		500 * time.Millisecond:                "00:00:00.5000000",
		26*time.Hour + 3*time.Second:          "1.02:00:03",
		-(time.Minute + 250*time.Millisecond): "-00:01:00.2500000",
	} {
		if got := formatTimeSpan(d); got != want {
			t.Errorf("formatTimeSpan(%v) = %q, want %q", d, got, want)
		}
	}
}
