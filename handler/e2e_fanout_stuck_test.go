package main

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// emulatorToken is a storage token from the emulator's managed identity, for
// the test's own reads of the record (Azurite checks the claims only).
type emulatorToken struct {
	emu      *emulator.Emulator
	clientID string
}

func (c emulatorToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, exp, err := c.emu.Token(c.clientID, "https://storage.azure.com")
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, err
}

// runs reads the cluster's record directly in Azurite (never through the
// storage proxy the handlers use).
func (f *fanout) runs(clientID string) *record.Table {
	f.tb.Helper()
	t, err := record.NewTable(f.tables.URL, emulatorToken{f.emu, clientID}, &record.TableOptions{Client: &aztables.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: f.tables.HTTPClient()}}})
	if err != nil {
		f.tb.Fatal(err)
	}
	return t
}

// waitFor reads run id (the last run when id is "") every 50 ms, releasing
// scheduled retry copies, until cond holds.
func (f *fanout) waitFor(ctx context.Context, rec *record.Table, id string, what string, cond func(*record.Run) bool) *record.Run {
	f.tb.Helper()
	for {
		f.cluster.Queue("pal-sweep").ReleaseScheduled()
		var r *record.Run
		var err error
		if id == "" {
			r, err = rec.LastRun(ctx)
		} else {
			r, err = rec.UpdateRun(ctx, id, func(*record.Run) {})
		}
		if err == nil && r != nil && cond(r) {
			return r
		}
		select {
		case <-ctx.Done():
			f.tb.Fatalf("%s: never happened; run %+v, %v\n%s", what, r, err, f.stdout.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stuckEstate is 60 tenants × 10 subscriptions listed 250 to a page: the
// coordinator sends its first 50 work items (500 subscriptions) after the
// second page.
func stuckEstate(t *testing.T) *emulator.Emulator {
	t.Helper()
	est := emulator.BigEstate(emulator.BigEstateOptions{Tenants: 60, SubscriptionsPerTenant: 10, ReaderEvery: 10, Linked: true, PageSize: 250})
	emu, err := emulator.New(est, &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	return emu
}

var stuckSettings = map[string]string{
	"PAL_PARTNER_ID": emulator.BigPartnerID, "AZURE_CLIENT_ID": emulator.BigClientID, "PAL_ARM_CONCURRENCY": "8",
}

// TestE2EFanoutCoordinatorKilledMidListing: the coordinator's process is
// killed (SIGKILL) after its first 50 work items, while it waits for the
// third page of the listing. The run shows what was sent; the workers judge
// and count those items; the next timer invocation closes the run partial,
// with the 100 subscriptions never sent counted as not judged, in the run,
// the report's lastSweep and the dashboard — then sweeps everything.
// Failed before: the run kept ItemsSent = 0, stayed running for ever, and
// the unsent subscriptions were nowhere (issue 16, D1).
func TestE2EFanoutCoordinatorKilledMidListing(t *testing.T) {
	t.Parallel()
	emu := stuckEstate(t)
	f := startFanout(t, emu, fanoutOptions{processes: 2, settings: stuckSettings})
	rec := f.runs(emulator.BigClientID)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hold := make(chan struct{})
	release := emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/subscriptions", QueryContains: "skiptoken=500", Hold: hold})
	coordinator := f.cluster.Hosts()[0]
	done := make(chan *hostsim.InvocationResult, 1)
	go func() {
		inv, _ := coordinator.Timer(ctx, "sweep", false)
		done <- inv
	}()
	run := f.waitFor(ctx, rec, "", "the first 50 items recorded", func(r *record.Run) bool { return r.ItemsSent == 50 })
	if run.SubscriptionsSent != 500 || run.Listed {
		t.Fatalf("mid-listing: %+v, want 500 subscriptions sent, not listed", run)
	}
	if err := syscall.Kill(coordinator.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if inv := <-done; inv != nil && !inv.Failed {
		t.Fatalf("the killed coordinator's invocation succeeded: %+v", inv)
	}
	close(hold)
	release()
	run = f.waitFor(ctx, rec, run.ID, "the 50 sent items counted", func(r *record.Run) bool { return r.ItemsDone+r.ItemsFailed >= 50 })
	if run.Outcome != record.OutcomeRunning {
		t.Fatalf("before the next timer: %+v, want still running (its coordinator never listed everything)", run)
	}

	rep, _ := f.sweep(ctx) // the next timer invocation
	old := f.waitFor(ctx, rec, run.ID, "the abandoned run closed", func(r *record.Run) bool { return r.Outcome != record.OutcomeRunning })
	if old.Outcome != record.OutcomePartial || old.NotJudged != 100 || old.ItemsDone != 50 || old.FinishedAt.IsZero() ||
		!strings.Contains(old.Detail, "coordinator stopped after sending 50 work item(s) (500 subscription(s))") {
		t.Errorf("abandoned run %+v, want partial, 50 items done, 100 subscriptions not judged, the reason", old)
	}
	judged := 0
	for s, n := range old.Summary {
		if s != pal.StatusError {
			judged += n
		}
	}
	if judged+old.NotJudged != 600 {
		t.Errorf("abandoned run: %d judged + %d not judged, want all 600 subscriptions accounted for", judged, old.NotJudged)
	}
	// The new run sweeps everything.
	last := f.waitRun(ctx, rep.RunID, 100*time.Millisecond)
	if last.Outcome != record.OutcomeComplete || last.ItemsDone != 60 || last.SubscriptionsSent != 600 {
		t.Errorf("next run %+v, want complete with 60 items of 600 subscriptions", last)
	}
	if last.ClosedRunID != old.ID || last.ClosedNotJudged != 100 {
		t.Errorf("report lastSweep %+v, want it to name the closed run %s and its 100 subscriptions not judged", last, old.ID)
	}
	h := http.Header{"X-Functions-Key": {fanoutKey}}
	dash, err := f.cluster.HTTP(ctx, "GET", "/api/dashboard", h, nil)
	if err != nil || dash.StatusCode != http.StatusOK || !strings.Contains(string(dash.Body), "closed the earlier sweep "+old.ID) ||
		!strings.Contains(string(dash.Body), "100 subscription(s) not judged by it") {
		t.Errorf("dashboard: %v %d, want the closed sweep and its 100 subscriptions not judged", err, dash.StatusCode)
	}
	if !strings.Contains(f.stdout.String(), "closed a run whose coordinator stopped") {
		t.Errorf("no log line for the closed run")
	}
}

// TestE2EFanoutStorageCutWhileListing: the record's storage is cut (every
// connection refused) while the coordinator lists, and restored after its
// writes have failed. The coordinator keeps sending, retries the write that
// ends the listing on its own context, and succeeds; the workers' counts are
// retried; the run ends complete with every subscription judged. Failed
// before: the coordinator failed 503 ("record: update run …"), ItemsSent
// stayed 0 and the run never ended (issue 16, D1).
func TestE2EFanoutStorageCutWhileListing(t *testing.T) {
	t.Parallel()
	emu := stuckEstate(t)
	f := startFanout(t, emu, fanoutOptions{processes: 2, settings: stuckSettings, cutStorage: true})
	rec := f.runs(emulator.BigClientID)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hold := make(chan struct{})
	release := emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "/subscriptions", QueryContains: "skiptoken=250", Hold: hold})
	done := make(chan *hostsim.InvocationResult, 1)
	go func() {
		inv, _ := f.cluster.Hosts()[0].Timer(ctx, "sweep", false)
		done <- inv
	}()
	// The run row exists and the coordinator waits for the second page.
	run := f.waitFor(ctx, rec, "", "the run started", func(r *record.Run) bool { return r.Outcome == record.OutcomeRunning })
	f.storage.Cut()
	close(hold)
	release()
	if _, err := f.cluster.Hosts()[0].WaitIngested(ctx, func(ls []hostsim.IngestedLine) bool {
		for _, l := range ls {
			if strings.Contains(l.Message, "the run could not be written; trying again") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the coordinator never retried its run write: %v", err)
	}
	refused := f.storage.Refused()
	f.storage.Restore()
	inv := <-done
	if inv == nil || inv.Failed {
		t.Fatalf("coordinator failed across the outage: %+v\n%s", inv, f.stdout.String())
	}
	if refused == 0 {
		t.Errorf("the proxy refused no connection: the outage did not happen")
	}
	got := f.waitFor(ctx, rec, run.ID, "the run ended", func(r *record.Run) bool { return r.Outcome != record.OutcomeRunning })
	total := 0
	for _, n := range got.Summary {
		total += n
	}
	if got.Outcome != record.OutcomeComplete || !got.Listed || got.ItemsSent != 60 || got.ItemsDone != 60 || got.SubscriptionsSent != 600 || total != 600 {
		t.Errorf("run %+v, want complete, listed, 60 of 60 items and all 600 subscriptions judged", got)
	}
}
