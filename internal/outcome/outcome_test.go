package outcome

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// endedContexts returns work contexts that ended in each way Decide tells apart.
func endedContexts(t *testing.T) map[string]context.Context {
	t.Helper()
	// The invocation's own deadline passed.
	own, cancelOwn := WorkContext(context.Background(), time.Nanosecond, "PAL_INVOCATION_TIMEOUT")
	t.Cleanup(cancelOwn)
	<-own.Done()
	// The caller cancelled.
	parent, cancelParent := context.WithCancel(context.Background())
	caller, cancelCaller := WorkContext(parent, time.Hour, "PAL_INVOCATION_TIMEOUT")
	t.Cleanup(cancelCaller)
	cancelParent()
	// The caller's own deadline passed before the invocation's.
	parentDL, cancelParentDL := context.WithTimeout(context.Background(), time.Nanosecond)
	t.Cleanup(cancelParentDL)
	callerDL, cancelCallerDL := WorkContext(parentDL, time.Hour, "PAL_INVOCATION_TIMEOUT")
	t.Cleanup(cancelCallerDL)
	<-callerDL.Done()
	return map[string]context.Context{"own_deadline": own, "caller_cancelled": caller, "caller_deadline": callerDL}
}

func TestDecide(t *testing.T) {
	ended := endedContexts(t)
	live := context.Background()
	clean := &pal.Result{Link: pal.LinkResult{Action: pal.LinkNone}, Results: []pal.SubscriptionResult{
		{SubscriptionID: "s1", Status: pal.StatusAttributed}, {SubscriptionID: "s2", Status: pal.StatusIneligibleRole}}}
	verdicts := &pal.Result{Results: []pal.SubscriptionResult{
		{SubscriptionID: "s1", Status: pal.StatusAttributed},
		{SubscriptionID: "s2", Status: pal.StatusError, Detail: "reading a role definition failed: Azure answered 403"},
		{SubscriptionID: "s3", Status: pal.StatusError, Detail: "other"}}}
	badInput := &pal.Error{Code: pal.CodeInvalidInput, Message: "tenantId: not a GUID", Fields: map[string]string{"tenantId": "not a GUID"}}
	throttled := &pal.Error{Code: pal.CodeTransient, Message: "Azure answered 429", RetryAfter: 90 * time.Second}
	down := &pal.Error{Code: pal.CodeTransient, Message: "Azure answered 503"}
	tests := []struct {
		name       string
		ctx        context.Context
		res        *pal.Result
		err        error
		want       Kind
		wantStatus int
		wantReason string // substring; "" = no check
		wantAfter  time.Duration
		wantFields string
		wantExit   int
	}{
		{name: "clean_result_done", ctx: live, res: clean, want: KindDone, wantStatus: 200, wantExit: 0},
		{name: "done_even_if_the_context_ended_after", ctx: ended["own_deadline"], res: clean, want: KindDone, wantStatus: 200, wantExit: 0},
		{name: "done_even_if_cancelled_after", ctx: ended["caller_cancelled"], res: clean, want: KindDone, wantStatus: 200, wantExit: 0},
		{name: "invalid_input_400", ctx: live, err: badInput, want: KindFailed, wantStatus: 400, wantReason: "not a GUID", wantFields: "tenantId", wantExit: 2},
		{name: "invalid_input_stays_400_after_the_deadline", ctx: ended["own_deadline"], err: badInput, want: KindFailed, wantStatus: 400, wantExit: 2},
		{name: "partner_not_allowed_403", ctx: live, err: &pal.Error{Code: pal.CodePartnerNotAllowed, Message: "partner ID 42 is not allowed"}, want: KindFailed, wantStatus: 403, wantReason: "42", wantExit: 1},
		{name: "throttled_retry_after", ctx: live, err: throttled, want: KindRetry, wantStatus: 503, wantReason: "429", wantAfter: 90 * time.Second, wantExit: 75},
		{name: "transient_backoff", ctx: live, err: down, want: KindRetry, wantStatus: 503, wantReason: "503", wantExit: 75},
		{name: "azure_forbids_502", ctx: live, err: &pal.Error{Code: pal.CodeForbidden, Message: "PUT partner link: Azure answered 403"}, want: KindFailed, wantStatus: 502, wantReason: "403", wantExit: 1},
		{name: "azure_not_found_502", ctx: live, err: &pal.Error{Code: pal.CodeNotFound, Message: "gone"}, want: KindFailed, wantStatus: 502, wantExit: 1},
		{name: "azure_rejected_502", ctx: live, err: &pal.Error{Code: pal.CodeRejected, Message: "bad request"}, want: KindFailed, wantStatus: 502, wantExit: 1},
		{name: "internal_hides_detail", ctx: live, err: &pal.Error{Code: pal.CodeInternal, Message: "secret-ish"}, want: KindFailed, wantStatus: 500, wantReason: "internal error", wantExit: 1},
		{name: "plain_error_hides_detail", ctx: live, err: errors.New("secret-ish SDK dump"), want: KindFailed, wantStatus: 500, wantReason: "internal error", wantExit: 1},
		{name: "no_result_no_error_500", ctx: live, want: KindFailed, wantStatus: 500, wantExit: 1},
		{name: "error_verdicts_fail", ctx: live, res: verdicts, want: KindFailed, wantStatus: 500, wantReason: "2 subscription(s) could not be judged, e.g. s2: reading a role definition failed", wantExit: 1},
		{name: "own_deadline_plain_ctx_error", ctx: ended["own_deadline"], err: context.DeadlineExceeded, want: KindRetry, wantStatus: 503, wantReason: "PAL_INVOCATION_TIMEOUT", wantExit: 75},
		{name: "own_deadline_wrapped_as_transient", ctx: ended["own_deadline"], err: &pal.Error{Code: pal.CodeTransient, Message: "GET x", Err: context.DeadlineExceeded}, want: KindRetry, wantStatus: 503, wantReason: "ran out of time", wantExit: 75},
		{name: "own_deadline_internal_error", ctx: ended["own_deadline"], err: errors.New("boom"), want: KindRetry, wantStatus: 503, wantReason: "ran out of time", wantExit: 75},
		{name: "own_deadline_with_error_verdicts", ctx: ended["own_deadline"], res: verdicts, want: KindRetry, wantStatus: 503, wantReason: "ran out of time", wantExit: 75},
		{name: "caller_cancelled_is_not_timeout", ctx: ended["caller_cancelled"], err: context.Canceled, want: KindFailed, wantStatus: 499, wantReason: "cancelled by its caller", wantExit: 130},
		{name: "caller_cancelled_transient_wrapped", ctx: ended["caller_cancelled"], err: &pal.Error{Code: pal.CodeTransient, Message: "GET x", Err: context.Canceled}, want: KindFailed, wantStatus: 499, wantReason: "cancelled", wantExit: 130},
		{name: "caller_cancelled_with_verdicts", ctx: ended["caller_cancelled"], res: verdicts, want: KindFailed, wantStatus: 499, wantExit: 130},
		{name: "caller_deadline_is_not_ours", ctx: ended["caller_deadline"], err: context.DeadlineExceeded, want: KindFailed, wantStatus: 499, wantReason: "cancelled", wantExit: 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.ctx, tt.res, tt.err)
			if got.Kind != tt.want || got.Status != tt.wantStatus {
				t.Fatalf("Decide = %s %d (%q), want %s %d", got.Kind, got.Status, got.Reason, tt.want, tt.wantStatus)
			}
			if tt.wantReason != "" && !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			if strings.Contains(got.Reason, "secret-ish") {
				t.Errorf("Reason leaks an internal error: %q", got.Reason)
			}
			if got.Kind == KindDone && got.Reason != "" {
				t.Errorf("Reason = %q, want none when done", got.Reason)
			}
			if got.Kind != KindRetry && strings.Contains(got.Reason, "ran out of time") {
				t.Errorf("Reason = %q for a %s outcome; only the own deadline is a timeout", got.Reason, got.Kind)
			}
			if got.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", got.RetryAfter, tt.wantAfter)
			}
			if tt.wantFields != "" {
				if _, ok := got.Fields[tt.wantFields]; !ok {
					t.Errorf("Fields = %v, want a %q entry", got.Fields, tt.wantFields)
				}
			}
			if e := got.ExitCode(); e != tt.wantExit {
				t.Errorf("ExitCode = %d, want %d", e, tt.wantExit)
			}
		})
	}
}

func TestOutcomeRetryTiming(t *testing.T) {
	tests := []struct {
		after      time.Duration
		attempt    int
		wantWhy    string
		wantHeader string
	}{
		{after: 90 * time.Second, attempt: 1, wantWhy: "Retry-After", wantHeader: "90"},
		{after: 1500 * time.Millisecond, attempt: 3, wantWhy: "Retry-After", wantHeader: "2"},
		{after: 2 * time.Hour, attempt: 1, wantWhy: "Retry-After", wantHeader: "7200"},
		{after: 0, attempt: 1, wantWhy: "backoff", wantHeader: "30"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.after, "/", tt.attempt), func(t *testing.T) {
			o := Outcome{Kind: KindRetry, Status: http.StatusServiceUnavailable, RetryAfter: tt.after}
			if got := o.Why(); got != tt.wantWhy {
				t.Errorf("Why = %q, want %q", got, tt.wantWhy)
			}
			if got := o.RetryAfterHeader(); got != tt.wantHeader {
				t.Errorf("RetryAfterHeader = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}

// TestDecideNamesTheBudget: the sweep's own budget running out is a retry
// whose reason names PAL_SWEEP_TIMEOUT, not PAL_INVOCATION_TIMEOUT, and a
// caller that gives up is still a cancellation.
func TestDecideNamesTheBudget(t *testing.T) {
	ctx, cancel := WorkContext(context.Background(), time.Nanosecond, "PAL_SWEEP_TIMEOUT")
	defer cancel()
	<-ctx.Done()
	out := Decide(ctx, nil, context.DeadlineExceeded)
	if out.Kind != KindRetry || out.Status != 503 {
		t.Fatalf("got %s %d, want retry 503", out.Kind, out.Status)
	}
	if !strings.Contains(out.Reason, "PAL_SWEEP_TIMEOUT") || strings.Contains(out.Reason, "PAL_INVOCATION_TIMEOUT") {
		t.Errorf("reason = %q, want it to name PAL_SWEEP_TIMEOUT only", out.Reason)
	}
	if got, want := out.ExitCode(), 75; got != want {
		t.Errorf("exit code = %d, want %d (try again later)", got, want)
	}
}
