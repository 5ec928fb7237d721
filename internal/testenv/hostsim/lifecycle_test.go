package hostsim

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const pingFunction = `{"bindings": [{"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 */5 * * * *"}]}`

func pingApp(t *testing.T) string {
	return writeApp(t, basicHostJSON, map[string]string{"functions/ping/function.json": pingFunction})
}

func TestStartLaunchesAndInvokesLikeTheHost(t *testing.T) {
	root := pingApp(t)
	h, out := startHost(t, Options{
		AppRoot: root,
		Env:     []string{"APP_ARG=arg-value", "FAKE_START_DELAY=300ms", "FUNCTIONS_CUSTOMHANDLER_PORT=1"},
	})
	res, err := h.Invoke(testContext(t), "ping", map[string]any{"x": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := echoOf(t, res)

	if e.Method != "POST" || e.Path != "/ping" {
		t.Errorf("request = %s %s, want POST /ping", e.Method, e.Path)
	}
	handlerURL, _ := url.Parse(h.HandlerURL())
	if got, want := e.Env["FUNCTIONS_CUSTOMHANDLER_PORT"], handlerURL.Port(); got != want {
		t.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT = %q, want %q (the given value must be replaced)", got, want)
	}
	if e.Env["FUNCTIONS_HTTPWORKER_PORT"] != e.Env["FUNCTIONS_CUSTOMHANDLER_PORT"] {
		t.Errorf("FUNCTIONS_HTTPWORKER_PORT = %q, want the custom handler port", e.Env["FUNCTIONS_HTTPWORKER_PORT"])
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if id := e.Env["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"]; !guid.MatchString(id) || e.Env["FUNCTIONS_HTTPWORKER_ID"] != id {
		t.Errorf("worker IDs = %q / %q, want the same GUID", id, e.Env["FUNCTIONS_HTTPWORKER_ID"])
	}
	if got := e.Env["FUNCTIONS_APP_ROOT_PATH"]; got != h.AppRoot() {
		t.Errorf("FUNCTIONS_APP_ROOT_PATH = %q, want %q", got, h.AppRoot())
	}
	if e.Env["APP_ARG"] != "arg-value" {
		t.Errorf("app setting APP_ARG = %q, want it passed through", e.Env["APP_ARG"])
	}
	if got, _ := filepath.EvalSymlinks(e.Cwd); got != mustEval(t, root) {
		t.Errorf("cwd = %q, want the app root %q", e.Cwd, root)
	}
	if strings.Join(e.Args, " ") != "--flag arg-value" {
		t.Errorf("args = %q, want host.json arguments with %%APP_ARG%% expanded", e.Args)
	}

	hdr := e.Header
	checks := map[string]string{
		"Content-Type":                   "application/json; charset=utf-8",
		"X-Azure-Functions-Invocationid": res.InvocationID,
		"X-Azure-Functions-Hostversion":  DefaultHostVersion,
		"User-Agent":                     "Azure-Functions-Host/" + DefaultHostVersion,
	}
	for k, want := range checks {
		if got := hdr.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-00$`).MatchString(hdr.Get("Traceparent")) {
		t.Errorf("traceparent = %q", hdr.Get("Traceparent"))
	}
	if hdr.Get("Accept-Encoding") != "" || hdr.Get("Content-Length") != "" {
		t.Errorf("unexpected headers: %v", hdr)
	}
	if e.ContentLength != -1 || len(e.TransferEncoding) != 1 || e.TransferEncoding[0] != "chunked" {
		t.Errorf("body framing: ContentLength=%d TransferEncoding=%v, want chunked", e.ContentLength, e.TransferEncoding)
	}

	r := receivedOf(t, res)
	if string(r.Data["x"]) != "1" {
		t.Errorf("Data.x = %s, want 1", r.Data["x"])
	}
	var sys sysData
	if err := json.Unmarshal(r.Metadata["sys"], &sys); err != nil || sys.MethodName != "ping" || !guid.MatchString(sys.RandGuid) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`).MatchString(sys.UtcNow) {
		t.Errorf("Metadata.sys = %s", r.Metadata["sys"])
	}
	if len(res.Logs) != 1 || res.Logs[0] != "fake: handled /ping" {
		t.Errorf("Logs = %q (Logs must be parsed)", res.Logs)
	}
	if res.Outputs == nil || len(res.Outputs) != 0 {
		t.Errorf("Outputs = %v, want an empty map (the key \"outputs\" matches case-insensitively)", res.Outputs)
	}
	if !strings.Contains(out.String(), "fake: listening") {
		t.Errorf("handler stdout was not captured: %q", out)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStartReportsEarlyExit(t *testing.T) {
	root := pingApp(t)
	_, err := Start(testContext(t), Options{AppRoot: root, Executable: fakeHandler, Env: []string{"FAKE_EXIT_AT_START=3"}})
	if err == nil || !strings.Contains(err.Error(), "exit code 3") || !strings.Contains(err.Error(), "exiting at start as asked") {
		t.Fatalf("Start error = %v, want the exit code and the last stderr line", err)
	}
}

func TestStartTimesOutWhenHandlerNeverListens(t *testing.T) {
	root := pingApp(t)
	start := time.Now()
	_, err := Start(testContext(t), Options{AppRoot: root, Executable: fakeHandler, Env: []string{"FAKE_NEVER_LISTEN=1"},
		InitTimeout: 400 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not answer GET") || !strings.Contains(err.Error(), "not listening") {
		t.Fatalf("Start error = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Start took %s, want about the init timeout", d)
	}
}

func TestStopSendsSIGTERMAndReportsExitCode(t *testing.T) {
	h, out := startHost(t, Options{AppRoot: pingApp(t), Env: []string{"FAKE_TERM_EXIT=7"}})
	code, err := h.Stop(testContext(t))
	if err != nil || code != 7 {
		t.Fatalf("Stop = %d, %v; want 7, nil", code, err)
	}
	if !strings.Contains(out.String(), "fake: stopped") {
		t.Errorf("handler did not shut down gracefully: %q", out)
	}
	if _, err := h.Invoke(testContext(t), "ping", nil, nil); !errors.Is(err, ErrHostStopped) {
		t.Errorf("Invoke after Stop = %v, want ErrHostStopped", err)
	}
	if code, err := h.Stop(testContext(t)); code != 7 || err != nil {
		t.Errorf("second Stop = %d, %v", code, err)
	}
}

func TestStopKillsAfterGracePeriod(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t), Env: []string{"FAKE_IGNORE_TERM=1"}, StopGracePeriod: 300 * time.Millisecond})
	start := time.Now()
	code, err := h.Stop(testContext(t))
	if err == nil || code != -1 {
		t.Fatalf("Stop = %d, %v; want -1 and an error saying it was killed", code, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %s", d)
	}
}

func TestRestartStartsANewProcess(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	ctx := testContext(t)
	before, _ := h.Invoke(ctx, "ping", nil, nil)
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := h.Invoke(ctx, "ping", nil, nil)
	if echoOf(t, before).Pid == echoOf(t, after).Pid {
		t.Error("the handler process was not replaced")
	}
}

func TestFunctionTimeoutFailsAndRestartsHandler(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t), FunctionTimeout: 500 * time.Millisecond})
	ctx := testContext(t)
	before, _ := h.Invoke(ctx, "ping", nil, nil)
	res, err := h.Invoke(ctx, "ping", map[string]any{"x": "FAKE:sleep=20s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed || !errors.Is(res.Err, ErrFunctionTimeout) {
		t.Fatalf("result = failed %v, err %v; want a function timeout", res.Failed, res.Err)
	}
	if !strings.Contains(res.Err.Error(), "Timeout value of 00:00:00.5000000 was exceeded by function: Functions.ping") {
		t.Errorf("Err = %v", res.Err)
	}
	if res.Duration > 5*time.Second {
		t.Errorf("Duration = %s", res.Duration)
	}
	after, err := h.Invoke(ctx, "ping", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if echoOf(t, before).Pid == echoOf(t, after).Pid {
		t.Error("the handler was not restarted after the timeout")
	}
}

func TestFunctionTimeoutFromHostJSON(t *testing.T) {
	root := writeApp(t, `{"version": "2.0", "functionTimeout": "00:00:00.5",
		"customHandler": {"description": {"defaultExecutablePath": "handler"}}}`,
		map[string]string{"ping/function.json": pingFunction})
	h, _ := startHost(t, Options{AppRoot: root})
	res, err := h.Invoke(testContext(t), "ping", map[string]any{"x": "FAKE:sleep=20s"}, nil)
	if err != nil || !errors.Is(res.Err, ErrFunctionTimeout) {
		t.Fatalf("Invoke = %v, %v; want a timeout from host.json functionTimeout", res, err)
	}
}

func TestCrashedHandlerIsRestartedUntilTheThreshold(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	ctx := testContext(t)
	first, _ := h.Invoke(ctx, "ping", nil, nil)
	pid := echoOf(t, first).Pid
	for i := 1; i <= 2; i++ {
		res, err := h.Invoke(ctx, "ping", map[string]any{"x": "FAKE:exit=2"}, nil)
		if err != nil || !res.Failed {
			t.Fatalf("crash %d: %v, %v; want a failed invocation", i, res, err)
		}
		next, err := h.Invoke(ctx, "ping", nil, nil)
		if err != nil {
			t.Fatalf("after crash %d: %v", i, err)
		}
		if p := echoOf(t, next).Pid; p == pid {
			t.Fatalf("after crash %d the same process answered", i)
		} else {
			pid = p
		}
	}
	_, _ = h.Invoke(ctx, "ping", map[string]any{"x": "FAKE:exit=2"}, nil)
	_, err := h.Invoke(ctx, "ping", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exited 3 times") {
		t.Fatalf("after the third crash Invoke = %v, want the host to give up", err)
	}
	if err := h.Restart(ctx); err != nil {
		t.Fatalf("Restart after giving up: %v", err)
	}
	if _, err := h.Invoke(ctx, "ping", nil, nil); err != nil {
		t.Fatalf("Invoke after Restart: %v", err)
	}
}

func TestInvocationAnswerRules(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	tests := []struct {
		name       string
		directive  string
		wantFailed bool
		wantStatus int
		wantErr    string
	}{
		{"ok", "", false, 200, ""},
		{"created_counts_as_success", "FAKE:status=201", false, 201, ""},
		{"bad_request", "FAKE:status=400", true, 400, "handler answered 400"},
		{"server_error", "FAKE:status=500", true, 500, "handler answered 500"},
		{"text_plain", "FAKE:text", true, 200, "not a JSON media type"},
		{"invalid_json", "FAKE:badjson", true, 200, "not a JSON object"},
		{"empty_body", "FAKE:empty", true, 200, "empty invocation result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := h.Invoke(testContext(t), "ping", map[string]any{"x": tt.directive}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed != tt.wantFailed || res.Status != tt.wantStatus {
				t.Fatalf("Failed=%v Status=%d (err %v), want Failed=%v Status=%d", res.Failed, res.Status, res.Err, tt.wantFailed, tt.wantStatus)
			}
			if tt.wantFailed {
				if !errors.Is(res.Err, ErrInvalidResponse) || !strings.Contains(res.Err.Error(), tt.wantErr) {
					t.Errorf("Err = %v, want ErrInvalidResponse mentioning %q", res.Err, tt.wantErr)
				}
				if res.Logs != nil {
					t.Errorf("Logs = %q; a failed answer's logs are discarded", res.Logs)
				}
			}
			if tt.name == "created_counts_as_success" && (len(res.Logs) != 2 || res.Logs[1] != "failing with 201") {
				t.Errorf("Logs = %q", res.Logs)
			}
		})
	}
}

func TestConcurrentInvocations(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	ctx := testContext(t)
	var wg sync.WaitGroup
	results := make([]*InvocationResult, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Invoke(ctx, "ping", map[string]any{"x": "FAKE:sleep=200ms"}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = res
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	var maxConcurrent int64
	for _, res := range results {
		e := echoOf(t, res)
		maxConcurrent = max(maxConcurrent, e.Concurrent)
		ids[res.InvocationID] = true
	}
	if len(ids) != len(results) {
		t.Errorf("invocation IDs are not unique: %d distinct", len(ids))
	}
	if maxConcurrent < 2 {
		t.Errorf("invocations did not overlap (max concurrent %d)", maxConcurrent)
	}
}

func TestInvokeUnknownFunction(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	if _, err := h.Invoke(testContext(t), "nope", nil, nil); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Invoke(nope) = %v, want ErrUnknownFunction", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Invoke(ctx, "ping", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Invoke with a cancelled context = %v", err)
	}
}
