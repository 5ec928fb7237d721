package trigger

import (
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// logResult writes what an invocation found, when it found anything: one
// line per subscription that is not attributed (so the log alone tells what
// is not credited and why), then the one `result` line of the invocation with
// the summary, the link action and the outcome. Failed invocations that have
// a result log it too. The keys never repeat the logger's context keys
// (tenant_id, correlation_id, …): a subscription's tenant is
// subscription_tenant_id.
func logResult(log *zerolog.Logger, res *pal.Result, out outcome.Outcome) {
	if res == nil {
		return
	}
	notAttributed := 0
	for _, r := range res.Results {
		if r.Status == pal.StatusAttributed {
			continue
		}
		notAttributed++
		log.Warn().Str("subscription_tenant_id", r.TenantID).Str("subscription_id", r.SubscriptionID).
			Str("display_name", r.DisplayName).Str("status", string(r.Status)).Strs("roles", r.Roles).
			Str("detail", r.Detail).Msg("subscription not attributed")
	}
	ev := log.Info()
	if out.Kind != outcome.KindDone {
		ev = log.Warn()
	}
	ev = ev.Str("outcome", string(out.Kind)).Interface("summary", res.Summary).
		Str("link_action", string(res.Link.Action)).Str("link_partner_id", res.Link.PartnerID).
		Int("not_attributed", notAttributed)
	if out.Kind != outcome.KindDone {
		ev = ev.Str("reason", out.Reason)
	}
	ev.Msg("result")
}
