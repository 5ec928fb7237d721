package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestShutdownLogsStoppedOnce: SIGTERM from the host logs "custom handler
// stopped" once, not once by the server and again by the process.
func TestShutdownLogsStoppedOnce(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if code, err := a.host.Stop(ctx); code != 0 || err != nil {
		t.Fatalf("stop: exit %d, %v", code, err)
	}
	if n := strings.Count(a.stdout.String(), `"message":"custom handler stopped"`); n != 1 {
		t.Errorf(`"custom handler stopped" logged %d times, want once:\n%s`, n, a.stdout.String())
	}
}

// TestUndeclaredMethodIs404: a method a function's function.json does not
// declare is the host's 404 (docs/contracts.md, HTTP API), never an
// invocation of the handler.
func TestUndeclaredMethodIs404(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	for _, c := range []struct{ method, path string }{
		{"DELETE", "/api/links"}, {"PUT", "/api/links"}, {"POST", "/api/report"}, {"DELETE", "/api/dashboard"},
	} {
		ans := a.http(c.method, c.path, "", "")
		if ans.StatusCode != 404 || ans.Invocation != nil || ans.Header.Get("Allow") != "" {
			t.Errorf("%s %s = %d (invoked: %v, Allow %q), want the host's 404", c.method, c.path, ans.StatusCode, ans.Invocation != nil, ans.Header.Get("Allow"))
		}
	}
}
