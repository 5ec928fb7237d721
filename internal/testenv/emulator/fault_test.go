package emulator

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	w := newWorld()
	list := "/subscriptions?api-version=2022-12-01"
	put := partnersPath + "/1234567?api-version=2018-02-01"
	tests := []struct {
		name  string
		fault Fault
		// requests made in order, with the wanted status and error code of each
		method         []string
		path           []string
		wantStatus     []int
		wantCode       []string
		wantRetryAfter string // on the first answer
	}{
		{
			name:   "429 with Retry-After, twice",
			fault:  Fault{Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 2},
			method: []string{"GET", "GET", "GET"}, path: []string{list, list, list},
			wantStatus: []int{429, 429, 200}, wantCode: []string{"TooManyRequests", "TooManyRequests", ""},
			wantRetryAfter: "2",
		},
		{
			name:   "503 forever on writes only",
			fault:  Fault{Method: "PUT", Status: 503},
			method: []string{"GET", "PUT", "PUT"}, path: []string{list, put, put},
			wantStatus: []int{200, 503, 503}, wantCode: []string{"", "ServiceUnavailable", "ServiceUnavailable"},
		},
		{
			name:   "custom code on a path",
			fault:  Fault{PathContains: "managementpartner/PARTNERS", Status: 500, ErrorCode: "InternalError", Times: 1},
			method: []string{"GET", "PUT", "PUT"}, path: []string{list, put, put},
			wantStatus: []int{200, 500, 200}, wantCode: []string{"", "InternalError", ""},
		},
		{
			name:   "identity faults leave ARM alone",
			fault:  Fault{Target: TargetIdentity, Status: 500},
			method: []string{"GET"}, path: []string{list},
			wantStatus: []int{200}, wantCode: []string{""},
		},
		{
			name:   "faults come before authentication",
			fault:  Fault{Status: 502, Times: 1},
			method: []string{"GET"}, path: []string{list + "&no-token"},
			wantStatus: []int{502}, wantCode: []string{"BadGateway"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, w.estate(), nil)
			tok := armToken(t, e, w.me.ClientID)
			e.InjectFault(tt.fault)
			for i := range tt.method {
				token := tok
				if tt.path[i] == list+"&no-token" {
					token = ""
				}
				a := call(t, e, tt.method[i], tt.path[i], token)
				if a.status != tt.wantStatus[i] || a.code(t) != tt.wantCode[i] {
					t.Errorf("request %d: %s %s = %d %q, want %d %q", i, tt.method[i], tt.path[i], a.status, a.code(t), tt.wantStatus[i], tt.wantCode[i])
				}
				if i == 0 && tt.wantRetryAfter != "" && a.header.Get("Retry-After") != tt.wantRetryAfter {
					t.Errorf("Retry-After = %q, want %q", a.header.Get("Retry-After"), tt.wantRetryAfter)
				}
			}
			reqs := e.Requests()
			for i, r := range reqs {
				wantFaulted := r.Status != 200
				if r.Faulted != wantFaulted {
					t.Errorf("request %d recorded Faulted=%v, want %v", i, r.Faulted, wantFaulted)
				}
			}
		})
	}
}

func TestFaultRemove(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	remove := e.InjectFault(Fault{Status: 500})
	if a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok); a.status != 500 {
		t.Fatalf("with fault: %d", a.status)
	}
	remove()
	remove() // twice is fine
	if a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok); a.status != 200 {
		t.Fatalf("after remove: %d", a.status)
	}
}

func TestFaultLatency(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	e.InjectFault(Fault{Latency: 300 * time.Millisecond, Times: 1})
	t0 := time.Now()
	a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok)
	if took := time.Since(t0); took < 300*time.Millisecond || a.status != 200 {
		t.Errorf("delayed request: %d after %v, want 200 after >= 300ms", a.status, took)
	}
	t0 = time.Now()
	if a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok); time.Since(t0) > 250*time.Millisecond || a.status != 200 {
		t.Errorf("second request: %d after %v, want no delay", a.status, time.Since(t0))
	}

	// A client that gives up early ends the wait; Close ends waits too.
	e.InjectFault(Fault{Latency: time.Hour})
	client := e.HTTPClient()
	client.Timeout = 100 * time.Millisecond
	req, _ := http.NewRequest("GET", e.ARMURL()+"/subscriptions?api-version=2022-12-01", nil)
	if _, err := client.Do(req); err == nil {
		t.Error("request with an hour of latency answered")
	}
	go func() {
		req, _ := http.NewRequest("GET", e.ARMURL()+"/subscriptions?api-version=2022-12-01", nil)
		resp, err := e.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for injected latency")
	}
}

func TestFaultDrop(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	e.InjectFault(Fault{Drop: true, Times: 1})
	req, _ := http.NewRequest("GET", e.ARMURL()+"/subscriptions?api-version=2022-12-01", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := e.HTTPClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if a := call(t, e, "GET", "/subscriptions?api-version=2022-12-01", tok); a.status != 200 {
		t.Errorf("after the drop: %d", a.status)
	}
	// The dropped request is recorded once its handler returns, which may be
	// after the client saw the connection close.
	reqs := e.Requests()
	for deadline := time.Now().Add(time.Second); len(reqs) < 2 && time.Now().Before(deadline); reqs = e.Requests() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v, want the dropped one and the answered one", reqs)
	}
	dropped := reqs[0]
	if dropped.Status == 200 {
		dropped = reqs[1]
	}
	if dropped.Status != 0 || !dropped.Faulted {
		t.Errorf("requests = %+v, want one dropped (status 0, faulted)", reqs)
	}

	// The identity endpoint drops too.
	e.InjectFault(Fault{Target: TargetIdentity, Drop: true, Times: 1})
	req, _ = http.NewRequest("GET", e.IdentityEndpoint()+"?api-version=2019-08-01&resource=x", nil)
	req.Header.Set("X-IDENTITY-HEADER", e.IdentityHeader())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped identity request answered %d", resp.StatusCode)
	}
}

func TestThrottle(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), &Options{Throttle: &Throttle{ReadsPerSecond: 0.5, ReadBurst: 2, WritesPerSecond: 0.25, WriteBurst: 1}})
	me := armToken(t, e, w.me.ClientID)
	other := armToken(t, e, w.other.ClientID)
	list := "/subscriptions?api-version=2022-12-01"
	put := partnersPath + "/1234567?api-version=2018-02-01"
	steps := []struct {
		method, path, token string
		wantStatus          int
		wantRemaining       string // x-ms-ratelimit-remaining-tenant-{reads,writes}
	}{
		{"GET", list, me, 200, "1"},
		{"GET", list, me, 200, "0"},
		{"GET", list, me, 429, ""},
		{"GET", list, other, 200, "1"}, // buckets are per principal
		{"PUT", put, me, 200, "0"},     // writes have their own bucket
		{"PUT", put, me, 429, ""},
	}
	for i, s := range steps {
		a := call(t, e, s.method, s.path, s.token)
		if a.status != s.wantStatus {
			t.Fatalf("step %d: %s = %d %s, want %d", i, s.method, a.status, a.body, s.wantStatus)
		}
		kind := map[string]string{"GET": "reads", "PUT": "writes"}[s.method]
		if s.wantStatus == 429 {
			ra, err := strconv.Atoi(a.header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 4 || a.code(t) != "TooManyRequests" {
				t.Errorf("step %d: Retry-After %q code %q", i, a.header.Get("Retry-After"), a.code(t))
			}
			continue
		}
		if got := a.header.Get("x-ms-ratelimit-remaining-tenant-" + kind); got != s.wantRemaining {
			t.Errorf("step %d: remaining %s = %q, want %q", i, kind, got, s.wantRemaining)
		}
	}
}
