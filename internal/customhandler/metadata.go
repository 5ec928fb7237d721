package customhandler

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// MetadataString returns the trigger metadata value key as a string. The host
// JSON-encodes scalars inside strings ("\"abc\"" for abc, "4" for 4); both
// levels are unwrapped. Numbers and booleans sent natively are returned as
// their JSON text. ok is false when key is missing, null, an object or an
// array. Keys are matched exactly first, then case-insensitively.
func MetadataString(md map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := lookup(md, key)
	if !ok {
		return "", false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '{', '[', 'n':
		return "", false
	case '"':
	default:
		return string(raw), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var inner string
		if err := json.Unmarshal([]byte(s), &inner); err == nil {
			return inner, true
		}
	}
	return s, true
}

// metadataInt returns the trigger metadata value key as an integer
// (DeliveryCount, SequenceNumber, …), whether sent as "4" or 4.
func metadataInt(md map[string]json.RawMessage, key string) (int64, bool) {
	s, ok := MetadataString(md, key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// MetadataTime returns the trigger metadata value key as a time. It accepts
// the host's zone-less DateTime form "2023-10-12T20:13:49" (taken as UTC),
// DateTimeOffset "2023-10-12T20:13:49+00:00" and RFC 3339 with or without
// fractional seconds.
func MetadataTime(md map[string]json.RawMessage, key string) (time.Time, bool) {
	s, ok := MetadataString(md, key)
	if !ok {
		return time.Time{}, false
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// lookup finds key in md, exactly or else case-insensitively (the host's
// Newtonsoft side is case-insensitive).
func lookup(md map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := md[key]; ok {
		return v, true
	}
	best, found := "", false
	for k := range md {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, found = k, true
		}
	}
	return md[best], found
}
