package hostsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func httpApp(t *testing.T, hostJSON string) string {
	return writeApp(t, hostJSON, map[string]string{
		"functions/links/function.json": `{"bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "function", "methods": ["get", "post"], "route": "links"},
			{"type": "http", "direction": "out", "name": "res"}]}`,
		"functions/items/function.json": `{"bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "route": "items/{id:int}/{name?}"},
			{"type": "http", "direction": "out", "name": "res"}]}`,
		"functions/adm/function.json": `{"bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "admin", "route": "adm"},
			{"type": "http", "direction": "out", "name": "$return"}]}`,
		"functions/noout/function.json": `{"bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"}]}`,
		"functions/gone/function.json": `{"disabled": true, "bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"},
			{"type": "http", "direction": "out", "name": "res"}]}`,
	})
}

func TestHTTPFunctionKey(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)
	tests := []struct {
		name   string
		path   string
		header http.Header
		want   int
	}{
		{"no_key", "/api/links?tenantId=t1", nil, 401},
		{"wrong_key", "/api/links?code=nope", nil, 401},
		{"query_code", "/api/links?code=fkey", nil, 200},
		{"header_key", "/api/links", http.Header{"X-Functions-Key": {"fkey"}}, 200},
		{"anonymous", "/api/items/5", nil, 200},
		{"admin_needs_master_key", "/api/adm?code=fkey", nil, 200}, // MasterKey defaults to FunctionKey
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := h.HTTP(ctx, "GET", tt.path, tt.header, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d (%s)", res.StatusCode, tt.want, res.Body)
			}
			if tt.want == 401 && res.Invocation != nil {
				t.Error("the handler was invoked without a valid key")
			}
		})
	}
	if h.FunctionKey() != "fkey" || h.MasterKey() != "fkey" {
		t.Errorf("keys = %q, %q", h.FunctionKey(), h.MasterKey())
	}
}

func TestHTTPAdminLevelNeedsTheMasterKey(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey", MasterKey: "mkey"})
	ctx := testContext(t)
	if res, _ := h.HTTP(ctx, "GET", "/api/adm?code=fkey", nil, nil); res.StatusCode != 401 {
		t.Errorf("admin function with a function key = %d, want 401", res.StatusCode)
	}
	res, err := h.HTTP(ctx, "GET", "/api/adm", http.Header{"X-Functions-Key": {"mkey"}}, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin function with the master key = %v, %v", res, err)
	}
	var req requestObject
	_ = json.Unmarshal(receivedOf(t, res.Invocation).Data["req"], &req)
	if len(req.Identities) != 1 || len(req.Identities[0].Claims) != 1 || req.Identities[0].Claims[0].Value != "Admin" {
		t.Errorf("Identities = %+v, want one Admin claim", req.Identities)
	}
	// "$return" http binding: the ReturnValue (the fake's echo) has a "body" property, so
	// the host takes it as a response object and answers that property: the envelope.
	if !strings.HasPrefix(string(res.Body), `{"Data":{"req":`) {
		t.Errorf("body = %s, want the echo's body property", res.Body)
	}
	if res, _ := h.HTTP(ctx, "GET", "/api/links?code=mkey", nil, nil); res.StatusCode != 200 {
		t.Errorf("function-level function with the master key = %d, want 200", res.StatusCode)
	}
}

func TestHTTPRequestShape(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)
	header := http.Header{"X-Custom": {"v1", "v2"}}
	res, err := h.HTTP(ctx, "get", "/api/links?tenantId=t1&code=fkey&multi=a&Multi=b&sp=a%20b", header, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HTTP = %+v, %v", res, err)
	}
	r := receivedOf(t, res.Invocation)
	if len(r.Data) != 1 {
		t.Errorf("Data keys = %v, want only the trigger", r.Data)
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(r.Data["req"], &req); err != nil {
		t.Fatal(err)
	}
	if got := str(t, req["Url"]); got != "http://localhost:7071/api/links?tenantId=t1&code=fkey&multi=a&Multi=b&sp=a%20b" {
		t.Errorf("Url = %q", got)
	}
	if got := str(t, req["Method"]); got != "GET" {
		t.Errorf("Method = %q", got)
	}
	if !jsonEqual(t, req["Query"], `{"tenantId":"t1","code":"fkey","multi":"a,b","sp":"a b"}`) {
		t.Errorf("Query = %s", req["Query"])
	}
	var headers map[string][]string
	_ = json.Unmarshal(req["Headers"], &headers)
	if got := headers["X-Custom"]; len(got) != 2 || got[1] != "v2" || headers["Host"][0] != "localhost:7071" {
		t.Errorf("Headers = %v", headers)
	}
	if !jsonEqual(t, req["Params"], `{}`) {
		t.Errorf("Params = %s", req["Params"])
	}
	if _, ok := req["Body"]; ok {
		t.Error("Body present for a request without a body")
	}
	var ids []claimsIdentity
	_ = json.Unmarshal(req["Identities"], &ids)
	if len(ids) != 1 || !ids[0].IsAuthenticated || *ids[0].AuthenticationType != "WebJobsAuthLevel" ||
		ids[0].Claims[0].Type != "http://schemas.microsoft.com/2017/07/functions/claims/authlevel" || ids[0].Claims[0].Value != "Function" {
		t.Errorf("Identities = %s", req["Identities"])
	}

	md := r.Metadata
	if !jsonEqual(t, md["Query"], string(req["Query"])) {
		t.Errorf("Metadata.Query = %s", md["Query"])
	}
	var flat map[string]string
	_ = json.Unmarshal(md["Headers"], &flat)
	if flat["X-Custom"] != "v1,v2" {
		t.Errorf("Metadata.Headers = %v, want values joined with commas", flat)
	}
	if got := str(t, md["tenantId"]); got != `"t1"` {
		t.Errorf("Metadata.tenantId = %q, want the query parameter as a JSON string", got)
	}
	if _, ok := md["code"]; ok {
		t.Error("the code query parameter must not reach the binding data")
	}
	// Params is part of Data.req only; the HTTP trigger's binding data has none.
	if p, ok := md["Params"]; ok {
		t.Errorf("Metadata.Params = %s, want no Params in the metadata", p)
	}
}

// TestHTTPChunkedPostHasNoBody: the host copies a request body into the invocation only
// when Content-Length > 0 (HttpRequestExtensions.GetRequestAsJObject), so a chunked POST
// reaches the handler without Body and without body properties in Metadata; the
// Transfer-Encoding header is still there for the handler to see.
func TestHTTPChunkedPostHasNoBody(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)
	body := []byte(`{"tenantId":"t3"}`)

	t.Run("HTTP", func(t *testing.T) {
		header := http.Header{"Content-Type": {"application/json"}, "Transfer-Encoding": {"chunked"}}
		res, err := h.HTTP(ctx, "POST", "/api/links?code=fkey", header, body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("HTTP = %+v, %v", res, err)
		}
		checkNoBody(t, receivedOf(t, res.Invocation))
	})

	t.Run("front end", func(t *testing.T) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		// A reader of unknown length makes net/http send the request chunked. The adm
		// function's "$return" answer is the fake's echo body: the envelope it received.
		req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/adm?code=fkey", io.MultiReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var r received
		if resp.StatusCode != 200 || json.Unmarshal(answer, &r) != nil {
			t.Fatalf("status %d, body %s; want 200 and the envelope", resp.StatusCode, answer)
		}
		checkNoBody(t, r)
	})

	t.Run("with Content-Length", func(t *testing.T) {
		res, err := h.HTTP(ctx, "POST", "/api/links?code=fkey", http.Header{"Content-Type": {"application/json"}}, body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("HTTP = %+v, %v", res, err)
		}
		var req requestObject
		_ = json.Unmarshal(receivedOf(t, res.Invocation).Data["req"], &req)
		if req.Body == nil || *req.Body != string(body) {
			t.Errorf("Body = %v, want %s", req.Body, body)
		}
	})
}

// checkNoBody checks that an HTTP invocation carries no request body.
func checkNoBody(t *testing.T, r received) {
	t.Helper()
	var req requestObject
	if err := json.Unmarshal(r.Data["req"], &req); err != nil {
		t.Fatal(err)
	}
	if req.Body != nil {
		t.Errorf("Body = %q, want none for a request without Content-Length", *req.Body)
	}
	if _, ok := r.Metadata["tenantId"]; ok {
		t.Errorf("Metadata.tenantId = %s, want no body properties", r.Metadata["tenantId"])
	}
	if te := req.Headers["Transfer-Encoding"]; len(te) != 1 || te[0] != "chunked" {
		t.Errorf("Headers[Transfer-Encoding] = %v, want [chunked]", te)
	}
	if cl, ok := req.Headers["Content-Length"]; ok {
		t.Errorf("Headers[Content-Length] = %v, want none", cl)
	}
}

func TestHTTPBodyAndRouteParams(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	ctx := testContext(t)

	body := `{"tenantId":"t2","subscriptionIds":["a","b"],"n":3}`
	res, err := h.HTTP(ctx, "POST", "/api/links?code=fkey", http.Header{"Content-Type": {"application/json"}}, []byte(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("HTTP = %+v, %v", res, err)
	}
	r := receivedOf(t, res.Invocation)
	var req requestObject
	_ = json.Unmarshal(r.Data["req"], &req)
	if req.Body == nil || *req.Body != body || req.Headers["Content-Length"][0] != strconv.Itoa(len(body)) {
		t.Errorf("Body = %v, headers %v", req.Body, req.Headers)
	}
	for k, want := range map[string]string{"tenantId": `"t2"`, "n": `"3"`, "subscriptionIds": `["a","b"]`} {
		if got := str(t, r.Metadata[k]); got != want {
			t.Errorf("Metadata.%s = %q, want %q", k, got, want)
		}
	}

	raw := []byte{0xff, 0x00, 0x01}
	res, _ = h.HTTP(ctx, "POST", "/api/links?code=fkey", http.Header{"Content-Type": {"application/octet-stream"}}, raw)
	_ = json.Unmarshal(receivedOf(t, res.Invocation).Data["req"], &req)
	if req.Body == nil || *req.Body != base64.StdEncoding.EncodeToString(raw) {
		t.Errorf("octet-stream Body = %v, want base64", req.Body)
	}

	routes := []struct {
		method, path string
		want         int
		params       string
	}{
		{"GET", "/api/items/5", 200, `{"id":"5"}`},
		{"GET", "/API/Items/5/bob%20b/", 200, `{"id":"5","name":"bob b"}`},
		{"GET", "/api/items/abc", 404, ""},
		{"GET", "/api/items/5/bob/extra", 404, ""},
		{"DELETE", "/api/links?code=fkey", 404, ""}, // method not allowed is 404 on the host
		{"GET", "/api/nothing", 404, ""},
		{"GET", "/links", 404, ""},
		{"GET", "/api/gone", 404, ""}, // disabled
	}
	for _, rt := range routes {
		res, err := h.HTTP(ctx, rt.method, rt.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != rt.want {
			t.Errorf("%s %s = %d, want %d", rt.method, rt.path, res.StatusCode, rt.want)
			continue
		}
		if rt.params != "" {
			r := receivedOf(t, res.Invocation)
			_ = json.Unmarshal(r.Data["req"], &req)
			if !jsonEqual(t, json.RawMessage(mustJSON(t, req.Params)), rt.params) {
				t.Errorf("%s Params = %v, want %s", rt.path, req.Params, rt.params)
			}
			if got := str(t, r.Metadata["id"]); got != `"5"` {
				t.Errorf("Metadata.id = %q, want the route parameter", got)
			}
			if len(req.Identities) != 1 || req.Identities[0].IsAuthenticated || len(req.Identities[0].Claims) != 0 {
				t.Errorf("anonymous Identities = %+v, want one unauthenticated identity", req.Identities)
			}
		}
	}
}

func TestHTTPResponseMapping(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON)})
	ctx := testContext(t)
	tests := []struct {
		name        string
		directive   string
		wantStatus  int
		wantBody    string
		wantHeader  map[string]string
		wantFailed  bool
		noOutputKey bool
	}{
		{"object_body", outputs64(`{"res":{"statusCode":201,"headers":{"Content-Type":"application/json","X-A":"b","X-N":5},"body":{"ok":true}}}`),
			201, "{\n  \"ok\": true\n}", map[string]string{"Content-Type": "application/json", "X-A": "b", "X-N": "5"}, false, false},
		{"string_status_alias", outputs64(`{"res":{"Status":"202","Body":"plain"}}`),
			202, "plain", map[string]string{"Content-Type": "text/plain; charset=utf-8"}, false, false},
		{"res_as_json_string", outputs64(`{"res":"{\"statusCode\":\"418\",\"body\":\"tea\"}"}`), 418, "tea", nil, false, false},
		{"no_body", outputs64(`{"res":{"statusCode":204}}`), 204, "", nil, false, false},
		{"missing_res", "", 200, "{}", nil, false, true},
		{"res_not_an_object", outputs64(`{"res":"nope"}`), 500, "", nil, true, false},
		{"handler_500", "FAKE:status=500", 500, "", nil, true, false},
		{"handler_text_plain", "FAKE:text", 500, "", nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := h.HTTP(ctx, "GET", "/api/items/1?d="+url.QueryEscape(tt.directive), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus || string(res.Body) != tt.wantBody {
				t.Fatalf("answer = %d %q, want %d %q (invocation err %v)", res.StatusCode, res.Body, tt.wantStatus, tt.wantBody,
					res.Invocation.Err)
			}
			for k, v := range tt.wantHeader {
				if got := res.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if res.Invocation == nil || res.Invocation.Failed != tt.wantFailed {
				t.Errorf("invocation failed = %v, want %v", res.Invocation.Failed, tt.wantFailed)
			}
		})
	}
	// FunctionInvocationMiddleware answers new OkResult() when no http output set a
	// response: an empty 200, not 204.
	res, _ := h.HTTP(ctx, "GET", "/api/noout", nil, nil)
	if res.StatusCode != 200 || len(res.Body) != 0 {
		t.Errorf("function without an http output = %d %q, want an empty 200", res.StatusCode, res.Body)
	}
}

func TestHTTPRoutePrefix(t *testing.T) {
	root := httpApp(t, `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}},
		"extensions": {"http": {"routePrefix": ""}}}`)
	h, _ := startHost(t, Options{AppRoot: root})
	ctx := testContext(t)
	if res, _ := h.HTTP(ctx, "GET", "/items/7", nil, nil); res.StatusCode != 200 {
		t.Errorf("/items/7 with an empty route prefix = %d", res.StatusCode)
	}
	if res, _ := h.HTTP(ctx, "GET", "/api/items/7", nil, nil); res.StatusCode != 404 {
		t.Errorf("/api/items/7 with an empty route prefix = %d", res.StatusCode)
	}
}

func TestHTTPForwardingMode(t *testing.T) {
	root := writeApp(t, `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"},
		"enableForwardingHttpRequest": true}}`, map[string]string{
		"hello/function.json": `{"bindings": [
			{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "methods": ["get", "post"]},
			{"type": "http", "direction": "out", "name": "res"}]}`,
	})
	h, _ := startHost(t, Options{AppRoot: root})
	res, err := h.HTTP(testContext(t), "POST", "/api/hello?x=1", http.Header{"X-Fake-Status": {"418"}, "Content-Type": {"text/plain"}}, []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 418 || res.Header.Get("X-Fake") != "raw" || res.Invocation.Failed {
		t.Fatalf("answer = %d %v, failed %v; want the handler's answer passed through", res.StatusCode, res.Header, res.Invocation.Failed)
	}
	var e echo
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Method != "POST" || e.Path != "/api/hello" || e.RawQuery != "x=1" || e.Body != "hi" || e.Host != "localhost:7071" {
		t.Errorf("forwarded request = %+v", e)
	}
	if e.Header.Get("X-Azure-Functions-Invocationid") != res.Invocation.InvocationID || e.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("forwarded headers = %v", e.Header)
	}
}

func TestServeHTTP(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: httpApp(t, basicHostJSON), FunctionKey: "fkey"})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/links?code=fkey", "application/json", bytes.NewReader([]byte(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "{}" {
		t.Fatalf("POST through ServeHTTP = %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/api/links")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("without a key = %d", resp.StatusCode)
	}
}

func TestServeHTTPAdminInvoke(t *testing.T) {
	root := writeApp(t, basicHostJSON, map[string]string{
		"sweep/function.json":      `{"bindings": [{"type": "timerTrigger", "name": "timer", "schedule": "0 0 3 * * *"}]}`,
		"onboarding/function.json": `{"bindings": [{"type": "serviceBusTrigger", "name": "msg", "queueName": "pal-onboarding"}]}`,
	})
	h, _ := startHost(t, Options{AppRoot: root, FunctionKey: "fkey", MasterKey: "mkey"})
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(name, key, body string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/admin/functions/"+name, strings.NewReader(body))
		req.Header.Set("x-functions-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("sweep", "fkey", "{}"); code != 401 {
		t.Errorf("admin invoke with a function key = %d, want 401", code)
	}
	if code := post("nope", "mkey", "{}"); code != 404 {
		t.Errorf("admin invoke of an unknown function = %d, want 404", code)
	}
	if code := post("onboarding", "mkey", `{"input": "{\"a\":1}"}`); code != 202 {
		t.Fatalf("admin invoke of a Service Bus function = %d, want 202", code)
	}
	if code := post("sweep", "mkey", ""); code != 202 {
		t.Fatalf("admin invoke of a timer = %d, want 202", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		_, fired := h.timers["sweep"]
		h.mu.Unlock()
		done := h.Queue("pal-onboarding").Completed()
		if fired && len(done) == 1 {
			if string(done[0].Body) != `{"a":1}` {
				t.Errorf("message body = %s", done[0].Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin invocations did not run (timer fired %v, completed %d)", fired, len(done))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
