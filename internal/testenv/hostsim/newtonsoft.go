package hostsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file reproduces the Newtonsoft.Json behaviour the Functions host applies when it
// builds an invocation request (docs/reference.md, "Invocation request"):
//
//   - a scalar binding value becomes JsonConvert.SerializeObject(value): a JSON text stored
//     in a string, so the string "abc" travels as "\"abc\"" and the number 4 as "4";
//   - DateTime values lose their zone ("yyyy-MM-ddTHH:mm:ss"), DateTimeOffset values keep
//     "+00:00";
//   - for a trigger value that is a JSON object, each top-level property is copied into the
//     binding data (Utility.ApplyBindingData), converted with Newtonsoft's (string)JToken cast.

// Wire layouts of .NET date values as the host serializes them.
const (
	layoutUTC       = "2006-01-02T15:04:05"               // DateTime after DateTime.Parse(x.ToString())
	layoutOffset    = "2006-01-02T15:04:05-07:00"         // DateTimeOffset after the same round trip
	layoutRoundtrip = "2006-01-02T15:04:05.9999999Z07:00" // DateTime (UTC kind) inside an object
	layoutLocal     = "2006-01-02T15:04:05.9999999-07:00" // DateTime (local kind, UTC on Azure)
	layoutInvariant = "01/02/2006 15:04:05"               // Convert.ToString(DateTime, InvariantCulture)
)

// netString returns s as JsonConvert.SerializeObject(s) writes it: a JSON string literal
// with Newtonsoft's default escaping (quotes, backslashes, control characters and
// U+0085/U+2028/U+2029; HTML characters and other non-ASCII text stay as they are).
// Invalid UTF-8 becomes U+FFFD, as .NET's UTF-8 decoder does.
func netString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x85, 0x2028, 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// metaDateUTC is a *Utc DateTime binding value on the wire.
func metaDateUTC(t time.Time) string { return t.UTC().Format(layoutUTC) }

// metaDateOffset is a DateTimeOffset binding value on the wire.
func metaDateOffset(t time.Time) string { return t.UTC().Format(layoutOffset) }

// sysData is Metadata.sys (WebJobs SystemBindingData as JObject.FromObject writes it).
type sysData struct {
	MethodName string `json:"MethodName"`
	UtcNow     string `json:"UtcNow"`
	RandGuid   string `json:"RandGuid"`
}

func newSys(function string, now time.Time) sysData {
	return sysData{MethodName: function, UtcNow: now.UTC().Format(layoutRoundtrip), RandGuid: newGUID()}
}

// bindingData is the host's binding-data dictionary: keys compare case-insensitively
// (StringComparer.OrdinalIgnoreCase) and a replaced entry keeps the casing it was first
// stored with. Values are stored in their final wire form.
type bindingData struct {
	keys  []string
	vals  []any
	index map[string]int
}

func newBindingData() *bindingData { return &bindingData{index: map[string]int{}} }

func (b *bindingData) set(key string, v any) {
	k := strings.ToLower(key)
	if i, ok := b.index[k]; ok {
		b.vals[i] = v
		return
	}
	b.index[k] = len(b.keys)
	b.keys = append(b.keys, key)
	b.vals = append(b.vals, v)
}

func (b *bindingData) has(key string) bool {
	_, ok := b.index[strings.ToLower(key)]
	return ok
}

// metadata returns the invocation Metadata: nil values are skipped, and so are keys
// ending in "trigger" (ScriptInvocationContextExtensions.ToHttpScriptInvocationContext).
func (b *bindingData) metadata() map[string]any {
	md := make(map[string]any, len(b.keys))
	for i, k := range b.keys {
		if b.vals[i] == nil || hasSuffixFold(k, "trigger") {
			continue
		}
		md[k] = b.vals[i]
	}
	return md
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// applyBodyProperties copies the top-level properties of a JSON-object body into the
// binding data, as Utility.ApplyBindingData does; values are in wire form. The host's
// version (Service Bus and other non-HTTP triggers) skips array properties; the HTTP
// extension's version keeps them (arrays=true) and they reach Metadata as compact JSON
// text. Anything that is not a well-formed JSON object adds nothing.
func applyBodyProperties(b *bindingData, body string, arrays bool) {
	t := strings.TrimSpace(body)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return
	}
	props, err := objectProperties(t)
	if err != nil {
		return
	}
	converted := make([]struct {
		key string
		val any
	}, 0, len(props))
	for _, p := range props {
		var v any
		switch p.raw[0] {
		case '{':
			v = p.raw
		case '[':
			if !arrays {
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, p.raw); err != nil {
				return
			}
			v = buf.String()
		default:
			s, ok, err := jvalueString(p.raw)
			if err != nil {
				return // JObject.Parse would have thrown: nothing is copied
			}
			if !ok {
				continue // null
			}
			v = netString(s)
		}
		converted = append(converted, struct {
			key string
			val any
		}{p.key, v})
	}
	for _, c := range converted {
		b.set(c.key, c.val)
	}
}

type property struct {
	key string
	raw json.RawMessage
}

// objectProperties parses a JSON object into its properties in document order; a
// repeated name replaces the earlier value in place (Newtonsoft's default).
func objectProperties(s string) ([]property, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var props []property
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected token %v", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if i, ok := seen[key]; ok {
			props[i].raw = raw
			continue
		}
		seen[key] = len(props)
		props = append(props, property{key, raw})
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("additional text after the JSON object")
	}
	return props, nil
}

// jvalueString converts a JSON scalar the way Newtonsoft's (string)JToken cast does after
// JObject.Parse: strings stay (unless they look like ISO dates, which JObject.Parse turned
// into DateTime values and the cast prints in the invariant culture), booleans become
// "True"/"False", numbers their .NET text. ok is false for null.
func jvalueString(raw json.RawMessage) (s string, ok bool, err error) {
	switch raw[0] {
	case 'n':
		return "", false, nil
	case 't':
		return "True", true, nil
	case 'f':
		return "False", true, nil
	case '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false, err
		}
		if t, isDate := parseNetDate(v); isDate {
			return t.Format(layoutInvariant), true, nil
		}
		return v, true, nil
	default:
		s, err := netNumber(string(raw))
		return s, err == nil, err
	}
}

// isoDate is the ISO 8601 shape Newtonsoft's reader recognises as a date (DateParseHandling.DateTime).
var isoDate = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$`)

// parseNetDate reports whether Newtonsoft would read s as a DateTime and returns the value
// as the host would hold it: times with an offset are converted to local time, which is
// UTC on Azure.
func parseNetDate(s string) (time.Time, bool) {
	if len(s) < 19 || len(s) > 40 {
		return time.Time{}, false
	}
	m := isoDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	year, month, day := atoi(m[1]), atoi(m[2]), atoi(m[3])
	hour, minute, sec := atoi(m[4]), atoi(m[5]), atoi(m[6])
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 || year < 1 {
		return time.Time{}, false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if zone := m[8]; zone != "" && zone != "Z" {
		digits := strings.ReplaceAll(zone[1:], ":", "")
		offset := atoi(digits[:2]) * 60
		if len(digits) == 4 {
			offset += atoi(digits[2:])
		}
		if zone[0] == '-' {
			offset = -offset
		}
		t = t.Add(-time.Duration(offset) * time.Minute)
	}
	return t, true
}

// netNumber renders a JSON number the way .NET prints the value Newtonsoft parsed:
// integers as Int64 or BigInteger, anything with a fraction or exponent as a Double.
func netNumber(text string) (string, error) {
	if !strings.ContainsAny(text, ".eE") {
		n, ok := new(big.Int).SetString(text, 10)
		if !ok {
			return "", fmt.Errorf("invalid number %q", text)
		}
		return n.String(), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return "", err
	}
	return netDouble(f), nil
}

// netDouble formats f like .NET Core's Double.ToString(): the shortest round-trip digits,
// in fixed notation for decimal exponents -5 < e < 15 and as d.dddE+XX otherwise.
func netDouble(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp > -5 && exp < 15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%sE%s%02d", e[:i], sign, exp)
}

// marshalWire encodes v as the host's JSON writer would: no HTML escaping.
func marshalWire(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
