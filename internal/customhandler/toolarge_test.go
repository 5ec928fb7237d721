package customhandler

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPFunctionTooLarge: an HTTP function's invocation request over
// MaxBodyBytes is not handed to the handler; the invocation succeeds with
// the function's too-large answer (the host would turn a failed one into an
// empty 500), however large the request, and the connection stays usable.
// Failed before HandleHTTP: the invocation failed with 413, the caller got 500.
func TestHTTPFunctionTooLarge(t *testing.T) {
	s, out, ts := newTestServer(t, &ServerOptions{MaxBodyBytes: 1024})
	called := 0
	answer := Result{Outputs: map[string]any{"res": HTTPResponse{StatusCode: 413, Body: `{"error":"too large"}`}}}
	builds := 0
	s.HandleHTTP("links", func(context.Context, *Invocation) Result { called++; return Result{} }, func() Result { builds++; return answer })
	s.Handle("onboarding", func(context.Context, *Invocation) Result { called++; return Result{} })
	if builds != 0 {
		t.Fatalf("registering built the too-large answer %d times, want 0 (it is built when a request is too large)", builds)
	}
	for _, size := range []int{1025, 64 << 10, 8 << 20} {
		body := `{"Data":{"req":{"Method":"POST","Body":"` + strings.Repeat("a", size) + `"}},"Metadata":{}}`
		status, ct, got := post(t, ts.URL+"/links", "id-1", body)
		if status != http.StatusOK || ct != "application/json" {
			t.Fatalf("size %d: status %d, Content-Type %q, want 200 application/json", size, status, ct)
		}
		var resp struct {
			Outputs map[string]HTTPResponse
		}
		if err := json.Unmarshal(got, &resp); err != nil {
			t.Fatalf("size %d: %s: %v", size, got, err)
		}
		if res := resp.Outputs["res"]; res.StatusCode != 413 || res.Body != `{"error":"too large"}` {
			t.Errorf("size %d: res = %+v, want the 413 answer", size, res)
		}
		// A function registered with Handle still fails the invocation with 413.
		if status, _, got := post(t, ts.URL+"/onboarding", "id-2", body); status != http.StatusRequestEntityTooLarge {
			t.Errorf("size %d: onboarding status %d %s, want 413", size, status, got)
		}
	}
	if called != 0 {
		t.Errorf("handler called %d times for oversized requests", called)
	}
	refused := 0
	for _, l := range out.lines(t) {
		if l["message"] == "invocation request too large; not read" {
			refused++
		}
	}
	if refused != 6 {
		t.Errorf("%d log lines for the 6 refused requests", refused)
	}
	// The connection is reused after an oversized request was drained.
	resp, err := http.Post(ts.URL+"/links", "application/json", strings.NewReader(`{"Data":{},"Metadata":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if called != 1 {
		t.Errorf("a small request after the large ones: handler called %d times, want 1", called)
	}
}
