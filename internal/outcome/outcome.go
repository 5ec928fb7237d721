package outcome

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Kind is what becomes of an invocation.
type Kind string

// Kinds of outcome.
const (
	// KindDone: the work is finished and its result verified.
	KindDone Kind = "done"
	// KindRetry: transient trouble; the same work should run again later (see
	// Outcome.RetryAfter).
	KindRetry Kind = "retry"
	// KindFailed: the invocation failed; running it again unchanged will not help
	// (bad input, Azure refused, an internal error) or nobody waits for it any
	// more (the caller cancelled).
	KindFailed Kind = "failed"
)

// statusClientClosedRequest is the status of an invocation whose caller
// cancelled it before it finished (nginx's 499; nobody reads the answer).
const statusClientClosedRequest = 499

// Exit codes of the one-shot commands (handler link, handler sweep).
const (
	exitDone   = 0
	ExitFailed = 1
	ExitUsage  = 2 // bad usage or bad input
	// ExitNotAttributed: done, but a judged subscription is not attributed;
	// only when asked (--require-attributed), so a pipeline can gate on it.
	ExitNotAttributed = 3
	exitTempFail      = 75  // transient trouble: try again later (sysexits EX_TEMPFAIL)
	exitCancelled     = 130 // interrupted (128 + SIGINT)
)

// defaultRetryAfter is the Retry-After an HTTP caller is told when Azure gave none.
const defaultRetryAfter = 30 * time.Second

// budgetExceeded is the cause of a work context whose own deadline passed
// (see [WorkContext]): the invocation ran out of its budget, named by the
// setting that sets it.
type budgetExceeded struct {
	// Setting is the setting that bounds the work, e.g. PAL_INVOCATION_TIMEOUT.
	Setting string
}

// Error implements error.
func (b *budgetExceeded) Error() string {
	return "the invocation ran out of time (" + b.Setting + ")"
}

// Public reasons of the context rules.
const (
	reasonCancelled = "the invocation was cancelled by its caller before it finished"
	// reasonInternal is the public reason of an internal error.
	reasonInternal = "internal error; see the function's log"
)

// WorkContext bounds work by its own deadline, the budget that setting sets.
// Only the expiry of this deadline counts as "ran out of time" in [Decide]
// (a retry, 503); a parent that is cancelled (or whose own deadline passes)
// is a caller that gave up.
func WorkContext(ctx context.Context, timeout time.Duration, setting string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, timeout, &budgetExceeded{Setting: setting})
}

// Outcome is the fate of one invocation, as Decide judges it.
type Outcome struct {
	Kind Kind
	// Status is the HTTP-like status: 200 when done, 503 for a retry, else the
	// failure's (4xx the caller's fault, 499 cancelled, 5xx ours or Azure's).
	Status int
	// Reason is safe to show to a caller: never an SDK error or a token. Empty
	// when done.
	Reason string
	// Fields maps input fields to what is wrong with them (bad input).
	Fields map[string]string
	// Code is the error code behind a retry or a failure ("" when done or
	// cancelled).
	Code pal.ErrorCode
	// RetryAfter is the delay Azure asked for (retry only); zero means the
	// handler's own backoff decides.
	RetryAfter time.Duration
}

// Decide is the one outcome policy of pal-keeper: from the engine's result
// and error and the invocation's work context (see WorkContext) it decides
// whether the invocation is done, to be retried or failed. Every trigger and
// the one-shot commands use it. The rules, in order:
//
//  1. No error and a result without error verdicts: done (200), even if the
//     context ended just after.
//  2. The caller's fault (invalid input 400, partner ID not allowed 403):
//     failed, whatever the context says.
//  3. The context ended: its own deadline (PAL_INVOCATION_TIMEOUT, or the
//     sweep's PAL_SWEEP_TIMEOUT; see WorkContext) is a retry
//     (503, "ran out of time"); any other end — the parent cancelled, or the
//     parent's deadline — is the caller giving up: failed, 499, never
//     "ran out of time" and never retried by the handler.
//  4. An error: transient is a retry (503, Azure's Retry-After); Azure
//     refused something the whole invocation needs (403, 404, another 4xx)
//     is failed 502; anything else is failed 500 with a reason that hides
//     the internal error.
//  5. Error verdicts in the result: any transient one makes a retry (503,
//     the longest Retry-After among them); otherwise failed 500. The reason
//     counts them and names the first.
func Decide(ctx context.Context, res *pal.Result, err error) Outcome {
	if err == nil && res != nil && len(res.Errors()) == 0 {
		return Outcome{Kind: KindDone, Status: http.StatusOK}
	}
	switch code := pal.ErrorCodeOf(err); code {
	case pal.CodeInvalidInput:
		return failed(http.StatusBadRequest, code, PublicMessage(err), fieldsOf(err))
	case pal.CodePartnerNotAllowed:
		return failed(http.StatusForbidden, code, PublicMessage(err), fieldsOf(err))
	}
	if ctx.Err() != nil {
		var budget *budgetExceeded
		if errors.As(context.Cause(ctx), &budget) {
			return Outcome{Kind: KindRetry, Status: http.StatusServiceUnavailable, Code: pal.CodeTransient,
				Reason: budget.Error()}
		}
		return failed(statusClientClosedRequest, "", reasonCancelled, nil)
	}
	if err != nil {
		switch code := pal.ErrorCodeOf(err); code {
		case pal.CodeTransient:
			return Outcome{Kind: KindRetry, Status: http.StatusServiceUnavailable, Code: code,
				Reason: PublicMessage(err), RetryAfter: pal.RetryAfterOf(err)}
		case pal.CodeRejected, pal.CodeForbidden, pal.CodeNotFound:
			// Azure refused a request the whole invocation depends on (the link,
			// the subscription list): not the caller's fault, not transient.
			return failed(http.StatusBadGateway, code, PublicMessage(err), nil)
		default:
			return failed(http.StatusInternalServerError, code, PublicMessage(err), nil)
		}
	}
	if res == nil {
		return failed(http.StatusInternalServerError, pal.CodeInternal, reasonInternal, nil)
	}
	errs := res.Errors()
	reason := fmt.Sprintf("%d subscription(s) could not be judged, e.g. %s: %s", len(errs), errs[0].SubscriptionID, errs[0].Detail)
	if transient, after := res.Transient(); transient {
		return Outcome{Kind: KindRetry, Status: http.StatusServiceUnavailable, Code: pal.CodeTransient, Reason: reason, RetryAfter: after}
	}
	return failed(http.StatusInternalServerError, pal.CodeInternal, reason, nil)
}

func failed(status int, code pal.ErrorCode, reason string, fields map[string]string) Outcome {
	return Outcome{Kind: KindFailed, Status: status, Code: code, Reason: reason, Fields: fields}
}

// Cancelled reports whether the caller gave up on the invocation.
func (o Outcome) Cancelled() bool { return o.Status == statusClientClosedRequest }

// Why says what sets the delay of a retry: Azure's Retry-After, or the
// handler's backoff.
func (o Outcome) Why() string {
	if o.RetryAfter > 0 {
		return "Retry-After"
	}
	return "backoff"
}

// RetryAfterHeader is the Retry-After header value for an HTTP caller: whole
// seconds, rounded up, 30 when Azure gave none.
func (o Outcome) RetryAfterHeader() string {
	d := o.RetryAfter
	if d <= 0 {
		d = defaultRetryAfter
	}
	return fmt.Sprint(int64((d + time.Second - 1) / time.Second))
}

// ExitCode is the exit code of a one-shot command with this outcome: 0 done,
// 2 bad input, 75 transient (try again later), 130 cancelled, 1 otherwise.
func (o Outcome) ExitCode() int {
	switch {
	case o.Kind == KindDone:
		return exitDone
	case o.Kind == KindRetry:
		return exitTempFail
	case o.Cancelled():
		return exitCancelled
	case o.Status == http.StatusBadRequest:
		return ExitUsage
	default:
		return ExitFailed
	}
}

// PublicMessage is the part of err that is safe to show to a caller: the
// message of a *pal.Error, never the wrapped SDK error (it may carry
// response dumps).
func PublicMessage(err error) string {
	var pe *pal.Error
	if errors.As(err, &pe) && pe.Code != pal.CodeInternal {
		return pe.Message
	}
	return reasonInternal
}

// fieldsOf returns the per-field problems of an input error.
func fieldsOf(err error) map[string]string {
	var pe *pal.Error
	if errors.As(err, &pe) && pe.Fields != nil {
		return pe.Fields
	}
	return map[string]string{}
}
