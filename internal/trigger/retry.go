package trigger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
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

// The scheduled copies of a message form a chain. Its rules fail closed: what
// cannot be read never resets the count or the age.
const (
	// DefaultMaxChainAge is the default absolute age cap of a chain: a message
	// whose first copy was enqueued longer ago than this is failed (so Service
	// Bus dead-letters it), never scheduled again. With the default 8 attempts
	// and the 15 min backoff cap a healthy chain ends within about 2 h; 24 h
	// leaves room for long Retry-After and delegation waits.
	DefaultMaxChainAge = 24 * time.Hour
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
