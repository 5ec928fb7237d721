package message

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	// maxLayers bounds how many wrappings (JSON string, base64, envelope
	// data) Decode removes before it gives up.
	maxLayers = 4
	// what names the input in error messages.
	whatMessage = "onboarding message"
	// fieldBody is the Fields key for problems with the body as a whole.
	fieldBody = "body"
	// notAMessage is the problem text for a body of no known form.
	notAMessage = "not JSON, a JSON string, base64 or a CloudEvents envelope"
)

// Decode decodes an onboarding message body into a validated request.
//
// The body may be the JSON object itself; a JSON string holding it (once or
// twice encoded, as the Functions host delivers Service Bus bodies); base64
// (standard or URL alphabet, padded or not) of any of these; or a CloudEvents
// 1.0 structured envelope whose "data" is the object or a JSON string holding
// it, or whose "data_base64" holds it. JSON is always tried before base64, so
// a JSON object is never mistaken for base64. Envelope attributes other than
// specversion, data and data_base64 are ignored; the message itself is strict.
//
// The error is a [*pal.Error] with [pal.CodeInvalidInput] listing every
// problem found in Fields.
func Decode(body []byte) (pal.Request, error) {
	var p problems
	d := bodyDecoder{p: &p}
	req := d.decode(body, fieldBody, 0, false)
	if err := p.err(whatMessage); err != nil {
		return pal.Request{}, err
	}
	return req, nil
}

// bodyDecoder peels the wrappings off a body, layer by layer.
type bodyDecoder struct {
	p *problems
}

// decode decodes b, reporting body-level problems under field. layer counts
// the wrappings removed so far; inEnvelope is true inside CloudEvents data.
func (d bodyDecoder) decode(b []byte, field string, layer int, inEnvelope bool) pal.Request {
	b = trimSpaceAndBOM(b)
	switch {
	case layer > maxLayers:
		d.p.addf(field, "wrapped more than %d times", maxLayers)
	case len(b) == 0:
		d.p.add(field, "empty")
	case b[0] == '{':
		return d.object(b, field, layer, inEnvelope)
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			d.p.add(field, "invalid JSON string: "+syntaxProblem(b, err))
			break
		}
		return d.decode([]byte(s), field, layer+1, inEnvelope)
	case json.Valid(b):
		d.p.addf(field, "%s, expected a JSON object", jsonKind(b))
	default:
		if raw, ok := decodeBase64(b); ok && looksLikeJSON(raw) {
			return d.decode(raw, field, layer+1, inEnvelope)
		}
		if inEnvelope {
			d.p.add(field, "not a JSON object, a JSON string or base64 holding one")
		} else {
			d.p.add(field, notAMessage)
		}
	}
	return pal.Request{}
}

// object decodes a JSON object: the message, or a CloudEvents envelope
// around it when it has a specversion attribute (outside an envelope).
func (d bodyDecoder) object(b []byte, field string, layer int, inEnvelope bool) pal.Request {
	if !json.Valid(b) {
		var v any
		d.p.add(field, "invalid JSON: "+syntaxProblem(b, json.Unmarshal(b, &v)))
		return pal.Request{}
	}
	ms, err := objectMembers(b)
	if err != nil {
		d.p.add(field, "invalid JSON object")
		return pal.Request{}
	}
	if !inEnvelope {
		for _, m := range ms {
			if m.key == "specversion" {
				return d.envelope(ms, layer)
			}
		}
	}
	return decodeObject(d.p, ms)
}

// envelope decodes a CloudEvents 1.0 structured envelope and the message in
// its data or data_base64.
func (d bodyDecoder) envelope(ms []member, layer int) pal.Request {
	attrs := make(map[string]json.RawMessage, len(ms))
	for _, m := range ms {
		if _, dup := attrs[m.key]; dup {
			d.p.add(fieldName(m.key), "given more than once")
			continue
		}
		attrs[m.key] = m.value
	}
	version, ok := unmarshalString(attrs["specversion"])
	if !ok {
		d.p.addf("specversion", "%s, expected the string \"1.0\"", jsonKind(attrs["specversion"]))
		return pal.Request{}
	}
	if version != "1.0" {
		d.p.addf("specversion", "unsupported CloudEvents version %s; expected \"1.0\"", echo(version))
		return pal.Request{}
	}
	data, hasData := attrs["data"]
	data64, hasData64 := attrs["data_base64"]
	hasData = hasData && !isNull(data)
	hasData64 = hasData64 && !isNull(data64)
	switch {
	case hasData && hasData64:
		d.p.add("data", "a CloudEvents envelope may hold data or data_base64, not both")
	case hasData:
		return d.decode(data, "data", layer+1, true)
	case hasData64:
		s, ok := unmarshalString(data64)
		if !ok {
			d.p.addf("data_base64", "%s, expected a base64 string", jsonKind(data64))
			break
		}
		raw, ok := decodeBase64([]byte(s))
		if !ok {
			d.p.add("data_base64", "not base64")
			break
		}
		return d.decode(raw, "data_base64", layer+1, true)
	default:
		d.p.add("data", "required: the CloudEvents envelope holds no data or data_base64")
	}
	return pal.Request{}
}

// trimSpaceAndBOM trims white space and a leading UTF-8 byte order mark.
func trimSpaceAndBOM(b []byte) []byte {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	return bytes.TrimSpace(b)
}

// looksLikeJSON reports whether decoded base64 starts like one of the forms
// Decode accepts: an object or a string.
func looksLikeJSON(b []byte) bool {
	b = trimSpaceAndBOM(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '"')
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, ignoring
// line breaks.
func decodeBase64(b []byte) ([]byte, bool) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', ' ', '\t':
			return -1
		}
		return r
	}, string(b))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	if s == "" {
		return nil, false
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	raw, err := enc.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return raw, true
}

// syntaxProblem describes a JSON syntax error without quoting the input.
func syntaxProblem(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d of %d)", se.Error(), se.Offset, len(b))
	}
	if err == nil {
		return "malformed"
	}
	return err.Error()
}
