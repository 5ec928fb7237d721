package trigger

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// outOfTimeEngine judges nothing before its invocation's time runs out.
type outOfTimeEngine struct{ *fanEngine }

func (e outOfTimeEngine) JudgeBatch(ctx context.Context, _ *zerolog.Logger, _ pal.Principal, _ pal.LinkResult, _ pal.SweepBatch, _ func(pal.SubscriptionResult) error) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestFailedItemSaysWhatHappensNext: a work item whose retries are used up
// is counted as failed with a reason that says what happens next, and
// nothing that promises another try. Failed before: the run's detail said
// "attempts used up (3 of PAL_MAX_ATTEMPTS 3): the invocation ran out of time
// (PAL_INVOCATION_TIMEOUT); it will be tried again" (issue 16, D10).
func TestFailedItemSaysWhatHappensNext(t *testing.T) {
	e := &fanEngine{tenants: 1, subs: 2}
	rec := record.NewMemory()
	q := &fanQueue{}
	if _, res := coordinate(t, e, rec, q); res.Failure != nil {
		t.Fatalf("coordinator: %+v", res.Failure)
	}
	m := q.sent[0]
	m.MessageID += "/attempt-3"
	m.Properties = map[string]any{propAttempt: 3}
	worker := must(SweepCheck(outOfTimeEngine{e}, withBounds(&Options{Record: rec, SweepQueue: q, MaxAttempts: 3,
		InvocationTimeout: 10 * time.Millisecond, Now: func() time.Time { return now }})))

	r := worker(context.Background(), itemInvocation(m, 1))
	if r.Failure == nil {
		t.Fatalf("worker succeeded; want the item failed")
	}
	run, _ := rec.LastRun(context.Background())
	if run.ItemsFailed != 1 {
		t.Fatalf("run %+v, want the item counted as failed", run)
	}
	for _, got := range []string{run.Detail, r.Failure.Message} {
		for _, promise := range []string{"tried again", "try again", "will be retried"} {
			if strings.Contains(got, promise) {
				t.Errorf("reason %q promises another try (%q)", got, promise)
			}
		}
		for _, want := range []string{"attempts used up (3 of PAL_MAX_ATTEMPTS 3)", "ran out of time (PAL_INVOCATION_TIMEOUT)",
			"counted as failed", "dead-letters it", "keep their last verdicts until the next sweep"} {
			if !strings.Contains(got, want) {
				t.Errorf("reason %q does not say %q", got, want)
			}
		}
	}
}
