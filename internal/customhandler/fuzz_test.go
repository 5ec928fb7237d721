package customhandler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The seed corpora are in testdata/fuzz/<FuzzName>: host-shaped inputs from
// docs/reference.md (Service Bus, HTTP and timer envelopes, double-encoded and
// base64 bodies, both header shapes) and one file per kind of bad input.

// fuzzMaxBodyBytes is small so that the fuzzer reaches the 413 path.
const fuzzMaxBodyBytes = 16 << 10

// FuzzEnvelope sends arbitrary bodies to a registered echo function through
// ServeHTTP. The echo handler runs every decoding helper over what it got.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(sbInvocation), testInvocationID)
	f.Add(bytes.Repeat([]byte(" "), fuzzMaxBodyBytes+1), "")
	f.Fuzz(func(t *testing.T, body []byte, invocationID string) {
		var handlerPanic string
		var problems []string
		var stdout bytes.Buffer
		s := NewServer(zerolog.New(io.Discard).Level(zerolog.DebugLevel), &ServerOptions{Stdout: &stdout, MaxBodyBytes: fuzzMaxBodyBytes})
		s.Handle("Echo", func(_ context.Context, inv *Invocation) Result {
			// The server turns a handler panic into a 500; a panic in a
			// decoding helper is a bug, so note it before passing it on.
			defer func() {
				if v := recover(); v != nil {
					handlerPanic = fmt.Sprintf("%v\n%s", v, debug.Stack())
					panic(v)
				}
			}()
			inv.Log.Info().Int("data", len(inv.Data)).Int("metadata", len(inv.Metadata)).Msg("echo")
			return Result{
				Outputs:     map[string]any{"data": inv.Data, "metadata": inv.Metadata},
				ReturnValue: decodeAll(inv, &problems),
			}
		})

		r := httptest.NewRequest(http.MethodPost, "/echo", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
		r.Header.Set(invocationIDHeader, invocationID)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)

		if handlerPanic != "" {
			t.Fatalf("a decoding helper panicked: %s", handlerPanic)
		}
		for _, p := range problems {
			t.Error(p)
		}
		resp := w.Result()
		got := w.Body.Bytes()
		if c := resp.StatusCode / 100; c != 2 && c != 4 && c != 5 {
			t.Fatalf("status %d, want 2xx, 4xx or 5xx", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(got)) {
			t.Errorf("Content-Length %q for a body of %d bytes", cl, len(got))
		}
		var answer map[string]json.RawMessage
		if err := json.Unmarshal(got, &answer); err != nil || answer == nil {
			t.Fatalf("answer %q is not a JSON object: %v", got, err)
		}

		// What the host's envelope should have decoded to, found with a
		// different value type than the server's.
		var want struct {
			Data     map[string]any
			Metadata map[string]any
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		envErr := dec.Decode(&want)
		if envErr == nil {
			// Decode stops after one value; Unmarshal, like the server, also
			// rejects what follows it.
			envErr = json.Unmarshal(body, new(any))
		}
		switch {
		case len(body) > fuzzMaxBodyBytes:
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d for a body of %d bytes, want 413", resp.StatusCode, len(body))
			}
		case envErr != nil:
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d for a body that is not an envelope (%v), want 400; answer %s", resp.StatusCode, envErr, got)
			}
		default:
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d for an envelope, want 200; answer %s", resp.StatusCode, got)
			}
		}

		if resp.StatusCode/100 != 2 {
			var fail failureResponse
			if err := json.Unmarshal(got, &fail); err != nil || fail.Error == "" {
				t.Errorf("failure answer %s has no error message (%v)", got, err)
			}
			if _, ok := answer["Logs"]; ok {
				t.Errorf("failure answer %s has Logs; log lines go to stdout only", got)
			}
			checkLogs(t, stdoutLines(t, &stdout), invocationID)
			return
		}
		for _, k := range []string{"Outputs", "Logs", "ReturnValue"} {
			if _, ok := answer[k]; !ok {
				t.Errorf("2xx answer %s has no %s", got, k)
			}
		}
		if string(answer["Logs"]) != "[]" {
			t.Errorf("Logs = %s, want [] (log lines go to stdout only)", answer["Logs"])
		}
		checkLogs(t, stdoutLines(t, &stdout), invocationID)
		var outputs struct {
			Data     map[string]json.RawMessage `json:"data"`
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(answer["Outputs"], &outputs); err != nil {
			t.Fatalf("Outputs %s: %v", answer["Outputs"], err)
		}
		checkEcho(t, "Data", want.Data, outputs.Data)
		checkEcho(t, "Metadata", want.Metadata, outputs.Metadata)
	})
}

// decodeAll runs every decoding helper over an invocation, as handlers do,
// and returns what they found. It notes broken cross-helper invariants in
// problems.
func decodeAll(inv *Invocation, problems *[]string) map[string]any {
	out := map[string]any{}
	for k, v := range inv.Data {
		if b, err := DecodeString(v); err == nil {
			out["string:"+k] = string(b)
		}
		if b, err := decodeBinary(v); err == nil {
			out["binary:"+k] = b
		}
		if req, err := ParseHTTPRequest(v); err == nil {
			out["http:"+k] = req.Method + " " + strconv.Itoa(len(req.Body))
		}
	}
	for k := range inv.Metadata {
		s, sok := MetadataString(inv.Metadata, k)
		if sok {
			out["md:"+k] = s
		}
		if n, ok := metadataInt(inv.Metadata, k); ok {
			out["int:"+k] = n
			if !sok {
				*problems = append(*problems, fmt.Sprintf("metadataInt(%q) ok but MetadataString not", k))
			}
		}
		if tm, ok := MetadataTime(inv.Metadata, k); ok {
			// A string: a time outside years 0-9999 in UTC cannot be a JSON time.
			out["time:"+k] = tm.UTC().Format(time.RFC3339Nano)
			if !sok {
				*problems = append(*problems, fmt.Sprintf("MetadataTime(%q) ok but MetadataString not", k))
			}
		}
	}
	return out
}

// stdoutLines splits what the server wrote to stdout into lines.
func stdoutLines(t *testing.T, stdout *bytes.Buffer) []string {
	t.Helper()
	s := strings.TrimSuffix(stdout.String(), "\n")
	if s == "" {
		t.Fatal("nothing on stdout")
	}
	return strings.Split(s, "\n")
}

// checkLogs checks that every stdout line of an invocation is a JSON object
// carrying the invocation ID: the header's when it is usable, a generated one
// otherwise.
func checkLogs(t *testing.T, logs []string, header string) {
	t.Helper()
	for _, l := range logs {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("Logs line %q is not a JSON object: %v", l, err)
		}
		id, _ := line[fieldInvocationID].(string)
		if !validInvocationID(id) || validInvocationID(header) && id != header {
			t.Errorf("Logs line %q: invocation_id %q, header %q", l, id, header)
		}
	}
}

// checkEcho compares an echoed map with the one expected from the request.
func checkEcho(t *testing.T, name string, want map[string]any, got map[string]json.RawMessage) {
	t.Helper()
	if got == nil {
		t.Errorf("echoed %s is null, want an object", name)
	}
	if len(got) != len(want) {
		t.Errorf("echoed %s has %d keys, want %d", name, len(got), len(want))
	}
	for k, w := range want {
		raw, ok := got[k]
		if !ok {
			t.Errorf("echoed %s lacks key %q", name, k)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var g any
		if err := dec.Decode(&g); err != nil {
			t.Errorf("echoed %s[%q] = %s: %v", name, k, raw, err)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("echoed %s[%q] = %s, want %v", name, k, raw, w)
		}
	}
}

// FuzzDecodeString checks that DecodeString and decodeBinary never panic and
// that DecodeString undoes the host's double encoding of any string.
func FuzzDecodeString(f *testing.F) {
	f.Add(sbBody)
	f.Fuzz(func(t *testing.T, s string) {
		raw := json.RawMessage(s)
		if b, err := DecodeString(raw); err == nil {
			if trimmed := bytes.TrimSpace(raw); trimmed[0] != '"' && !bytes.Equal(b, trimmed) {
				t.Errorf("DecodeString(%q) = %q, want the non-string value as is", s, b)
			}
		}
		_, _ = decodeBinary(raw)

		// x is s as JSON can carry it (invalid UTF-8 becomes U+FFFD).
		once, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var x string
		if err := json.Unmarshal(once, &x); err != nil {
			t.Fatal(err)
		}
		twice, err := json.Marshal(string(once))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeString(twice)
		if err != nil {
			t.Fatalf("DecodeString(%s): %v", twice, err)
		}
		if string(got) != x {
			t.Errorf("DecodeString(%s) = %q, want %q", twice, got, x)
		}

		// Encoded once, x comes back as is unless it is itself a JSON string
		// literal, which is then taken for a second level of encoding.
		got, err = DecodeString(once)
		if err != nil {
			t.Fatalf("DecodeString(%s): %v", once, err)
		}
		inner := strings.TrimSpace(x)
		if looksEncoded := strings.HasPrefix(inner, `"`) && json.Valid([]byte(inner)); !looksEncoded && string(got) != x {
			t.Errorf("DecodeString(%s) = %q, want %q", once, got, x)
		}

		// A base64 string the host sends for a binary binding, as is and
		// JSON-encoded once more.
		b64, err := json.Marshal([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []json.RawMessage{b64, mustMarshal(t, string(b64))} {
			if got, err := decodeBinary(raw); err != nil || string(got) != s {
				t.Errorf("decodeBinary(%s) = %q, %v; want %q", raw, got, err, s)
			}
		}
	})
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseHTTPRequest checks that ParseHTTPRequest never panics and that
// what it returns keeps its documented shape.
func FuzzParseHTTPRequest(f *testing.F) {
	f.Add([]byte(httpTriggerData))
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ParseHTTPRequest(raw)
		if err != nil {
			if req != nil {
				t.Errorf("ParseHTTPRequest returned %+v with error %v", req, err)
			}
			return
		}
		if req.Method == "" {
			t.Error("Method is empty")
		}
		if req.Header == nil || req.Query == nil || req.Params == nil {
			t.Errorf("nil Header, Query or Params: %+v", req)
		}
		for k := range req.Header {
			if c := http.CanonicalHeaderKey(k); c != k {
				t.Errorf("Header key %q is not canonical (%q)", k, c)
			}
		}
		if req.URL != nil && req.URL.RawQuery != "" {
			if q := req.URL.Query(); !reflect.DeepEqual(q, req.Query) {
				t.Errorf("Query = %v, want the URL's %v", req.Query, q)
			}
		}
	})
}
