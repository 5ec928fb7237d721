package customhandler

import (
	"encoding/json"
	"testing"
	"time"
)

// sbMetadata decodes the Metadata of sbInvocation.
func sbMetadata(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	var req invocationRequest
	if err := json.Unmarshal([]byte(sbInvocation), &req); err != nil {
		t.Fatal(err)
	}
	return req.Metadata
}

func TestMetadataString(t *testing.T) {
	md := sbMetadata(t)
	md["native"] = json.RawMessage(`4`)
	md["flag"] = json.RawMessage(`true`)
	md["null"] = json.RawMessage(`null`)
	md["quotedEmpty"] = json.RawMessage(`"\"\""`)
	tests := []struct {
		key  string
		want string
		ok   bool
	}{
		{"LockToken", "4e773554-f6b7-4ea2-b07d-4c5fd5aba741", true},
		{"MessageId", "4e773554-f6b7-4ea2-b07d-4c5fd5aba741", true},
		{"ContentType", "application/json", true},
		{"DeliveryCount", "3", true},
		{"ExpiresAtUtc", "2023-10-12T20:13:49", true},
		{"message", "hello", true},
		{"native", "4", true},
		{"flag", "true", true},
		{"quotedEmpty", "", true},
		{"deliverycount", "3", true}, // case-insensitive fallback
		{"ApplicationProperties", "", false},
		{"sys", "", false},
		{"null", "", false},
		{"CorrelationId", "", false},
	}
	for _, tt := range tests {
		got, ok := MetadataString(md, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MetadataString(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := MetadataString(nil, "x"); ok {
		t.Error("MetadataString(nil) ok")
	}
}

func TestMetadataInt(t *testing.T) {
	md := sbMetadata(t)
	md["native"] = json.RawMessage(`12`)
	md["big"] = json.RawMessage(`"9223372036854775807"`)
	md["text"] = json.RawMessage(`"\"abc\""`)
	tests := []struct {
		key  string
		want int64
		ok   bool
	}{
		{"DeliveryCount", 3, true},
		{"SequenceNumber", 1, true},
		{"number", 2, true},
		{"native", 12, true},
		{"big", 9223372036854775807, true},
		{"text", 0, false},
		{"LockToken", 0, false},
		{"Missing", 0, false},
		{"ApplicationProperties", 0, false},
	}
	for _, tt := range tests {
		got, ok := metadataInt(md, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("metadataInt(%q) = %d, %v; want %d, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMetadataTime(t *testing.T) {
	md := sbMetadata(t)
	md["UtcNow"] = json.RawMessage(`"2023-10-12T20:13:49.640002Z"`)
	md["Offset"] = json.RawMessage(`"2022-10-11T10:52:00.003967+02:00"`)
	md["Quoted"] = json.RawMessage(`"\"2023-10-12T20:13:49Z\""`)
	md["Fraction"] = json.RawMessage(`"2023-10-12T20:13:49.5"`)
	md["Bad"] = json.RawMessage(`"10/12/2023 20:13:49"`)
	base := time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC)
	tests := []struct {
		key  string
		want time.Time
		ok   bool
	}{
		{"ExpiresAtUtc", base, true},
		{"EnqueuedTimeUtc", base, true},
		{"ExpiresAt", base, true},
		{"EnqueuedTime", base, true},
		{"UtcNow", base.Add(640002 * time.Microsecond), true},
		{"Offset", time.Date(2022, 10, 11, 8, 52, 0, 3967000, time.UTC), true},
		{"Quoted", base, true},
		{"Fraction", base.Add(500 * time.Millisecond), true},
		{"Bad", time.Time{}, false},
		{"DeliveryCount", time.Time{}, false},
		{"Missing", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := MetadataTime(md, tt.key)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("MetadataTime(%q) = %v, %v; want %v, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if got, _ := MetadataTime(md, "ExpiresAtUtc"); got.Location() != time.UTC {
		t.Errorf("zone-less time in %v, want UTC", got.Location())
	}
}
