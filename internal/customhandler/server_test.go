package customhandler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use, standing in for stdout.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the lines written so far, each parsed as a JSON object.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q is not a JSON object: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

const (
	testInvocationID = "3b6b4f3e-5d2c-4b8a-9f41-2f3c1d0e9a77"
	// sbBody is the host's Service Bus trigger value for the body
	// {"message":"hello","number":2}: JSON-encoded twice (docs/reference.md, "Service Bus trigger").
	sbBody = `"\"{\\\"message\\\":\\\"hello\\\",\\\"number\\\":2}\""`
)

// sbInvocation is a Service Bus invocation request as the host sends it
// (docs/reference.md, "Service Bus trigger").
const sbInvocation = `{"Data":{"msg":` + sbBody + `},
 "Metadata":{"MessageReceiver":{},"MessageSession":{},"MessageActions":{},"SessionActions":{},"ReceiveActions":{},
  "Client":{"FullyQualifiedNamespace":"namespace","IsClosed":false,"TransportType":0,"Identifier":"namespace-1"},
  "DeliveryCount":"3","LockToken":"\"4e773554-f6b7-4ea2-b07d-4c5fd5aba741\"",
  "ExpiresAtUtc":"2023-10-12T20:13:49","ExpiresAt":"2023-10-12T20:13:49+00:00",
  "EnqueuedTimeUtc":"2023-10-12T20:13:49","EnqueuedTime":"2023-10-12T20:13:49+00:00",
  "MessageId":"\"4e773554-f6b7-4ea2-b07d-4c5fd5aba741\"","ContentType":"\"application/json\"","SequenceNumber":"1",
  "ApplicationProperties":{"attempt":2},"UserProperties":{"attempt":2},
  "sys":{"MethodName":"onboarding","UtcNow":"2023-10-12T20:13:49.640002Z","RandGuid":"0d9b1c5e-6f3a-4a9b-8c1d-2e3f4a5b6c7d"},
  "message":"\"hello\"","number":"2"}}`

// newTestServer returns a Server logging to a buffer, and an httptest
// server in front of it.
func newTestServer(t *testing.T, opts *ServerOptions) (*Server, *lockedBuffer, *httptest.Server) {
	t.Helper()
	out := &lockedBuffer{}
	o := ServerOptions{}
	if opts != nil {
		o = *opts
	}
	o.Stdout = out
	s := NewServer(zerolog.New(io.Discard).With().Timestamp().Str("app", "pal-keeper").Logger(), &o)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, out, ts
}

// post sends an invocation as the host does and returns status, Content-Type and body.
func post(t *testing.T, url, id, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if id != "" {
		req.Header.Set(invocationIDHeader, id)
	}
	req.Header.Set("X-Azure-Functions-HostVersion", "4.1037.0")
	req.Header.Set("User-Agent", "Azure-Functions-Host/4.1037.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// successBody is the success answer, strictly decoded.
type successBody struct {
	Outputs     map[string]json.RawMessage
	Logs        []string
	ReturnValue json.RawMessage
}

func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
}

// invocationLines returns the stdout lines of one invocation, in order.
func invocationLines(t *testing.T, out *lockedBuffer, id string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range out.lines(t) {
		if l["invocation_id"] == id {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestReadiness(t *testing.T) {
	block := make(chan struct{})
	s, _, ts := newTestServer(t, nil)
	s.Handle("slow", func(ctx context.Context, inv *Invocation) Result {
		<-block
		return Result{}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		post(t, ts.URL+"/slow", "", `{"Data":{}}`)
	}()
	defer func() { close(block); <-done }()

	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions} {
		req, _ := http.NewRequest(method, ts.URL+"/", nil)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s / = %d, want 200", method, resp.StatusCode)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s / took %v while an invocation is in flight", method, d)
		}
	}
}

func TestSuccessShape(t *testing.T) {
	s, out, ts := newTestServer(t, nil)
	var got *Invocation
	s.Handle("onboarding", func(ctx context.Context, inv *Invocation) Result {
		got = inv
		inv.Log.Info().Str("step", "one").Msg("working")
		return Result{
			Outputs:     map[string]any{"outQueue": map[string]any{"tenantId": "t"}},
			ReturnValue: map[string]any{"summary": map[string]int{"attributed": 3}},
		}
	})
	status, ct, body := post(t, ts.URL+"/onboarding", testInvocationID, sbInvocation)
	if status != http.StatusOK || ct != "application/json" {
		t.Fatalf("status %d, Content-Type %q, body %s", status, ct, body)
	}
	var sb successBody
	decodeStrict(t, body, &sb)
	if string(sb.Outputs["outQueue"]) != `{"tenantId":"t"}` || string(sb.ReturnValue) != `{"summary":{"attributed":3}}` {
		t.Errorf("answer %s", body)
	}
	// Log lines reach the host by one path only: stdout. Logs stays empty.
	if sb.Logs == nil || len(sb.Logs) != 0 {
		t.Errorf("Logs = %q, want [] (lines go to stdout only)", sb.Logs)
	}
	lines := invocationLines(t, out, testInvocationID)
	if len(lines) != 2 {
		t.Fatalf("stdout lines of the invocation = %v, want the handler's line and the success line", lines)
	}
	if first := lines[0]; first["message"] != "working" || first["step"] != "one" ||
		first["function"] != "onboarding" || first["app"] != "pal-keeper" || first["level"] != "info" {
		t.Errorf("first line = %v", first)
	}
	if last := lines[1]; last["message"] != "invocation succeeded" {
		t.Errorf("last line = %v", last)
	}

	if got.ID != testInvocationID || got.Function != "onboarding" {
		t.Errorf("Invocation ID %q, Function %q", got.ID, got.Function)
	}
	if string(got.Data["msg"]) != sbBody {
		t.Errorf("Data[msg] = %s", got.Data["msg"])
	}
	if got.Header.Get("X-Azure-Functions-HostVersion") != "4.1037.0" {
		t.Errorf("Header = %v", got.Header)
	}
	msg, err := DecodeString(got.Data["msg"])
	if err != nil || string(msg) != `{"message":"hello","number":2}` {
		t.Errorf("DecodeString(Data[msg]) = %s, %v", msg, err)
	}
	if n, ok := metadataInt(got.Metadata, "DeliveryCount"); !ok || n != 3 {
		t.Errorf("DeliveryCount = %d, %v", n, ok)
	}
}

func TestEmptyResult(t *testing.T) {
	s, _, ts := newTestServer(t, nil)
	s.Handle("sweep", func(ctx context.Context, inv *Invocation) Result { return Result{} })
	// Logs is always present and empty.
	quiet := NewServer(zerolog.New(io.Discard).Level(zerolog.Disabled), &ServerOptions{Stdout: io.Discard})
	quiet.Handle("sweep", func(ctx context.Context, inv *Invocation) Result { return Result{} })
	qs := httptest.NewServer(quiet)
	defer qs.Close()

	timer := `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},` +
		`"Metadata":{"sys":{"MethodName":"sweep","UtcNow":"2023-09-07T11:40:45.004275Z","RandGuid":"35e6e68c-0000-4000-8000-000000000000"}}}`
	status, ct, body := post(t, ts.URL+"/sweep", "", timer)
	if status != 200 || ct != "application/json" {
		t.Fatalf("status %d, Content-Type %q", status, ct)
	}
	var m map[string]json.RawMessage
	decodeStrict(t, body, &m)
	if string(m["Outputs"]) != "{}" || string(m["ReturnValue"]) != "null" || string(m["Logs"]) != "[]" || len(m) != 3 {
		t.Errorf("answer %s", body)
	}

	_, _, body = post(t, qs.URL+"/sweep", "", timer)
	if string(body) != `{"Outputs":{},"Logs":[],"ReturnValue":null}` {
		t.Errorf("answer %s", body)
	}
}

func TestFailureShape(t *testing.T) {
	tests := []struct {
		name       string
		failure    Failure
		wantStatus int
		wantLevel  string
	}{
		{"bad input", Failure{Status: 400, Message: "invalid onboarding message: tenantId: required"}, 400, "warn"},
		{"unavailable", Failure{Status: 503, Message: "Azure is throttling; retry later"}, 503, "error"},
		{"zero status", Failure{Message: "oops"}, 500, "error"},
		{"2xx status", Failure{Status: 200, Message: "not a failure"}, 500, "error"},
		{"3xx status", Failure{Status: 302, Message: "redirect"}, 500, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, ts := newTestServer(t, nil)
			s.Handle("onboarding", func(ctx context.Context, inv *Invocation) Result {
				inv.Log.Info().Msg("decoding")
				return Result{Outputs: map[string]any{"x": 1}, Failure: &tt.failure}
			})
			status, ct, body := post(t, ts.URL+"/onboarding", testInvocationID, sbInvocation)
			if status != tt.wantStatus || ct != "application/json" {
				t.Fatalf("status %d, Content-Type %q, body %s", status, ct, body)
			}
			// Only the error: the host drops the body of a non-2xx answer, so the
			// lines are on stdout, the path it always ingests.
			var fb struct{ Error string }
			decodeStrict(t, body, &fb)
			if fb.Error != tt.failure.Message {
				t.Errorf("error = %q, want %q", fb.Error, tt.failure.Message)
			}
			lines := invocationLines(t, out, testInvocationID)
			if len(lines) < 2 || lines[0]["message"] != "decoding" {
				t.Fatalf("stdout lines of the invocation = %v, want the handler's line first", lines)
			}
			last := lines[len(lines)-1]
			if last["message"] != "invocation failed" || last["error"] != tt.failure.Message ||
				last["status"] != float64(tt.wantStatus) || last["level"] != tt.wantLevel {
				t.Errorf("last log line = %v", last)
			}
		})
	}
}

func TestFailHelper(t *testing.T) {
	r := fail(403, "partner ID not allowed")
	if r.Failure == nil || r.Failure.Status != 403 || r.Failure.Message != "partner ID not allowed" {
		t.Errorf("fail = %+v", r)
	}
}

func TestUnencodableResult(t *testing.T) {
	s, _, ts := newTestServer(t, nil)
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result { return Result{ReturnValue: make(chan int)} })
	status, ct, body := post(t, ts.URL+"/f", "", `{"Data":{}}`)
	if status != 500 || ct != "application/json" || !strings.Contains(string(body), "cannot encode the result") {
		t.Errorf("status %d, Content-Type %q, body %s", status, ct, body)
	}
}

func TestInvocationID(t *testing.T) {
	s, out, ts := newTestServer(t, nil)
	ids := make(chan string, 1)
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result {
		ids <- inv.ID
		return Result{}
	})
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name, header string
		keep         bool
	}{
		{"host ID", testInvocationID, true},
		{"absent", "", false},
		{"too long", strings.Repeat("a", 200), false},
		{"odd characters", "abc def\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			post(t, ts.URL+"/f", tt.header, `{"Data":{}}`)
			got := <-ids
			switch {
			case tt.keep && got != tt.header:
				t.Errorf("ID = %q, want %q", got, tt.header)
			case !tt.keep && !uuid.MatchString(got):
				t.Errorf("generated ID %q is not a v4 UUID", got)
			}
			if lines := invocationLines(t, out, got); len(lines) == 0 {
				t.Errorf("no stdout line with invocation_id %q", got)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	s, _, ts := newTestServer(t, &ServerOptions{MaxBodyBytes: 1024})
	called := 0
	s.Handle("onboarding", func(ctx context.Context, inv *Invocation) Result {
		called++
		return Result{}
	})
	tests := []struct {
		name, method, path, body string
		status                   int
		wantErr                  string
	}{
		{"unknown function", "POST", "/nope", "{}", 404, `no function "nope"`},
		{"nested path", "POST", "/onboarding/x", "{}", 404, "no function"},
		{"api route", "POST", "/api/links", "{}", 404, "no function"},
		{"GET on a function", "GET", "/onboarding", "", 405, "method GET not allowed"},
		{"PUT on a function", "PUT", "/onboarding", "{}", 405, "method PUT not allowed"},
		{"too large", "POST", "/onboarding", `{"Data":{"x":"` + strings.Repeat("a", 2000) + `"}}`, 413, "larger than 1024 bytes"},
		{"not JSON", "POST", "/onboarding", "hello", 400, "not a JSON object with Data and Metadata"},
		{"JSON array", "POST", "/onboarding", "[]", 400, "not a JSON object"},
		{"empty", "POST", "/onboarding", "", 400, "not a JSON object"},
		{"Data not an object", "POST", "/onboarding", `{"Data":"x"}`, 400, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q, body %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e, _ := m["error"].(string); !strings.Contains(e, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", e, tt.wantErr)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
			if _, ok := m["Logs"]; ok {
				t.Errorf("Logs in a failure answer %s; lines go to stdout only", body)
			}
		})
	}
	if called != 0 {
		t.Errorf("handler called %d times", called)
	}
	// Function names match case-insensitively; Invocation.Function is the registered name.
	if status, _, body := post(t, ts.URL+"/OnBoarding", "", `{"data":{},"metadata":{}}`); status != 200 || called != 1 {
		t.Errorf("POST /OnBoarding: %d %s", status, body)
	}
}

func TestHandleMisuse(t *testing.T) {
	s := NewServer(zerolog.Nop(), nil)
	s.Handle("f", func(context.Context, *Invocation) Result { return Result{} })
	for name, f := range map[string]func(){
		"duplicate":   func() { s.Handle("F", func(context.Context, *Invocation) Result { return Result{} }) },
		"empty":       func() { s.Handle("", func(context.Context, *Invocation) Result { return Result{} }) },
		"slash":       func() { s.Handle("a/b", func(context.Context, *Invocation) Result { return Result{} }) },
		"nil handler": func() { s.Handle("g", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	s, out, ts := newTestServer(t, nil)
	s.Handle("boom", func(ctx context.Context, inv *Invocation) Result {
		inv.Log.Info().Msg("about to fail")
		panic("boom")
	})
	s.Handle("ok", func(ctx context.Context, inv *Invocation) Result { return Result{ReturnValue: "fine"} })

	status, ct, body := post(t, ts.URL+"/boom", testInvocationID, `{"Data":{}}`)
	if status != 500 || ct != "application/json" {
		t.Fatalf("status %d, Content-Type %q, body %s", status, ct, body)
	}
	var fb struct{ Error string }
	decodeStrict(t, body, &fb)
	if fb.Error != "internal error" {
		t.Errorf("error = %q", fb.Error)
	}
	var sawPanic bool
	for _, l := range out.lines(t) {
		if l["message"] == "handler panicked" {
			sawPanic = true
			if l["invocation_id"] != testInvocationID || l["panic"] != "boom" ||
				!strings.Contains(fmt.Sprint(l["stack"]), "TestPanicRecovery") || l["level"] != "error" {
				t.Errorf("panic line = %v", l)
			}
		}
	}
	if !sawPanic {
		t.Error("no panic line on stdout")
	}
	// The process lives on.
	if status, _, body := post(t, ts.URL+"/ok", "", `{"Data":{}}`); status != 200 || !strings.Contains(string(body), `"ReturnValue":"fine"`) {
		t.Errorf("after a panic: %d %s", status, body)
	}
}

func TestContextCarriesLogger(t *testing.T) {
	s, out, ts := newTestServer(t, nil)
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result {
		zerolog.Ctx(ctx).Info().Msg("via context")
		return Result{}
	})
	post(t, ts.URL+"/f", testInvocationID, `{"Data":{}}`)
	if l := invocationLines(t, out, testInvocationID); len(l) == 0 || l[0]["message"] != "via context" {
		t.Errorf("stdout lines of the invocation = %v, want \"via context\" first", l)
	}
}

func TestLogsPerInvocationUnderConcurrency(t *testing.T) {
	const n, perInvocation = 50, 20
	s, out, ts := newTestServer(t, nil)
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result {
		var marker string
		if err := json.Unmarshal(inv.Data["marker"], &marker); err != nil {
			return fail(400, err.Error())
		}
		// Log from several goroutines too: stdout must stay line-atomic.
		var wg sync.WaitGroup
		for i := range perInvocation {
			wg.Go(func() {
				inv.Log.Info().Str("marker", marker).Int("i", i).Msg("line")
			})
		}
		wg.Wait()
		return Result{ReturnValue: marker}
	})

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k := range n {
		wg.Go(func() {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", k)
			marker := fmt.Sprintf("m%d", k)
			status, _, body := post(t, ts.URL+"/f", id, `{"Data":{"marker":"`+marker+`"}}`)
			if status != 200 {
				errs <- fmt.Errorf("invocation %d: status %d %s", k, status, body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every line reached stdout whole (lines() fails on an interleaved line),
	// once, tagged with its own invocation.
	if got, want := len(out.lines(t)), n*(perInvocation+1); got != want {
		t.Errorf("%d lines on stdout, want %d", got, want)
	}
	for k := range n {
		id, marker := fmt.Sprintf("00000000-0000-4000-8000-%012d", k), fmt.Sprintf("m%d", k)
		seen := map[float64]int{}
		for _, l := range invocationLines(t, out, id) {
			if l["message"] != "line" {
				continue
			}
			if l["marker"] != marker {
				t.Errorf("invocation %d got marker %v", k, l["marker"])
			}
			seen[l["i"].(float64)]++
		}
		for i := range perInvocation {
			if seen[float64(i)] != 1 {
				t.Errorf("invocation %d: line %d on stdout %d times, want once", k, i, seen[float64(i)])
			}
		}
	}
}

// TestLogsAfterReturnGoToStdout: a line logged after the handler returned
// still reaches the host (stdout), and never the answer.
func TestLogsAfterReturnGoToStdout(t *testing.T) {
	s, out, ts := newTestServer(t, nil)
	release := make(chan struct{})
	done := make(chan struct{})
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result {
		go func() {
			defer close(done)
			<-release
			inv.Log.Info().Msg("late")
		}()
		return Result{}
	})
	_, _, body := post(t, ts.URL+"/f", testInvocationID, `{"Data":{}}`)
	close(release)
	<-done
	if strings.Contains(string(body), "late") {
		t.Errorf("late line in the answer: %s", body)
	}
	var late bool
	for _, l := range out.lines(t) {
		late = late || l["message"] == "late"
	}
	if !late {
		t.Error("late line not on stdout")
	}
}

// TestManyLogLinesAllOnStdout: there is no bound on an invocation's lines
// (Logs once had one); all reach stdout and the answer stays small.
func TestManyLogLinesAllOnStdout(t *testing.T) {
	const lines = 1500
	s, out, ts := newTestServer(t, nil)
	s.Handle("f", func(ctx context.Context, inv *Invocation) Result {
		for i := range lines {
			inv.Log.Info().Int("i", i).Msg("chatty")
		}
		return Result{}
	})
	_, _, body := post(t, ts.URL+"/f", testInvocationID, `{"Data":{}}`)
	if string(body) != `{"Outputs":{},"Logs":[],"ReturnValue":null}` {
		t.Errorf("answer %.200s", body)
	}
	if got := len(invocationLines(t, out, testInvocationID)); got != lines+1 {
		t.Errorf("%d lines on stdout, want %d", got, lines+1)
	}
}

// serve runs s.Serve on a loopback listener and returns its address and
// the channel Serve's result arrives on.
func serve(t *testing.T, ctx context.Context, s *Server) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), errc
}

func TestGracefulShutdown(t *testing.T) {
	out := &lockedBuffer{}
	s := NewServer(zerolog.Nop(), &ServerOptions{Stdout: out, ShutdownTimeout: 10 * time.Second})
	started := make(chan struct{})
	release := make(chan struct{})
	s.Handle("slow", func(ctx context.Context, inv *Invocation) Result {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
			return fail(500, "cancelled")
		}
		return Result{ReturnValue: "finished"}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, errc := serve(t, ctx, s)

	type answer struct {
		status int
		body   []byte
	}
	answers := make(chan answer, 1)
	go func() {
		status, _, body := post(t, url+"/slow", testInvocationID, `{"Data":{}}`)
		answers <- answer{status, body}
	}()
	<-started
	cancel()

	select {
	case err := <-errc:
		t.Fatalf("Serve returned %v before the in-flight invocation finished", err)
	case <-time.After(200 * time.Millisecond):
	}
	// No new connections are accepted while draining.
	if resp, err := (&http.Client{Timeout: time.Second}).Get(url + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("new request answered %d during shutdown", resp.StatusCode)
	}

	close(release)
	a := <-answers
	if a.status != 200 || !strings.Contains(string(a.body), `"ReturnValue":"finished"`) {
		t.Errorf("in-flight invocation: %d %s", a.status, a.body)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestShutdownTimeout(t *testing.T) {
	s := NewServer(zerolog.Nop(), &ServerOptions{Stdout: io.Discard, ShutdownTimeout: 100 * time.Millisecond})
	started := make(chan struct{})
	cancelled := make(chan struct{})
	s.Handle("stuck", func(ctx context.Context, inv *Invocation) Result {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return Result{}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, errc := serve(t, ctx, s)
	go func() {
		resp, err := http.Post(url+"/stuck", "application/json", strings.NewReader(`{"Data":{}}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the stuck handler's context was not cancelled")
	}
}

func TestServeListenerError(t *testing.T) {
	s := NewServer(zerolog.Nop(), &ServerOptions{Stdout: io.Discard})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := s.Serve(context.Background(), ln); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
