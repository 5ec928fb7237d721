package trigger

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// delivery is a Service Bus delivery: MessageId, EnqueuedTimeUtc and raw
// ApplicationProperties ("" = none) as the host sends them.
func delivery(t *testing.T, body, messageID string, enqueued time.Time, props string) *customhandler.Invocation {
	t.Helper()
	inv := invocation(t, onboardingBinding, body)
	if messageID == "" {
		delete(inv.Metadata, "MessageId")
	} else {
		id, _ := json.Marshal(messageID)
		inv.Metadata["MessageId"] = json.RawMessage(doubleEncoded(t, string(id)))
	}
	inv.Metadata["EnqueuedTimeUtc"] = json.RawMessage(`"` + enqueued.UTC().Format("2006-01-02T15:04:05") + `"`)
	if props != "" {
		inv.Metadata["ApplicationProperties"] = json.RawMessage(props)
	}
	return inv
}

// retryOnce runs one onboarding delivery that meets transient trouble.
func retryOnce(t *testing.T, opts Options, inv *customhandler.Invocation) (customhandler.Result, *fakeQueue) {
	t.Helper()
	q := &fakeQueue{}
	opts.Queue = q
	opts.Now = func() time.Time { return now }
	opts.Jitter = func() float64 { return 0.5 }
	f := &fakeEngine{err: &pal.Error{Code: pal.CodeTransient, Message: "Azure answered 429", RetryAfter: time.Minute}}
	return must(Onboarding(f, withBounds(&opts)))(context.Background(), inv), q
}

func TestRetryChainFailsClosed(t *testing.T) {
	good := `{"tenantId":"` + tenant + `"}`
	recent := now.Add(-10 * time.Minute)
	long := strings.Repeat("x", 200)
	tests := []struct {
		name        string
		opts        Options
		messageID   string
		enqueued    time.Time
		props       string
		wantFail    string // substring of the failure reason; "" = a copy is scheduled
		wantAttempt int
		wantID      string // "" = no check
	}{
		{name: "unreadable_properties_keep_the_suffix_attempt", messageID: "orig/attempt-5", enqueued: recent, props: `"garbage"`, wantAttempt: 6, wantID: "orig/attempt-6"},
		{name: "missing_properties_keep_the_suffix_attempt", messageID: "orig/attempt-5", enqueued: recent, wantAttempt: 6, wantID: "orig/attempt-6"},
		{name: "property_lower_than_suffix_takes_the_max", messageID: "orig/attempt-5", enqueued: recent, props: `{"pal-attempt":2,"pal-original-message-id":"orig"}`, wantAttempt: 6, wantID: "orig/attempt-6"},
		{name: "property_higher_than_suffix_takes_the_max", messageID: "orig/attempt-2", enqueued: recent, props: `{"pal-attempt":"4","pal-original-message-id":"orig"}`, wantAttempt: 5, wantID: "orig/attempt-5"},
		{name: "nonsense_attempt_property_ignored", messageID: "orig/attempt-3", enqueued: recent, props: `{"pal-attempt":-7}`, wantAttempt: 4, wantID: "orig/attempt-4"},
		{name: "unreadable_properties_cannot_outlive_max_attempts", opts: Options{MaxAttempts: 5}, messageID: "orig/attempt-5", enqueued: recent, props: `{`, wantFail: "attempts used up"},
		{name: "chain_older_than_the_cap_fails", messageID: "orig/attempt-3", enqueued: recent, props: `{"pal-attempt":3,"pal-first-enqueued":"` + now.Add(-25*time.Hour).Format(time.RFC3339Nano) + `"}`, wantFail: "first enqueued 25h0m0s ago"},
		{name: "old_copy_without_properties_fails", messageID: "orig/attempt-3", enqueued: now.Add(-25 * time.Hour), wantFail: "more than 24h0m0s"},
		{name: "young_chain_retries", messageID: "orig", enqueued: now.Add(-23 * time.Hour), wantAttempt: 2, wantID: "orig/attempt-2"},
		{name: "first_enqueued_property_never_makes_a_chain_younger", messageID: "orig/attempt-2", enqueued: now.Add(-25 * time.Hour), props: `{"pal-first-enqueued":"` + recent.Format(time.RFC3339Nano) + `"}`, wantFail: "more than 24h0m0s"},
		{name: "long_id_is_hashed", messageID: long, enqueued: recent, wantAttempt: 2},
		{name: "empty_id_is_hashed", messageID: "", enqueued: recent, wantAttempt: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, q := retryOnce(t, tt.opts, delivery(t, good, tt.messageID, tt.enqueued, tt.props))
			if tt.wantFail != "" {
				if got.Failure == nil || len(q.scheduled) != 0 {
					t.Fatalf("result = %+v, scheduled %d; want failed, nothing scheduled", got, len(q.scheduled))
				}
				if got.Failure.Status != 503 || !strings.Contains(got.Failure.Message, tt.wantFail) {
					t.Errorf("Failure = %+v, want 503 saying %q", got.Failure, tt.wantFail)
				}
				return
			}
			if got.Failure != nil || len(q.scheduled) != 1 {
				t.Fatalf("Failure = %+v, scheduled %d; want one copy", got.Failure, len(q.scheduled))
			}
			m := q.scheduled[0]
			if m.Properties[propAttempt] != tt.wantAttempt {
				t.Errorf("%s = %v, want %d", propAttempt, m.Properties[propAttempt], tt.wantAttempt)
			}
			if tt.wantID != "" && m.MessageID != tt.wantID {
				t.Errorf("MessageID = %q, want %q", m.MessageID, tt.wantID)
			}
			if len(m.MessageID) > maxMessageIDLen || !strings.HasSuffix(m.MessageID, attemptSuffix+itoa(tt.wantAttempt)) {
				t.Errorf("MessageID = %q (%d chars), want at most %d chars ending %s%d", m.MessageID, len(m.MessageID), maxMessageIDLen, attemptSuffix, tt.wantAttempt)
			}
			if m.MessageID == attemptSuffix[1:]+itoa(tt.wantAttempt) || strings.HasPrefix(m.MessageID, "/") {
				t.Errorf("MessageID = %q, want a chain ID before the suffix", m.MessageID)
			}
		})
	}
}

func TestCopyIDs(t *testing.T) {
	recent := now.Add(-10 * time.Minute)
	bodyA := `{"tenantId":"` + tenant + `"}`
	bodyB := `{"tenantId":"33333333-3333-3333-3333-333333333333"}`
	copyID := func(body, id string, enqueued time.Time, props string) string {
		t.Helper()
		got, q := retryOnce(t, Options{MaxAttempts: 20}, delivery(t, body, id, enqueued, props))
		if got.Failure != nil || len(q.scheduled) != 1 {
			t.Fatalf("Failure = %+v, scheduled %d; want one copy", got.Failure, len(q.scheduled))
		}
		return q.scheduled[0].MessageID
	}

	// Messages without an ID never share copy IDs; one delivery always gets the same.
	a, b := copyID(bodyA, "", recent, ""), copyID(bodyB, "", recent, "")
	if a == b {
		t.Errorf("two messages without MessageId share the copy ID %q", a)
	}
	if again := copyID(bodyA, "", recent, ""); again != a {
		t.Errorf("redelivery copy ID = %q, want the same %q", again, a)
	}
	if !strings.HasPrefix(a, hashedIDPrefix) {
		t.Errorf("copy ID = %q, want a hashed chain ID", a)
	}

	// Long IDs: bounded, distinct, and the chain continues identically whether
	// or not the properties of a copy can be read.
	long1, long2 := strings.Repeat("a", 300), strings.Repeat("a", 299)+"b"
	l1, l2 := copyID(bodyA, long1, recent, ""), copyID(bodyA, long2, recent, "")
	if l1 == l2 || len(l1) > maxMessageIDLen || len(l2) > maxMessageIDLen {
		t.Errorf("copy IDs of two long IDs = %q, %q; want distinct, at most %d chars", l1, l2, maxMessageIDLen)
	}
	props := `{"pal-attempt":2,"pal-original-message-id":"` + long1 + `","pal-first-enqueued":"` + recent.Format(time.RFC3339Nano) + `"}`
	withProps, withoutProps := copyID(bodyA, l1, recent, props), copyID(bodyA, l1, recent, `[`)
	if withProps != withoutProps || !strings.HasSuffix(withProps, "/attempt-3") {
		t.Errorf("third copy = %q with properties, %q without; want the same …/attempt-3", withProps, withoutProps)
	}

	// An ID that fits now but not with a longer suffix switches to the hash the
	// same way on both paths.
	edge := strings.Repeat("e", maxMessageIDLen-len("/attempt-9"))
	if got := copyID(bodyA, edge+"/attempt-8", recent, ""); got != edge+"/attempt-9" {
		t.Errorf("copy ID = %q, want %q (fits)", got, edge+"/attempt-9")
	}
	hashed := copyID(bodyA, edge+"/attempt-9", recent, "")
	viaProps := copyID(bodyA, edge+"/attempt-9", recent, `{"pal-attempt":9,"pal-original-message-id":"`+edge+`"}`)
	if len(hashed) > maxMessageIDLen || hashed != viaProps || !strings.HasPrefix(hashed, hashedIDPrefix) {
		t.Errorf("tenth copy = %q (without properties), %q (with); want the same hashed ID within %d chars", hashed, viaProps, maxMessageIDLen)
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tt := range []struct {
		after   time.Duration
		attempt int
		want    time.Duration
	}{
		{90 * time.Second, 1, 90 * time.Second},
		{1500 * time.Millisecond, 3, 1500 * time.Millisecond},
		{2 * time.Hour, 1, backoffCap},
		{0, 1, backoff(1, 0.5)},
		{0, 4, backoff(4, 0.5)},
	} {
		if got := retryDelay(tt.attempt, tt.after, 0.5); got != tt.want {
			t.Errorf("retryDelay(%d, Retry-After %v) = %v, want %v", tt.attempt, tt.after, got, tt.want)
		}
	}
}
