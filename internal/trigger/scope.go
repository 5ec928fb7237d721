package trigger

import (
	"context"
	"slices"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/rs/zerolog"
)

// saveRead records the verdicts of a read-only request (GET /api/links):
// the record holds what the identity manages, so a not-delegated verdict —
// a subscription the identity cannot reach, or one of another tenant — is
// recorded only when the subscription is already in the record (its status
// then changes, and drift is seen); a caller naming made-up subscriptions or
// a tenant that never consented adds nothing. Every other verdict is
// recorded as Save records it. An onboarding (a message, a POST) records
// everything it judged (Save).
func (r *Recorder) saveRead(ctx context.Context, log *zerolog.Logger, res *pal.Result) error {
	if res == nil || r == nil || r.store == nil {
		return nil
	}
	keep, err := r.known(ctx, log, res.Results)
	if err != nil {
		return err
	}
	var results []pal.SubscriptionResult
	for _, v := range res.Results {
		if v.Status != pal.StatusNotDelegated || keep[verdictKey(v.TenantID, v.SubscriptionID)] {
			results = append(results, v)
		}
	}
	if dropped := len(res.Results) - len(results); dropped > 0 {
		log.Info().Int("not_recorded", dropped).Msg("read-only request: not-delegated subscriptions the record does not hold are not recorded")
	}
	return saveVerdicts(ctx, log, r.store, r.by, r.now(), res.Link, results)
}

// known returns which of the not-delegated verdicts' subscriptions the
// record holds, reading the partitions of their tenants only (a request
// names one tenant).
func (r *Recorder) known(ctx context.Context, log *zerolog.Logger, results []pal.SubscriptionResult) (map[string]bool, error) {
	var tenants []string
	for _, v := range results {
		if t := strings.ToLower(v.TenantID); v.Status == pal.StatusNotDelegated && t != "" && !slices.Contains(tenants, t) {
			tenants = append(tenants, t)
		}
	}
	keep := map[string]bool{}
	if len(tenants) == 0 {
		return keep, nil
	}
	vs, err := r.store.Verdicts(ctx, record.Filter{TenantIDs: tenants})
	if err != nil {
		return nil, recordFailure(log, "read the verdicts of "+strings.Join(tenants, ", "), err)
	}
	for _, v := range vs {
		keep[verdictKey(v.TenantID, v.SubscriptionID)] = true
	}
	return keep, nil
}

// verdictKey identifies a subscription's verdict as the record stores it.
func verdictKey(tenant, sub string) string {
	return strings.ToLower(tenant) + "/" + strings.ToLower(sub)
}
