package hostsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIngestedLogs: the host keeps every stdout and stderr line of the handler, and the
// Logs of an answer only when it accepted the answer (2xx JSON). The fake handler
// writes each "fake-log" line to stdout and into Logs, as pal-keeper's handler once did:
// on a 2xx answer the host ingests it twice, on a failed one once.
func TestIngestedLogs(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)

	tests := []struct {
		name       string
		directives string
		wantFailed bool
		wantLogs   int // times "fake-log <tag>" arrives through the answer's Logs
	}{
		{"2xx", "FAKE:log=ok", false, 1},
		{"500", "FAKE:log=e500 FAKE:status=500", true, 0},
		{"400", "FAKE:log=e400 FAKE:status=400", true, 0},
		{"invalid body", "FAKE:log=bad FAKE:text", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := strings.TrimPrefix(strings.Fields(tt.directives)[0], "FAKE:log=")
			res, err := h.Invoke(ctx, "links", map[string]any{"req": tt.directives}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed != tt.wantFailed {
				t.Fatalf("Failed = %v (%v), want %v", res.Failed, res.Err, tt.wantFailed)
			}
			stdout, stderr := "fake-log "+tag, "fake-err "+tag
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			lines, err := h.WaitIngested(wctx, func(ls []IngestedLine) bool {
				return count(ls, SourceStdout, stdout) > 0 && count(ls, SourceStderr, stderr) > 0
			})
			if err != nil {
				t.Fatalf("stdout/stderr lines never ingested: %v\n%+v", err, lines)
			}
			if n := count(lines, SourceStdout, stdout); n != 1 {
				t.Errorf("stdout line ingested %d times, want 1", n)
			}
			if n := count(lines, SourceAnswerLogs, stdout); n != tt.wantLogs {
				t.Errorf("Logs line ingested %d times, want %d", n, tt.wantLogs)
			}
			for _, l := range lines {
				switch {
				case l.Message == stdout && l.Source == SourceStdout:
					if l.Category != CategoryConsole || l.Level != LevelInformation || l.InvocationID != "" {
						t.Errorf("stdout line = %+v, want %s at Information, not tied to the invocation", l, CategoryConsole)
					}
				case l.Message == stderr:
					if l.Category != CategoryConsole || l.Level != LevelError {
						t.Errorf("stderr line = %+v, want %s at Error", l, CategoryConsole)
					}
				case l.Message == stdout && l.Source == SourceAnswerLogs:
					if l.Category != "Function.links.User" || l.Level != LevelInformation || l.InvocationID != res.InvocationID {
						t.Errorf("Logs line = %+v, want Function.links.User at Information with invocation %s", l, res.InvocationID)
					}
				}
			}
		})
	}
}

// TestIngestedForwardedHasNoLogs: a forwarded HTTP request's answer is passed through;
// nothing of its body is ingested.
func TestIngestedForwardedHasNoLogs(t *testing.T) {
	hostJSON := `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}, "enableForwardingHttpRequest": true}}`
	h, _ := startHost(t, Options{AppRoot: httpApp(t, hostJSON), FunctionKey: "fkey"})
	res, err := h.HTTP(testContext(t), "GET", "/api/items/5", http.Header{"X-Fake-Status": {"200"}}, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HTTP = %+v, %v", res, err)
	}
	for _, l := range h.Ingested() {
		if l.Source == SourceAnswerLogs {
			t.Errorf("ingested %+v from a forwarded answer", l)
		}
	}
}

func TestOutputLinesClassify(t *testing.T) {
	log := newIngestLog()
	out := newOutputLines(log, false, "w1")
	errs := newOutputLines(log, true, "w1")
	_, _ = out.Write([]byte("a\r\nb\rc\n\nLanguageWorkerConsoleLogworker says hi\nazfuncjsonlog:{}\npart"))
	_, _ = out.Write([]byte("ial"))
	out.flush()
	_, _ = errs.Write([]byte("a Warning here\nboom\n"))
	got, _ := log.snapshot()
	want := []IngestedLine{
		{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: "a"},
		{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: "b"},
		{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: "c"},
		{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: ""},
		{Source: SourceStdout, Category: "Worker.HttpWorkerProcess.w1", Level: LevelInformation, Message: "worker says hi"},
		{Source: SourceStdout, Category: CategoryToolingConsole, Level: LevelInformation, Message: "azfuncjsonlog:{}"},
		{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: "partial"},
		{Source: SourceStderr, Category: CategoryConsole, Level: LevelWarning, Message: "a Warning here"},
		{Source: SourceStderr, Category: CategoryConsole, Level: LevelError, Message: "boom"},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

// TestReturnValueIgnoredWithoutReturnBinding: the host uses ReturnValue only for a
// "$return" binding; the raw value stays readable.
func TestReturnValueIgnoredWithoutReturnBinding(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)
	res, err := h.HTTP(ctx, "GET", "/api/links?code=fkey", nil, nil)
	if err != nil || res.Invocation == nil {
		t.Fatalf("HTTP = %+v, %v", res, err)
	}
	if res.Invocation.ReturnValue == nil || res.Invocation.BoundReturnValue != nil {
		t.Errorf("links: ReturnValue %d bytes, BoundReturnValue %s; want the raw value and nothing bound", len(res.Invocation.ReturnValue), res.Invocation.BoundReturnValue)
	}
	if string(res.Body) != "{}" {
		t.Errorf("links answered %q, want {} (the missing res output), not the ReturnValue", res.Body)
	}
	res, err = h.HTTP(ctx, "GET", "/api/adm?code=fkey", nil, nil)
	if err != nil || res.Invocation == nil {
		t.Fatalf("HTTP = %+v, %v", res, err)
	}
	if !json.Valid(res.Invocation.BoundReturnValue) || string(res.Invocation.BoundReturnValue) != string(res.Invocation.ReturnValue) {
		t.Errorf("adm ($return): BoundReturnValue = %.80s, want the ReturnValue", res.Invocation.BoundReturnValue)
	}
}

func count(lines []IngestedLine, source, msg string) int {
	n := 0
	for _, l := range lines {
		if l.Source == source && l.Message == msg {
			n++
		}
	}
	return n
}
