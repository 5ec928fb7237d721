package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// BenchmarkFanout is the distributed sweep scaled out (make bench):
//
//	go test -run '^$' -bench Fanout -benchtime 1x ./handler/
//
// The 10k estate of BenchmarkSweep10k (1,000 tenants × 10 subscriptions,
// 40 ms added to every ARM request) swept through the host simulator by 1, 2
// and 4 handler processes consuming the sweep queue, the record in Azurite.
// Every process has the same concurrency, 8 ARM requests in flight at most:
// one delivery at a time (maxConcurrentCalls 1) judged with
// PAL_ARM_CONCURRENCY=8, so one process cannot reach the latency floor of
// the whole estate by itself and the run is bound by ARM latency, not by the
// machine's CPU. wall-s is from the timer firing until the run is complete
// (its row in the record read every 100 ms; GET /api/report checks the run
// after); speedup is procs=1's wall over this one's;
// cpu-<name>-s is the CPU time (user + system) each component used during the
// run: the handler processes (summed), Azurite (node) and the test process
// (the emulator and the host simulator).
// BENCH_FANOUT_SUBS scales the estate down (a multiple of 10; default 10000).
func BenchmarkFanout(b *testing.B) {
	subs := 10000
	if v := os.Getenv("BENCH_FANOUT_SUBS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n%10 != 0 {
			b.Fatalf("BENCH_FANOUT_SUBS=%q: want a multiple of 10", v)
		}
		subs = n
	}
	tenants := subs / benchPerTenant
	var base float64
	for _, procs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			est := emulator.BigEstate(emulator.BigEstateOptions{Tenants: tenants, SubscriptionsPerTenant: benchPerTenant, ReaderEvery: 10, Linked: true})
			emu, err := emulator.New(est, &emulator.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(emu.Close)
			f := startFanout(b, emu, fanoutOptions{processes: procs, settings: map[string]string{
				"PAL_PARTNER_ID": emulator.BigPartnerID, "AZURE_CLIENT_ID": emulator.BigClientID,
				"PAL_ARM_CONCURRENCY": "8",
			}, maxConcurrentCalls: 1})
			rec := benchRecord(b, f)
			emu.InjectFault(emulator.Fault{Latency: benchLatency})
			var wall, perSub, coord float64
			var cpu cpuSample
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
				emu.ResetRequests()
				cpu0 := sampleCPU()
				start := time.Now()
				rep, took := f.sweep(ctx)
				runEnded(ctx, b, rec, rep.RunID)
				wall = time.Since(start).Seconds()
				cpu = sampleCPU().since(cpu0)
				run := f.waitRun(ctx, rep.RunID, time.Second) // as a user reads it
				cancel()
				coord = took.Seconds()
				if run.Outcome != "complete" || run.ItemsDone != run.ItemsSent ||
					run.Summary[pal.StatusAttributed] != subs-subs/10 || run.Summary[pal.StatusIneligibleRole] != subs/10 {
					b.Fatalf("run %+v, want complete with %d attributed and %d ineligible-role", run, subs-subs/10, subs/10)
				}
				perSub = float64(armRequests(emu)) / float64(subs)
			}
			if procs == 1 {
				base = wall
			}
			b.ReportMetric(wall, "wall-s")
			b.ReportMetric(coord, "coordinator-s")
			b.ReportMetric(perSub, "arm-req/sub")
			for name, sec := range cpu {
				b.ReportMetric(sec, "cpu-"+metricName(name)+"-s")
			}
			if base > 0 {
				b.ReportMetric(base/wall, "speedup")
			}
		})
	}
}

// metricName makes a command name fit a benchmark unit (no spaces).
func metricName(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '/' {
			return '_'
		}
		return r
	}, s)
}

// benchRecord opens the cluster's record in the benchmark process, with a
// managed identity token from the emulator as the handlers get theirs.
func benchRecord(b *testing.B, f *fanout) *record.Table {
	b.Helper()
	b.Setenv("IDENTITY_ENDPOINT", f.emu.IdentityEndpoint())
	b.Setenv("IDENTITY_HEADER", f.emu.IdentityHeader())
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(emulator.BigClientID)})
	if err != nil {
		b.Fatal(err)
	}
	t, err := record.NewTable(f.tables.URL, cred, &record.TableOptions{Client: &aztables.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: f.tables.HTTPClient()}}})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// runEnded waits until run id has ended, reading its row in the record every
// 100 ms (two small requests; GET /api/report reads every verdict and change
// of the estate, and polling it would load the machine being measured).
func runEnded(ctx context.Context, b *testing.B, rec *record.Table, id string) {
	b.Helper()
	for {
		r, err := rec.LastRun(ctx)
		if err == nil && r != nil && r.ID == id && r.Outcome != record.OutcomeRunning {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("run %s did not end: last run %+v, %v", id, r, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
