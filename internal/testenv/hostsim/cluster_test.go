package hostsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// startCluster starts a cluster on the fake handler and stops it when the test ends.
func startCluster(t *testing.T, opts Options, n int) *Cluster {
	t.Helper()
	if opts.Executable == "" {
		opts.Executable = fakeHandler
	}
	out := &syncBuffer{}
	opts.Stdout, opts.Stderr = out, out
	l := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	opts.Logger = &l
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, opts, n)
	if err != nil {
		t.Fatalf("StartCluster: %v\nhandler output:\n%s", err, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if _, err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func TestClusterSpreadsDeliveriesWithinEachProcesssLimit(t *testing.T) {
	c := startCluster(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv()}, 3)
	q := c.Queue("pal-onboarding")
	const n = 12
	for range n {
		q.Send([]byte(`{"x":"FAKE:sleep=200ms"}`), nil)
	}
	start := time.Now()
	if err := c.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	done := q.Completed()
	if len(done) != n {
		t.Fatalf("completed %d, want %d", len(done), n)
	}
	perPid := map[int]int{}
	var peak int64
	for _, m := range done {
		e := echoOf(t, m.Result)
		perPid[e.Pid]++
		peak = max(peak, e.Concurrent)
	}
	if len(perPid) != 3 {
		t.Errorf("deliveries went to %d processes (%v), want all 3", len(perPid), perPid)
	}
	if peak > 2 {
		t.Errorf("a process had %d deliveries at once, want at most host.json maxConcurrentCalls 2", peak)
	}
	// 12 messages, 6 slots, 200 ms each: two rounds, not the four of one process.
	if elapsed > 700*time.Millisecond {
		t.Errorf("drained in %s, want about 400ms with 3 processes × 2 slots", elapsed)
	}
}

func TestClusterTimerOnOneProcessHTTPOnAll(t *testing.T) {
	root := writeApp(t, `{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "handler"}, "enableForwardingHttpRequest": true}}`, map[string]string{
		"functions/sweep/function.json": `{"bindings": [{"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 0 3 * * *"}]}`,
		"functions/hello/function.json": `{"bindings": [{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "methods": ["get"]},
			{"type": "http", "direction": "out", "name": "res"}]}`,
	})
	c := startCluster(t, Options{AppRoot: root, Env: []string{"APP_ARG=x"}}, 2)
	first := c.Hosts()[0]
	for range 2 {
		res, err := c.Timer(testContext(t), "sweep", false)
		if err != nil {
			t.Fatal(err)
		}
		if got := echoOf(t, res).Pid; got != hostPid(t, first) {
			t.Errorf("timer ran on pid %d, want the first process %d", got, hostPid(t, first))
		}
	}
	pids := map[int]bool{}
	for range 4 {
		res, err := c.HTTP(testContext(t), "GET", "/api/hello", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %s", res.StatusCode, res.Body)
		}
		var e echo
		if err := json.Unmarshal(res.Body, &e); err != nil {
			t.Fatalf("forwarded answer is not an echo: %v", err)
		}
		pids[e.Pid] = true
	}
	if len(pids) != 2 {
		t.Errorf("4 requests reached %d processes, want both", len(pids))
	}
}

// hostPid is the pid of the host's handler process.
func hostPid(t *testing.T, h *Host) int {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.worker.cmd.Process.Pid
}

// restToken is an unsigned JWT with the given audience and expiry.
func restToken(aud string, exp time.Time) string {
	claims, _ := json.Marshal(map[string]any{"aud": aud, "exp": exp.Unix()})
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"
}

func restPost(t *testing.T, url, token, contentType string, header map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestServiceBusRESTSendAppliesServiceBusRules(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv(), ServiceBusREST: "SB_REST", DuplicateDetectionWindow: time.Minute})
	base := h.ServiceBusURL()
	if base == "" {
		t.Fatal("no REST endpoint")
	}
	good := restToken(ServiceBusAudience, time.Now().Add(time.Hour))
	url := base + "/pal-onboarding/messages"
	q := h.Queue("pal-onboarding")
	later := time.Now().Add(time.Hour).UTC()
	cases := []struct {
		name        string
		url, token  string
		contentType string
		header      map[string]string
		body        []byte
		want        int
	}{
		{"no token", url, "", "application/json", nil, []byte(`{}`), 401},
		{"storage token", url, restToken("https://storage.azure.com", time.Now().Add(time.Hour)), "application/json", nil, []byte(`{}`), 401},
		{"expired token", url, restToken(ServiceBusAudience, time.Now().Add(-time.Minute)), "application/json", nil, []byte(`{}`), 401},
		{"no such queue", base + "/nope/messages", good, "application/json", nil, []byte(`{}`), 404},
		{"too large", url, good, "application/json", nil, bytes.Repeat([]byte("x"), MaxMessageBytes+1), 413},
		{"bad broker properties", url, good, "application/json", map[string]string{"BrokerProperties": "{"}, []byte(`{}`), 400},
		{"bad schedule", url, good, "application/json", map[string]string{"BrokerProperties": `{"ScheduledEnqueueTimeUtc":"tomorrow"}`}, []byte(`{}`), 400},
		{"sent", url, good, "application/json", map[string]string{"BrokerProperties": `{"MessageId":"m1","CorrelationId":"run"}`, "pal-attempt": "2", "pal-origin": `"x"`}, []byte(`{"a":1}`), 201},
		{"duplicate accepted and dropped", url, good, "application/json", map[string]string{"BrokerProperties": `{"MessageId":"m1"}`}, []byte(`{"a":2}`), 201},
		{"scheduled", url, good, "application/json", map[string]string{"BrokerProperties": `{"MessageId":"m2","ScheduledEnqueueTimeUtc":"` + later.Format(time.RFC1123) + `"}`}, []byte(`{}`), 201},
		{"batch", url, good, batchContentType, nil, []byte(`[{"Body":"{\"b\":1}","BrokerProperties":{"MessageId":"b1","ContentType":"application/json"},"UserProperties":{"k":"v"}},{"Body":"{}","BrokerProperties":{"MessageId":"m1"}}]`), 201},
		{"empty batch", url, good, batchContentType, nil, []byte(`[]`), 400},
	}
	for _, c := range cases {
		if got := restPost(t, c.url, c.token, c.contentType, c.header, c.body); got != c.want {
			t.Errorf("%s: got status %d, want %d", c.name, got, c.want)
		}
	}
	pending := q.Pending()
	var ids []string
	for _, m := range pending {
		ids = append(ids, m.MessageID)
	}
	if got, want := strings.Join(ids, ","), "m1,b1,m2"; got != want {
		t.Fatalf("queue holds %s, want %s (the duplicates dropped, the scheduled one last)", got, want)
	}
	m1, b1, m2 := pending[0], pending[1], pending[2]
	if string(m1.Body) != `{"a":1}` || m1.CorrelationID != "run" || m1.ContentType != "application/json" {
		t.Errorf("m1 = body %s correlation %q content type %q", m1.Body, m1.CorrelationID, m1.ContentType)
	}
	if m1.ApplicationProperties["pal-attempt"] != float64(2) || m1.ApplicationProperties["pal-origin"] != "x" {
		t.Errorf("m1 properties %v, want pal-attempt 2 and pal-origin x", m1.ApplicationProperties)
	}
	if b1.ApplicationProperties["k"] != "v" || string(b1.Body) != `{"b":1}` {
		t.Errorf("b1 = %s %v", b1.Body, b1.ApplicationProperties)
	}
	if !m2.ScheduledEnqueueTime.Equal(later.Truncate(time.Second)) {
		t.Errorf("m2 scheduled at %s, want %s", m2.ScheduledEnqueueTime, later.Truncate(time.Second))
	}
}
