package azure

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParsePartnerLenient(t *testing.T) {
	tests := []struct {
		file        string
		wantVersion int64
		wantETag    int64
		wantType    string
		wantUpdated time.Time
	}{
		{"partner_get_example_string_version.json", 3, 3, "Microsoft.ManagementPartner/partner", time.Date(2018, 1, 20, 1, 52, 57, 912605200, time.UTC)},
		{"partners_get_example_no_partner_id.json", 3, 3, "Microsoft.ManagementPartner/partner", time.Date(2018, 1, 20, 1, 52, 57, 912605200, time.UTC)},
		{"cli_rec_put_123456.json", 63, 63, "Microsoft.ManagementPartner/partners", time.Date(2018, 2, 11, 22, 18, 13, 221080600, time.UTC)},
		{"cli_rec_patch_123457.json", 64, 64, "Microsoft.ManagementPartner/partners", time.Date(2018, 2, 11, 22, 18, 14, 221061900, time.UTC)},
		{"ps_rec_put_5127255.json", 20, 20, "Microsoft.ManagementPartner/partners", time.Date(2018, 7, 30, 21, 13, 59, 318186000, time.UTC)},
		{"citadel_put_314159.json", 1, 1, "Microsoft.ManagementPartner/partners", time.Date(2026, 1, 16, 13, 56, 59, 611200400, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pr, err := parsePartner([]byte(readTestdata(t, tt.file)))
			if err != nil {
				t.Fatalf("parsePartner: %v", err)
			}
			if pr.Properties == nil {
				t.Fatal("no properties")
			}
			if got := int64(pr.Properties.Version); got != tt.wantVersion {
				t.Errorf("version = %d, want %d", got, tt.wantVersion)
			}
			if got := int64(pr.ETag); got != tt.wantETag {
				t.Errorf("etag = %d, want %d", got, tt.wantETag)
			}
			if pr.Type != tt.wantType {
				t.Errorf("type = %q, want %q", pr.Type, tt.wantType)
			}
			if got := pr.Properties.UpdatedTime.Time; !got.Equal(tt.wantUpdated) {
				t.Errorf("updatedTime = %v, want %v", got, tt.wantUpdated)
			}
		})
	}
}

func TestParsePartnerOddFields(t *testing.T) {
	tests := []struct {
		name, body  string
		wantVersion int64
		wantETag    int64
	}{
		{"null_version", `{"name":"1","etag":null,"properties":{"partnerId":"1","version":null}}`, 0, 0},
		{"string_etag", `{"name":"1","etag":"7","properties":{"partnerId":"1","version":" 8 "}}`, 8, 7},
		{"float_version", `{"name":"1","etag":2.0,"properties":{"partnerId":"1","version":5.0}}`, 5, 2},
		{"garbage_version_and_times", `{"name":"1","etag":"W/\"x\"","properties":{"partnerId":"1","version":"v9","updatedTime":"yesterday","createdTime":17}}`, 0, 0},
		{"object_version", `{"name":"1","properties":{"partnerId":"1","version":{"a":1}}}`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := parsePartner([]byte(tt.body))
			if err != nil {
				t.Fatalf("parsePartner: %v", err)
			}
			if got := int64(pr.Properties.Version); got != tt.wantVersion {
				t.Errorf("version = %d, want %d", got, tt.wantVersion)
			}
			if got := int64(pr.ETag); got != tt.wantETag {
				t.Errorf("etag = %d, want %d", got, tt.wantETag)
			}
		})
	}
}

func TestCurrentLink(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     *pal.Link
		wantCode pal.ErrorCode
	}{
		{
			name: "spec_example_string_version", status: 200, body: readTestdata(t, "partner_get_example_string_version.json"),
			want: &pal.Link{PartnerID: "123456", PartnerName: "Test_jefl", TenantID: "1b1121dd-6900-412a-af73-e8d44f81e1c1", ObjectID: "aa67f786-0552-423e-8849-244ed12bf581", State: "Active"},
		},
		{
			name: "spec_example_no_partner_id", status: 200, body: readTestdata(t, "partners_get_example_no_partner_id.json"),
			want: &pal.Link{PartnerID: "123456", PartnerName: "Test_jefl", TenantID: "1b1121dd-6900-412a-af73-e8d44f81e1c1", ObjectID: "aa67f786-0552-423e-8849-244ed12bf581", State: "Active"},
		},
		{
			name: "production_recording", status: 200, body: readTestdata(t, "ps_rec_put_5127255.json"),
			want: &pal.Link{PartnerID: "5127255", PartnerName: "Test_Test_DhirajTesting", TenantID: testTenant, ObjectID: testObject, State: "Active"},
		},
		{
			name: "deleted_returned_as_is", status: 200,
			body: `{"id":"/providers/microsoft.managementpartner/partners","type":"Microsoft.ManagementPartner/partners","name":"123456","etag":58,"properties":{"partnerId":"123456","tenantId":"1B1121DD-6900-412A-AF73-E8D44F81E1C1","objectId":"AA67F786-0552-423E-8849-244ED12BF581","version":58,"state":"Deleted"}}`,
			want: &pal.Link{PartnerID: "123456", TenantID: "1b1121dd-6900-412a-af73-e8d44f81e1c1", ObjectID: "aa67f786-0552-423e-8849-244ed12bf581", State: "Deleted"},
		},
		{name: "no_link_404", status: 404, body: `{"error":{"code":"NotFound","message":"Partner not found"}}`, want: nil},
		{name: "empty_200", status: 200, body: "", want: nil},
		{name: "not_json", status: 200, body: "<html>proxy</html>", wantCode: pal.CodeInternal},
		{name: "forbidden", status: 403, body: `{"error":{"code":"AuthorizationFailed","message":"no"}}`, wantCode: pal.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, tt.body) }, nil)
			got, err := at.clients.Partner.CurrentLink(context.Background())
			checkNoSecret(t, err)
			if tt.wantCode != "" {
				if code := pal.ErrorCodeOf(err); code != tt.wantCode {
					t.Fatalf("error code = %q (%v), want %q", code, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("CurrentLink: %v", err)
			}
			switch {
			case tt.want == nil && got != nil:
				t.Fatalf("CurrentLink = %+v, want nil", *got)
			case tt.want != nil && (got == nil || *got != *tt.want):
				t.Fatalf("CurrentLink = %+v, want %+v", got, *tt.want)
			}
			reqs := at.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != "/providers/Microsoft.ManagementPartner/partners" || r.RawQuery != "api-version=2018-02-01" {
				t.Errorf("request = %s %s?%s, want GET /providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01", r.Method, r.Path, r.RawQuery)
			}
			if r.Auth != "Bearer "+at.cred.token {
				t.Errorf("Authorization header missing or wrong")
			}
		})
	}
}

func TestWriteLink(t *testing.T) {
	put := readTestdata(t, "cli_rec_put_123456.json")
	patch := readTestdata(t, "cli_rec_patch_123457.json")
	tests := []struct {
		name       string
		call       func(context.Context, *PartnerClient) (*pal.Link, error)
		handler    func(w http.ResponseWriter, r *http.Request)
		wantMethod string
		wantPath   string
		wantID     string
		wantReqs   int
	}{
		{
			name:       "put_200",
			call:       func(ctx context.Context, c *PartnerClient) (*pal.Link, error) { return c.CreateLink(ctx, "123456") },
			handler:    func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, put) },
			wantMethod: http.MethodPut, wantPath: "/providers/Microsoft.ManagementPartner/partners/123456", wantID: "123456", wantReqs: 1,
		},
		{
			name:       "put_201",
			call:       func(ctx context.Context, c *PartnerClient) (*pal.Link, error) { return c.CreateLink(ctx, "123456") },
			handler:    func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, put) },
			wantMethod: http.MethodPut, wantPath: "/providers/Microsoft.ManagementPartner/partners/123456", wantID: "123456", wantReqs: 1,
		},
		{
			name: "put_204_then_get",
			call: func(ctx context.Context, c *PartnerClient) (*pal.Link, error) { return c.CreateLink(ctx, "123456") },
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					writeJSON(w, 200, put)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			},
			wantMethod: http.MethodPut, wantPath: "/providers/Microsoft.ManagementPartner/partners/123456", wantID: "123456", wantReqs: 2,
		},
		{
			name: "put_empty_200_then_get",
			call: func(ctx context.Context, c *PartnerClient) (*pal.Link, error) { return c.CreateLink(ctx, "123456") },
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					writeJSON(w, 200, put)
					return
				}
				w.WriteHeader(http.StatusOK)
			},
			wantMethod: http.MethodPut, wantPath: "/providers/Microsoft.ManagementPartner/partners/123456", wantID: "123456", wantReqs: 2,
		},
		{
			name:       "patch_200",
			call:       func(ctx context.Context, c *PartnerClient) (*pal.Link, error) { return c.UpdateLink(ctx, "123457") },
			handler:    func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, patch) },
			wantMethod: http.MethodPatch, wantPath: "/providers/Microsoft.ManagementPartner/partners/123457", wantID: "123457", wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newARMTest(t, tt.handler, nil)
			link, err := tt.call(context.Background(), at.clients.Partner)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if link.PartnerID != tt.wantID || link.State != "Active" || link.ObjectID != "aa67f786-0552-423e-8849-244ed12bf581" {
				t.Errorf("link = %+v, want partner %s, Active", *link, tt.wantID)
			}
			reqs := at.requests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("requests = %d, want %d", len(reqs), tt.wantReqs)
			}
			r := reqs[0]
			if r.Method != tt.wantMethod || r.Path != tt.wantPath || r.RawQuery != "api-version=2018-02-01" {
				t.Errorf("request = %s %s?%s, want %s %s?api-version=2018-02-01", r.Method, r.Path, r.RawQuery, tt.wantMethod, tt.wantPath)
			}
			if r.Body != "" || r.ContentLength > 0 {
				t.Errorf("request body = %q (Content-Length %d), want none", r.Body, r.ContentLength)
			}
		})
	}
}

func TestCreateLinkAlreadyLinked(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		armError(w, http.StatusConflict, "PartnerIdAlreadyLinked", "This user or service principal is already linked with a Partner ID")
	}, &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond})
	link, err := at.clients.Partner.CreateLink(context.Background(), "1234567")
	if link != nil {
		t.Errorf("link = %+v, want nil", *link)
	}
	if code := pal.ErrorCodeOf(err); code != pal.CodeAlreadyLinked {
		t.Fatalf("error code = %q (%v), want %q", code, err, pal.CodeAlreadyLinked)
	}
	checkNoSecret(t, err)
	if n := len(at.requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (a 409 is not retried)", n)
	}
}

// TestCreateLinkAnyConflictIsARace: Microsoft's spec names the PUT's conflict
// code "Conflict", the live service "PartnerIdAlreadyLinked"; any 409 on the
// PUT, whatever its code (or none), means another writer linked the identity
// first, so the engine re-reads the link. Before the fix only
// PartnerIdAlreadyLinked was, and a 409 Conflict failed the invocation.
func TestCreateLinkAnyConflictIsARace(t *testing.T) {
	for _, code := range []string{"Conflict", "PartnerIdAlreadyLinked", "SomethingNew", ""} {
		t.Run("code_"+code, func(t *testing.T) {
			at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
				if code == "" {
					w.WriteHeader(http.StatusConflict)
					return
				}
				armError(w, http.StatusConflict, code, "conflict")
			}, &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond})
			_, err := at.clients.Partner.CreateLink(context.Background(), "1234567")
			if got := pal.ErrorCodeOf(err); got != pal.CodeAlreadyLinked {
				t.Fatalf("error code = %q (%v), want %q", got, err, pal.CodeAlreadyLinked)
			}
		})
	}
	// A 409 on PATCH is no race the PUT policy knows: it stays rejected.
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		armError(w, http.StatusConflict, "Conflict", "conflict")
	}, nil)
	_, err := at.clients.Partner.UpdateLink(context.Background(), "1234567")
	if got := pal.ErrorCodeOf(err); got != pal.CodeRejected {
		t.Fatalf("PATCH 409: error code = %q (%v), want %q", got, err, pal.CodeRejected)
	}
}

func TestPartnerIDValidatedBeforeRequest(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "{}") }, nil)
	ctx := context.Background()
	for _, id := range []string{"", "12a456", "123 456", "../123", "-1", "１２３"} {
		_, errC := at.clients.Partner.CreateLink(ctx, id)
		_, errU := at.clients.Partner.UpdateLink(ctx, id)
		for _, err := range []error{errC, errU} {
			if code := pal.ErrorCodeOf(err); code != pal.CodeInvalidInput {
				t.Errorf("partner ID %q: error code = %q, want %q", id, code, pal.CodeInvalidInput)
			}
		}
	}
	if n := len(at.requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestPartnerThrottled(t *testing.T) {
	t.Run("retry_after_beyond_max_retry_delay", func(t *testing.T) {
		at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			armError(w, http.StatusTooManyRequests, "TooManyRequests", "slow down")
		}, &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: time.Second})
		_, err := at.clients.Partner.CurrentLink(context.Background())
		pe := palError(t, err)
		if pe.Code != pal.CodeTransient || pe.RetryAfter != 120*time.Second {
			t.Errorf("error = %s / RetryAfter %v, want %s / 2m0s", pe.Code, pe.RetryAfter, pal.CodeTransient)
		}
		if n := len(at.requests()); n != 1 {
			t.Errorf("requests = %d, want 1 (azcore does not wait beyond MaxRetryDelay)", n)
		}
	})
	t.Run("retried_until_success", func(t *testing.T) {
		var n atomic.Int32
		put := readTestdata(t, "cli_rec_put_123456.json")
		at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= 2 {
				w.Header().Set("Retry-After-Ms", "1")
				armError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "busy")
				return
			}
			writeJSON(w, 200, put)
		}, &policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond})
		link, err := at.clients.Partner.CurrentLink(context.Background())
		if err != nil || link == nil || link.PartnerID != "123456" {
			t.Fatalf("CurrentLink = %+v, %v; want partner 123456", link, err)
		}
		if got := len(at.requests()); got != 3 {
			t.Errorf("requests = %d, want 3", got)
		}
	})
	t.Run("retries_exhausted", func(t *testing.T) {
		at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After-Ms", "2")
			armError(w, http.StatusInternalServerError, "InternalServerError", "oops")
		}, &policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond})
		_, err := at.clients.Partner.CreateLink(context.Background(), "123456")
		pe := palError(t, err)
		if pe.Code != pal.CodeTransient || pe.RetryAfter != 2*time.Millisecond {
			t.Errorf("error = %s / RetryAfter %v, want %s / 2ms", pe.Code, pe.RetryAfter, pal.CodeTransient)
		}
		if got := len(at.requests()); got != 3 {
			t.Errorf("requests = %d, want 3", got)
		}
	})
}

func TestPartnerDroppedConnection(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		// Reset the TCP connection under TLS rather than close it cleanly.
		if tc, ok := conn.(*tls.Conn); ok {
			conn = tc.NetConn()
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}, nil)
	_, err := at.clients.Partner.CurrentLink(context.Background())
	if code := pal.ErrorCodeOf(err); code != pal.CodeTransient {
		t.Fatalf("error code = %q (%v), want %q", code, err, pal.CodeTransient)
	}
	t.Logf("got %v", palError(t, err).Message)
	checkNoSecret(t, err)
}

func TestPartnerTokenFailure(t *testing.T) {
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "{}") }, nil)
	at.cred.mu.Lock()
	at.cred.err = errTokenEndpointDown
	at.cred.mu.Unlock()
	_, err := at.clients.Partner.CurrentLink(context.Background())
	if code := pal.ErrorCodeOf(err); code != pal.CodeTransient {
		t.Fatalf("error code = %q (%v), want %q", code, err, pal.CodeTransient)
	}
	if !strings.Contains(palError(t, err).Message, "token") {
		t.Errorf("Message = %q, want it to say the token failed", palError(t, err).Message)
	}
	if n := len(at.requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestPartnerContextDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := at.clients.Partner.CurrentLink(ctx)
	if code := pal.ErrorCodeOf(err); code != pal.CodeTransient {
		t.Fatalf("error code = %q (%v), want %q", code, err, pal.CodeTransient)
	}
}
