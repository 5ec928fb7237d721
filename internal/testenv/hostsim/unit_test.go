package hostsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNetString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", `"abc"`},
		{`{"a":1}`, `"{\"a\":1}"`},
		{"<a&b>é", `"<a&b>é"`},
		{"line\nnext\ttab\\", `"line\nnext\ttab\\"`},
		{"\x01\u2028\u0085", `"\u0001\u2028\u0085"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	}
	for _, tt := range tests {
		if got := netString(tt.in); got != tt.want {
			t.Errorf("netString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(netString(tt.in)), &back); err != nil {
			t.Errorf("netString(%q) is not valid JSON: %v", tt.in, err)
		}
	}
}

func TestJValueString(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"x"`, "x", true},
		{`true`, "True", true},
		{`false`, "False", true},
		{`null`, "", false},
		{`42`, "42", true},
		{`-0`, "0", true},
		{`123456789012345678901234567890`, "123456789012345678901234567890", true},
		{`1.50`, "1.5", true},
		{`1.0`, "1", true},
		{`1e15`, "1E+15", true},
		{`123456789012345.0`, "123456789012345", true},
		{`0.0001`, "0.0001", true},
		{`0.00001`, "1E-05", true},
		{`"2024-01-02T03:04:05Z"`, "01/02/2024 03:04:05", true},
		{`"2024-01-02T03:04:05.1234567"`, "01/02/2024 03:04:05", true},
		{`"2024-01-02T03:04:05+02:00"`, "01/02/2024 01:04:05", true},
		{`"2024-02-30T03:04:05Z"`, "2024-02-30T03:04:05Z", true},
		{`"2024-01-02"`, "2024-01-02", true},
	}
	for _, tt := range tests {
		got, ok, err := jvalueString(json.RawMessage(tt.raw))
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("jvalueString(%s) = %q, %v, %v; want %q, %v", tt.raw, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestApplyBodyProperties(t *testing.T) {
	body := `{"s":"v","n":2,"o":{"k":[1]},"a":[1,"x"],"z":null,"s":"last"}`
	sb := newBindingData()
	sb.set("S", "original")
	sb.set("MessageId", `"m"`)
	applyBodyProperties(sb, body, false)
	md := sb.metadata()
	if md["S"] != `"last"` || md["n"] != `"2"` || string(md["o"].(json.RawMessage)) != `{"k":[1]}` || md["MessageId"] != `"m"` {
		t.Errorf("service bus metadata = %v", md)
	}
	if _, ok := md["a"]; ok {
		t.Error("arrays are not copied for non-HTTP triggers")
	}
	if _, ok := md["z"]; ok {
		t.Error("null properties are not copied")
	}

	hb := newBindingData()
	applyBodyProperties(hb, body, true)
	if got := hb.metadata()["a"]; got != `[1,"x"]` {
		t.Errorf("HTTP array property = %v, want compact JSON text", got)
	}

	for _, notObject := range []string{`[1,2]`, `"str"`, `{"a":1} trailing`, `{"a":`, `plain`, `{"big":1e999}`} {
		b := newBindingData()
		applyBodyProperties(b, notObject, true)
		if len(b.keys) != 0 {
			t.Errorf("%q added binding data %v", notObject, b.keys)
		}
	}

	trig := newBindingData()
	trig.set("myTrigger", "x")
	trig.set("nil", nil)
	trig.set("keep", "y")
	if md := trig.metadata(); len(md) != 1 || md["keep"] != "y" {
		t.Errorf("metadata = %v, want keys ending in trigger and nil values skipped", md)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		tmpl   string
		path   string
		params map[string]string
		ok     bool
	}{
		{"api/links", "/api/links", map[string]string{}, true},
		{"api/links", "/API/LINKS/", map[string]string{}, true},
		{"api/links", "/api/links/x", nil, false},
		{"api/items/{id}", "/api/items/a%2Fb", map[string]string{"id": "a/b"}, true},
		{"api/items/{id?}", "/api/items", map[string]string{}, true},
		{"api/items/{id=7}", "/api/items", map[string]string{"id": "7"}, true},
		{"api/items/{id:int}", "/api/items/12", map[string]string{"id": "12"}, true},
		{"api/items/{id:int}", "/api/items/x", nil, false},
		{"api/items/{id:guid}", "/api/items/0b6f7b2e-3f4f-4e1e-9c55-1d2e3f4a5b6c", map[string]string{"id": "0b6f7b2e-3f4f-4e1e-9c55-1d2e3f4a5b6c"}, true},
		{"api/items/{id:alpha:minlength(2)}", "/api/items/a", nil, false},
		{"api/items/{id:range(1,5)}", "/api/items/6", nil, false},
		{"api/files/{*rest}", "/api/files/a/b/c", map[string]string{"rest": "a/b/c"}, true},
		{"api/files/{*rest}", "/api/files", map[string]string{}, true},
		{"api//x", "/api/x", nil, false},
	}
	for _, tt := range tests {
		tmpl, err := parseRoute(tt.tmpl)
		if err != nil {
			if tt.ok {
				t.Errorf("parseRoute(%q): %v", tt.tmpl, err)
			}
			continue
		}
		segs, _ := splitPath(tt.path)
		params, ok := tmpl.match(segs)
		if ok != tt.ok || (ok && mustJSON(t, params) != mustJSON(t, tt.params)) {
			t.Errorf("%q matching %q = %v, %v; want %v, %v", tt.tmpl, tt.path, params, ok, tt.params, tt.ok)
		}
	}
	for _, bad := range []string{"a/{b}.{c}", "{*all}/x", "{a?}/b", "{id:nope}"} {
		if _, err := parseRoute(bad); err == nil {
			t.Errorf("parseRoute(%q) accepted", bad)
		}
	}
	lit, _ := parseRoute("api/items/new")
	param, _ := parseRoute("api/items/{id}")
	if !lessPrecedence(lit.precedence(), param.precedence()) {
		t.Error("a literal segment must win over a parameter")
	}
}

func TestSchedules(t *testing.T) {
	at := time.Date(2024, 3, 15, 10, 7, 30, 500, time.UTC) // a Friday
	tests := []struct {
		expr string
		want time.Time
		prev time.Time
	}{
		{"0 */5 * * * *", time.Date(2024, 3, 15, 10, 10, 0, 0, time.UTC), time.Date(2024, 3, 15, 10, 5, 0, 0, time.UTC)},
		{"0 0 3 * * *", time.Date(2024, 3, 16, 3, 0, 0, 0, time.UTC), time.Date(2024, 3, 15, 3, 0, 0, 0, time.UTC)},
		{"0 30 9 * * Mon-Fri", time.Date(2024, 3, 18, 9, 30, 0, 0, time.UTC), time.Date(2024, 3, 15, 9, 30, 0, 0, time.UTC)},
		{"30 7 10 15 3 *", time.Date(2025, 3, 15, 10, 7, 30, 0, time.UTC), time.Date(2024, 3, 15, 10, 7, 30, 0, time.UTC)},
		{"0 0 0 1 jan,jul *", time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"15 10 * * *", time.Date(2024, 3, 15, 10, 15, 0, 0, time.UTC), time.Date(2024, 3, 14, 10, 15, 0, 0, time.UTC)}, // five fields: minute hour ...
		{"0 0 12 * * 0", time.Date(2024, 3, 17, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)},
		{"00:05:00", at.Add(5 * time.Minute), at.Add(-5 * time.Minute)},
	}
	for _, tt := range tests {
		s, err := parseSchedule(tt.expr)
		if err != nil {
			t.Errorf("parseSchedule(%q): %v", tt.expr, err)
			continue
		}
		if got, ok := s.next(at); !ok || !got.Equal(tt.want) {
			t.Errorf("%q next after %v = %v, want %v", tt.expr, at, got, tt.want)
		}
		if got, ok := previousOccurrence(s, at); !ok || !got.Equal(tt.prev) {
			t.Errorf("%q previous before %v = %v, want %v", tt.expr, at, got, tt.prev)
		}
	}
	for _, bad := range []string{"", "* * *", "0 0 24 * * *", "0 0 0 30 2 *", "0 */0 * * * *", "0 5-1 * * * *", "-00:01:00", "0 0 12 * * 7"} {
		if _, err := parseSchedule(bad); err == nil {
			t.Errorf("parseSchedule(%q) accepted", bad)
		}
	}
	every5s, _ := parseSchedule("*/5 * * * * *")
	daily, _ := parseSchedule("0 0 3 * * *")
	if monitorByDefault(every5s, at) || !monitorByDefault(daily, at) {
		t.Error("useMonitor defaults: off below one minute, on above")
	}
}

func TestHTTPOutputParsing(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		present bool
		status  int
		body    string
		ctype   string
		wantErr bool
	}{
		{"missing", "", false, 200, "{}", "text/plain; charset=utf-8", false},
		{"status_number", `{"statusCode":201}`, true, 201, "", "", false},
		{"status_text_with_spaces", `{"statusCode":" 202 "}`, true, 202, "", "", false},
		{"status_not_a_number", `{"statusCode":"abc","body":"x"}`, true, 200, "x", "text/plain; charset=utf-8", false},
		{"status_alias", `{"status":404,"body":"gone"}`, true, 404, "gone", "text/plain; charset=utf-8", false},
		{"body_number", `{"body":5}`, true, 200, "5", "text/plain; charset=utf-8", false},
		{"body_bool", `{"body":true}`, true, 200, "True", "text/plain; charset=utf-8", false},
		{"body_array", `{"body":[1,2]}`, true, 200, "[\n  1,\n  2\n]", "text/plain; charset=utf-8", false},
		{"content_type_header", `{"headers":{"content-type":"application/problem+json"},"body":"{}"}`, true, 200, "{}", "application/problem+json", false},
		{"null", `null`, true, 0, "", "", true},
		{"number", `5`, true, 0, "", "", true},
		{"headers_not_object", `{"headers":"x"}`, true, 0, "", "", true},
		{"null_content_type", `{"headers":{"Content-Type":null}}`, true, 0, "", "", true},
		{"status_out_of_range", `{"statusCode":42}`, true, 0, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseHTTPOutput(json.RawMessage(tt.raw), tt.present)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("accepted: %+v", a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tt.status || string(a.body) != tt.body || a.header.Get("Content-Type") != tt.ctype {
				t.Errorf("= %d %q %q, want %d %q %q", a.status, a.body, a.header.Get("Content-Type"), tt.status, tt.body, tt.ctype)
			}
		})
	}

	for raw, want := range map[string]string{
		`{"a":1}`:                               "{\n  \"a\": 1\n}",
		`"plain text"`:                          "plain text",
		`"{\"statusCode\":202,\"body\":\"x\"}"`: "x",
		`7`:                                     "7",
	} {
		a, err := parseHTTPReturn(json.RawMessage(raw))
		if err != nil || string(a.body) != want {
			t.Errorf("parseHTTPReturn(%s) = %+v, %v; want body %q", raw, a, err, want)
		}
	}
	if a, _ := parseHTTPReturn(nil); a.status != http.StatusNoContent {
		t.Errorf("null $return = %d, want 204", a.status)
	}
}

func TestQueryDictionary(t *testing.T) {
	q := queryDictionary("a=1&A=2&b=x%20y&c&=skip&d=%zz")
	if got := mustJSON(t, q.object()); got != `{"a":"1,2","b":"x y","c":""}` {
		t.Errorf("query = %s", got)
	}
	if v, ok := q.get("B"); !ok || v != "x y" {
		t.Errorf("get(B) = %q, %v", v, ok)
	}
	if enc := q.encode(); !strings.HasPrefix(enc, "a=1%2C2&b=x+y") {
		t.Errorf("encode = %q", enc)
	}
}

func TestOutputMessages(t *testing.T) {
	got := func(raw string, binary bool) string {
		var parts []string
		for _, b := range outputMessages(json.RawMessage(raw), binary) {
			parts = append(parts, string(b))
		}
		return strings.Join(parts, "|")
	}
	for _, tt := range []struct {
		raw    string
		binary bool
		want   string
	}{
		{`"aGVsbG8="`, false, "hello"},
		{`"not base64!"`, false, "not base64!"},
		{`["aGVsbG8=", {"a": 1}, null, 3]`, false, `aGVsbG8=|{"a":1}|3`},
		{`["aGVsbG8="]`, true, "hello"},
		{`{"a": [1, 2]}`, false, `{"a":[1,2]}`},
	} {
		if g := got(tt.raw, tt.binary); g != tt.want {
			t.Errorf("outputMessages(%s, %v) = %q, want %q", tt.raw, tt.binary, g, tt.want)
		}
	}
}

func TestStripComments(t *testing.T) {
	in := "{\"a\": \"http://x//y\", // line\n /* block */ \"b\": \"/*no*/\\\"\"}"
	var v map[string]string
	if err := json.Unmarshal(stripComments([]byte(in)), &v); err != nil {
		t.Fatalf("%s: %v", stripComments([]byte(in)), err)
	}
	if v["a"] != "http://x//y" || v["b"] != "/*no*/\"" {
		t.Errorf("= %v", v)
	}
}
