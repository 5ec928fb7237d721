package pal

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode classifies an [Error]. Codes are part of the API; messages are not.
type ErrorCode string

// Error codes.
const (
	// CodeInvalidInput: the request is malformed or names bad values.
	CodeInvalidInput ErrorCode = "InvalidInput"
	// CodePartnerNotAllowed: the request names a partner ID outside the allowed set.
	CodePartnerNotAllowed ErrorCode = "PartnerNotAllowed"
	// CodeNotFound: Azure says the resource does not exist or the caller cannot reach it
	// (404, or 401 InvalidAuthenticationTokenTenant for a subscription of another tenant).
	CodeNotFound ErrorCode = "NotFound"
	// CodeForbidden: Azure answered 403 for the resource.
	CodeForbidden ErrorCode = "Forbidden"
	// CodeAlreadyLinked: PUT of a partner link answered 409 (any code: the spec
	// names "Conflict", the service "PartnerIdAlreadyLinked") or PartnerIdAlreadyLinked.
	CodeAlreadyLinked ErrorCode = "PartnerIdAlreadyLinked"
	// CodeTransient: throttling (429), 408, 5xx, timeouts, dropped connections or an
	// unavailable token endpoint. Worth retrying later, see RetryAfter.
	CodeTransient ErrorCode = "Transient"
	// CodeRejected: Azure rejected the request permanently (another 4xx).
	CodeRejected ErrorCode = "Rejected"
	// CodeSignIn: the credential cannot sign in until a person acts (the Azure
	// CLI is not installed, not logged in, or its login expired). Not
	// transient: the message says what to do.
	CodeSignIn ErrorCode = "SignInRequired"
	// CodeInternal: anything else.
	CodeInternal ErrorCode = "Internal"
)

// Error is the error type of pal-keeper. Adapters translate Azure and input errors
// into it; callers check it with [errors.As] or [ErrorCodeOf].
type Error struct {
	Code ErrorCode
	// Message is safe to show to a caller: it never holds tokens or headers.
	Message string
	// Fields maps input field names to what is wrong with them (CodeInvalidInput).
	Fields map[string]string
	// RetryAfter is the delay Azure asked for, zero when unknown (CodeTransient).
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCodeOf returns the code of the first [*Error] in err's chain, CodeInternal
// for other non-nil errors and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeInternal
}

// RetryAfterOf returns the RetryAfter of the first [*Error] in err's chain.
func RetryAfterOf(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// IsTransient reports whether err is worth retrying later.
func IsTransient(err error) bool { return ErrorCodeOf(err) == CodeTransient }
