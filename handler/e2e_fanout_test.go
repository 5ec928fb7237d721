package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// TestE2EFanoutSweep runs the distributed sweep end to end: the timer
// (coordinator) on one of two handler processes sends work items through
// Service Bus (the simulator's REST endpoint), both processes judge them
// (sweep-check), every verdict lands in the shared record (Azurite), and the
// run, read through GET /api/report, ends complete; then a run with a tenant
// whose reads fail for good (its item dead-letters and shows as failed) and a
// tenant whose read is throttled once (retried by a scheduled copy, then done).
func TestE2EFanoutSweep(t *testing.T) {
	t.Parallel()
	est := testEstate()
	emu, err := emulator.New(est, &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	// One delivery at a time per process, so both processes get items.
	f := startFanout(t, emu, fanoutOptions{processes: 2, maxConcurrentCalls: 1, settings: map[string]string{
		"PAL_PARTNER_ID": partnerID, "PAL_ALLOWED_PARTNER_IDS": otherID, "AZURE_CLIENT_ID": clientID,
		"PAL_MAX_ATTEMPTS": "2",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	q := f.cluster.Queue("pal-sweep")

	rep, took := f.sweep(ctx)
	if took > 10*time.Second || rep.ItemsSent == 0 || rep.Link.Action != pal.LinkCreated {
		t.Fatalf("coordinator took %s, sent %d items, link %+v; want seconds, items, the link created", took, rep.ItemsSent, rep.Link)
	}
	run := f.waitRun(ctx, rep.RunID, 100*time.Millisecond)
	t.Logf("run 1: coordinator %s, %+v", took, run)
	// The run ends when its last item is counted, before that item's delivery
	// maintains the record, logs its result and is completed: the queue and the
	// logs are read once the queue has settled.
	f.settled(ctx)
	want := map[pal.Status]int{pal.StatusAttributed: 6, pal.StatusIneligibleRole: 4, pal.StatusNotDelegated: 0, pal.StatusUnlinked: 0, pal.StatusUnverifiable: 0, pal.StatusError: 0}
	if run.Outcome != "complete" || !reflect.DeepEqual(run.Summary, want) || run.ItemsSent != rep.ItemsSent ||
		run.ItemsDone != run.ItemsSent || run.ItemsFailed != 0 || run.FinishedAt == nil {
		t.Errorf("run = %+v, want complete with %v and every one of %d items done", run, want, rep.ItemsSent)
	}
	report := f.report(ctx)
	got := map[string]pal.Status{}
	for _, s := range report.Subscriptions {
		got[s.SubscriptionID] = s.Status
	}
	wantNot := map[string]pal.Status{subA2: pal.StatusIneligibleRole, subA3: pal.StatusIneligibleRole, subA4: pal.StatusIneligibleRole, subC4: pal.StatusIneligibleRole}
	if len(got) != 10 {
		t.Errorf("the record holds %d verdicts, want the 10 customer subscriptions: %v", len(got), got)
	}
	for sub, st := range wantNot {
		if got[sub] != st {
			t.Errorf("record: %s is %q, want %q", sub, got[sub], st)
		}
	}
	// The items were judged by both processes.
	for i, h := range f.cluster.Hosts() {
		n := 0
		for _, l := range h.Ingested() {
			if strings.Contains(l.Message, `"function":"sweep-check"`) || strings.Contains(l.Message, rep.RunID) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("process %d logged nothing of the run; the work was not spread", i)
		}
	}
	if n := len(q.Completed()); n != rep.ItemsSent {
		t.Errorf("%d work items completed, want %d", n, rep.ItemsSent)
	}

	// Second run: tenant C's reads fail for good, tenant B's first read is
	// throttled with a Retry-After beyond azcore's retries.
	emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/subscriptions/cc000000-", Status: 400, ErrorCode: "BadRequest"})
	emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/subscriptions/" + subB1 + "/", Status: 429, RetryAfter: 120 * time.Second, Times: 1})
	doneBefore := len(q.Completed())
	rep2, _ := f.sweep(ctx)
	run = f.waitRun(ctx, rep2.RunID, 100*time.Millisecond)
	t.Logf("run 2: %+v", run)
	if run.Outcome != "partial" || run.ItemsFailed == 0 || run.ItemsDone+run.ItemsFailed != run.ItemsSent || run.ItemsSent != rep2.ItemsSent {
		t.Fatalf("run = %+v, want partial with tenant C's items failed and the rest done", run)
	}
	if !strings.Contains(run.Detail, "tenant "+tenantC) || strings.Contains(run.Detail, tenantB) {
		t.Errorf("run detail %q, want tenant C's items named, not tenant B's", run.Detail)
	}
	// The failed items dead-letter once their deliveries are used up, and the
	// retry copy that closed the run is completed once its delivery answers.
	f.settled(ctx)
	dead := q.DeadLettered()
	if len(dead) != run.ItemsFailed {
		t.Errorf("%d work items dead-lettered, want the %d failed", len(dead), run.ItemsFailed)
	}
	for _, m := range dead {
		var item struct {
			TenantID string `json:"tenantId"`
		}
		if err := json.Unmarshal(m.Body, &item); err != nil || item.TenantID != tenantC {
			t.Errorf("dead-lettered %s (tenant %q, %v), want only tenant C's", m.MessageID, item.TenantID, err)
		}
	}
	retried := false
	for _, m := range q.Completed()[doneBefore:] {
		if strings.HasPrefix(m.MessageID, rep2.RunID+"/"+tenantB) && strings.HasSuffix(m.MessageID, "/attempt-2") {
			retried = true
		}
	}
	if !retried {
		t.Errorf("no retry copy of tenant B's item completed; the throttled read was not retried")
	}
	if run.Summary[pal.StatusAttributed] != 3 || run.Summary[pal.StatusIneligibleRole] != 3 {
		t.Errorf("run summary %v, want tenants A and B's verdicts (3 attributed, 3 ineligible-role)", run.Summary)
	}
}
