package azure

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// ARM's rate-limit headers: the reads left in the caller's buckets (the
// principal's per subscription and per tenant) and in the subscription's
// global bucket, which all principals share (15 times a principal's).
var rateLimitHeaders = []string{
	"x-ms-ratelimit-remaining-subscription-reads",
	"x-ms-ratelimit-remaining-tenant-reads",
	"x-ms-ratelimit-remaining-subscription-global-reads",
}

// DefaultPacePerSecond is the pace of ARM requests while a rate-limit header
// reports the bucket low: ARM refills a principal's read bucket at about 25
// requests a second (learn.microsoft.com azure-resource-manager
// request-limits-and-throttling).
const DefaultPacePerSecond = 25

// RateLimitOptions tunes the pacing on ARM's rate-limit headers.
type RateLimitOptions struct {
	// Threshold: requests are paced while the latest answer's
	// x-ms-ratelimit-remaining-subscription-reads, -tenant-reads or
	// -subscription-global-reads is below it.
	// Zero means twice the concurrency (requests already in flight spend
	// reads before the pacing sees the answers).
	Threshold int
	// PerSecond is the pace while paced; zero means [DefaultPacePerSecond].
	PerSecond float64
	// Disabled turns the pacing off.
	Disabled bool
}

// rateLimiter is an azcore per-call policy shared by every ARM client of a
// process. It reads the rate-limit headers of each answer and, while the
// reads left are below the threshold, spaces the following requests at the
// pace ARM refills them, so the caller slows down before ARM answers 429.
type rateLimiter struct {
	threshold int
	interval  time.Duration

	mu   sync.Mutex
	low  map[string]bool
	next time.Time
}

func newRateLimiter(o RateLimitOptions, concurrency int) *rateLimiter {
	if o.Threshold <= 0 {
		o.Threshold = 2 * max(concurrency, 1)
	}
	if o.PerSecond <= 0 {
		o.PerSecond = DefaultPacePerSecond
	}
	return &rateLimiter{threshold: o.Threshold, interval: time.Duration(float64(time.Second) / o.PerSecond), low: map[string]bool{}}
}

// Do implements policy.Policy.
func (l *rateLimiter) Do(req *policy.Request) (*http.Response, error) {
	if err := l.wait(req.Raw().Context()); err != nil {
		return nil, err
	}
	resp, err := req.Next()
	if resp != nil {
		l.observe(resp.Header)
	}
	return resp, err
}

// wait returns at once while no bucket is low, else at this request's turn.
func (l *rateLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	paced := false
	for _, low := range l.low {
		paced = paced || low
	}
	if !paced {
		l.mu.Unlock()
		return nil
	}
	now := time.Now()
	at := now
	if l.next.After(now) {
		at = l.next
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// observe records whether the answer says a bucket is low.
func (l *rateLimiter) observe(h http.Header) {
	for _, name := range rateLimitHeaders {
		v := h.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		l.mu.Lock()
		l.low[name] = n < l.threshold
		l.mu.Unlock()
	}
}
