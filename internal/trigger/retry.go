package trigger

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
)

// Application properties of scheduled copies.
const (
	// propAttempt is the attempt number of a message (absent = 1).
	propAttempt = "pal-attempt"
	// propFirstEnqueued is when the first copy of a message was enqueued (RFC 3339).
	propFirstEnqueued = "pal-first-enqueued"
	// propOriginalID is the MessageId of the first copy.
	propOriginalID = "pal-original-message-id"
)

// Backoff of scheduled retries when Azure gave no Retry-After.
const (
	backoffBase = 30 * time.Second
	backoffCap  = 15 * time.Minute
)

func randomJitter() float64 { return rand.Float64() }

// backoff is the delay before attempt n+1 after attempt n failed: exponential
// from 30 s, capped at 15 min, with "equal jitter" (half fixed, half random) so
// that a burst of failures does not come back at once.
func backoff(attempt int, jitter float64) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffCap; i++ {
		d *= 2
	}
	d = min(d, backoffCap)
	return d/2 + time.Duration(jitter*float64(d/2))
}

// retryDelay is how long to wait before the next attempt: Azure's Retry-After
// when it gave one (at most the cap), else the backoff.
func retryDelay(attempt int, retryAfter time.Duration, jitter float64) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, backoffCap)
	}
	return backoff(attempt, jitter)
}

// messageState is what the trigger metadata says of a delivered message.
type messageState struct {
	messageID     string
	originalID    string
	correlationID string
	attempt       int
	// firstEnqueued is when the first copy was enqueued; zero when unknown.
	firstEnqueued time.Time
}

// readMessageState reads the Service Bus metadata of an invocation.
func readMessageState(md map[string]json.RawMessage) messageState {
	st := messageState{attempt: 1}
	st.messageID, _ = customhandler.MetadataString(md, "MessageId")
	st.correlationID, _ = customhandler.MetadataString(md, "CorrelationId")
	st.firstEnqueued, _ = customhandler.MetadataTime(md, "EnqueuedTimeUtc")
	st.originalID = st.messageID

	var props map[string]any
	if raw, ok := md["ApplicationProperties"]; ok {
		_ = json.Unmarshal(raw, &props)
	}
	if n, ok := intProperty(props[propAttempt]); ok && n >= 1 {
		st.attempt = n
	}
	if s, ok := props[propFirstEnqueued].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			st.firstEnqueued = t
		}
	}
	if s, ok := props[propOriginalID].(string); ok && s != "" {
		st.originalID = s
	}
	return st
}

// intProperty accepts a JSON number or a numeric string.
func intProperty(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	default:
		return 0, false
	}
}

// nextCopy is the scheduled copy of a message for its next attempt.
func (st messageState) nextCopy(body []byte, now time.Time) QueueMessage {
	next := st.attempt + 1
	first := st.firstEnqueued
	if first.IsZero() {
		first = now
	}
	return QueueMessage{
		Body:          body,
		MessageID:     fmt.Sprintf("%s/attempt-%d", st.originalID, next),
		CorrelationID: st.correlationID,
		ContentType:   "application/json",
		Properties: map[string]any{
			propAttempt:       next,
			propFirstEnqueued: first.UTC().Format(time.RFC3339Nano),
			propOriginalID:    st.originalID,
		},
	}
}
