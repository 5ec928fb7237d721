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
