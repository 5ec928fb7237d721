package customhandler

import (
	"encoding/json"
	"testing"
)

func TestDecodeString(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		// docs/reference.md, "Service Bus trigger": the body {"message":"hello","number":2}.
		{"double-encoded Service Bus body", sbBody, `{"message":"hello","number":2}`},
		{"single-encoded body", `"{\"message\":\"hello\",\"number\":2}"`, `{"message":"hello","number":2}`},
		{"host unit test value", `"\"HelloWorld\""`, "HelloWorld"},
		{"plain string", `"HelloWorld"`, "HelloWorld"},
		{"body that is a JSON string, double-encoded", `"\"\\\"hello\\\"\""`, `"hello"`},
		{"base64 text stays text", `"\"eyJhIjoxfQ==\""`, "eyJhIjoxfQ=="},
		{"empty string", `""`, ""},
		{"object as is", ` {"a": 1} `, `{"a": 1}`},
		{"array as is", `[1,2]`, `[1,2]`},
		{"number as is", `42`, `42`},
		{"string with quotes inside", `"say \"hi\" now"`, `say "hi" now`},
		{"string starting with a quote but not JSON", `"\"abc"`, `"abc`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeString(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatalf("DecodeString(%s): %v", tt.raw, err)
			}
			if string(got) != tt.want {
				t.Errorf("DecodeString(%s) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "null", " null ", `"abc`, `{"a":`, "nope"} {
		if got, err := DecodeString(json.RawMessage(bad)); err == nil {
			t.Errorf("DecodeString(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDecodeBinary(t *testing.T) {
	const want = `{"message":"hello","number":2}`
	tests := []struct {
		name string
		raw  string
		want string
	}{
		// docs/reference.md, "Service Bus trigger": dataType binary.
		{"host base64", `"eyJtZXNzYWdlIjoiaGVsbG8iLCJudW1iZXIiOjJ9"`, want},
		{"padded", `"eyJhIjoxfQ=="`, `{"a":1}`},
		{"unpadded", `"eyJhIjoxfQ"`, `{"a":1}`},
		{"URL alphabet", `"-_8"`, "\xfb\xff"},
		{"std alphabet", `"+/8="`, "\xfb\xff"},
		{"JSON-encoded once more", `"\"eyJhIjoxfQ==\""`, `{"a":1}`},
		{"empty", `""`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBinary(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatalf("decodeBinary(%s): %v", tt.raw, err)
			}
			if string(got) != tt.want {
				t.Errorf("decodeBinary(%s) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "null", "42", `{"a":1}`, `"not base64!"`, `"abc`, `"\"abc`} {
		if got, err := decodeBinary(json.RawMessage(bad)); err == nil {
			t.Errorf("decodeBinary(%q) = %q, want an error", bad, got)
		}
	}
}
