package azure

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// responseError builds the *azcore.ResponseError azcore makes of an answer.
func responseError(status int, header http.Header, body string) error {
	req, _ := http.NewRequest(http.MethodGet, "https://management.azure.com/subscriptions/x?api-version=2022-12-01", nil)
	req.Header.Set("Authorization", "Bearer "+tokenMarker)
	if header == nil {
		header = http.Header{}
	}
	return runtime.NewResponseError(&http.Response{
		StatusCode: status,
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:     header,
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	})
}

func armErrorBody(code string) string {
	return `{"error":{"code":"` + code + `","message":"details that may echo ` + tokenMarker + `"}}`
}

func TestTranslateResponseErrors(t *testing.T) {
	h := func(kv ...string) http.Header {
		hh := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hh.Set(kv[i], kv[i+1])
		}
		return hh
	}
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		wantCode  pal.ErrorCode
		wantRetry time.Duration
		wantMsg   string
	}{
		{name: "404", status: 404, body: armErrorBody("SubscriptionNotFound"), wantCode: pal.CodeNotFound, wantMsg: "op: Azure answered 404 SubscriptionNotFound"},
		{name: "401_other_tenant", status: 401, body: armErrorBody("InvalidAuthenticationTokenTenant"), wantCode: pal.CodeNotFound},
		{name: "401_expired_token", status: 401, body: armErrorBody("ExpiredAuthenticationToken"), wantCode: pal.CodeRejected},
		{name: "403", status: 403, body: armErrorBody("AuthorizationFailed"), wantCode: pal.CodeForbidden, wantMsg: "op: Azure answered 403 AuthorizationFailed"},
		{name: "409_already_linked", status: 409, body: armErrorBody("PartnerIdAlreadyLinked"), wantCode: pal.CodeAlreadyLinked},
		{name: "400_already_linked", status: 400, body: armErrorBody("PartnerIdAlreadyLinked"), wantCode: pal.CodeAlreadyLinked},
		{name: "already_linked_in_header", status: 409, header: h("x-ms-error-code", "PartnerIdAlreadyLinked"), wantCode: pal.CodeAlreadyLinked},
		{name: "400", status: 400, body: armErrorBody("InvalidPartnerId"), wantCode: pal.CodeRejected},
		{name: "409_other", status: 409, body: armErrorBody("Conflict"), wantCode: pal.CodeRejected},
		{name: "408", status: 408, wantCode: pal.CodeTransient, wantMsg: "op: Azure answered 408 Request Timeout"},
		{name: "429_seconds", status: 429, header: h("Retry-After", "17"), body: armErrorBody("TooManyRequests"), wantCode: pal.CodeTransient, wantRetry: 17 * time.Second, wantMsg: "op: Azure answered 429 TooManyRequests"},
		{name: "429_no_header", status: 429, wantCode: pal.CodeTransient},
		{name: "500", status: 500, header: h("retry-after-ms", "250"), wantCode: pal.CodeTransient, wantRetry: 250 * time.Millisecond},
		{name: "503_x_ms", status: 503, header: h("x-ms-retry-after-ms", "1500"), wantCode: pal.CodeTransient, wantRetry: 1500 * time.Millisecond},
		{name: "504", status: 504, wantCode: pal.CodeTransient},
		{name: "302", status: 302, wantCode: pal.CodeInternal},
		{name: "hostile_code_not_echoed", status: 400, header: h("x-ms-error-code", "Bearer "+tokenMarker), wantCode: pal.CodeRejected, wantMsg: "op: Azure answered 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := responseError(tt.status, tt.header, tt.body)
			err := translate("op", orig)
			pe := palError(t, err)
			if pe.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", pe.Code, tt.wantCode)
			}
			if pe.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tt.wantRetry)
			}
			if tt.wantMsg != "" && pe.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", pe.Message, tt.wantMsg)
			}
			if strings.Contains(pe.Message, tokenMarker) || strings.Contains(pe.Message, "\n") {
				t.Errorf("Message = %q, want it short and without the answer's body", pe.Message)
			}
			if !errors.Is(err, orig) {
				t.Errorf("error does not keep the original in Err")
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "30"}, 30 * time.Second},
		{"http_date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"http_date_past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"ms_first", map[string]string{"retry-after-ms": "120", "x-ms-retry-after-ms": "5000", "Retry-After": "9"}, 120 * time.Millisecond},
		{"x_ms_before_seconds", map[string]string{"x-ms-retry-after-ms": "5000", "Retry-After": "9"}, 5 * time.Second},
		{"bad_ms_falls_through", map[string]string{"retry-after-ms": "soon", "Retry-After": "9"}, 9 * time.Second},
		{"zero", map[string]string{"Retry-After": "0"}, 0},
		{"negative", map[string]string{"Retry-After": "-5"}, 0},
		{"garbage", map[string]string{"Retry-After": "later please"}, 0},
		{"huge", map[string]string{"Retry-After": "99999999999999999"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter(%v) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestTranslateOtherErrors(t *testing.T) {
	opErr := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://management.azure.com/subscriptions", Err: &net.OpError{Op: "read", Net: "tcp", Err: err}}
	}
	already := &pal.Error{Code: pal.CodeAlreadyLinked, Message: "kept"}
	tests := []struct {
		name     string
		err      error
		wantCode pal.ErrorCode
	}{
		{"token", &tokenError{err: errors.New("AzureCLICredential: please run az login")}, pal.CodeTransient},
		{"auth_failed", &azidentity.AuthenticationFailedError{}, pal.CodeTransient},
		{"auth_required", &azidentity.AuthenticationRequiredError{}, pal.CodeTransient},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), pal.CodeTransient},
		{"cancelled", context.Canceled, pal.CodeTransient},
		{"unexpected_eof", &url.Error{Op: "Get", URL: "https://x", Err: io.ErrUnexpectedEOF}, pal.CodeTransient},
		{"eof", &url.Error{Op: "Get", URL: "https://x", Err: io.EOF}, pal.CodeTransient},
		{"reset", opErr(os.NewSyscallError("read", syscall.ECONNRESET)), pal.CodeTransient},
		{"refused", opErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), pal.CodeTransient},
		{"dns", &url.Error{Op: "Get", URL: "https://x", Err: &net.DNSError{Err: "no such host", Name: "x"}}, pal.CodeTransient},
		{"unknown_ca", &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}, pal.CodeInternal},
		{"other", errors.New("something odd"), pal.CodeInternal},
		{"pal_error_kept", fmt.Errorf("ctx: %w", already), pal.CodeAlreadyLinked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translate("GET thing", tt.err)
			pe := palError(t, err)
			if pe.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q (%v)", pe.Code, tt.wantCode, err)
			}
			if !errors.Is(err, tt.err) && !errors.Is(tt.err, err) {
				t.Errorf("translate lost the original error")
			}
			if !strings.HasPrefix(pe.Message, "GET thing") && pe != already {
				t.Errorf("Message = %q, want it to name the operation", pe.Message)
			}
		})
	}
	if err := translate("op", nil); err != nil {
		t.Errorf("translate(nil) = %v, want nil", err)
	}
}
