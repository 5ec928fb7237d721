package pal

// Request asks for the link and the attribution of one customer tenant's
// subscriptions. It is the onboarding message (docs/contracts.md) after decoding.
type Request struct {
	// TenantID is the customer tenant GUID (lower case).
	TenantID string `json:"tenantId"`
	// SubscriptionIDs are the subscription GUIDs (lower case, deduplicated); empty
	// means every subscription of TenantID the identity can reach.
	SubscriptionIDs []string `json:"subscriptionIds,omitempty"`
	// PartnerID is the partner ID to link; empty means the configured default.
	PartnerID     string `json:"partnerId,omitempty"`
	RequestedBy   string `json:"requestedBy,omitempty"`
	CorrelationID string `json:"correlationId,omitempty"`
}

// MaxSubscriptionIDs is the most subscription IDs one request may name.
const MaxSubscriptionIDs = 1000
