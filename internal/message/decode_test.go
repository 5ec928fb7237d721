package message

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// jsonQuote returns s as a JSON string literal.
func jsonQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64raw(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// envelope wraps a data member in a CloudEvents 1.0 structured envelope.
func envelope(dataMember string) string {
	return `{"specversion":"1.0","type":"pal.onboarding","source":"/portal","id":"e-1",` +
		`"time":"2026-01-02T03:04:05Z","datacontenttype":"application/json",` + dataMember + `}`
}

func TestDecodeForms(t *testing.T) {
	msg := `{"tenantId":"` + tenant + `","subscriptionIds":["` + sub1 + `","` + sub2 + `"],` +
		`"partnerId":"1234567","requestedBy":"ops@example.com","correlationId":"c-42"}`
	full := pal.Request{
		TenantID: tenant, SubscriptionIDs: []string{sub1, sub2},
		PartnerID: "1234567", RequestedBy: "ops@example.com", CorrelationID: "c-42",
	}
	// urlMsg's standard base64 holds '+' and '/', so its URL form differs.
	urlMsg := `{"tenantId":"` + tenant + `","requestedBy":"a?>~~~ÿ>?"}`
	if b64(urlMsg) == base64.URLEncoding.EncodeToString([]byte(urlMsg)) {
		t.Fatal("urlMsg does not exercise the URL alphabet")
	}
	urlReq := pal.Request{TenantID: tenant, RequestedBy: "a?>~~~ÿ>?"}

	tests := []struct {
		name string
		body string
		want pal.Request
	}{
		{"object", msg, full},
		{"object with white space and BOM", "\xef\xbb\xbf \n\t" + msg + "\r\n", full},
		{"pretty object", "{\n  \"tenantId\": \"" + tenant + "\"\n}\n", pal.Request{TenantID: tenant}},
		{"JSON string", jsonQuote(msg), full},
		{"JSON string twice", jsonQuote(jsonQuote(msg)), full},
		{"base64 padded", b64(msg), full},
		{"base64 unpadded", b64raw(msg), full},
		{"base64 URL unpadded", b64url(urlMsg), urlReq},
		{"base64 URL padded", base64.URLEncoding.EncodeToString([]byte(urlMsg)), urlReq},
		{"base64 std with plus and slash", b64(urlMsg), urlReq},
		{"base64 with line breaks", func() string {
			s := b64(msg)
			return s[:40] + "\r\n" + s[40:80] + "\n" + s[80:]
		}(), full},
		{"base64 of JSON string", b64(jsonQuote(msg)), full},
		{"base64 of JSON string twice", b64(jsonQuote(jsonQuote(msg))), full},
		{"JSON string of base64", jsonQuote(b64(msg)), full},
		{"CloudEvents data object", envelope(`"data":` + msg), full},
		{"CloudEvents data string", envelope(`"data":` + jsonQuote(msg)), full},
		{"CloudEvents data string twice", envelope(`"data":` + jsonQuote(jsonQuote(msg))), full},
		{"CloudEvents data_base64", envelope(`"data_base64":"` + b64(msg) + `"`), full},
		{"CloudEvents data null and data_base64", envelope(`"data":null,"data_base64":"` + b64(msg) + `"`), full},
		{"CloudEvents minimal", `{"specversion":"1.0","data":` + msg + `}`, full},
		{"CloudEvents extension attributes", `{"specversion":"1.0","id":"1","source":"s","type":"t",` +
			`"subject":"x","dataschema":"https://example.com/s","traceparent":"00-abc-def-01","partition":7,"data":` + msg + `}`, full},
		{"JSON string of CloudEvents", jsonQuote(envelope(`"data":` + msg)), full},
		{"base64 of CloudEvents", b64(envelope(`"data":` + msg)), full},
		{"base64 of JSON string of CloudEvents", b64(jsonQuote(envelope(`"data":` + jsonQuote(msg)))), full},
		{"tenant only", `{"tenantId":"` + tenant + `"}`, pal.Request{TenantID: tenant}},
		{"upper-case GUIDs", `{"tenantId":"` + strings.ToUpper(tenant) + `","subscriptionIds":["` + strings.ToUpper(sub2) + `"]}`,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub2}}},
		{"duplicates folded case-insensitively, order kept",
			`{"tenantId":"` + tenant + `","subscriptionIds":["` + sub2 + `","` + sub1 + `","` + strings.ToUpper(sub2) + `","` + sub3 + `","` + sub1 + `"]}`,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub2, sub1, sub3}}},
		{"subscriptionIds null", `{"tenantId":"` + tenant + `","subscriptionIds":null}`, pal.Request{TenantID: tenant}},
		{"subscriptionIds empty", `{"tenantId":"` + tenant + `","subscriptionIds":[]}`, pal.Request{TenantID: tenant}},
		{"optional strings null", `{"tenantId":"` + tenant + `","partnerId":null,"requestedBy":null,"correlationId":null}`, pal.Request{TenantID: tenant}},
		{"partnerId empty means default", `{"tenantId":"` + tenant + `","partnerId":""}`, pal.Request{TenantID: tenant}},
		{"partnerId six digits", `{"tenantId":"` + tenant + `","partnerId":"123456"}`, pal.Request{TenantID: tenant, PartnerID: "123456"}},
		{"partnerId one digit", `{"tenantId":"` + tenant + `","partnerId":"7"}`, pal.Request{TenantID: tenant, PartnerID: "7"}},
		{"partnerId ten digits", `{"tenantId":"` + tenant + `","partnerId":"1234567890"}`, pal.Request{TenantID: tenant, PartnerID: "1234567890"}},
		{"partnerId as JSON number", `{"tenantId":"` + tenant + `","partnerId":1234567}`, pal.Request{TenantID: tenant, PartnerID: "1234567"}},
		{"requestedBy 256 characters", `{"tenantId":"` + tenant + `","requestedBy":"` + strings.Repeat("é", 256) + `"}`,
			pal.Request{TenantID: tenant, RequestedBy: strings.Repeat("é", 256)}},
		{"fields in any order", `{"correlationId":"c","subscriptionIds":["` + sub1 + `"],"tenantId":"` + tenant + `"}`,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1}, CorrelationID: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
			checkValid(t, got)
		})
	}
}

func TestDecodeMaxSubscriptions(t *testing.T) {
	ids := make([]string, 0, 1200)
	for i := range pal.MaxSubscriptionIDs {
		ids = append(ids, fmt.Sprintf("%08x-0000-4000-8000-000000000000", i+1))
	}
	// Duplicates do not count towards the limit.
	for i := range 200 {
		ids = append(ids, strings.ToUpper(ids[i]))
	}
	body, _ := json.Marshal(map[string]any{"tenantId": tenant, "subscriptionIds": ids})
	req, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(req.SubscriptionIDs) != pal.MaxSubscriptionIDs {
		t.Errorf("%d IDs, want %d", len(req.SubscriptionIDs), pal.MaxSubscriptionIDs)
	}
	checkValid(t, req)

	ids = append(ids, "ffffffff-0000-4000-8000-000000000000")
	body, _ = json.Marshal(map[string]any{"tenantId": tenant, "subscriptionIds": ids})
	_, err = Decode(body)
	pe := checkInvalidInput(t, err)
	checkFields(t, pe.Fields, map[string]string{"subscriptionIds": "1001 distinct IDs; at most 1000"})
}

func TestDecodeBad(t *testing.T) {
	obj := func(members string) string { return `{"tenantId":"` + tenant + `",` + members + `}` }
	tests := []struct {
		name   string
		body   string
		fields map[string]string
	}{
		{"empty", "", map[string]string{"body": "empty"}},
		{"white space", " \r\n\t ", map[string]string{"body": "empty"}},
		{"BOM only", "\xef\xbb\xbf", map[string]string{"body": "empty"}},
		{"null", "null", map[string]string{"body": "null, expected a JSON object"}},
		{"array", "[" + obj(`"x":1`) + "]", map[string]string{"body": "an array, expected a JSON object"}},
		{"number", "42", map[string]string{"body": "a number, expected a JSON object"}},
		{"boolean", "true", map[string]string{"body": "a boolean, expected a JSON object"}},
		{"truncated JSON", `{"tenantId":"` + tenant, map[string]string{"body": "invalid JSON"}},
		{"trailing garbage", `{"tenantId":"` + tenant + `"} x`, map[string]string{"body": "invalid JSON"}},
		{"single quotes", `{'tenantId':'` + tenant + `'}`, map[string]string{"body": "invalid JSON"}},
		{"plain text", "hello, world!", map[string]string{"body": notAMessage}},
		{"XML", "<tenantId>" + tenant + "</tenantId>", map[string]string{"body": notAMessage}},
		{"base64 of plain text", b64("hello world"), map[string]string{"body": notAMessage}},
		{"base64 of base64", b64(b64(`{"tenantId":"` + tenant + `"}`)), map[string]string{"body": notAMessage}},
		{"bad JSON string", `"abc`, map[string]string{"body": "invalid JSON string"}},
		{"JSON string of plain text", jsonQuote("hello"), map[string]string{"body": notAMessage}},
		{"JSON string of number", jsonQuote("42"), map[string]string{"body": "a number, expected a JSON object"}},
		{"JSON string of empty", jsonQuote(""), map[string]string{"body": "empty"}},
		{"base64 of bad JSON", b64(`{"tenantId":`), map[string]string{"body": "invalid JSON"}},
		{"wrapped too often", jsonQuote(jsonQuote(jsonQuote(jsonQuote(jsonQuote(`{"tenantId":"` + tenant + `"}`))))),
			map[string]string{"body": "wrapped more than 4 times"}},

		{"missing tenantId", `{}`, map[string]string{"tenantId": "required"}},
		{"tenantId null", `{"tenantId":null}`, map[string]string{"tenantId": "required"}},
		{"tenantId empty", `{"tenantId":""}`, map[string]string{"tenantId": "required"}},
		{"tenantId number", `{"tenantId":42}`, map[string]string{"tenantId": "a number, expected a string"}},
		{"tenantId not a GUID", `{"tenantId":"contoso.onmicrosoft.com"}`, map[string]string{"tenantId": `not a GUID: "contoso.onmicrosoft.com"`}},
		{"tenantId in braces", `{"tenantId":"{` + tenant + `}"}`, map[string]string{"tenantId": "not a GUID"}},
		{"tenantId without dashes", `{"tenantId":"` + strings.ReplaceAll(tenant, "-", "") + `"}`, map[string]string{"tenantId": "not a GUID"}},
		{"tenantId with spaces", `{"tenantId":" ` + tenant + `"}`, map[string]string{"tenantId": "not a GUID"}},
		{"tenantId not hex", `{"tenantId":"` + strings.Replace(tenant, "a", "g", 1) + `"}`, map[string]string{"tenantId": "not a GUID"}},
		{"tenantId nil GUID", `{"tenantId":"` + nilGUID + `"}`, map[string]string{"tenantId": "nil GUID"}},

		{"subscriptionIds string", obj(`"subscriptionIds":"` + sub1 + `"`), map[string]string{"subscriptionIds": "a string, expected an array of GUID strings"}},
		{"subscriptionIds object", obj(`"subscriptionIds":{}`), map[string]string{"subscriptionIds": "an object, expected an array"}},
		{"subscriptionIds bad element", obj(`"subscriptionIds":["` + sub1 + `","` + sub2 + `","` + sub3 + `","abc"]`),
			map[string]string{"subscriptionIds[3]": `not a GUID: "abc"`}},
		{"subscriptionIds number element", obj(`"subscriptionIds":[1]`), map[string]string{"subscriptionIds[0]": "a number, expected a GUID string"}},
		{"subscriptionIds null element", obj(`"subscriptionIds":[null]`), map[string]string{"subscriptionIds[0]": "null, expected a GUID string"}},
		{"subscriptionIds path", obj(`"subscriptionIds":["/subscriptions/` + sub1 + `"]`), map[string]string{"subscriptionIds[0]": "not a GUID"}},

		{"partnerId letters", obj(`"partnerId":"abc"`), map[string]string{"partnerId": `not a partner ID (1 to 10 digits): "abc"`}},
		{"partnerId eleven digits", obj(`"partnerId":"12345678901"`), map[string]string{"partnerId": "not a partner ID"}},
		{"partnerId negative", obj(`"partnerId":-5`), map[string]string{"partnerId": "a number, expected a string"}},
		{"partnerId fraction", obj(`"partnerId":1.5`), map[string]string{"partnerId": "not a partner ID"}},
		{"partnerId exponent", obj(`"partnerId":1e6`), map[string]string{"partnerId": "not a partner ID"}},
		{"partnerId spaces", obj(`"partnerId":" 123456"`), map[string]string{"partnerId": "not a partner ID"}},
		{"partnerId object", obj(`"partnerId":{}`), map[string]string{"partnerId": "an object, expected a string"}},

		{"requestedBy too long", obj(`"requestedBy":"` + strings.Repeat("x", 257) + `"`), map[string]string{"requestedBy": "too long: 257 characters; at most 256"}},
		{"correlationId number", obj(`"correlationId":7`), map[string]string{"correlationId": "a number, expected a string"}},
		{"correlationId too long", obj(`"correlationId":"` + strings.Repeat("x", 1000) + `"`), map[string]string{"correlationId": "too long"}},

		{"unknown field", obj(`"priority":"high"`), map[string]string{"priority": "unknown field"}},
		{"wrong case", `{"TenantId":"` + tenant + `"}`, map[string]string{"TenantId": `did you mean "tenantId"?`, "tenantId": "required"}},
		{"duplicate key", obj(`"tenantId":"` + sub1 + `"`), map[string]string{"tenantId": "given more than once"}},
		{"CloudEvents attribute without envelope", obj(`"data":{}`), map[string]string{"data": "unknown field"}},
		{"all problems collected",
			`{"tenantId":"nope","subscriptionIds":["` + sub1 + `","x",2],"partnerId":"p","requestedBy":1,"extra":true,"more":null}`,
			map[string]string{
				"tenantId": "not a GUID", "subscriptionIds[1]": `not a GUID: "x"`, "subscriptionIds[2]": "a number",
				"partnerId": "not a partner ID", "requestedBy": "a number", "extra": "unknown field", "more": "unknown field",
			}},

		{"CloudEvents version 0.3", `{"specversion":"0.3","data":{}}`, map[string]string{"specversion": `unsupported CloudEvents version "0.3"`}},
		{"CloudEvents version number", `{"specversion":1.0,"data":{}}`, map[string]string{"specversion": `a number, expected the string "1.0"`}},
		{"CloudEvents without data", envelope(`"subject":"x"`), map[string]string{"data": "required"}},
		{"CloudEvents data null", envelope(`"data":null`), map[string]string{"data": "required"}},
		{"CloudEvents data and data_base64", envelope(`"data":{},"data_base64":"e30="`), map[string]string{"data": "not both"}},
		{"CloudEvents data number", envelope(`"data":5`), map[string]string{"data": "a number, expected a JSON object"}},
		{"CloudEvents data array", envelope(`"data":[]`), map[string]string{"data": "an array, expected a JSON object"}},
		{"CloudEvents data plain string", envelope(`"data":"hello"`), map[string]string{"data": "not a JSON object, a JSON string or base64 holding one"}},
		{"CloudEvents data_base64 not base64", envelope(`"data_base64":"***"`), map[string]string{"data_base64": "not base64"}},
		{"CloudEvents data_base64 number", envelope(`"data_base64":5`), map[string]string{"data_base64": "a number, expected a base64 string"}},
		{"CloudEvents data_base64 of text", envelope(`"data_base64":"` + b64("hello") + `"`), map[string]string{"data_base64": "not a JSON object"}},
		{"CloudEvents inner unknown field", envelope(`"data":` + obj(`"extra":1`)), map[string]string{"extra": "unknown field"}},
		{"CloudEvents inner problems", envelope(`"data":{"tenantId":"x"}`), map[string]string{"tenantId": "not a GUID"}},
		{"CloudEvents nested envelope", `{"specversion":"1.0","data":{"specversion":"1.0","data":{}}}`,
			map[string]string{"specversion": "unknown field", "data": "unknown field", "tenantId": "required"}},
		{"CloudEvents duplicate attribute", `{"specversion":"1.0","id":"1","id":"2","data":{"tenantId":"` + tenant + `"}}`, map[string]string{"id": "given more than once"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode = %+v, want an error", req)
			}
			if !reflect.DeepEqual(req, pal.Request{}) {
				t.Errorf("Decode returned %+v with an error", req)
			}
			pe := checkInvalidInput(t, err)
			checkFields(t, pe.Fields, tt.fields)
			if len(pe.Fields) != len(tt.fields) {
				t.Errorf("Fields = %q, want only %v", pe.Fields, tt.fields)
			}
			if !strings.HasPrefix(pe.Message, "invalid onboarding message: ") {
				t.Errorf("Message = %q", pe.Message)
			}
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	_, err := Decode([]byte(`{"tenantId":"abc"}`))
	pe := checkInvalidInput(t, err)
	if want := `invalid onboarding message: tenantId: not a GUID: "abc"`; pe.Message != want {
		t.Errorf("Message = %q, want %q", pe.Message, want)
	}
	if !strings.HasPrefix(err.Error(), string(pal.CodeInvalidInput)+": ") {
		t.Errorf("Error() = %q", err.Error())
	}

	_, err = Decode([]byte(`{"tenantId":"abc","x":1}`))
	pe = checkInvalidInput(t, err)
	if want := `invalid onboarding message: 2 problems (tenantId, x)`; pe.Message != want {
		t.Errorf("Message = %q, want %q", pe.Message, want)
	}
}

func TestDecodeLimitsEcho(t *testing.T) {
	long := strings.Repeat("A", 10_000)
	secretish := "\x00\x01" + strings.Repeat("\"\\", 500)
	tests := []struct {
		name string
		body string
	}{
		{"long tenant", `{"tenantId":"` + long + `"}`},
		{"long partner", `{"tenantId":"` + tenant + `","partnerId":"` + long + `"}`},
		{"long unknown key", `{"tenantId":"` + tenant + `","` + long + `":1}`},
		{"escapes in key", `{"tenantId":"` + tenant + `",` + jsonQuote(secretish) + `:1}`},
		{"escapes in tenant", `{"tenantId":` + jsonQuote(secretish) + `}`},
		{"long plain text", long + "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			pe := checkInvalidInput(t, err)
			for k, v := range pe.Fields {
				if strings.Contains(k+v, strings.Repeat("A", maxEcho+1)) {
					t.Errorf("Fields[%.50q] = %.50q echoes more than %d bytes", k, v, maxEcho)
				}
			}
		})
	}
}

func TestDecodeManyProblems(t *testing.T) {
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("bad-%d", i)
	}
	body, _ := json.Marshal(map[string]any{"tenantId": tenant, "subscriptionIds": ids})
	_, err := Decode(body)
	pe := checkInvalidInput(t, err)
	if len(pe.Fields) != maxProblems {
		t.Errorf("%d Fields, want %d", len(pe.Fields), maxProblems)
	}
	checkFields(t, pe.Fields, map[string]string{"subscriptionIds[0]": `"bad-0"`, "subscriptionIds[19]": `"bad-19"`})
	if want := "invalid onboarding message: 2000 problems (subscriptionIds[0], subscriptionIds[1], subscriptionIds[2], subscriptionIds[3], subscriptionIds[4], …); fields lists 20 of them"; pe.Message != want {
		t.Errorf("Message = %q\nwant %q", pe.Message, want)
	}
}
