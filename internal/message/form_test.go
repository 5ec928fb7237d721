package message

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// parseForm parses an urlencoded body the way net/http does.
func parseForm(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", s, err)
	}
	return v
}

func TestDecodeForm(t *testing.T) {
	tests := []struct {
		name string
		form string
		want pal.Request
	}{
		{"tenant only", "tenantId=" + tenant, pal.Request{TenantID: tenant}},
		{"all fields", "tenantId=" + tenant + "&subscriptionIds=" + sub1 + "&partnerId=1234567&requestedBy=ops%40example.com&correlationId=c-1",
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1}, PartnerID: "1234567", RequestedBy: "ops@example.com", CorrelationID: "c-1"}},
		{"commas", "tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(sub1+","+sub2+","+sub3),
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2, sub3}}},
		{"every separator", "tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(" "+sub1+" ,\r\n"+sub2+";\t"+sub3+"\n,;\n"),
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2, sub3}}},
		{"textarea lines", "tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(sub1+"\r\n"+sub2+"\r\n"),
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2}}},
		{"repeated subscriptionId", "tenantId=" + tenant + "&subscriptionId=" + sub2 + "&subscriptionId=" + sub1,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub2, sub1}}},
		{"both list forms, duplicates folded", "subscriptionId=" + sub3 + "&tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(sub1+" "+sub2) + "&subscriptionId=" + strings.ToUpper(sub1),
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2, sub3}}},
		{"repeated subscriptionIds", "tenantId=" + tenant + "&subscriptionIds=" + sub1 + "&subscriptionIds=" + sub2,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2}}},
		{"empty optional fields", "tenantId=" + tenant + "&subscriptionIds=&partnerId=&requestedBy=&correlationId=",
			pal.Request{TenantID: tenant}},
		{"separators only", "tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(" , ;\n"), pal.Request{TenantID: tenant}},
		{"trimmed values", "tenantId=+" + strings.ToUpper(tenant) + "+&partnerId=%20123456%0A&requestedBy=+Ann+",
			pal.Request{TenantID: tenant, PartnerID: "123456", RequestedBy: "Ann"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeForm(parseForm(t, tt.form))
			if err != nil {
				t.Fatalf("DecodeForm: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeForm = %+v, want %+v", got, tt.want)
			}
			checkValid(t, got)
		})
	}
}

func TestDecodeFormBad(t *testing.T) {
	tests := []struct {
		name   string
		form   string
		fields map[string]string
	}{
		{"empty", "", map[string]string{"tenantId": "required"}},
		{"tenant empty", "tenantId=", map[string]string{"tenantId": "required"}},
		{"tenant not a GUID", "tenantId=contoso", map[string]string{"tenantId": `not a GUID: "contoso"`}},
		{"tenant twice", "tenantId=" + tenant + "&tenantId=" + tenant, map[string]string{"tenantId": "given 2 times; expected once"}},
		{"partner twice", "tenantId=" + tenant + "&partnerId=1&partnerId=2", map[string]string{"partnerId": "given 2 times"}},
		{"requestedBy twice", "tenantId=" + tenant + "&requestedBy=a&requestedBy=b", map[string]string{"requestedBy": "given 2 times"}},
		{"correlationId twice", "tenantId=" + tenant + "&correlationId=a&correlationId=b", map[string]string{"correlationId": "given 2 times"}},
		{"partner letters", "tenantId=" + tenant + "&partnerId=MPN", map[string]string{"partnerId": "not a partner ID"}},
		{"requestedBy too long", "tenantId=" + tenant + "&requestedBy=" + strings.Repeat("x", 300), map[string]string{"requestedBy": "too long: 300"}},
		{"unknown field", "tenantId=" + tenant + "&submit=Go", map[string]string{"submit": "unknown field"}},
		{"function key is unknown in a form", "tenantId=" + tenant + "&code=secret", map[string]string{"code": "unknown field"}},
		{"wrong case", "TenantID=" + tenant, map[string]string{"TenantID": `did you mean "tenantId"?`, "tenantId": "required"}},
		{"bad IDs indexed across lists", "tenantId=" + tenant + "&subscriptionIds=" + url.QueryEscape(sub1+",x") + "&subscriptionId=" + sub2 + "&subscriptionId=y",
			map[string]string{"subscriptionIds[1]": `not a GUID: "x"`, "subscriptionIds[3]": `not a GUID: "y"`}},
		{"everything wrong", "tenantId=1&tenantId=2&subscriptionIds=z&partnerId=x&foo=1",
			map[string]string{"tenantId": "given 2 times", "subscriptionIds[0]": "not a GUID", "partnerId": "not a partner ID", "foo": "unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeForm(parseForm(t, tt.form))
			if err == nil {
				t.Fatalf("DecodeForm = %+v, want an error", req)
			}
			pe := checkInvalidInput(t, err)
			checkFields(t, pe.Fields, tt.fields)
			if len(pe.Fields) != len(tt.fields) {
				t.Errorf("Fields = %q, want only %v", pe.Fields, tt.fields)
			}
			if !strings.HasPrefix(pe.Message, "invalid form: ") {
				t.Errorf("Message = %q", pe.Message)
			}
		})
	}
}

func TestDecodeFormTooMany(t *testing.T) {
	var b strings.Builder
	for i := range pal.MaxSubscriptionIDs + 1 {
		fmt.Fprintf(&b, "%08x-0000-4000-8000-000000000000\n", i+1)
	}
	_, err := DecodeForm(url.Values{"tenantId": {tenant}, "subscriptionIds": {b.String()}})
	pe := checkInvalidInput(t, err)
	checkFields(t, pe.Fields, map[string]string{"subscriptionIds": "1001 distinct IDs"})
}

func TestDecodeQuery(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  pal.Request
	}{
		{"tenant only", "tenantId=" + tenant, pal.Request{TenantID: tenant}},
		{"function key ignored", "code=abc%3D%3D&tenantId=" + tenant, pal.Request{TenantID: tenant}},
		{"function key twice ignored", "code=a&code=b&tenantId=" + tenant, pal.Request{TenantID: tenant}},
		{"repeated subscriptionId", "tenantId=" + tenant + "&subscriptionId=" + sub1 + "&subscriptionId=" + sub2,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2}}},
		{"comma-separated", "tenantId=" + tenant + "&subscriptionId=" + sub1 + "," + sub2 + "," + strings.ToUpper(sub1),
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2}}},
		{"both", "tenantId=" + tenant + "&subscriptionId=" + sub1 + "," + sub2 + "&subscriptionId=" + sub3,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub1, sub2, sub3}}},
		{"subscriptionIds alias", "tenantId=" + tenant + "&subscriptionIds=" + sub3,
			pal.Request{TenantID: tenant, SubscriptionIDs: []string{sub3}}},
		{"partner", "tenantId=" + tenant + "&partnerId=1234567", pal.Request{TenantID: tenant, PartnerID: "1234567"}},
		{"empty subscription", "tenantId=" + tenant + "&subscriptionId=", pal.Request{TenantID: tenant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeQuery(parseForm(t, tt.query))
			if err != nil {
				t.Fatalf("DecodeQuery: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeQuery = %+v, want %+v", got, tt.want)
			}
			checkValid(t, got)
		})
	}
}

func TestDecodeQueryBad(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		fields map[string]string
	}{
		{"empty", "", map[string]string{"tenantId": "required"}},
		{"only the key", "code=abc", map[string]string{"tenantId": "required"}},
		{"tenant twice", "tenantId=" + tenant + "&tenantId=" + tenant, map[string]string{"tenantId": "given 2 times"}},
		{"tenant comma-joined by the host", "tenantId=" + tenant + "," + tenant, map[string]string{"tenantId": "not a GUID"}},
		{"bad subscription", "tenantId=" + tenant + "&subscriptionId=" + sub1 + ",nope", map[string]string{"subscriptionIds[1]": `not a GUID: "nope"`}},
		{"bad partner", "tenantId=" + tenant + "&partnerId=12a", map[string]string{"partnerId": "not a partner ID"}},
		{"requestedBy is not a query parameter", "tenantId=" + tenant + "&requestedBy=x", map[string]string{"requestedBy": "unknown parameter"}},
		{"unknown", "tenantId=" + tenant + "&force=true", map[string]string{"force": "unknown parameter"}},
		{"wrong case", "tenantid=" + tenant, map[string]string{"tenantid": "case-sensitive", "tenantId": "required"}},
		{"long unknown name", "tenantId=" + tenant + "&" + strings.Repeat("q", 500) + "=1", map[string]string{`"` + strings.Repeat("q", maxEcho) + `"…`: "unknown parameter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeQuery(parseForm(t, tt.query))
			if err == nil {
				t.Fatalf("DecodeQuery = %+v, want an error", req)
			}
			pe := checkInvalidInput(t, err)
			checkFields(t, pe.Fields, tt.fields)
			if len(pe.Fields) != len(tt.fields) {
				t.Errorf("Fields = %q, want only %v", pe.Fields, tt.fields)
			}
			if !strings.HasPrefix(pe.Message, "invalid query: ") {
				t.Errorf("Message = %q", pe.Message)
			}
		})
	}
}
