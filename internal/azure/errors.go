package azure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// maxRetryAfterSeconds bounds a Retry-After in seconds; anything larger is
// taken as garbage rather than overflow a time.Duration.
const maxRetryAfterSeconds = 366 * 24 * 60 * 60

// ARM error codes translate looks at.
const (
	errCodeWrongTenant   = "InvalidAuthenticationTokenTenant"
	errCodeAlreadyLinked = "PartnerIdAlreadyLinked"
)

// translate turns an error of the Azure SDK into a [*pal.Error]. op names the
// operation for the message, e.g. "GET subscription 0000…". The message is
// short and safe to show; err is kept as the Error's Err. A nil err gives nil
// and an err that already holds a *pal.Error is returned as it is.
//
// Azure's answers map so:
//   - PartnerIdAlreadyLinked (any status) → CodeAlreadyLinked
//   - 404, and 401 InvalidAuthenticationTokenTenant (a subscription of another
//     tenant) → CodeNotFound
//   - 403 → CodeForbidden
//   - 408, 429, 5xx → CodeTransient, with RetryAfter from the response headers
//   - any other 4xx → CodeRejected
//
// An Azure CLI that cannot sign in until a person acts → CodeSignIn. Any
// other failed token request, a timeout, a cancelled context, a dropped or reset
// connection and other network errors → CodeTransient. A certificate that does
// not verify → CodeInternal, as does anything else.
func translate(op string, err error) error {
	return translateAt(op, err, time.Now())
}

// translateAt is translate with the time used to read an HTTP-date Retry-After.
func translateAt(op string, err error, now time.Time) error {
	if err == nil {
		return nil
	}
	var pe *pal.Error
	if errors.As(err, &pe) {
		return err
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fromResponseError(op, re, err, now)
	}
	transient := func(what string) error {
		return &pal.Error{Code: pal.CodeTransient, Message: op + ": " + what, Err: err}
	}
	var (
		te  *tokenError
		afe *azidentity.AuthenticationFailedError
		are *azidentity.AuthenticationRequiredError
	)
	switch {
	case errors.As(err, &te), errors.As(err, &afe), errors.As(err, &are):
		if se := signInError(err); se != nil {
			return se
		}
		return transient("could not get an ARM token")
	case errors.Is(err, context.DeadlineExceeded):
		return transient("timed out")
	case errors.Is(err, context.Canceled):
		return transient("cancelled")
	case isTLSConfigError(err):
		return &pal.Error{Code: pal.CodeInternal, Message: op + ": TLS handshake with Azure failed (certificate or protocol); check the endpoint and the trust store", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return transient("connection to Azure dropped")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return transient("connection to Azure reset")
	case errors.Is(err, syscall.ECONNREFUSED):
		return transient("connection to Azure refused")
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return transient("timed out")
		}
		return transient("network error")
	}
	return &pal.Error{Code: pal.CodeInternal, Message: op + ": unexpected error", Err: err}
}

// fromResponseError maps an ARM error answer.
func fromResponseError(op string, re *azcore.ResponseError, err error, now time.Time) error {
	status := re.StatusCode
	code := SafeCode(re.ErrorCode)
	what := strconv.Itoa(status)
	switch {
	case code != "":
		what += " " + code
	case http.StatusText(status) != "":
		what += " " + http.StatusText(status)
	}
	e := &pal.Error{Message: op + ": Azure answered " + what, Err: err}
	switch {
	case strings.EqualFold(re.ErrorCode, errCodeAlreadyLinked):
		e.Code = pal.CodeAlreadyLinked
	case status == http.StatusNotFound:
		e.Code = pal.CodeNotFound
	case status == http.StatusUnauthorized && strings.EqualFold(re.ErrorCode, errCodeWrongTenant):
		e.Code = pal.CodeNotFound
	case status == http.StatusForbidden:
		e.Code = pal.CodeForbidden
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500 && status <= 599:
		e.Code = pal.CodeTransient
		if re.RawResponse != nil {
			e.RetryAfter = RetryAfter(re.RawResponse.Header, now)
		}
	case status >= 400 && status <= 499:
		e.Code = pal.CodeRejected
	default:
		e.Code = pal.CodeInternal
	}
	return e
}

// RetryAfter returns the delay an Azure response asks for, zero when it asks
// for none. Like azcore's retry policy it reads, in this order,
// retry-after-ms, x-ms-retry-after-ms (milliseconds) and retry-after (seconds
// or an HTTP-date). Every adapter (ARM, Table Storage) reads it here.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	for _, name := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 && ms <= maxRetryAfterSeconds*1000 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s > 0 && s <= maxRetryAfterSeconds {
			return time.Duration(s) * time.Second
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// SafeCode returns a service error code fit for a message: letters, digits,
// '.', '_' and '-' only, at most 64 of them; anything else gives "".
func SafeCode(s string) string {
	if len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return ""
		}
	}
	return s
}

// isTLSConfigError reports whether err is a TLS failure that retrying will not
// cure: a certificate that does not verify or a server that does not speak TLS.
func isTLSConfigError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		cie x509.CertificateInvalidError
		rhe tls.RecordHeaderError
	)
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) ||
		errors.As(err, &cie) || errors.As(err, &rhe)
}

// invalidInput returns a CodeInvalidInput error about one field.
func invalidInput(field, problem string) error {
	return &pal.Error{
		Code:    pal.CodeInvalidInput,
		Message: fmt.Sprintf("%s %s", field, problem),
		Fields:  map[string]string{field: problem},
	}
}
