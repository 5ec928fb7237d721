package recordtest

import (
	"context"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

// runProgress checks the distributed sweep's progress fields: what the
// coordinator sent, whether it finished listing, and what a closed run did
// not judge, kept through UpdateRun and LastRun.
func runProgress(t *testing.T, open Open) {
	ctx := context.Background()
	t.Run("a run keeps the coordinator's progress", func(t *testing.T) {
		s := open(t)
		if err := s.StartRun(ctx, record.Run{ID: "run-progress", StartedAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateRun(ctx, "run-progress", func(r *record.Run) {
			r.ItemsSent, r.SubscriptionsSent = 50, 500
		})
		if err != nil || got.ItemsSent != 50 || got.SubscriptionsSent != 500 || got.Listed {
			t.Fatalf("after a batch: got %+v, %v; want 50 items, 500 subscriptions, not listed", got, err)
		}
		want, err := s.UpdateRun(ctx, "run-progress", func(r *record.Run) {
			r.Listed, r.NotJudged, r.Outcome = true, 100, record.OutcomePartial
			r.ClosedRunID, r.ClosedNotJudged = "run-before", 7
		})
		if err != nil {
			t.Fatal(err)
		}
		last, err := s.LastRun(ctx)
		if err != nil || last == nil || !equalRun(*last, *want) || !last.Listed || last.NotJudged != 100 || last.SubscriptionsSent != 500 ||
			last.ClosedRunID != "run-before" || last.ClosedNotJudged != 7 {
			t.Errorf("LastRun: got %+v, %v; want %+v", last, err, want)
		}
	})
}
