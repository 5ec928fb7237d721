package hostsim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// HTTPResult is the answer the simulated function app gives an HTTP caller.
type HTTPResult struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Function is the function the request was routed to ("" when none matched).
	Function string
	// Invocation is the invocation behind the answer, nil when none was made
	// (404, 401).
	Invocation *InvocationResult
}

// httpAnswer is the HTTP response built from the http output binding.
type httpAnswer struct {
	status int
	header http.Header
	body   []byte
}

// HTTP sends a request to the function app, e.g. HTTP(ctx, "GET",
// "/api/links?tenantId=…", nil, nil). It routes it like the host (route prefix, route
// templates, methods; no match is 404), checks the function key (401 without invoking),
// invokes the handler and maps the http output binding to the answer (a failed
// invocation is 500). The error is non-nil only when nothing could be attempted.
//
// The request carries a Content-Length of len(body), unless header has
// "Transfer-Encoding: chunked": then it is sent as a chunked request, without
// Content-Length, and like the host (which copies a body only when ContentLength > 0,
// see chunked) the handler gets no body at all.
func (h *Host) HTTP(ctx context.Context, method, pathAndQuery string, header http.Header, body []byte) (*HTTPResult, error) {
	u, err := url.ParseRequestURI(pathAndQuery)
	if err != nil || !strings.HasPrefix(pathAndQuery, "/") {
		return nil, fmt.Errorf("hostsim: %q is not a path and query", pathAndQuery)
	}
	method = strings.ToUpper(method)
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Host") == "" {
		header.Set("Host", h.baseURL.Host)
	}
	switch {
	case chunked(header):
		header.Del("Content-Length")
		body = nil
	case len(body) > 0:
		header.Set("Content-Length", strconv.Itoa(len(body)))
	default:
		header.Del("Content-Length")
	}

	f, params := h.route(method, u.EscapedPath())
	if f == nil {
		return &HTTPResult{StatusCode: http.StatusNotFound, Header: http.Header{}}, nil
	}
	query := queryDictionary(u.RawQuery)
	identity, ok := h.authorize(f, query, header)
	if !ok {
		return &HTTPResult{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Function: f.Name}, nil
	}
	if h.forwarding && isHTTPInAndOut(f) {
		return h.forward(ctx, f, method, u, query, header, body)
	}

	data, md := h.httpPayload(f, method, u, query, header, body, params, identity)
	res, answer, err := h.invoke(ctx, f, envelope{Data: data, Metadata: md})
	if err != nil {
		return nil, err
	}
	out := &HTTPResult{Function: f.Name, Invocation: res}
	switch {
	case res.Failed:
		out.StatusCode, out.Header = http.StatusInternalServerError, http.Header{}
	case answer != nil:
		out.StatusCode, out.Header, out.Body = answer.status, answer.header, answer.body
	default:
		// No http output binding: FunctionInvocationMiddleware finds no response in
		// HttpContext.Items and returns new OkResult(), an empty 200.
		// https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script.WebHost/Middleware/FunctionInvocationMiddleware.cs#L153-L158
		out.StatusCode, out.Header = http.StatusOK, http.Header{}
	}
	return out, nil
}

// chunked reports whether a request is sent without a Content-Length: Kestrel gives
// such a request a null ContentLength, and the host copies the body into the invocation
// (GetRequestAsJObject, binding data) and into a forwarded request (ToHttpRequestMessage)
// only when ContentLength > 0, so the handler gets no body. The header itself stays in
// Headers.
// https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Extensions/HttpRequestExtensions.cs#L170
// https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Extensions/HttpRequestExtensions.cs#L211
func chunked(header http.Header) bool {
	for _, v := range header.Values("Transfer-Encoding") {
		for _, te := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(te), "chunked") {
				return true
			}
		}
	}
	return false
}

// route finds the httpTrigger function for a request: the best-ranked route template
// that matches the path and allows the method.
func (h *Host) route(method, escapedPath string) (*Function, map[string]string) {
	segs, ok := splitPath(escapedPath)
	if !ok {
		return nil, nil
	}
	var (
		best       *Function
		bestParams map[string]string
		bestPrec   []int
	)
	for _, f := range h.functions {
		tmpl, isHTTP := h.routes[f]
		if !isHTTP || f.Disabled || !allowsMethod(f, method) {
			continue
		}
		params, ok := tmpl.match(segs)
		if !ok {
			continue
		}
		if p := tmpl.precedence(); best == nil || lessPrecedence(p, bestPrec) {
			best, bestParams, bestPrec = f, params, p
		}
	}
	return best, bestParams
}

func allowsMethod(f *Function, method string) bool {
	if len(f.Methods) == 0 {
		return true
	}
	for _, m := range f.Methods {
		if m == method {
			return true
		}
	}
	return false
}

func isHTTPInAndOut(f *Function) bool {
	return len(f.Bindings) == 2 && len(f.output("http")) == 1
}

// identity is the ClaimsIdentity the host's key authentication produces.
type identity struct {
	level   string // "Admin" or "Function"
	keyName string // "" for the master key
}

// authorize checks the function key like the host: the key comes from the "code" query
// parameter or the x-functions-key header. ok is false when the function needs a key
// that was not given.
func (h *Host) authorize(f *Function, query *orderedQuery, header http.Header) (*identity, bool) {
	key := header.Get("x-functions-key")
	if key == "" {
		key, _ = query.get("code")
	}
	isMaster := key != "" && keyEqual(key, h.masterKey)
	isFunction := key != "" && keyEqual(key, h.functionKey)
	var id *identity
	switch {
	case isMaster && (!isFunction || f.AuthLevel == AuthAdmin):
		id = &identity{level: "Admin"}
	case isFunction:
		id = &identity{level: "Function", keyName: "default"}
	}
	switch f.AuthLevel {
	case AuthAnonymous:
		return id, true
	case AuthAdmin:
		return id, isMaster
	default:
		return id, isMaster || isFunction
	}
}

func keyEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// httpPayload builds Data.<trigger> (HttpRequestExtensions.GetRequestAsJObject) and the
// Metadata (the HTTP trigger's binding data).
func (h *Host) httpPayload(f *Function, method string, u *url.URL, query *orderedQuery, header http.Header,
	body []byte, params map[string]string, id *identity) (map[string]any, map[string]any) {
	rawURL := h.baseURL.Scheme + "://" + header.Get("Host") + u.EscapedPath()
	if u.RawQuery != "" {
		rawURL += "?" + u.RawQuery
	}
	headers := make(map[string][]string, len(header))
	flat := make(map[string]string, len(header))
	for k, v := range header {
		headers[k] = v
		flat[k] = strings.Join(v, ",")
	}
	req := requestObject{
		URL:        rawURL,
		Method:     method,
		Query:      query.object(),
		Headers:    headers,
		Params:     params,
		Identities: identities(id),
	}
	if len(body) > 0 {
		var s string
		if isOctetOrMultipart(header.Get("Content-Type")) {
			s = base64.StdEncoding.EncodeToString(body)
		} else {
			s = string(body)
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
		}
		req.Body = &s
	}

	// HttpTriggerAttributeBindingProvider.GetRequestBindingData, in its order.
	bd := newBindingData()
	if len(body) > 0 {
		applyBodyProperties(bd, string(body), true)
	}
	for _, kv := range query.pairs {
		if !strings.EqualFold(kv.key, "code") {
			bd.set(kv.key, netString(kv.value))
		}
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		bd.set(k, netString(params[k]))
	}
	if !bd.has("Query") {
		bd.set("Query", query.object())
	}
	if !bd.has("Headers") {
		bd.set("Headers", flat)
	}
	// No "Params" here: the HTTP extension's binding data holds the route values one by
	// one (above), and Params exists only in Data.<req> (GetRequestAsJObject).
	// https://github.com/Azure/azure-webjobs-sdk-extensions/blob/dev/src/WebJobs.Extensions.Http/HttpTriggerAttributeBindingProvider.cs
	bd.set("sys", newSys(f.Name, time.Now()))
	return map[string]any{f.Trigger.Name: req}, bd.metadata()
}

// requestObject is the JObject the host builds for an HTTP request.
type requestObject struct {
	URL        string              `json:"Url"`
	Method     string              `json:"Method"`
	Query      map[string]string   `json:"Query"`
	Headers    map[string][]string `json:"Headers"`
	Params     map[string]string   `json:"Params"`
	Identities []claimsIdentity    `json:"Identities"`
	Body       *string             `json:"Body,omitempty"`
}

type claimsIdentity struct {
	AuthenticationType *string `json:"AuthenticationType"`
	IsAuthenticated    bool    `json:"IsAuthenticated"`
	Actor              any     `json:"Actor"`
	BootstrapContext   any     `json:"BootstrapContext"`
	Claims             []claim `json:"Claims"`
	Label              *string `json:"Label"`
	Name               *string `json:"Name"`
	NameClaimType      string  `json:"NameClaimType"`
	RoleClaimType      string  `json:"RoleClaimType"`
}

type claim struct {
	Issuer         string            `json:"Issuer"`
	OriginalIssuer string            `json:"OriginalIssuer"`
	Properties     map[string]string `json:"Properties"`
	Type           string            `json:"Type"`
	Value          string            `json:"Value"`
	ValueType      string            `json:"ValueType"`
}

// identities is HttpContext.User.Identities: the key's WebJobsAuthLevel identity, or
// ASP.NET Core's empty unauthenticated identity when no key was given.
func identities(id *identity) []claimsIdentity {
	ci := claimsIdentity{
		Claims:        []claim{},
		NameClaimType: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		RoleClaimType: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
	}
	if id != nil {
		scheme := "WebJobsAuthLevel"
		ci.AuthenticationType, ci.IsAuthenticated = &scheme, true
		mk := func(typ, value string) claim {
			return claim{Issuer: "LOCAL AUTHORITY", OriginalIssuer: "LOCAL AUTHORITY", Properties: map[string]string{},
				Type: typ, Value: value, ValueType: "http://www.w3.org/2001/XMLSchema#string"}
		}
		ci.Claims = append(ci.Claims, mk("http://schemas.microsoft.com/2017/07/functions/claims/authlevel", id.level))
		if id.keyName != "" {
			ci.Claims = append(ci.Claims, mk("http://schemas.microsoft.com/2017/07/functions/claims/keyid", id.keyName))
		}
	}
	return []claimsIdentity{ci}
}

func isOctetOrMultipart(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/octet-stream" || strings.Contains(mt, "multipart/"))
}

// orderedQuery is ASP.NET Core's query collection: keys compare case-insensitively
// (first spelling kept) and repeated keys join their values with ",".
type orderedQuery struct {
	pairs []struct{ key, value string }
}

func queryDictionary(raw string) *orderedQuery {
	q := &orderedQuery{}
	index := map[string]int{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || k == "" {
			continue
		}
		if i, ok := index[strings.ToLower(k)]; ok {
			q.pairs[i].value += "," + v
			continue
		}
		index[strings.ToLower(k)] = len(q.pairs)
		q.pairs = append(q.pairs, struct{ key, value string }{k, v})
	}
	return q
}

func (q *orderedQuery) get(key string) (string, bool) {
	for _, kv := range q.pairs {
		if strings.EqualFold(kv.key, key) {
			return kv.value, true
		}
	}
	return "", false
}

func (q *orderedQuery) object() map[string]string {
	m := make(map[string]string, len(q.pairs))
	for _, kv := range q.pairs {
		m[kv.key] = kv.value
	}
	return m
}

func (q *orderedQuery) encode() string {
	var b strings.Builder
	for i, kv := range q.pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.key) + "=" + url.QueryEscape(kv.value))
	}
	return b.String()
}

// forward proxies the request in enableForwardingHttpRequest mode: same method, the
// original path (with the route prefix) and query, the original headers plus the
// host's, the body when there is one. Any status the handler answers is passed through
// and is not an invocation failure; redirects are not followed.
func (h *Host) forward(ctx context.Context, f *Function, method string, u *url.URL, query *orderedQuery,
	header http.Header, body []byte) (*HTTPResult, error) {
	res := &InvocationResult{Function: f.Name, InvocationID: newGUID(), Request: body}
	err := h.roundTrip(ctx, res, h.rawClient, func(base string) (*http.Request, error) {
		target := base + u.EscapedPath()
		if qs := query.encode(); qs != "" {
			target += "?" + qs
		}
		var rd io.Reader
		if len(body) > 0 {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, target, rd)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			switch http.CanonicalHeaderKey(k) {
			case "Host", "Content-Length", "Transfer-Encoding", "Connection":
				continue
			}
			req.Header[k] = append([]string(nil), v...)
		}
		req.Host = header.Get("Host")
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	h.logResult(res)
	if res.Failed {
		return &HTTPResult{StatusCode: http.StatusInternalServerError, Header: http.Header{}, Function: f.Name, Invocation: res}, nil
	}
	return &HTTPResult{StatusCode: res.Status, Header: res.Header.Clone(), Body: res.Body, Function: f.Name, Invocation: res}, nil
}

// parseHTTPOutput maps the http output binding value like the host:
// GetHttpOutputBindingResponse (Newtonsoft into {StatusCode, Status, Body, Headers}),
// then HttpBinding.CreateResult and RawScriptResult.
func parseHTTPOutput(raw json.RawMessage, present bool) (*httpAnswer, error) {
	if !present {
		// An empty ExpandoObject is written as JSON by RawScriptResult.
		return &httpAnswer{status: http.StatusOK, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: []byte("{}")}, nil
	}
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return nil, errors.New("http output binding value is null")
	}
	text := raw
	if raw[0] == '"' { // the value's ToString() is deserialized: a string holding JSON works
		var s string
		_ = json.Unmarshal(raw, &s)
		text = bytes.TrimSpace([]byte(s))
	}
	var obj map[string]json.RawMessage
	if len(text) == 0 || text[0] != '{' || json.Unmarshal(text, &obj) != nil {
		return nil, fmt.Errorf("http output binding value is not an object (the host fails: \"Failed while trying to Deserialize to httpOutputBindingResponse\")%s", excerpt(raw))
	}
	a := &httpAnswer{status: http.StatusOK, header: http.Header{}}

	code := fieldFold(obj, "statusCode")
	if isNull(code) {
		code = fieldFold(obj, "status")
	}
	if !isNull(code) {
		s, err := scalarText(code)
		if err != nil {
			return nil, fmt.Errorf("http output statusCode: %w", err)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			a.status = n
		}
	}
	if a.status < 100 || a.status > 999 {
		return nil, fmt.Errorf("http output status code %d is out of range", a.status)
	}

	if hdr := fieldFold(obj, "headers"); !isNull(hdr) {
		var hs map[string]json.RawMessage
		if err := json.Unmarshal(hdr, &hs); err != nil {
			return nil, fmt.Errorf("http output headers is not an object: %w", err)
		}
		for k, v := range hs {
			if strings.EqualFold(k, "content-type") && isNull(v) {
				return nil, errors.New("content-type header cannot be null")
			}
			s, err := scalarText(v)
			if err != nil {
				s = indentJSON(v)
			}
			if strings.EqualFold(k, "content-type") {
				a.header.Set("Content-Type", s)
			} else {
				a.header.Add(k, s)
			}
		}
	}

	if body := fieldFold(obj, "body"); !isNull(body) {
		body = bytes.TrimSpace(body)
		switch body[0] {
		case '"':
			var s string
			_ = json.Unmarshal(body, &s)
			a.body = []byte(s)
		case '{', '[':
			a.body = []byte(indentJSON(body))
		default:
			s, _ := scalarText(body)
			a.body = []byte(s)
		}
	}
	if len(a.body) > 0 && a.header.Get("Content-Type") == "" {
		a.header.Set("Content-Type", "text/plain; charset=utf-8") // StringOutputFormatter
	}
	return a, nil
}

// parseHTTPReturn maps a ReturnValue bound to an http "$return" binding: the host hands
// the value itself to HttpBinding.CreateResult, so an object without a "body" property
// is the body, and a string that is not JSON is written as it is.
func parseHTTPReturn(raw json.RawMessage) (*httpAnswer, error) {
	if isNull(raw) {
		return &httpAnswer{status: http.StatusNoContent, header: http.Header{}}, nil
	}
	raw = bytes.TrimSpace(raw)
	value := raw
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		if t := bytes.TrimSpace([]byte(s)); json.Valid(t) && len(t) > 0 && t[0] == '{' {
			value = t
		} else {
			return plainAnswer([]byte(s)), nil
		}
	}
	if value[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(value, &obj); err == nil && fieldFold(obj, "body") != nil {
			return parseHTTPOutput(value, true)
		}
		return plainAnswer([]byte(indentJSON(value))), nil
	}
	if value[0] == '[' {
		return plainAnswer([]byte(indentJSON(value))), nil
	}
	s, err := scalarText(value)
	if err != nil {
		return nil, err
	}
	return plainAnswer([]byte(s)), nil
}

func plainAnswer(body []byte) *httpAnswer {
	a := &httpAnswer{status: http.StatusOK, header: http.Header{}, body: body}
	if len(body) > 0 {
		a.header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	return a
}

// scalarText is a JSON scalar as .NET's ToString() prints it.
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 't':
		return "True", nil
	case 'f':
		return "False", nil
	case 'n':
		return "", nil
	case '{', '[':
		return "", fmt.Errorf("%s is not a scalar", excerpt(raw))
	}
	return netNumber(string(raw))
}

// indentJSON is JToken.ToString(): indented with two spaces.
func indentJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// ServeHTTP makes the Host an http.Handler for the function app's front end (the
// sandbox listens on a loopback port with it). Requests under /admin/functions/{name}
// invoke non-HTTP functions like the host's admin API: POST with the master key and
// {"input": "..."}; a timer runs, a Service Bus function gets the input as a message.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 100<<20))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/admin/functions/"); ok {
		h.serveAdminInvoke(w, r, name, body)
		return
	}
	header := r.Header.Clone()
	header.Set("Host", r.Host)
	if r.ContentLength < 0 {
		// net/http moves Transfer-Encoding out of the header; put it back so that HTTP
		// applies the host's rule for requests without a Content-Length.
		header.Set("Transfer-Encoding", "chunked")
	}
	res, err := h.HTTP(r.Context(), r.Method, r.URL.RequestURI(), header, body)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrHostStopped) {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), status)
		return
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(res.Body)
}

func (h *Host) serveAdminInvoke(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	key := r.Header.Get("x-functions-key")
	if key == "" {
		key = r.URL.Query().Get("code")
	}
	if !keyEqual(key, h.masterKey) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	f := h.lookup(name)
	if f == nil || f.Disabled || strings.EqualFold(f.TriggerType, TriggerHTTP) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var in struct {
		Input string `json:"input"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, "body must be {\"input\": \"...\"}", http.StatusBadRequest)
			return
		}
	}
	switch {
	case strings.EqualFold(f.TriggerType, TriggerTimer):
		if !h.track() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		go func() {
			defer h.wg.Done()
			_, _ = h.Timer(h.ctx, f.Name, false)
		}()
	case strings.EqualFold(f.TriggerType, TriggerServiceBus):
		h.Queue(f.Queue).Send([]byte(in.Input), nil)
		if !h.track() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		go func() {
			defer h.wg.Done()
			_ = h.DrainQueue(h.ctx, f.Queue)
		}()
	default:
		http.Error(w, "hostsim cannot invoke a "+f.TriggerType+" function", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
