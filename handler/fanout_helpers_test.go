package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
	"github.com/pal-keeper/pal-keeper/internal/testenv/cutproxy"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// fanoutKey is the cluster's function key (every process shares it, as the
// instances of one function app do).
const fanoutKey = "fanout-test-key"

// fanout is the distributed sweep under a simulated scale-out: the handler's
// tests' handler (handlerRESTBinary) in N processes consuming one sweep queue, sending
// through the simulator's Service Bus REST endpoint, with the compliance
// record in Azurite's Table service (shared by the processes, as Table
// Storage is in Azure).
type fanout struct {
	tb      testing.TB
	emu     *emulator.Emulator
	cluster *hostsim.Cluster
	stdout  *syncBuffer
	// tables is the Azurite Table service holding the record.
	tables *azurite.Server
	// storage is the proxy the handlers reach the record through
	// (fanoutOptions.cutStorage); nil without.
	storage *cutproxy.Proxy
}

type fanoutOptions struct {
	processes        int
	settings         map[string]string
	maxDeliveryCount int
	// maxConcurrentCalls overrides host.json's per process (8).
	maxConcurrentCalls int
	// cutStorage puts a proxy a test can cut (fanout.storage) between the
	// handlers and Azurite.
	cutStorage bool
}

// startFanout starts Azurite and the cluster against emu.
func startFanout(tb testing.TB, emu *emulator.Emulator, o fanoutOptions) *fanout {
	tb.Helper()
	tables := azurite.Start(tb)
	// The handler trusts the emulator's and Azurite's certificates.
	certs := filepath.Join(tb.TempDir(), "ca.pem")
	var pem []byte
	for _, f := range []string{emu.CertFile(), tables.CertFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		pem = append(pem, b...)
	}
	if err := os.WriteFile(certs, pem, 0o600); err != nil {
		tb.Fatal(err)
	}
	recordURL := tables.URL
	var storage *cutproxy.Proxy
	if o.cutStorage {
		storage = cutproxy.Start(tb, tables.Addr)
		recordURL = strings.Replace(tables.URL, tables.Addr, storage.Addr(), 1)
	}
	settings := map[string]string{
		"PAL_ONBOARDING_QUEUE":                          "pal-onboarding",
		"PAL_SWEEP_QUEUE":                               "pal-sweep",
		"PAL_SWEEP_SCHEDULE":                            "0 0 3 * * *",
		"PAL_DELEGATION_WAIT":                           "0s",
		"PAL_RECORD_TABLE_URL":                          recordURL,
		"ServiceBusConnection__fullyQualifiedNamespace": "pal-test.servicebus.windows.net",
	}
	if o.maxDeliveryCount == 0 {
		o.maxDeliveryCount = 3
	}
	// The handler knows the simulated queues' max delivery count, as
	// Terraform tells it the real queues'.
	settings[envOnboardingMaxDelivery] = strconv.Itoa(o.maxDeliveryCount)
	settings[envSweepMaxDelivery] = strconv.Itoa(o.maxDeliveryCount)
	for k, v := range o.settings {
		settings[k] = v
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, kv := range emu.Environ() {
		if !strings.HasPrefix(kv, "SSL_CERT_FILE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "SSL_CERT_FILE="+certs, envRunAsHandler+"=1")
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	f := &fanout{tb: tb, emu: emu, stdout: &syncBuffer{}, tables: tables, storage: storage}
	stderr := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := hostsim.StartCluster(ctx, hostsim.Options{
		AppRoot: "..", Executable: handlerRESTBinary, Args: []string{}, Env: env,
		Stdout: f.stdout, Stderr: stderr, MaxDeliveryCount: o.maxDeliveryCount, MaxConcurrentCalls: o.maxConcurrentCalls, InitTimeout: 20 * time.Second,
		AutoDeliver: true, FunctionKey: fanoutKey, ServiceBusREST: envServiceBusREST,
		DuplicateDetectionWindow: 10 * time.Minute, // the Terraform queue's
	}, o.processes)
	if err != nil {
		tb.Fatalf("start cluster: %v\nstderr: %s", err, stderr.String())
	}
	f.cluster = c
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.Stop(ctx); err != nil {
			tb.Errorf("stop cluster: %v", err)
		}
		// Under -race the cluster runs race-built handlers too.
		checkNoRace(tb, "handler (cluster)", stderr.String(), f.stdout.String())
	})
	return f
}

// sweep fires the timer (the coordinator) and returns its report.
// fanoutReport is the coordinator's ReturnValue, as a client reads it
// (docs/contracts.md, "Sweep work items").
type fanoutReport struct {
	RunID     string         `json:"runId"`
	ItemsSent int            `json:"itemsSent"`
	Link      pal.LinkResult `json:"link"`
	Outcome   string         `json:"outcome"`
}

func (f *fanout) sweep(ctx context.Context) (fanoutReport, time.Duration) {
	f.tb.Helper()
	start := time.Now()
	inv, err := f.cluster.Timer(ctx, "sweep", false)
	took := time.Since(start)
	if err != nil || inv.Failed {
		f.tb.Fatalf("coordinator: %v %v\n%s", err, inv.Err, f.stdout.String())
	}
	var rep fanoutReport
	if err := json.Unmarshal(inv.ReturnValue, &rep); err != nil || rep.RunID == "" {
		f.tb.Fatalf("coordinator ReturnValue %s: %v", inv.ReturnValue, err)
	}
	return rep, took
}

// report reads GET /api/report as a user would.
func (f *fanout) report(ctx context.Context) *web.Report {
	f.tb.Helper()
	h := http.Header{}
	h.Set("x-functions-key", fanoutKey)
	res, err := f.cluster.HTTP(ctx, "GET", "/api/report", h, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		f.tb.Fatalf("GET /api/report: %v %+v", err, res)
	}
	var rep web.Report
	if err := json.Unmarshal(res.Body, &rep); err != nil {
		f.tb.Fatalf("report: %v", err)
	}
	return &rep
}

// settled waits until the sweep queue holds nothing (no message active, being
// delivered or scheduled), so that every delivery so far has been completed
// or dead-lettered. A run ends when its last item is counted in the record,
// before the delivery that counted it answers (it maintains the record
// first) and is settled: a test reads the queue's Completed and DeadLettered
// after this, never right after waitRun.
func (f *fanout) settled(ctx context.Context) {
	f.tb.Helper()
	if err := f.cluster.DrainQueue(ctx, "pal-sweep"); err != nil {
		q := f.cluster.Queue("pal-sweep")
		f.tb.Fatalf("the sweep queue did not settle: %v (%d pending, %d completed, %d dead-lettered)",
			err, len(q.Pending()), len(q.Completed()), len(q.DeadLettered()))
	}
}

// waitRun polls the report until run id has ended, releasing scheduled
// retry copies at once (their backoff is tens of seconds).
func (f *fanout) waitRun(ctx context.Context, id string, poll time.Duration) *web.Sweep {
	f.tb.Helper()
	for {
		f.cluster.Queue("pal-sweep").ReleaseScheduled()
		rep := f.report(ctx)
		if s := rep.LastSweep; s != nil && s.RunID == id && s.Outcome != "running" {
			return s
		}
		select {
		case <-ctx.Done():
			f.tb.Fatalf("run %s did not end: last sweep %+v", id, f.report(context.Background()).LastSweep)
		case <-time.After(poll):
		}
	}
}
