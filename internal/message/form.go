package message

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	whatForm  = "form"
	whatQuery = "query"
	// fieldCode is the function key that Azure Functions reads from the query.
	fieldCode = "code"
)

// DecodeForm decodes an application/x-www-form-urlencoded portal post into a
// validated request.
//
// Fields: tenantId (required); subscriptionIds, a list separated by commas,
// semicolons, spaces or new lines, and/or repeated subscriptionId fields
// (each may hold such a list too); optional partnerId, requestedBy and
// correlationId. Empty optional fields count as absent. Unknown fields, and
// a single-valued field given more than once, are errors. Values are trimmed
// of surrounding white space.
//
// The error is a [*pal.Error] with [pal.CodeInvalidInput] listing every
// problem found in Fields.
func DecodeForm(values url.Values) (pal.Request, error) {
	var p problems
	var req pal.Request
	for _, name := range sortedKeys(values) {
		switch name {
		case fieldTenantID, fieldSubscriptionIDs, fieldSubscriptionID, fieldPartnerID, fieldRequestedBy, fieldCorrelationID:
		default:
			p.add(fieldName(name), unknownField(name))
		}
	}
	if s, ok := single(&p, values, fieldTenantID); ok {
		checkTenant(&p, &req, s)
	}
	decodeIDLists(&p, &req, values)
	if s, ok := single(&p, values, fieldPartnerID); ok {
		checkPartner(&p, &req, s)
	}
	if s, ok := single(&p, values, fieldRequestedBy); ok && s != "" {
		req.RequestedBy = checkText(&p, fieldRequestedBy, s)
	}
	if s, ok := single(&p, values, fieldCorrelationID); ok && s != "" {
		req.CorrelationID = checkText(&p, fieldCorrelationID, s)
	}
	if err := p.err(whatForm); err != nil {
		return pal.Request{}, err
	}
	return req, nil
}

// DecodeQuery decodes the query of the read-only GET into a validated
// request: tenantId (required), subscriptionId (repeated and/or a list
// separated by commas, semicolons or spaces; subscriptionIds is accepted as
// well) and an optional partnerId. The function key parameter "code" is
// ignored; any other parameter is an error.
//
// The error is a [*pal.Error] with [pal.CodeInvalidInput] listing every
// problem found in Fields.
func DecodeQuery(values url.Values) (pal.Request, error) {
	var p problems
	var req pal.Request
	for _, name := range sortedKeys(values) {
		switch name {
		case fieldTenantID, fieldSubscriptionID, fieldSubscriptionIDs, fieldPartnerID, fieldCode:
		default:
			p.add(fieldName(name), unknownParameter(name))
		}
	}
	if s, ok := single(&p, values, fieldTenantID); ok {
		checkTenant(&p, &req, s)
	}
	decodeIDLists(&p, &req, values)
	if s, ok := single(&p, values, fieldPartnerID); ok {
		checkPartner(&p, &req, s)
	}
	if err := p.err(whatQuery); err != nil {
		return pal.Request{}, err
	}
	return req, nil
}

// single returns the one trimmed value of name ("" when absent). ok is false
// after recording that the field was given more than once.
func single(p *problems, values url.Values, name string) (string, bool) {
	vs := values[name]
	switch len(vs) {
	case 0:
		return "", true
	case 1:
		return strings.TrimSpace(vs[0]), true
	}
	p.addf(name, "given %d times; expected once", len(vs))
	return "", false
}

// decodeIDLists collects the subscription IDs of subscriptionIds and then
// subscriptionId, in order, folding duplicates.
func decodeIDLists(p *problems, req *pal.Request, values url.Values) {
	var ss subscriptionSet
	for _, name := range [...]string{fieldSubscriptionIDs, fieldSubscriptionID} {
		for _, v := range values[name] {
			for _, id := range splitIDs(v) {
				ss.add(p, id)
			}
		}
	}
	ss.finish(p, req)
}

// unknownParameter is the problem text for an unknown query parameter.
func unknownParameter(name string) string {
	if strings.EqualFold(name, fieldTenantID) || strings.EqualFold(name, fieldSubscriptionID) ||
		strings.EqualFold(name, fieldSubscriptionIDs) || strings.EqualFold(name, fieldPartnerID) {
		return fmt.Sprintf("unknown parameter; names are case-sensitive (%s, %s, %s)", fieldTenantID, fieldSubscriptionID, fieldPartnerID)
	}
	return "unknown parameter"
}

// sortedKeys returns the keys of values in order, for stable problem lists.
func sortedKeys(values url.Values) []string {
	return slices.Sorted(maps.Keys(values))
}
