package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// lostChanges are the record's changes of sub out of a previous status.
func lostChanges(rep *web.Report, sub string) []web.Change {
	var out []web.Change
	for _, c := range rep.Changes {
		if c.SubscriptionID == sub && c.From != "" {
			out = append(out, c)
		}
	}
	return out
}

// subscriptionReads counts the GET /subscriptions/{sub} requests the emulator saw.
func subscriptionReads(emu *emulator.Emulator, sub string) int {
	n := 0
	for _, q := range emu.Requests() {
		if q.Target == emulator.TargetARM && q.Method == http.MethodGet && strings.EqualFold(q.Path, "/subscriptions/"+sub) {
			n++
		}
	}
	return n
}

// TestE2ERemovedDelegation: a delegation removed between two sweeps makes
// its subscription disappear from the listing; the sweep after confirms it
// with one read and records it not-delegated, no longer visible: one change
// row, one `attribution lost` line, whatever the sweeps after.
func TestE2ERemovedDelegation(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	a.sweep()
	if v := findRow(t, a.report(""), subC1); v.Status != pal.StatusAttributed {
		t.Fatalf("before: %s is %s", subC1, v.Status)
	}

	if err := a.emu.SetDelegations(subC1); err != nil { // the customer offboards
		t.Fatal(err)
	}
	a.emu.ResetRequests()
	res := a.sweep()
	if n := subscriptionReads(a.emu, subC1); n != 1 {
		t.Errorf("%d reads of %s, want one confirmation", n, subC1)
	}
	if r := resultFor(t, res, subC1); r.Status != pal.StatusNotDelegated || !strings.Contains(r.Detail, "no longer visible") {
		t.Errorf("sweep verdict %+v, want not-delegated, no longer visible", r)
	}
	rep := a.report("")
	if v := findRow(t, rep, subC1); v.Status != pal.StatusNotDelegated || !strings.Contains(v.Detail, "no longer visible") {
		t.Errorf("record row %+v, want not-delegated, no longer visible", v)
	}
	if rep.LastSweep == nil || rep.LastSweep.Summary[pal.StatusNotDelegated] != 1 {
		t.Errorf("last sweep %+v, want it to count the removed subscription", rep.LastSweep)
	}

	a.sweep() // again: nothing new
	rep = a.report("")
	if ch := lostChanges(rep, subC1); len(ch) != 1 || ch[0].From != pal.StatusAttributed || ch[0].To != pal.StatusNotDelegated {
		t.Errorf("changes of %s = %+v, want one attributed → not-delegated", subC1, ch)
	}
	if _, err := a.host.WaitIngested(a.ctx(), func(ls []hostsim.IngestedLine) bool { return len(driftLines(ls)) > 0 }); err != nil {
		t.Fatalf("no drift line ingested: %v", err)
	}
	drift := driftLines(a.host.Ingested())
	if len(drift) != 1 || !strings.Contains(drift[0].Message, `"subscription_id":"`+subC1+`"`) ||
		!strings.Contains(drift[0].Message, `"status":"not-delegated"`) {
		t.Errorf("drift lines = %+v, want exactly one for %s", drift, subC1)
	}
}

// TestE2ERemovedNotMarkedWhenCutShort: a sweep whose listing fails part-way
// marks nothing removed, neither the subscription whose delegation really
// went nor those on the pages it never read.
func TestE2ERemovedNotMarkedWhenCutShort(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	a.sweep()
	if err := a.emu.SetDelegations(subC2); err != nil {
		t.Fatal(err)
	}
	// Page 3 of the listing (page size 3) fails every time, retries included.
	a.emu.InjectFault(emulator.Fault{Method: http.MethodGet, Path: "/subscriptions", QueryContains: "$skiptoken=6", Status: http.StatusInternalServerError})
	a.emu.ResetRequests()
	inv, err := a.host.Timer(a.ctx(), "sweep", false)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Failed {
		t.Fatalf("the sweep with a failed listing succeeded: %s", inv.Body)
	}
	for _, sub := range []string{subC1, subC2, subC3} {
		if n := subscriptionReads(a.emu, sub); n != 0 {
			t.Errorf("%d confirmation reads of %s after an incomplete listing", n, sub)
		}
	}
	rep := a.report("")
	for _, sub := range []string{subC1, subC2, subC3} {
		if v := findRow(t, rep, sub); v.Status == pal.StatusNotDelegated {
			t.Errorf("%s marked %s after an incomplete listing: %s", sub, v.Status, v.Detail)
		}
		if ch := lostChanges(rep, sub); len(ch) != 0 {
			t.Errorf("changes of %s = %+v, want none", sub, ch)
		}
	}
}

// findRow is sub's row in the report.
func findRow(t *testing.T, rep *web.Report, sub string) web.Subscription {
	t.Helper()
	for _, s := range rep.Subscriptions {
		if s.SubscriptionID == sub {
			return s
		}
	}
	t.Fatalf("no row for %s in the report", sub)
	return web.Subscription{}
}

// TestE2ERemovedRoleAssignmentDirect: in direct mode a role assignment removed
// between two sweeps (the app's only one on the subscription) is drift as a
// removed delegation is: not-delegated, no longer visible, one change, one
// `attribution lost` line.
func TestE2ERemovedRoleAssignmentDirect(t *testing.T) {
	t.Parallel()
	adatum, bellows := emulator.DemoDirectAdatumTenantID, emulator.DemoDirectBellowsTenantID
	est := emulator.DemoDirectEstate()
	settings, emuSettings := identitySettings("direct", map[string]string{"PAL_DIRECT_TENANTS": adatum + "," + bellows})
	a := startApp(t, appOptions{estate: &est, settings: settings, emuSettings: emuSettings})
	a.sweep()
	prod := emulator.DemoDirectAdatumProduction
	if v := findRow(t, a.report(""), prod); v.Status != pal.StatusAttributed {
		t.Fatalf("before: %s is %s (%s)", prod, v.Status, v.Detail)
	}
	removed := 0
	for _, ra := range a.emu.Estate().RoleAssignments {
		if ra.PrincipalID == emulator.DemoDirectAdatumObjectID && strings.EqualFold(ra.Scope, emulator.SubscriptionScope(prod)) {
			if a.emu.RemoveRoleAssignment(ra.ID) {
				removed++
			}
		}
	}
	if removed != 1 {
		t.Fatalf("removed %d role assignments, want the app's one on %s", removed, prod)
	}
	a.sweep()
	a.sweep()
	rep := a.report("")
	if v := findRow(t, rep, prod); v.Status != pal.StatusNotDelegated || !strings.Contains(v.Detail, "no longer visible to the app's service principal") {
		t.Errorf("record row %+v, want not-delegated, no longer visible", v)
	}
	if v := findRow(t, rep, emulator.DemoDirectAdatumLanding); v.Status != pal.StatusAttributed {
		t.Errorf("landing (inherited Contributor) is %s, want still attributed", v.Status)
	}
	if ch := lostChanges(rep, prod); len(ch) != 1 || ch[0].To != pal.StatusNotDelegated {
		t.Errorf("changes of %s = %+v, want one to not-delegated", prod, ch)
	}
	if _, err := a.host.WaitIngested(a.ctx(), func(ls []hostsim.IngestedLine) bool { return len(driftLines(ls)) > 0 }); err != nil {
		t.Fatalf("no drift line ingested: %v", err)
	}
	if drift := driftLines(a.host.Ingested()); len(drift) != 1 || !strings.Contains(drift[0].Message, prod) {
		t.Errorf("drift lines = %+v, want exactly one for %s", drift, prod)
	}
}

// TestE2EFanoutRemovedDelegation: the distributed sweep does the same: the
// coordinator, knowing the whole listing, confirms the subscription whose
// delegation went between two sweeps; one change row, one `attribution
// lost` line, whatever the sweeps after.
func TestE2EFanoutRemovedDelegation(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(testEstate(), &emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	f := startFanout(t, emu, fanoutOptions{processes: 1, settings: map[string]string{
		"PAL_PARTNER_ID": partnerID, "PAL_ALLOWED_PARTNER_IDS": otherID, "AZURE_CLIENT_ID": clientID,
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rep, _ := f.sweep(ctx)
	f.waitRun(ctx, rep.RunID, 100*time.Millisecond)

	if err := emu.SetDelegations(subC1); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	rep, _ = f.sweep(ctx)
	run := f.waitRun(ctx, rep.RunID, 100*time.Millisecond)
	if n := subscriptionReads(emu, subC1); n != 1 {
		t.Errorf("%d reads of %s, want one confirmation", n, subC1)
	}
	if run.Outcome != "complete" || run.Summary[pal.StatusNotDelegated] != 1 {
		t.Errorf("run %+v, want complete counting the removed subscription", run)
	}
	rep, _ = f.sweep(ctx)
	f.waitRun(ctx, rep.RunID, 100*time.Millisecond)
	report := f.report(ctx)
	if v := findRow(t, report, subC1); v.Status != pal.StatusNotDelegated || !strings.Contains(v.Detail, "no longer visible") {
		t.Errorf("record row %+v, want not-delegated, no longer visible", v)
	}
	if ch := lostChanges(report, subC1); len(ch) != 1 || ch[0].From != pal.StatusAttributed {
		t.Errorf("changes of %s = %+v, want one attributed → not-delegated", subC1, ch)
	}
	var drift []hostsim.IngestedLine
	for _, h := range f.cluster.Hosts() {
		drift = append(drift, driftLines(h.Ingested())...)
	}
	if len(drift) != 1 || !strings.Contains(drift[0].Message, subC1) {
		t.Errorf("drift lines = %+v, want exactly one for %s", drift, subC1)
	}
}
