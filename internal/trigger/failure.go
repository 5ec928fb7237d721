package trigger

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// defaultRetryAfter is suggested when Azure gave no Retry-After.
const defaultRetryAfter = 30 * time.Second

// httpStatusOf maps an error to the HTTP status a caller sees.
func httpStatusOf(err error) int {
	switch pal.ErrorCodeOf(err) {
	case pal.CodeInvalidInput:
		return http.StatusBadRequest
	case pal.CodePartnerNotAllowed:
		return http.StatusForbidden
	case pal.CodeTransient:
		return http.StatusServiceUnavailable
	case pal.CodeRejected, pal.CodeForbidden, pal.CodeNotFound:
		// Azure refused a request the whole invocation depends on (the link,
		// the subscription list): not the caller's fault, not transient.
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// publicMessage is the part of err that is safe to show to a caller: the
// message of a *pal.Error, never the wrapped SDK error (it may carry
// response dumps).
func publicMessage(err error) string {
	var pe *pal.Error
	if errors.As(err, &pe) {
		if pe.Code == pal.CodeInternal {
			return "internal error; see the function's log"
		}
		return pe.Message
	}
	return "internal error; see the function's log"
}

// fieldsOf returns the per-field problems of an input error.
func fieldsOf(err error) map[string]string {
	var pe *pal.Error
	if errors.As(err, &pe) && pe.Fields != nil {
		return pe.Fields
	}
	return map[string]string{}
}

// retryAfterSeconds rounds a Retry-After up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = defaultRetryAfter
	}
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprint(s)
}

// resultError turns a result holding error verdicts into an error for the
// triggers that must not report it as success.
func resultError(res *pal.Result) error {
	errs := res.Errors()
	if len(errs) == 0 {
		return nil
	}
	transient, after := res.Transient()
	code := pal.CodeInternal
	if transient {
		code = pal.CodeTransient
	}
	return &pal.Error{
		Code:       code,
		Message:    fmt.Sprintf("%d subscription(s) could not be judged, e.g. %s: %s", len(errs), errs[0].SubscriptionID, errs[0].Detail),
		RetryAfter: after,
	}
}
