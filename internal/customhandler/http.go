package customhandler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// HTTPRequest is an HTTP trigger's request as the host passes it in Data
// (enableForwardingHttpRequest false).
type HTTPRequest struct {
	// Method is the request method, upper case.
	Method string
	// URL is the original request URL; nil when the host sent none.
	URL *url.URL
	// Query holds the query parameters. They come from URL's query string
	// when there is one (so repeated parameters stay separate), otherwise
	// from the host's Query object (where repeats are comma-joined).
	Query url.Values
	// Header holds the request headers with canonical keys; use Get.
	Header http.Header
	// Params holds the route parameters.
	Params map[string]string
	// Body is the request body, base64-decoded when the host encoded it
	// (application/octet-stream and multipart/*). Nil when there was none.
	Body []byte
}

// httpRequestWire is the host's JSON for an HTTP trigger request. Keys are
// matched case-insensitively by encoding/json.
type httpRequestWire struct {
	URL     string                     `json:"Url"`
	Method  string                     `json:"Method"`
	Query   map[string]json.RawMessage `json:"Query"`
	Headers map[string]json.RawMessage `json:"Headers"`
	Params  map[string]json.RawMessage `json:"Params"`
	Body    json.RawMessage            `json:"Body"`
}

// ParseHTTPRequest parses the HTTP trigger value raw (Data.<name>). Headers
// may map to arrays of strings (Data) or to strings (Metadata).
func ParseHTTPRequest(raw json.RawMessage) (*HTTPRequest, error) {
	var w httpRequestWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("parse HTTP request: %w", err)
	}
	if w.Method == "" {
		return nil, errors.New("parse HTTP request: no Method")
	}
	req := &HTTPRequest{
		Method: strings.ToUpper(w.Method),
		Header: make(http.Header, len(w.Headers)),
		Params: make(map[string]string, len(w.Params)),
		Query:  url.Values{},
	}
	if w.URL != "" {
		u, err := url.Parse(w.URL)
		if err != nil {
			return nil, fmt.Errorf("parse HTTP request: Url: %w", err)
		}
		req.URL = u
	}
	for k, v := range w.Headers {
		vs, err := stringOrStrings(v)
		if err != nil {
			return nil, fmt.Errorf("parse HTTP request: header %q: %w", k, err)
		}
		for _, s := range vs {
			req.Header.Add(k, s)
		}
	}
	if req.URL != nil && req.URL.RawQuery != "" {
		q, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("parse HTTP request: query: %w", err)
		}
		req.Query = q
	} else {
		for k, v := range w.Query {
			vs, err := stringOrStrings(v)
			if err != nil {
				return nil, fmt.Errorf("parse HTTP request: query %q: %w", k, err)
			}
			req.Query[k] = append(req.Query[k], vs...)
		}
	}
	for k, v := range w.Params {
		vs, err := stringOrStrings(v)
		if err != nil {
			return nil, fmt.Errorf("parse HTTP request: route parameter %q: %w", k, err)
		}
		req.Params[k] = strings.Join(vs, ",")
	}
	body, err := httpBody(w.Body, req.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("parse HTTP request: %w", err)
	}
	req.Body = body
	return req, nil
}

// httpBody decodes the host's Body value: a string, base64 for binary
// content types; a JSON object or array is taken as is.
func httpBody(raw json.RawMessage, contentType string) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '"' {
		if !json.Valid(raw) {
			return nil, errors.New("body: not JSON")
		}
		return bytes.Clone(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if binaryContentType(contentType) {
		b, err := decodeBase64(s)
		if err != nil {
			return nil, fmt.Errorf("body of %s: %w", contentType, err)
		}
		return b, nil
	}
	return []byte(s), nil
}

// binaryContentType reports whether the host base64-encodes a body of this
// content type.
func binaryContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt == "application/octet-stream" || strings.HasPrefix(mt, "multipart/")
}

// stringOrStrings decodes a JSON string, array of strings, number or boolean
// into values; null is no value.
func stringOrStrings(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var ss []string
		if err := json.Unmarshal(raw, &ss); err != nil {
			return nil, err
		}
		return ss, nil
	case '{':
		return nil, errors.New("an object, expected a string or an array of strings")
	}
	return []string{string(raw)}, nil
}

// HTTPResponse is the value of an http output binding (for example
// Outputs["res"]).
type HTTPResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// JSONResponse returns an HTTPResponse with status and v encoded as JSON,
// Content-Type application/json; charset=utf-8 and extraHeaders (which win
// over the defaults). If v cannot be encoded the answer is a 500 with a
// generic JSON error.
func JSONResponse(status int, v any, extraHeaders map[string]string) HTTPResponse {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	body := ""
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		body = `{"error":"internal error: cannot encode the answer"}`
	} else {
		body = strings.TrimSuffix(buf.String(), "\n")
	}
	headers := map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	}
	for k, v := range extraHeaders {
		for d := range headers {
			if strings.EqualFold(d, k) {
				delete(headers, d)
			}
		}
		headers[k] = v
	}
	return HTTPResponse{StatusCode: status, Headers: headers, Body: body}
}
