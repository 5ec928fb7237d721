package trigger

import (
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// logResult writes one line per subscription that is not attributed, so the
// log alone tells what is not credited and why.
func logResult(log *zerolog.Logger, res *pal.Result) {
	if res == nil {
		return
	}
	for _, r := range res.Results {
		if r.Status == pal.StatusAttributed {
			continue
		}
		log.Warn().Str("subscription_tenant_id", r.TenantID).Str("subscription_id", r.SubscriptionID).
			Str("display_name", r.DisplayName).Str("status", string(r.Status)).Strs("roles", r.Roles).
			Str("detail", r.Detail).Msg("subscription not attributed")
	}
}
