package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// The sweep at partner scale (make bench):
//
//	go test -run '^$' -bench 'Sweep10k|WholeTenant' -benchtime 1x ./handler/
//
// 10,000 delegated subscriptions in 1,000 customer tenants, 40 ms added to
// every ARM request. Every tenth subscription delegates only Reader, so 1,000
// verdicts are not attributed and the rest are.
const (
	benchTenants     = 1000
	benchPerTenant   = 10
	benchLatency     = 40 * time.Millisecond
	benchConcurrency = 64
)

// benchEmulator starts the 10k estate with the latency on every ARM request.
func benchEmulator(b *testing.B) *emulator.Emulator {
	b.Helper()
	est := emulator.BigEstate(emulator.BigEstateOptions{Tenants: benchTenants, SubscriptionsPerTenant: benchPerTenant, ReaderEvery: 10, Linked: true})
	emu, err := emulator.New(est, &emulator.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(emu.Close)
	emu.InjectFault(emulator.Fault{Latency: benchLatency})
	return emu
}

// armRequests counts the ARM requests the emulator received.
func armRequests(emu *emulator.Emulator) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Target == emulator.TargetARM {
			n++
		}
	}
	return n
}

// BenchmarkSweep10k runs the real handler binary's `handler sweep` (the
// in-process sweep the timer runs without Service Bus) as a child process,
// so its peak RSS is the process's own (getrusage ru_maxrss), not the
// benchmark's with the emulator in it.
func BenchmarkSweep10k(b *testing.B) {
	emu := benchEmulator(b)
	total := benchTenants * benchPerTenant
	var wall, cpu, perSub, inFlight, conns, rss float64
	for range b.N {
		emu.ResetRequests()
		emu.ResetStats()
		cmd := exec.Command(handlerBinary, "sweep", "--json")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
			"PAL_PARTNER_ID=" + emulator.BigPartnerID, "AZURE_CLIENT_ID=" + emulator.BigClientID,
			fmt.Sprintf("PAL_ARM_CONCURRENCY=%d", benchConcurrency)}, emu.Environ()...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("handler sweep: %v\n%s", err, errb.String())
		}
		wall = time.Since(start).Seconds()
		var res pal.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			b.Fatalf("sweep output: %v", err)
		}
		if res.Summary[pal.StatusAttributed] != total-total/10 || res.Summary[pal.StatusIneligibleRole] != total/10 || len(res.Results) != total/10 {
			b.Fatalf("summary %v with %d results, want %d attributed and %d ineligible-role listed", res.Summary, len(res.Results), total-total/10, total/10)
		}
		st := emu.Stats()
		perSub = float64(armRequests(emu)) / float64(total)
		inFlight, conns = float64(st.MaxInFlight), float64(st.Connections)
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		rss = float64(ru.Maxrss) / 1024 // KiB on Linux
		cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(cpu, "handler-cpu-s")
	b.ReportMetric(perSub, "arm-req/sub")
	b.ReportMetric(inFlight, "max-in-flight")
	b.ReportMetric(conns, "new-tls-conns")
	b.ReportMetric(rss, "peak-rss-MiB")
}

// BenchmarkOnboardWholeTenant10k sends 100 onboarding requests without
// subscriptionIds (100 tenants of the 10k estate, 32 at a time) through the
// engine and the real ARM clients, in this process: what is measured is the
// ARM requests per subscription of the tenant, which does not depend on the
// process boundary.
func BenchmarkOnboardWholeTenant10k(b *testing.B) {
	const messages, parallel = 100, 32
	emu := benchEmulator(b)
	cfg, err := azure.CloudConfig(azure.CloudAzurePublic, emu.ARMURL())
	if err != nil {
		b.Fatal(err)
	}
	var wall, perSub float64
	for range b.N {
		// A fresh engine: its listing cache starts empty, as after a restart.
		clients, err := azure.NewClients(emu.Credential(emulator.BigClientID), cfg,
			&azure.ClientsOptions{Transport: emu.HTTPClient(), Concurrency: benchConcurrency, Retry: policy.RetryOptions{MaxRetries: -1}})
		if err != nil {
			b.Fatal(err)
		}
		engine, err := pal.NewEngine(emulator.BigPartnerID, pal.Azure{Links: clients.Partner, Subscriptions: clients.Subscriptions,
			Delegations: clients.Delegations, Roles: clients.Roles, Principal: clients.Principal}, &pal.EngineOptions{Concurrency: benchConcurrency})
		if err != nil {
			b.Fatal(err)
		}
		emu.ResetRequests()
		log := cliLogger(&bytes.Buffer{})
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range messages {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				tenant := emulator.BigTenantID(i * (benchTenants / messages))
				res, err := engine.Onboard(context.Background(), &log, pal.Request{TenantID: tenant})
				if err != nil {
					b.Error(err)
					return
				}
				if len(res.Results) != benchPerTenant {
					b.Errorf("tenant %s: %d results, want %d", tenant, len(res.Results), benchPerTenant)
				}
			}()
		}
		wg.Wait()
		wall = time.Since(start).Seconds()
		perSub = float64(armRequests(emu)) / float64(messages*benchPerTenant)
	}
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(perSub, "arm-req/tenant-sub")
}
