package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// The load test: many onboarding messages through the host simulator, 32 at a
// time, against an emulated Azure that is slow (latency on every ARM read) and
// throttles (a per-principal token bucket answering 429 with Retry-After: 1).
//
//	go test -run '^TestLoad$' -count=1 -v ./handler/                                   # N = 50
//	PAL_LOAD_N=1000 PAL_LOAD_REPORT=load.json go test -run '^TestLoad$' -count=1 -v ./handler/
//
// N defaults to 50, enough for every check below (the injected 429s included),
// so that the test fits the default `go test ./...`: the handler paces its ARM
// reads at 25 a second while the emulator's bucket reports few reads left
// (azure.DefaultPacePerSecond), so each message costs about a quarter of a
// second of wall time whatever the machine. The figures in the docs are runs
// with PAL_LOAD_N=200 and more.
const (
	loadDefaultN     = 50
	loadConcurrency  = 32
	loadDeadline     = 5 * time.Minute
	loadPeakRSSLimit = 150 // MiB, VmHWM of the handler process
)

// loadLatencies are the injected ARM read latencies, most specific path first
// (the emulator applies the first matching fault).
var loadLatencies = []struct {
	path    string
	latency time.Duration
}{
	{"registrationAssignments", 50 * time.Millisecond},
	{"roleDefinitions", 40 * time.Millisecond},
	{"Microsoft.ManagementPartner", 20 * time.Millisecond},
	{"", 30 * time.Millisecond}, // subscriptions (get and list)
}

// loadThrottle is ARM's per-principal read bucket, scaled to this test: with
// the latencies above, 32 invocations at a time ask for about 1,200 reads/s on
// a quiet 2-core machine; the bucket allows 1,000/s with a burst of 50, so it
// runs dry now and then and answers 429 with Retry-After: 1 (a wait under a
// second rounds up to 1 s), which azcore waits out and retries. Real ARM
// refills 25 reads/s; at that rate 1,000 messages would take minutes.
var loadThrottle = emulator.Throttle{ReadsPerSecond: 1000, ReadBurst: 50}

// loadInjected429s are 429s injected on the first registration-assignment reads
// (with ARM's subscription-level code), so that every run sees throttling even
// when the machine is too slow (-race) to drain the bucket.
const loadInjected429s = 8

// loadFigures is what PAL_LOAD_REPORT receives.
type loadFigures struct {
	N                   int     `json:"n"`
	Concurrency         int     `json:"concurrency"`
	WallSeconds         float64 `json:"wallSeconds"`
	ThroughputPerSecond float64 `json:"throughputPerSecond"`
	LatencyP50Ms        float64 `json:"latencyP50Ms"`
	LatencyP95Ms        float64 `json:"latencyP95Ms"`
	LatencyP99Ms        float64 `json:"latencyP99Ms"`
	LatencyMaxMs        float64 `json:"latencyMaxMs"`
	Completed           int     `json:"completed"`
	DeadLettered        int     `json:"deadLettered"`
	Deliveries          int     `json:"deliveries"`
	Redelivered         int     `json:"redelivered"`
	SubscriptionsJudged int     `json:"subscriptionsJudged"`
	ARMRequests         int     `json:"armRequests"`
	ARM429              int     `json:"arm429"`
	ARM429Throttle      int     `json:"arm429Throttle"`
	ARM429Injected      int     `json:"arm429Injected"`
	IdentityRequests    int     `json:"identityRequests"`
	LinkWriteAttempts   int     `json:"linkWriteAttempts"`
	LinkWritesApplied   int     `json:"linkWritesApplied"`
	PeakRSSMiB          float64 `json:"peakRssMiB"`
	EndRSSMiB           float64 `json:"endRssMiB"`
	ThrottleReadsPerSec float64 `json:"throttleReadsPerSecond"`
	ThrottleReadBurst   int     `json:"throttleReadBurst"`
	GoVersion           string  `json:"goVersion"`
	CPUs                int     `json:"cpus"`
}

// loadMessage is one generated message and the verdicts it must get.
type loadMessage struct {
	id   string
	body string
	want map[string]pal.Status
}

func TestLoad(t *testing.T) {
	t.Parallel()
	n := loadN(t)
	deadline := time.Now().Add(loadDeadline)
	if d, ok := t.Deadline(); ok && d.Add(-15*time.Second).Before(deadline) {
		deadline = d.Add(-15 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	a := startLoadApp(t)
	a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: "registrationAssignments", Status: 429,
		ErrorCode: "SubscriptionRequestsThrottled", RetryAfter: time.Second, Times: loadInjected429s})
	for _, l := range loadLatencies {
		a.emu.InjectFault(emulator.Fault{Method: "GET", PathContains: l.path, Latency: l.latency})
	}
	pid := a.host.PID()
	if pid == 0 {
		t.Fatal("the handler process has no PID")
	}

	msgs := loadMessages(n)
	byID := map[string]loadMessage{}
	q := a.host.Queue("pal-onboarding")
	for _, m := range msgs {
		byID[m.id] = m
		q.Send([]byte(m.body), &hostsim.MessageOptions{MessageID: m.id, ContentType: "application/json"})
	}

	start := time.Now()
	if err := a.host.DrainQueue(ctx, "pal-onboarding"); err != nil {
		t.Fatalf("drain: %v after %s (completed %d, dead-lettered %d of %d)",
			err, time.Since(start).Round(time.Millisecond), len(q.Completed()), len(q.DeadLettered()), n)
	}
	wall := time.Since(start)
	hwm, rss, rssErr := procMemory(pid)
	if got := a.host.PID(); got != pid {
		t.Errorf("the handler process changed during the run (PID %d, now %d): it crashed or timed out", pid, got)
	}

	done, dead := q.Completed(), q.DeadLettered()
	for _, m := range append(slices.Clone(done), dead...) {
		if m.Result != nil {
			a.answers.Write(m.Result.Body)
			a.answers.Write([]byte(m.LastError()))
		}
	}

	// Every message is accounted for, and transient trouble (latency, 429s that
	// azcore retried) never failed one.
	if len(done)+len(dead) != n {
		t.Errorf("completed %d + dead-lettered %d = %d, want %d", len(done), len(dead), len(done)+len(dead), n)
	}
	if len(dead) > 0 {
		t.Errorf("%d messages dead-lettered, want none: %s", len(dead), describeDead(dead[:min(len(dead), 5)]))
	}
	if p := q.Pending(); len(p) > 0 {
		t.Errorf("%d messages still pending", len(p))
	}

	// Every completed message got exactly its verdicts, from the one link.
	seen := map[string]bool{}
	created, deliveries, redelivered, judged, wrongAttributed := 0, 0, 0, 0, 0
	var latencies []time.Duration
	// A systematic fault would fail every message: show the first ten.
	failures := 0
	msgErrorf := func(format string, args ...any) {
		t.Helper()
		if failures++; failures <= 10 {
			t.Errorf(format, args...)
		}
	}
	for _, m := range done {
		deliveries += m.DeliveryCount
		exp, ok := byID[m.MessageID]
		if !ok || seen[m.MessageID] {
			msgErrorf("completed message %q: unknown or completed twice", m.MessageID)
			continue
		}
		seen[m.MessageID] = true
		if m.Result == nil {
			msgErrorf("%s: completed without an invocation result", m.MessageID)
			continue
		}
		latencies = append(latencies, m.Result.Duration)
		if m.DeliveryCount > 1 {
			redelivered++
		}
		var res pal.Result
		if err := json.Unmarshal(m.Result.ReturnValue, &res); err != nil || res.Results == nil {
			msgErrorf("%s: ReturnValue is not a result object: %s (%v)", m.MessageID, m.Result.ReturnValue, err)
			continue
		}
		judged += len(res.Results)
		got := statusOf(&res)
		if !reflect.DeepEqual(got, exp.want) {
			msgErrorf("%s %s: statuses = %v, want %v", m.MessageID, exp.body, got, exp.want)
		}
		for sub, st := range got {
			if st == pal.StatusAttributed && exp.want[sub] != pal.StatusAttributed {
				wrongAttributed++
			}
		}
		if len(res.Results) != len(got) {
			msgErrorf("%s: %d results for %d subscriptions (a subscription reported twice)", m.MessageID, len(res.Results), len(got))
		}
		if s := summaryOf(res.Results); !reflect.DeepEqual(nonZero(res.Summary), s) {
			msgErrorf("%s: summary %v does not count the results %v", m.MessageID, res.Summary, s)
		}
		if res.Principal != (pal.Principal{TenantID: managing, ObjectID: objectID}) {
			msgErrorf("%s: principal = %+v", m.MessageID, res.Principal)
		}
		switch res.Link {
		case pal.LinkResult{Action: pal.LinkCreated, PartnerID: partnerID}:
			created++
		case pal.LinkResult{Action: pal.LinkNone, PartnerID: partnerID}:
		default:
			msgErrorf("%s: link = %+v, want created or none with %s", m.MessageID, res.Link, partnerID)
		}
	}
	if failures > 10 {
		t.Errorf("… and %d more failures of single messages", failures-10)
	}
	if wrongAttributed > 0 {
		t.Errorf("%d subscriptions reported attributed that are not", wrongAttributed)
	}
	if created != 1 {
		t.Errorf("%d results say the link was created, want exactly 1", created)
	}

	// Exactly one write: the PUT that created the link. Invocations of the first
	// wave all find no link, but the engine lets only one of them write it; the
	// others read the link again under the same lock and find it there.
	attempts, applied := len(a.emu.Writes()), 0
	for _, w := range a.emu.Writes() {
		if w.Method == "PUT" && w.Path == "/providers/Microsoft.ManagementPartner/partners/"+partnerID && w.Status/100 == 2 {
			applied++
			continue
		}
		t.Errorf("unexpected write %s %s answered %d %s", w.Method, w.Path, w.Status, w.ErrorCode)
	}
	if applied != 1 {
		t.Errorf("%d link writes, want exactly 1", applied)
	}
	if l, ok := a.emu.Link(managing, objectID); !ok || l.PartnerID != partnerID || l.Version != 1 {
		t.Errorf("emulator link = %+v, %v; want %s written once (version 1)", l, ok, partnerID)
	}

	armRequests, bucket429, injected429, identity := 0, 0, 0, 0
	for _, r := range a.emu.Requests() {
		switch {
		case r.Target == emulator.TargetIdentity:
			identity++
		case r.Status == 429 && r.ErrorCode == "SubscriptionRequestsThrottled":
			armRequests++
			injected429++
		case r.Status == 429:
			armRequests++
			bucket429++
		default:
			armRequests++
		}
	}
	if n >= 50 && injected429 != loadInjected429s {
		// (A handful of messages may not read that many registration assignments.)
		t.Errorf("%d injected 429s answered, want %d", injected429, loadInjected429s)
	}
	if redelivered > 0 {
		// Not wrong (the host redelivers what failed and it completed), but it means
		// some request met 429 four times running: the throttle is too tight.
		t.Logf("load: %d messages needed a second delivery", redelivered)
	}

	f := loadFigures{
		N: n, Concurrency: loadConcurrency,
		WallSeconds: wall.Seconds(), ThroughputPerSecond: float64(n) / wall.Seconds(),
		LatencyP50Ms: ms(percentile(latencies, 50)), LatencyP95Ms: ms(percentile(latencies, 95)),
		LatencyP99Ms: ms(percentile(latencies, 99)), LatencyMaxMs: ms(percentile(latencies, 100)),
		Completed: len(done), DeadLettered: len(dead), Deliveries: deliveries, Redelivered: redelivered,
		SubscriptionsJudged: judged, ARMRequests: armRequests, ARM429: bucket429 + injected429,
		ARM429Throttle: bucket429, ARM429Injected: injected429, IdentityRequests: identity,
		LinkWriteAttempts: attempts, LinkWritesApplied: applied,
		PeakRSSMiB: mib(hwm), EndRSSMiB: mib(rss),
		GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		ThrottleReadsPerSec: loadThrottle.ReadsPerSecond, ThrottleReadBurst: loadThrottle.ReadBurst,
	}
	t.Logf("load: N=%d concurrency=%d wall=%s throughput=%.1f/s latency p50=%.0fms p95=%.0fms p99=%.0fms max=%.0fms",
		f.N, f.Concurrency, wall.Round(time.Millisecond), f.ThroughputPerSecond, f.LatencyP50Ms, f.LatencyP95Ms, f.LatencyP99Ms, f.LatencyMaxMs)
	t.Logf("load: ARM requests=%d, 429s=%d (throttle %d, injected %d); identity requests=%d; subscriptions judged=%d; deliveries=%d; link writes %d attempted, %d applied",
		f.ARMRequests, f.ARM429, f.ARM429Throttle, f.ARM429Injected, f.IdentityRequests, f.SubscriptionsJudged, f.Deliveries, f.LinkWriteAttempts, f.LinkWritesApplied)
	if rssErr != nil {
		t.Logf("load: handler memory not measured: %v", rssErr)
	} else {
		t.Logf("load: handler peak RSS (VmHWM)=%.1f MiB, RSS at the end=%.1f MiB", f.PeakRSSMiB, f.EndRSSMiB)
		if f.PeakRSSMiB > loadPeakRSSLimit {
			t.Errorf("handler peak RSS %.1f MiB, want below %d MiB", f.PeakRSSMiB, loadPeakRSSLimit)
		}
	}
	if path := os.Getenv("PAL_LOAD_REPORT"); path != "" {
		b, _ := json.MarshalIndent(f, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Errorf("PAL_LOAD_REPORT: %v", err)
		}
	}
}

// loadN is the number of messages: PAL_LOAD_N, or loadDefaultN.
func loadN(t *testing.T) int {
	v := os.Getenv("PAL_LOAD_N")
	if v == "" {
		return loadDefaultN
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100000 {
		t.Fatalf("PAL_LOAD_N=%q: want a whole number from 1 to 100000", v)
	}
	return n
}

// startLoadApp is startApp with the emulator's throttle and the simulator's
// concurrency set.
func startLoadApp(t *testing.T) *app {
	t.Helper()
	return startApp(t, appOptions{throttle: &loadThrottle, maxConcurrentCalls: loadConcurrency})
}

// loadMessages generates n onboarding messages (the same ones every run): a
// tenant in turn, mostly 1–3 of its subscriptions, every tenth the whole
// tenant, and every seventh naming a subscription of another tenant (which must
// be reported not-delegated).
func loadMessages(n int) []loadMessage {
	verdict := map[string]pal.Status{
		subA1: pal.StatusAttributed, subA2: pal.StatusIneligibleRole, subA3: pal.StatusIneligibleRole, subA4: pal.StatusIneligibleRole,
		subB1: pal.StatusAttributed, subB2: pal.StatusAttributed, subB3: pal.StatusNotDelegated,
		subC1: pal.StatusAttributed, subC2: pal.StatusAttributed, subC3: pal.StatusAttributed, subC4: pal.StatusIneligibleRole,
	}
	tenants := []string{tenantA, tenantB, tenantC}
	subsOf := map[string][]string{
		tenantA: {subA1, subA2, subA3, subA4},
		tenantB: {subB1, subB2, subB3},
		tenantC: {subC1, subC2, subC3, subC4},
	}
	// A whole tenant is every subscription the identity can reach: B3 is not.
	reachable := map[string][]string{tenantA: subsOf[tenantA], tenantB: {subB1, subB2}, tenantC: subsOf[tenantC]}

	rng := rand.New(rand.NewPCG(20240601, 1000))
	out := make([]loadMessage, 0, n)
	for i := range n {
		tenant := tenants[i%len(tenants)]
		var subs []string
		want := map[string]pal.Status{}
		if i%10 == 9 {
			for _, s := range reachable[tenant] {
				want[s] = verdict[s]
			}
		} else {
			own := subsOf[tenant]
			k := 1 + rng.IntN(3)
			for _, j := range rng.Perm(len(own))[:k] {
				subs = append(subs, own[j])
				want[own[j]] = verdict[own[j]]
			}
			if i%7 == 3 {
				other := tenants[(i+1+rng.IntN(2))%len(tenants)]
				s := subsOf[other][rng.IntN(len(subsOf[other]))]
				if len(subs) == 3 {
					delete(want, subs[2])
					subs = subs[:2]
				}
				subs = append(subs, s)
				want[s] = pal.StatusNotDelegated
			}
		}
		body := map[string]any{"tenantId": tenant, "correlationId": fmt.Sprintf("load-%d", i)}
		if subs != nil {
			body["subscriptionIds"] = subs
		}
		b, _ := json.Marshal(body)
		out = append(out, loadMessage{id: fmt.Sprintf("load-%05d", i), body: string(b), want: want})
	}
	return out
}

func summaryOf(results []pal.SubscriptionResult) map[pal.Status]int {
	m := map[pal.Status]int{}
	for _, r := range results {
		m[r.Status]++
	}
	return m
}

func nonZero(m map[pal.Status]int) map[pal.Status]int {
	out := maps.Clone(m)
	maps.DeleteFunc(out, func(_ pal.Status, n int) bool { return n == 0 })
	return out
}

// percentile is the nearest-rank percentile p (0–100] of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(kib int64) float64 { return float64(kib) / 1024 }

// procMemory reads VmHWM (peak resident set) and VmRSS, in KiB, of a process
// from /proc (Linux).
func procMemory(pid int) (hwm, rss int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s:%s", pid, key, val)
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if key == "VmHWM" {
			hwm = v
		} else {
			rss = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if hwm == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
	}
	return hwm, rss, nil
}
