package message

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Field names of the onboarding message.
const (
	fieldTenantID        = "tenantId"
	fieldSubscriptionIDs = "subscriptionIds"
	fieldSubscriptionID  = "subscriptionId"
	fieldPartnerID       = "partnerId"
	fieldRequestedBy     = "requestedBy"
	fieldCorrelationID   = "correlationId"
)

const (
	// maxTextLen is the most characters requestedBy and correlationId may hold.
	maxTextLen = 256
	// nilGUID is the all-zero GUID, never a tenant or a subscription.
	nilGUID = "00000000-0000-0000-0000-000000000000"
)

// parseGUID returns s in lower case when it is a GUID in the plain
// 8-4-4-4-12 hexadecimal form (any case, no braces; see [pal.IsGUID]), or a
// reason why not.
func parseGUID(s string) (string, string) {
	if !pal.IsGUID(s) {
		return "", "not a GUID: " + echo(s)
	}
	g := strings.ToLower(s)
	if g == nilGUID {
		return "", "the nil GUID is not a valid ID"
	}
	return g, ""
}

// checkTenant validates and normalises a tenant ID into req.
func checkTenant(p *problems, req *pal.Request, s string) {
	if s == "" {
		p.add(fieldTenantID, "required")
		return
	}
	g, bad := parseGUID(s)
	if bad != "" {
		p.add(fieldTenantID, bad)
		return
	}
	req.TenantID = g
}

// subscriptionSet folds subscription IDs case-insensitively, keeping order.
type subscriptionSet struct {
	ids  []string
	seen map[string]bool
	// n counts the IDs offered, distinct or not, valid or not.
	n int
}

// add validates the n-th offered ID s and keeps it unless it is a duplicate.
func (ss *subscriptionSet) add(p *problems, s string) {
	field := fmt.Sprintf("%s[%d]", fieldSubscriptionIDs, ss.n)
	ss.n++
	g, bad := parseGUID(s)
	if bad != "" {
		p.add(field, bad)
		return
	}
	if ss.seen[g] {
		return
	}
	if ss.seen == nil {
		ss.seen = make(map[string]bool)
	}
	ss.seen[g] = true
	ss.ids = append(ss.ids, g)
}

// addBad records that the n-th offered ID is not a string at all.
func (ss *subscriptionSet) addBad(p *problems, what string) {
	p.add(fmt.Sprintf("%s[%d]", fieldSubscriptionIDs, ss.n), what)
	ss.n++
}

// finish checks the count and stores the IDs in req.
func (ss *subscriptionSet) finish(p *problems, req *pal.Request) {
	if len(ss.ids) > pal.MaxSubscriptionIDs {
		p.addf(fieldSubscriptionIDs, "%d distinct IDs; at most %d are allowed", len(ss.ids), pal.MaxSubscriptionIDs)
		return
	}
	if len(ss.ids) > 0 {
		req.SubscriptionIDs = ss.ids
	}
}

// checkPartner validates a partner ID (1 to 10 digits) into req; empty means
// the configured default.
func checkPartner(p *problems, req *pal.Request, s string) {
	if s == "" {
		return
	}
	if !pal.ValidPartnerID(s) {
		p.addf(fieldPartnerID, "not a partner ID (1 to %d digits): %s", pal.MaxPartnerIDLen, echo(s))
		return
	}
	req.PartnerID = s
}

// checkText validates a free-text field (requestedBy, correlationId) and
// returns it, or "" after recording a problem.
func checkText(p *problems, field, s string) string {
	if !utf8.ValidString(s) {
		p.add(field, "not valid UTF-8")
		return ""
	}
	if n := utf8.RuneCountInString(s); n > maxTextLen {
		p.addf(field, "too long: %d characters; at most %d are allowed", n, maxTextLen)
		return ""
	}
	return s
}

// splitIDs splits a list of IDs separated by commas, semicolons or white space.
func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', ';', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
		return false
	})
}
