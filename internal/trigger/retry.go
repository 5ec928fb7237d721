package trigger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
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

// The scheduled copies of a message form a chain. Its rules fail closed: what
// cannot be read never resets the count or the age.
const (
	// maxChainAge is the absolute age cap of a chain (not a setting): a message
	// whose first copy was enqueued longer ago than this is failed (so Service
	// Bus dead-letters it), never scheduled again. With the default 8 attempts
	// and the 15 min backoff cap a healthy chain ends within about 2 h; 24 h
	// leaves room for long Retry-After and delegation waits.
	maxChainAge = 24 * time.Hour
	// maxMessageIDLen is Service Bus's limit on a MessageId.
	maxMessageIDLen = 128
	// attemptSuffix precedes the attempt number at the end of a copy's MessageId.
	attemptSuffix = "/attempt-"
	// hashedIDPrefix starts a chain ID derived by hashing (empty or long original IDs).
	hashedIDPrefix = "pal-sha256-"
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
	// firstEnqueued is when the first copy was enqueued, as far as known: the
	// pal-first-enqueued property, else this copy's EnqueuedTimeUtc; zero when
	// neither is there.
	firstEnqueued time.Time
}

// readMessageState reads the Service Bus metadata of an invocation. The
// attempt is the largest of what is known — the pal-attempt property and the
// /attempt-N suffix of the MessageId — so unreadable properties never reset it
// (a forged, higher attempt only ends the forger's own chain sooner). The
// original ID is the MessageId without that suffix; pal-original-message-id
// replaces it only when the MessageId is a copy's ID derived from it (names).
func readMessageState(md map[string]json.RawMessage) messageState {
	st := messageState{attempt: 1}
	st.messageID, _ = customhandler.MetadataString(md, "MessageId")
	st.correlationID, _ = customhandler.MetadataString(md, "CorrelationId")
	st.firstEnqueued, _ = customhandler.MetadataTime(md, "EnqueuedTimeUtc")
	base, n := splitAttempt(st.messageID)
	st.originalID = base
	st.attempt = max(st.attempt, n)

	var props map[string]any
	if raw, ok := md["ApplicationProperties"]; ok {
		_ = json.Unmarshal(raw, &props)
	}
	if n, ok := intProperty(props[propAttempt]); ok {
		st.attempt = max(st.attempt, n)
	}
	if s, ok := props[propFirstEnqueued].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && (st.firstEnqueued.IsZero() || t.Before(st.firstEnqueued)) {
			st.firstEnqueued = t
		}
	}
	if s, ok := props[propOriginalID].(string); ok && n > 1 && names(base, s) {
		st.originalID = s
	}
	return st
}

// names reports whether a copy's MessageId stem (before /attempt-N) is what
// the chain derives from the original ID claimed in pal-original-message-id:
// the ID itself, or its hash (chainID). Any sender can set the property, so
// it is trusted only then; a forged one names nothing but the forger's own
// message, whose copies keep its own MessageId.
func names(stem, original string) bool {
	return original != "" && (stem == original || stem == hashedChainID(original))
}

// splitAttempt splits a copy's MessageId "<chain>/attempt-N" into the chain
// ID and N; an ID without the suffix is attempt 1 of itself.
func splitAttempt(id string) (string, int) {
	i := strings.LastIndex(id, attemptSuffix)
	if i < 0 {
		return id, 1
	}
	digits := id[i+len(attemptSuffix):]
	if len(digits) == 0 || len(digits) > 6 || strings.TrimLeft(digits, "0123456789") != "" {
		return id, 1
	}
	n, _ := strconv.Atoi(digits)
	return id[:i], max(n, 1)
}

// intProperty accepts a JSON number or a numeric string.
func intProperty(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x < 1 || x > 1e6 || x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil && n >= 1 && n <= 1e6
	default:
		return 0, false
	}
}

// chainID is the MessageId stem shared by every copy of a message: the
// original MessageId when it leaves room for the suffix, else a hash — of the
// long ID, or, for a message without one, of its first enqueue time and body,
// so that two messages never share copy IDs and every ID stays within the
// 128 characters Service Bus allows.
func (st messageState) chainID(body []byte, next int) string {
	suffixLen := len(attemptSuffix) + len(strconv.Itoa(next))
	if st.originalID != "" && len(st.originalID)+suffixLen <= maxMessageIDLen {
		return st.originalID
	}
	if st.originalID != "" {
		return hashedChainID(st.originalID)
	}
	h := sha256.New()
	h.Write([]byte("no-message-id\x00" + st.firstEnqueued.UTC().Format(time.RFC3339Nano) + "\x00"))
	h.Write(body)
	return hashedIDPrefix + hex.EncodeToString(h.Sum(nil)[:20])
}

// hashedChainID is the chain ID of an original MessageId too long to carry
// the suffix.
func hashedChainID(original string) string {
	h := sha256.Sum256([]byte(original))
	return hashedIDPrefix + hex.EncodeToString(h[:20])
}

// nextCopy is the scheduled copy of a message for its next attempt.
func (st messageState) nextCopy(body []byte, now time.Time) QueueMessage {
	next := st.attempt + 1
	first := st.firstEnqueued
	if first.IsZero() {
		first = now
	}
	chain := st.chainID(body, next)
	original := st.originalID
	if original == "" {
		original = chain
	}
	return QueueMessage{
		Body:          body,
		MessageID:     chain + attemptSuffix + strconv.Itoa(next),
		CorrelationID: st.correlationID,
		ContentType:   "application/json",
		Properties: map[string]any{
			propAttempt:       next,
			propFirstEnqueued: first.UTC().Format(time.RFC3339Nano),
			propOriginalID:    original,
		},
	}
}

// giveUp is the one rule of when a message's retry chain ends with this
// delivery, for the onboarding message and the work item alike; it says why.
// deliveries is the delivery's DeliveryCount (0 when unknown) and
// maxDeliveries its queue's max delivery count. In order:
//
//  1. A cancelled invocation (499) is the caller giving up, not the work:
//     nothing is scheduled and the host redelivers the message, so the
//     chain goes on — unless this is the queue's last delivery.
//  2. Any other outcome that is not a retry ends it: retrying unchanged
//     cannot mend it.
//  3. The attempts are used up (PAL_MAX_ATTEMPTS).
//  4. The chain is older than maxChainAge.
func (o Options) giveUp(st messageState, deliveries, maxDeliveries int, out outcome.Outcome) (bool, string) {
	switch {
	case out.Cancelled():
		if !lastDelivery(deliveries, maxDeliveries) {
			return false, ""
		}
		return true, fmt.Sprintf("cancelled on the queue's last delivery (%d of %d)", deliveries, maxDeliveries)
	case out.Kind != outcome.KindRetry:
		return true, "not retried"
	case st.attempt >= o.MaxAttempts:
		return true, fmt.Sprintf("attempts used up (%d of PAL_MAX_ATTEMPTS %d)", st.attempt, o.MaxAttempts)
	case !st.firstEnqueued.IsZero() && o.Now().Sub(st.firstEnqueued) > maxChainAge:
		return true, fmt.Sprintf("retries given up: the message was first enqueued %v ago, more than %v",
			o.Now().Sub(st.firstEnqueued).Round(time.Second), maxChainAge)
	}
	return false, ""
}

// lastDelivery reports whether a failed delivery is the queue's last: Service
// Bus dead-letters the message after it. An unknown DeliveryCount (0) is
// never the last.
func lastDelivery(deliveries, maxDeliveries int) bool {
	return deliveries > 0 && deliveries >= maxDeliveries
}

// deliveryCount reads the DeliveryCount of a Service Bus delivery (0 when
// absent or unreadable).
func deliveryCount(md map[string]json.RawMessage) (int, string, bool) {
	raw, ok := customhandler.MetadataString(md, "DeliveryCount")
	if !ok {
		return 0, "", false
	}
	n, _ := strconv.Atoi(raw)
	return n, raw, true
}

// Setting names of the work budgets.
const (
	budgetInvocation = "PAL_INVOCATION_TIMEOUT"
	budgetSweep      = "PAL_SWEEP_TIMEOUT"
)

// workContext bounds an invocation's work by PAL_INVOCATION_TIMEOUT; see
// [outcome.WorkContext].
func workContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return outcome.WorkContext(ctx, timeout, budgetInvocation)
}

// withoutRetryAdvice returns reason without a trailing "; try again" or
// "; try again later": transient reasons tell a caller to try again (an HTTP
// answer, a command's message), and a chain that has given up drops that, so
// its reason says truthfully what happens next.
func withoutRetryAdvice(reason string) string {
	for _, advice := range []string{"; try again later", "; try again"} {
		if r, ok := strings.CutSuffix(reason, advice); ok {
			return r
		}
	}
	return reason
}
