package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// member is one key and value of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits a valid JSON object into its members, keeping order
// and duplicates.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("read value of %s: %w", echo(key), err)
		}
		ms = append(ms, member{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("read end of object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return ms, nil
}

// jsonKind names the kind of a JSON value for a problem text.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// isNull reports whether v is the JSON null.
func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// jsonString unmarshals v as a JSON string, recording a problem for field
// when it is something else. ok is false after a problem.
func jsonString(p *problems, field string, v json.RawMessage) (s string, ok bool) {
	s, ok = unmarshalString(v)
	if !ok {
		p.addf(field, "%s, expected a string", jsonKind(v))
	}
	return s, ok
}

// unmarshalString unmarshals v when it is a JSON string (not null).
func unmarshalString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// decodeObject decodes and validates the members of an onboarding message.
func decodeObject(p *problems, ms []member) pal.Request {
	var req pal.Request
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		if seen[m.key] {
			p.add(fieldName(m.key), "given more than once")
			continue
		}
		seen[m.key] = true
		switch m.key {
		case fieldTenantID:
			if isNull(m.value) {
				p.add(fieldTenantID, "required")
			} else if s, ok := jsonString(p, fieldTenantID, m.value); ok {
				checkTenant(p, &req, s)
			}
		case fieldSubscriptionIDs:
			decodeSubscriptions(p, &req, m.value)
		case fieldPartnerID:
			decodePartner(p, &req, m.value)
		case fieldRequestedBy:
			if s, ok := optionalString(p, m.key, m.value); ok {
				req.RequestedBy = checkText(p, m.key, s)
			}
		case fieldCorrelationID:
			if s, ok := optionalString(p, m.key, m.value); ok {
				req.CorrelationID = checkText(p, m.key, s)
			}
		default:
			p.add(fieldName(m.key), unknownField(m.key))
		}
	}
	if !seen[fieldTenantID] {
		p.add(fieldTenantID, "required")
	}
	return req
}

// unknownField is the problem text for an unknown member, with a hint when
// only the case differs from a known one.
func unknownField(key string) string {
	known := [...]string{fieldTenantID, fieldSubscriptionIDs, fieldPartnerID, fieldRequestedBy, fieldCorrelationID}
	for _, f := range known {
		if strings.EqualFold(key, f) {
			return fmt.Sprintf("unknown field; did you mean %q?", f)
		}
	}
	return "unknown field"
}

// optionalString unmarshals an optional string member; null means absent.
func optionalString(p *problems, field string, v json.RawMessage) (string, bool) {
	if isNull(v) {
		return "", false
	}
	return jsonString(p, field, v)
}

// decodeSubscriptions decodes subscriptionIds: null or [] mean the whole tenant.
func decodeSubscriptions(p *problems, req *pal.Request, v json.RawMessage) {
	if isNull(v) {
		return
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil {
		p.addf(fieldSubscriptionIDs, "%s, expected an array of GUID strings", jsonKind(v))
		return
	}
	var ss subscriptionSet
	for _, e := range elems {
		s, ok := unmarshalString(e)
		if !ok {
			ss.addBad(p, jsonKind(e)+", expected a GUID string")
			continue
		}
		ss.add(p, s)
	}
	ss.finish(p, req)
}

// decodePartner decodes partnerId: a string of digits, or a JSON integer.
func decodePartner(p *problems, req *pal.Request, v json.RawMessage) {
	v = bytes.TrimSpace(v)
	switch {
	case isNull(v):
		return
	case len(v) > 0 && v[0] >= '0' && v[0] <= '9':
		checkPartner(p, req, string(v))
		return
	}
	if s, ok := jsonString(p, fieldPartnerID, v); ok {
		checkPartner(p, req, s)
	}
}
