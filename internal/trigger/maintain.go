package trigger

import (
	"context"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// recordMaintainer is what the end of a sweep does to the record.
type recordMaintainer interface {
	RefreshEstate(ctx context.Context, at time.Time) (*record.Summary, error)
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// maintainRecord runs once a sweep's run is closed (in one process, or by
// the worker that counted a distributed run's last item): the estate's
// totals are computed again from the tenants' summaries, marked with now,
// and at most record.PruneLimit changes and runs older than retention are
// removed. Both only derive from or trim history — every verdict is already
// stored — so a failure is logged (`record maintenance failed`) and the next
// sweep does it again; it never changes the sweep's outcome. A store
// without these operations is left alone.
func maintainRecord(ctx context.Context, log *zerolog.Logger, store any, now time.Time, retention time.Duration) {
	m, ok := store.(recordMaintainer)
	if !ok || store == nil {
		return
	}
	est, err := m.RefreshEstate(ctx, now)
	if err != nil {
		log.Warn().Str("operation", "refresh the estate's totals").Str("error", err.Error()).Msg("record maintenance failed")
		return
	}
	pruned, err := m.Prune(ctx, now.Add(-retention), record.PruneLimit)
	if err != nil {
		log.Warn().Str("operation", "remove history older than the retention").Int("removed", pruned).Str("error", err.Error()).Msg("record maintenance failed")
		return
	}
	log.Info().Int("tenants", est.Tenants).Int("subscriptions", est.Total()).Int("history_removed", pruned).
		Dur("retention", retention).Msg("record maintained")
}
