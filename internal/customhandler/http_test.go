package customhandler

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// httpTriggerData is Data.req (docs/reference.md, "HTTP trigger request").
const httpTriggerData = `{
  "Url": "http://localhost:7071/api/links?tenantId=abc&subscriptionId=1&subscriptionId=2&code=k",
  "Method": "POST",
  "Query": {"tenantId": "abc", "subscriptionId": "1,2", "code": "k"},
  "Headers": {"Content-Type": ["application/x-www-form-urlencoded"], "x-functions-key": ["k"], "Accept": ["text/html", "application/json"]},
  "Params": {"id": "42"},
  "Identities": [{"AuthenticationType": "WebJobsAuthLevel", "IsAuthenticated": true, "Actor": null, "BootstrapContext": null,
    "Claims": [{"Issuer": "LOCAL AUTHORITY", "OriginalIssuer": "LOCAL AUTHORITY", "Properties": {},
      "Type": "http://schemas.microsoft.com/2017/07/functions/claims/authlevel", "Value": "Function",
      "ValueType": "http://www.w3.org/2001/XMLSchema#string"}],
    "Label": null, "Name": null,
    "NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}],
  "Body": "tenantId=abc&subscriptionIds=1%2C2"
}`

func TestParseHTTPRequest(t *testing.T) {
	req, err := ParseHTTPRequest(json.RawMessage(httpTriggerData))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.URL == nil || req.URL.Path != "/api/links" {
		t.Errorf("Method %q, URL %v", req.Method, req.URL)
	}
	wantQuery := url.Values{"tenantId": {"abc"}, "subscriptionId": {"1", "2"}, "code": {"k"}}
	if !reflect.DeepEqual(req.Query, wantQuery) {
		t.Errorf("Query = %v, want %v (from the URL, repeats kept)", req.Query, wantQuery)
	}
	if req.Header.Get("content-type") != "application/x-www-form-urlencoded" || req.Header.Get("X-Functions-Key") != "k" {
		t.Errorf("Header = %v", req.Header)
	}
	if got := req.Header.Values("Accept"); !reflect.DeepEqual(got, []string{"text/html", "application/json"}) {
		t.Errorf("Accept = %q", got)
	}
	if _, ok := req.Header["X-Functions-Key"]; !ok {
		t.Errorf("Header keys are not canonical: %v", req.Header)
	}
	if req.Params["id"] != "42" {
		t.Errorf("Params = %v", req.Params)
	}
	if string(req.Body) != "tenantId=abc&subscriptionIds=1%2C2" {
		t.Errorf("Body = %q", req.Body)
	}
}

func TestParseHTTPRequestVariants(t *testing.T) {
	binary := []byte{0, 1, 2, 0xff, '{'}
	b64 := base64.StdEncoding.EncodeToString(binary)
	tests := []struct {
		name      string
		raw       string
		wantQuery url.Values
		wantBody  []byte
		header    [2]string
	}{
		{"header values as strings (Metadata shape), lower-case keys",
			`{"url":"http://h/api/links","method":"get","query":{"tenantId":"abc"},"headers":{"content-type":"application/json","x-ms-client":"1"}}`,
			url.Values{"tenantId": {"abc"}}, nil, [2]string{"X-Ms-Client", "1"}},
		{"query object when the URL has none",
			`{"Url":"http://h/api/links","Method":"GET","Query":{"subscriptionId":"1,2","multi":["a","b"]}}`,
			url.Values{"subscriptionId": {"1,2"}, "multi": {"a", "b"}}, nil, [2]string{}},
		{"no URL", `{"Method":"POST","Query":{},"Body":"x"}`, url.Values{}, []byte("x"), [2]string{}},
		{"octet-stream body is base64",
			`{"Url":"http://h/x","Method":"POST","Headers":{"Content-Type":["application/octet-stream"]},"Body":"` + b64 + `"}`,
			url.Values{}, binary, [2]string{"Content-Type", "application/octet-stream"}},
		{"multipart body is base64",
			`{"Url":"http://h/x","Method":"POST","Headers":{"Content-Type":["multipart/form-data; boundary=xyz"]},"Body":"` + base64.StdEncoding.EncodeToString([]byte("--xyz--")) + `"}`,
			url.Values{}, []byte("--xyz--"), [2]string{}},
		{"JSON body is text",
			`{"Url":"http://h/x","Method":"POST","Headers":{"Content-Type":["application/json"]},"Body":"{\"tenantId\":\"abc\"}"}`,
			url.Values{}, []byte(`{"tenantId":"abc"}`), [2]string{}},
		{"JSON body as an object", `{"Method":"POST","Body":{"tenantId":"abc"}}`, url.Values{}, []byte(`{"tenantId":"abc"}`), [2]string{}},
		{"no body", `{"Url":"http://h/x","Method":"GET","Body":null}`, url.Values{}, nil, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseHTTPRequest(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != strings.ToUpper(req.Method) {
				t.Errorf("Method %q not upper case", req.Method)
			}
			if !reflect.DeepEqual(req.Query, tt.wantQuery) {
				t.Errorf("Query = %v, want %v", req.Query, tt.wantQuery)
			}
			if !reflect.DeepEqual(req.Body, tt.wantBody) {
				t.Errorf("Body = %q, want %q", req.Body, tt.wantBody)
			}
			if tt.header[0] != "" && req.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("Header = %v", req.Header)
			}
		})
	}
}

func TestParseHTTPRequestBad(t *testing.T) {
	for name, raw := range map[string]string{
		"not JSON":      `{"Method":`,
		"not an object": `"POST"`,
		"no method":     `{"Url":"http://h/"}`,
		"bad URL":       `{"Method":"GET","Url":"http://h/%zz"}`,
		"bad header":    `{"Method":"GET","Headers":{"A":{"b":1}}}`,
		"bad base64":    `{"Method":"POST","Headers":{"Content-Type":["application/octet-stream"]},"Body":"***"}`,
		"bad query":     `{"Method":"GET","Url":"http://h/?a=%zz"}`,
	} {
		if req, err := ParseHTTPRequest(json.RawMessage(raw)); err == nil {
			t.Errorf("%s: ParseHTTPRequest = %+v, want an error", name, req)
		}
	}
}

func TestHTTPResponseJSON(t *testing.T) {
	b, err := json.Marshal(HTTPResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"id":1}`})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"statusCode":201,"headers":{"Content-Type":"application/json"},"body":"{\"id\":1}"}`; string(b) != want {
		t.Errorf("marshal = %s, want %s", b, want)
	}
}

func TestJSONResponse(t *testing.T) {
	r := JSONResponse(400, map[string]any{"error": "bad <input>", "fields": map[string]string{"tenantId": "required"}}, nil)
	if r.StatusCode != 400 || r.Headers["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("response %+v", r)
	}
	if want := `{"error":"bad <input>","fields":{"tenantId":"required"}}`; r.Body != want {
		t.Errorf("Body = %s, want %s", r.Body, want)
	}

	r = JSONResponse(503, map[string]string{"error": "throttled"}, map[string]string{"Retry-After": "30", "content-type": "application/problem+json"})
	if r.Headers["Retry-After"] != "30" || r.Headers["content-type"] != "application/problem+json" {
		t.Errorf("Headers = %v", r.Headers)
	}
	if _, ok := r.Headers["Content-Type"]; ok {
		t.Errorf("Headers hold two content types: %v", r.Headers)
	}

	r = JSONResponse(200, make(chan int), nil)
	if r.StatusCode != 500 || !json.Valid([]byte(r.Body)) {
		t.Errorf("unencodable value: %+v", r)
	}

	// As an output binding value it has the host's shape.
	b, _ := json.Marshal(map[string]any{"res": JSONResponse(200, []int{1}, nil)})
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["res"]["statusCode"] != float64(200) || m["res"]["body"] != "[1]" {
		t.Errorf("output %s", b)
	}
}
