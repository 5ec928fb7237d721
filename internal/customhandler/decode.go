package customhandler

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeString returns the bytes of a binding value the host sent as a
// string. The host JSON-encodes string trigger values (a Service Bus body
// {"a":1} arrives as "\"{\\\"a\\\":1}\""), so: a JSON string is unmarshalled,
// and if the result is itself a JSON string literal it is unmarshalled once
// more. An object, array, number or boolean is returned as is. A missing
// value or null is an error, as is a value that is not JSON.
func DecodeString(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("decode string: no value (null or empty)")
	}
	if !json.Valid(raw) {
		return nil, errors.New("decode string: the value is not JSON")
	}
	if raw[0] != '"' {
		return bytes.Clone(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decode string: %w", err)
	}
	if inner := bytes.TrimSpace([]byte(s)); len(inner) > 0 && inner[0] == '"' && json.Valid(inner) {
		var s2 string
		if err := json.Unmarshal(inner, &s2); err != nil {
			return nil, fmt.Errorf("decode string: second level: %w", err)
		}
		return []byte(s2), nil
	}
	return []byte(s), nil
}

// decodeBinary returns the bytes of a binding value the host sent as base64
// (dataType "binary", or any byte[] value). Standard base64 is expected;
// unpadded and URL-safe forms are accepted too, as is a base64 string that
// is itself JSON-encoded once more.
func decodeBinary(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) == 0 || raw[0] != '"' {
		return nil, errors.New("decode binary: not a JSON string")
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decode binary: %w", err)
	}
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal([]byte(s), &s); err != nil {
			return nil, fmt.Errorf("decode binary: second level: %w", err)
		}
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("decode binary: %w", err)
	}
	return b, nil
}

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	var lastErr error
	for _, enc := range [...]*base64.Encoding{base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("not base64: %w", lastErr)
}
