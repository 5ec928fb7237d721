package record

import "github.com/rs/zerolog"

// DriftMessage is the message of the warning line logged when a subscription
// stops crediting the partner; the Azure Monitor alert searches for it.
const DriftMessage = "attribution lost"

// LogDrift logs the drift warning for ch, the change a [Store.Save] returned,
// when it took the subscription out of attributed ([Change.LostAttribution]),
// with the fields tenant_id, subscription_id, status and detail. Save returns
// a change once per change of status, so the line is logged once per drift,
// not on every sweep. It reports whether it logged. A nil ch logs nothing.
func LogDrift(log *zerolog.Logger, ch *Change) bool {
	if ch == nil || !ch.LostAttribution() {
		return false
	}
	log.Warn().
		Str("tenant_id", ch.TenantID).
		Str("subscription_id", ch.SubscriptionID).
		Str("status", string(ch.To)).
		Str("detail", ch.Detail).
		Msg(DriftMessage)
	return true
}
