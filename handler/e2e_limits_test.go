package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestE2EHardeningBodyOfAnySize: a body of any size gets the documented 413
// with the error body, through the host: 70 KiB (the links function refuses
// it), 4 MiB and 20 MiB (the custom handler refuses the host's envelope
// before reading it, and still answers through the http output). Failed
// before: 4 MiB and more got the host's empty 500 (issue 16, D7).
func TestE2EHardeningBodyOfAnySize(t *testing.T) {
	t.Parallel()
	a := startApp(t, appOptions{})
	for _, size := range []int{70 << 10, 4 << 20, 20 << 20} {
		body := `{"tenantId":"` + tenantA + `","requestedBy":"` + strings.Repeat("x", size) + `"}`
		for _, path := range []string{"/api/links", "/api/report", "/api/dashboard"} {
			method := "GET"
			if path == "/api/links" {
				method = "POST"
			}
			ans := a.http(method, path, "application/json", body)
			var e struct {
				Error  string            `json:"error"`
				Fields map[string]string `json:"fields"`
			}
			if path == "/api/links" || size > 4<<20-1 {
				if ans.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("%s %s, %d bytes = %d %q, want 413", method, path, len(body), ans.StatusCode, ans.Body)
					continue
				}
				if err := json.Unmarshal(ans.Body, &e); err != nil || !strings.Contains(e.Error, "64 KiB") {
					t.Errorf("%s %s, %d bytes: body %q, want the error body naming 64 KiB", method, path, len(body), ans.Body)
				}
			}
		}
	}
	// The handler still serves after the large requests.
	if ans := a.http("GET", "/api/links?tenantId="+tenantA, "", ""); ans.StatusCode != http.StatusOK {
		t.Errorf("GET after the large requests = %d %s", ans.StatusCode, ans.Body)
	}
}
