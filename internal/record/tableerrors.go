package record

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// RoleTableDataContributor is the role the function's identity needs on the
// storage account for the record.
const RoleTableDataContributor = "Storage Table Data Contributor"

// translate turns an error of a Table Storage request into a [*pal.Error]:
// 403 → CodeForbidden naming the missing role; 400, 413, 414 and 431 (the
// service refused what we sent: a value too large, a bad input, a query or
// header too long) → CodeInternal, since retrying cannot mend our own data;
// anything else (throttling,
// 5xx, network, token, timeouts, unexpected answers) → CodeTransient, with
// Retry-After when the service sent one. A record write that fails is never
// reported as stored. nil stays nil; a *pal.Error is returned as it is.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pal.Error
	if errors.As(err, &pe) {
		return err
	}
	op = "record: " + op
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		status, code := re.StatusCode, azure.SafeCode(re.ErrorCode)
		if status == http.StatusAccepted { // a failed batch: the status is inside
			status = batchStatus(re)
		}
		what := strconv.Itoa(status)
		if code != "" {
			what += " " + code
		}
		if refusedData(status) {
			return &pal.Error{Code: pal.CodeInternal, Err: err, Message: op + ": Table Storage refused the request: " + what}
		}
		if status == http.StatusForbidden {
			return &pal.Error{Code: pal.CodeForbidden, Err: err, Message: op + ": Table Storage answered " + what +
				"; the function's identity needs the role " + RoleTableDataContributor + " on the storage account"}
		}
		e := &pal.Error{Code: pal.CodeTransient, Message: op + ": Table Storage answered " + what, Err: err}
		if re.RawResponse != nil {
			e.RetryAfter = azure.RetryAfter(re.RawResponse.Header, time.Now())
		}
		return e
	}
	return &pal.Error{Code: pal.CodeTransient, Message: op + ": " + transientCause(err), Err: err}
}

// refusedData reports whether a Table Storage status says the request
// itself is wrong (our data), not the service's state.
func refusedData(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// transientCause names a failure that is not an answer of the service.
func transientCause(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case errors.As(err, new(*tokenFailure)):
		return "could not get a storage token"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "request failed"
}

// tokenFailure marks errors of the credential, so that translate can tell a
// failed token request from a failed storage request.
type tokenFailure struct{ err error }

func (e *tokenFailure) Error() string { return "get token: " + e.err.Error() }
func (e *tokenFailure) Unwrap() error { return e.err }

// markedCredential marks its credential's errors as [*tokenFailure].
type markedCredential struct{ cred azcore.TokenCredential }

// GetToken implements azcore.TokenCredential.
func (m markedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := m.cred.GetToken(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, &tokenFailure{err: err}
	}
	return tk, nil
}

// batchStatusRE finds the status lines of an entity group transaction's parts
// (compiled on first use: no regexp is compiled at package init).
var batchStatusRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`HTTP/1\.1 (\d{3})`) })

// batchStatus returns the first failing (>= 400) status inside a failed
// entity group transaction's answer, or 202 when none can be read.
func batchStatus(re *azcore.ResponseError) int {
	if re.RawResponse == nil {
		return re.StatusCode
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil {
		return re.StatusCode
	}
	for _, m := range batchStatusRE().FindAllSubmatch(body, -1) {
		if n, _ := strconv.Atoi(string(m[1])); n >= 400 {
			return n
		}
	}
	return re.StatusCode
}

// batchFailedWith reports whether a failed batch failed with one of statuses.
func batchFailedWith(re *azcore.ResponseError, statuses ...int) bool {
	got := batchStatus(re)
	for _, s := range statuses {
		if got == s {
			return true
		}
	}
	return false
}
