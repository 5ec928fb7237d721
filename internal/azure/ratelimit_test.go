package azure

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

func TestRateLimiterPacesOnlyWhileReadsAreLow(t *testing.T) {
	const sub = "11111111-1111-1111-1111-111111111111"
	var remaining atomic.Int64
	remaining.Store(1000)
	var mu sync.Mutex
	var times []time.Time
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.Header().Set("x-ms-ratelimit-remaining-subscription-reads", strconv.FormatInt(remaining.Load(), 10))
		writeJSON(w, 200, subscriptionJSON(sub, testTenant, "one"))
	}, nil)
	// Rebuild the clients with a known pace: 20 a second below 10 reads left.
	cfg, _ := CloudConfig(CloudAzurePublic, at.srv.URL)
	clients, err := NewClients(at.cred, cfg, &ClientsOptions{Transport: at.srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1},
		RateLimit: &RateLimitOptions{Threshold: 10, PerSecond: 20}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(n int) time.Duration {
		start := time.Now()
		for range n {
			if _, err := clients.Subscriptions.GetSubscription(context.Background(), sub); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start)
	}
	if d := get(5); d > 200*time.Millisecond {
		t.Errorf("5 requests with reads to spare took %v, want no pacing", d)
	}
	remaining.Store(3)
	get(1) // this answer says the bucket is low
	if d := get(5); d < 190*time.Millisecond {
		t.Errorf("5 requests with 3 reads left took %v, want at least 4 intervals of 50ms", d)
	}
	remaining.Store(500)
	get(1) // paced once more, then the answer says the bucket refilled
	if d := get(5); d > 200*time.Millisecond {
		t.Errorf("5 requests after the bucket refilled took %v, want no pacing", d)
	}
}

func TestRateLimiterAvoids429WithTheEmulator(t *testing.T) {
	run := func(t *testing.T, rl *RateLimitOptions) (throttled int, took time.Duration) {
		est := emulator.BigEstate(emulator.BigEstateOptions{Tenants: 1, SubscriptionsPerTenant: 1})
		emu, err := emulator.New(est, &emulator.Options{Dir: t.TempDir(),
			Throttle: &emulator.Throttle{ReadsPerSecond: 10, ReadBurst: 20}})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.Close()
		cfg, _ := CloudConfig(CloudAzurePublic, emu.ARMURL())
		clients, err := NewClients(emu.Credential(emulator.BigClientID), cfg, &ClientsOptions{
			Transport: emu.HTTPClient(), Retry: policy.RetryOptions{MaxRetries: -1}, Concurrency: 8, RateLimit: rl})
		if err != nil {
			t.Fatal(err)
		}
		var n atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					_, err := clients.Subscriptions.GetSubscription(context.Background(), emulator.BigSubscriptionID(0, 0))
					if pal.IsTransient(err) {
						n.Add(1)
					} else if err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return int(n.Load()), time.Since(start)
	}
	// 32 reads at once against a bucket of 20 refilled at 10 a second: even a
	// slow machine (-race, loaded) overruns it unpaced.
	unpaced, _ := run(t, &RateLimitOptions{Disabled: true})
	if unpaced == 0 {
		t.Fatalf("without pacing no request was throttled: the test does not exercise the limit")
	}
	paced, took := run(t, &RateLimitOptions{PerSecond: 8})
	if paced != 0 {
		t.Errorf("with pacing %d requests answered 429 (without: %d), want none", paced, unpaced)
	}
	t.Logf("429s: %d unpaced, %d paced (took %v)", unpaced, paced, took)
}

// TestRateLimiterReadsEveryReadsHeader: each of ARM's read-bucket headers
// (the principal's subscription and tenant buckets, and the subscription's
// global bucket shared by all principals) turns the pacing on when low.
// Before the fix the global-reads header was ignored.
func TestRateLimiterReadsEveryReadsHeader(t *testing.T) {
	for _, name := range []string{
		"x-ms-ratelimit-remaining-subscription-reads",
		"x-ms-ratelimit-remaining-tenant-reads",
		"x-ms-ratelimit-remaining-subscription-global-reads",
	} {
		t.Run(name, func(t *testing.T) {
			// One request every 1,000 s while paced: the second waits.
			l := newRateLimiter(RateLimitOptions{Threshold: 10, PerSecond: 0.001}, 1)
			h := http.Header{}
			h.Set(name, "3")
			l.observe(h)
			if err := l.wait(context.Background()); err != nil {
				t.Fatalf("first wait: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := l.wait(ctx); err == nil {
				t.Errorf("%s: 3 = low bucket did not pace the next request", name)
			}
			h.Set(name, "500")
			l.observe(h)
			if err := l.wait(ctx); err != nil {
				t.Errorf("%s: refilled bucket still paces: %v", name, err)
			}
		})
	}
}
