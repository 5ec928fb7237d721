package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// TestE2ELogsReachTheHostOnce: every log line of an invocation reaches the
// host exactly once, through stdout, for a completed invocation and for a
// failing one (whose answer's Logs the host would drop). Host.Ingested is
// what the real host keeps: stdout lines always, Logs of 2xx answers only.
func TestE2ELogsReachTheHostOnce(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})

	t.Run("2xx", func(t *testing.T) {
		done, dead := a.deliver(onboardingMessage(tenantA, subA1, subA2), nil)
		if len(done) != 1 || len(dead) != 0 {
			t.Fatalf("completed %d, dead-lettered %d; want it completed", len(done), len(dead))
		}
		inv := done[0].Result
		lines := ingestedFor(t, a.host, inv.InvocationID, "invocation succeeded")
		checkOnce(t, lines, inv)
		// The lines a user looks for: the outcome, and one line per subscription
		// that is not attributed (subA2 holds an ineligible role).
		if n := countMessages(lines, "subscription not attributed"); n != 1 {
			t.Errorf("%d \"subscription not attributed\" lines ingested, want 1", n)
		}
	})

	t.Run("failing", func(t *testing.T) {
		done, dead := a.deliver(`{"tenantId": "`+tenantA, nil) // malformed: fails every delivery
		if len(done) != 0 || len(dead) != 1 {
			t.Fatalf("completed %d, dead-lettered %d; want it dead-lettered", len(done), len(dead))
		}
		inv := dead[0].Result
		if !inv.Failed || inv.Status/100 == 2 {
			t.Fatalf("last delivery: status %d, failed %v; want a non-2xx failure", inv.Status, inv.Failed)
		}
		lines := ingestedFor(t, a.host, inv.InvocationID, "invocation failed")
		checkOnce(t, lines, inv)
		if n := countMessages(lines, "invocation failed"); n != 1 {
			t.Errorf("%d \"invocation failed\" lines ingested, want 1", n)
		}
	})
}

// ingestedFor waits until the host has ingested a line of invocation id
// whose message is last, and returns every ingested line naming id.
func ingestedFor(t *testing.T, h *hostsim.Host, id, last string) []hostsim.IngestedLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tag := `"invocation_id":"` + id + `"`
	pick := func(all []hostsim.IngestedLine) []hostsim.IngestedLine {
		var out []hostsim.IngestedLine
		for _, l := range all {
			if strings.Contains(l.Message, tag) || l.InvocationID == id {
				out = append(out, l)
			}
		}
		return out
	}
	all, err := h.WaitIngested(ctx, func(all []hostsim.IngestedLine) bool {
		return countMessages(pick(all), last) > 0
	})
	if err != nil {
		t.Fatalf("no %q line of invocation %s ingested: %v", last, id, err)
	}
	return pick(all)
}

// checkOnce checks that the invocation's lines came through stdout only, as
// JSON lines, none of them twice, and that its answer carried no Logs.
func checkOnce(t *testing.T, lines []hostsim.IngestedLine, inv *hostsim.InvocationResult) {
	t.Helper()
	if len(lines) < 2 {
		t.Errorf("%d lines of invocation %s ingested, want several", len(lines), inv.InvocationID)
	}
	seen := map[string]int{}
	for _, l := range lines {
		if l.Source != hostsim.SourceStdout || l.Category != hostsim.CategoryConsole {
			t.Errorf("line ingested from %s (%s), want stdout only: %.200s", l.Source, l.Category, l.Message)
		}
		if !json.Valid([]byte(l.Message)) {
			t.Errorf("ingested line is not JSON: %.200s", l.Message)
		}
		seen[l.Message]++
	}
	for m, n := range seen {
		if n != 1 {
			t.Errorf("line ingested %d times, want once: %.200s", n, m)
		}
	}
	if len(inv.Logs) != 0 {
		t.Errorf("answer Logs = %q, want none", inv.Logs)
	}
}

func countMessages(lines []hostsim.IngestedLine, message string) int {
	n := 0
	for _, l := range lines {
		var m struct{ Message string }
		if json.Unmarshal([]byte(l.Message), &m) == nil && m.Message == message {
			n++
		}
	}
	return n
}
