package record_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// The record at partner scale (make bench; needs azurite-table):
//
//	go test -run '^$' -bench RecordAtScale -benchtime 1x ./internal/record/
//
// A Table record in Azurite seeded (SeedEstate, not by sweeping) with
// 100,000 subscriptions in 10,000 tenants and a year of nightly sweeps with
// 1 % churn; then the views' reads (the dashboard, the report's first page,
// Changes(50), the whole estate's CSV part by part) and, in a table of its
// own, the sweep of 10,000 subscriptions (1,000 tenants, 40 ms on every ARM
// request) after 1 % churn: its Table requests per subscription and its
// wall time against the same sweep without a record.
// PAL_BENCH_RECORD_TENANTS scales the seeded estate down for a trial run.
func BenchmarkRecordAtScale(b *testing.B) {
	tenants := 10_000
	if v, err := strconv.Atoi(os.Getenv("PAL_BENCH_RECORD_TENANTS")); err == nil && v > 0 {
		tenants = v
	}
	const perTenant, nights, churn = 10, 365, 0.01
	srv := azurite.Start(b)
	est := emulator.BigEstate(emulator.BigEstateOptions{Tenants: 1000, SubscriptionsPerTenant: 10, ReaderEvery: 10, Linked: true})
	emu, err := emulator.New(est, &emulator.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(emu.Close)
	cred := emu.Credential(emulator.BigClientID)
	var requests atomic.Int64
	open := func(name string, count bool) *record.Table {
		var tr policy.Transporter = srv.HTTPClient()
		if count {
			tr = counting{srv.HTTPClient(), &requests}
		}
		s, err := record.NewTable(srv.URL, cred, &record.TableOptions{Table: name, Client: &aztables.ClientOptions{
			ClientOptions: azcore.ClientOptions{Transport: tr, Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 10 * time.Millisecond}}}})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	now := time.Now().UTC()

	// The year of history.
	big := open("palbench", false)
	start := time.Now()
	changes, err := record.SeedEstate(ctx, big, record.SeedSpec{Tenants: tenants, PerTenant: perTenant, Nights: nights, Churn: churn, End: now.Add(-time.Hour),
		TenantID: emulator.BigTenantID, SubscriptionID: emulator.BigSubscriptionID,
		Initial: func(_, j int) pal.Status {
			if j == 0 {
				return pal.StatusIneligibleRole
			}
			return pal.StatusAttributed
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d subscriptions in %d tenants, %d changes, %d runs in %v", tenants*perTenant, tenants, changes, nights, time.Since(start).Round(time.Second))

	median := func(n int, f func()) time.Duration {
		var ds []time.Duration
		for range n {
			t := time.Now()
			f()
			ds = append(ds, time.Since(t))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	var dashboard, report, changes50, csvWall time.Duration
	var csvGrowth, csvBytes, reqPerSub, withRecord, withoutRecord float64
	for range b.N {
		changes50 = median(5, func() {
			cs, err := big.Changes(ctx, 50)
			if err != nil || len(cs) != 50 {
				b.Fatalf("Changes(50): %d, %v", len(cs), err)
			}
		})
		dashboard = median(5, func() {
			res, err := web.ServeDashboard(ctx, big, nil, url.Values{"code": {"k"}}, now)
			if err != nil || res.StatusCode != http.StatusOK {
				b.Fatalf("dashboard: %d %v", res.StatusCode, err)
			}
			envelope(b, res)
		})
		report = median(5, func() {
			res, err := web.ServeReport(ctx, big, url.Values{}, now)
			if err != nil || res.StatusCode != http.StatusOK {
				b.Fatalf("report: %d %v", res.StatusCode, err)
			}
			envelope(b, res)
		})
		// The whole estate's CSV, part by part, as a client follows the
		// Link headers; the heap's peak growth over the start.
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base, peak := ms.HeapInuse, ms.HeapInuse
		q, rows := url.Values{"format": {"csv"}}, 0
		t := time.Now()
		for {
			res, err := web.ServeReport(ctx, big, q, now)
			if err != nil || res.StatusCode != http.StatusOK {
				b.Fatalf("CSV: %d %v", res.StatusCode, err)
			}
			csvBytes += float64(envelope(b, res))
			rows += bytes.Count([]byte(res.Body), []byte("\r\n")) - 1
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			next := res.Headers["X-Continuation"]
			if next == "" {
				break
			}
			q.Set("continuation", next)
		}
		csvWall = time.Since(t)
		if rows != tenants*perTenant {
			b.Fatalf("CSV: %d rows, want %d", rows, tenants*perTenant)
		}
		csvGrowth = float64(peak-base) / (1 << 20)

		// The sweep after 1 % churn.
		emu.InjectFault(emulator.Fault{Latency: 40 * time.Millisecond})
		engine := newEngine(b, emu, cred)
		sweepRec := open("palsweep", true)
		log := zerolog.Nop()
		sweep := func(store record.Store, id string) time.Duration {
			t := time.Now()
			_, out, err := trigger.RecordedSweep(ctx, &log, engine, trigger.NewRecorder(store, "sweep", nil), id, false)
			if err != nil || out.Kind != outcome.KindDone {
				b.Fatalf("sweep %s: %v %+v", id, err, out)
			}
			return time.Since(t)
		}
		sweep(sweepRec, "first") // every verdict new
		churned := churn10k(b, sweepRec)
		withoutRecord = sweep(nil, "no-record").Seconds()
		requests.Store(0)
		withRecord = sweep(sweepRec, "measured").Seconds()
		reqPerSub = float64(requests.Load()) / 10_000
		b.Logf("sweep after %d changed verdicts: %d Table requests", churned, requests.Load())
	}
	b.ReportMetric(float64(dashboard.Milliseconds()), "dashboard-ms")
	b.ReportMetric(float64(report.Milliseconds()), "report-page-ms")
	b.ReportMetric(float64(changes50.Milliseconds()), "changes50-ms")
	b.ReportMetric(csvWall.Seconds(), "csv-s")
	b.ReportMetric(csvGrowth, "csv-heap-growth-MiB")
	b.ReportMetric(csvBytes/(1<<20), "csv-answer-MiB")
	b.ReportMetric(reqPerSub, "sweep-table-req/sub")
	b.ReportMetric(withRecord, "sweep-with-record-s")
	b.ReportMetric(withoutRecord, "sweep-without-record-s")
}

// envelope encodes an answer as the custom-handler server does (the HTTP
// output inside the invocation's JSON answer) and returns its size.
func envelope(b *testing.B, res any) int {
	raw, err := json.Marshal(map[string]any{"Outputs": map[string]any{"res": res}, "Logs": []string{}})
	if err != nil {
		b.Fatal(err)
	}
	return len(raw)
}

// newEngine is the engine of the 10k estate with the real ARM clients.
func newEngine(b *testing.B, emu *emulator.Emulator, cred azcore.TokenCredential) *pal.Engine {
	cfg, err := azure.CloudConfig(azure.CloudAzurePublic, emu.ARMURL())
	if err != nil {
		b.Fatal(err)
	}
	clients, err := azure.NewClients(cred, cfg, &azure.ClientsOptions{Transport: emu.HTTPClient(), Concurrency: 64, Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		b.Fatal(err)
	}
	engine, err := pal.NewEngine(emulator.BigPartnerID, pal.Azure{Links: clients.Partner, Subscriptions: clients.Subscriptions,
		Delegations: clients.Delegations, Roles: clients.Roles, Principal: clients.Principal}, &pal.EngineOptions{Concurrency: 64})
	if err != nil {
		b.Fatal(err)
	}
	return engine
}

// churn10k changes the recorded status of 1 % of the 10k estate (every
// 100th subscription), so that the next sweep changes them back.
func churn10k(b *testing.B, s record.Store) int {
	var vs []record.Verdict
	for i := range 1000 {
		for j := range 10 {
			if (i*10+j)%100 != 1 {
				continue
			}
			vs = append(vs, record.Verdict{TenantID: emulator.BigTenantID(i), SubscriptionID: emulator.BigSubscriptionID(i, j),
				Status: pal.StatusNotDelegated, CheckedAt: time.Now(), CheckedBy: "bench"})
		}
	}
	if _, err := s.SaveAll(context.Background(), vs); err != nil {
		b.Fatal(err)
	}
	return len(vs)
}

// counting counts the requests it sends.
type counting struct {
	next policy.Transporter
	n    *atomic.Int64
}

func (c counting) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}
