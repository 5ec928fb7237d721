package pal

import (
	"sort"
	"time"
)

// Status is the attribution status of one subscription.
type Status string

// Statuses, as the result object names them (docs/contracts.md, "Result object").
const (
	// StatusAttributed: the link holds an allowed partner ID and the identity has
	// a permanent PEC-eligible role on the subscription.
	StatusAttributed Status = "attributed"
	// StatusIneligibleRole: delegated, but no permanent PEC-eligible role.
	StatusIneligibleRole Status = "ineligible-role"
	// StatusNotDelegated: the identity cannot reach the subscription, or it is not
	// in the tenant the request named.
	StatusNotDelegated Status = "not-delegated"
	// StatusUnlinked: roles are fine but the link is missing or foreign and was not changed.
	StatusUnlinked Status = "unlinked"
	// StatusUnverifiable: the identity reaches the subscription but may not read
	// its delegation, and its effective permissions there match no built-in role
	// (or cannot be read either), so its roles cannot be known. Never attributed,
	// not transient: the detail names the fix.
	StatusUnverifiable Status = "unverifiable"
	// StatusError: could not be decided.
	StatusError Status = "error"
)

// Statuses lists every status in report order.
var Statuses = []Status{StatusAttributed, StatusIneligibleRole, StatusNotDelegated, StatusUnlinked, StatusUnverifiable, StatusError}

// LinkAction is what the engine did to the partner link.
type LinkAction string

// Link actions.
const (
	// LinkNone: nothing was written (already linked to an allowed ID, or a read-only query).
	LinkNone LinkAction = "none"
	// LinkCreated: the link was created (PUT).
	LinkCreated LinkAction = "created"
	// LinkRelinked: the link was changed to the target partner ID (PATCH).
	LinkRelinked LinkAction = "relinked"
	// LinkForeign: the link holds an ID outside the allowed set and was left alone.
	LinkForeign LinkAction = "foreign"
)

// LinkResult reports the partner link after the invocation.
type LinkResult struct {
	Action LinkAction `json:"action"`
	// PartnerID is the partner ID linked now ("" when there is no link).
	PartnerID string `json:"partnerId"`
	// PreviousPartnerID is set when the link was changed, or is foreign.
	PreviousPartnerID string `json:"previousPartnerId,omitempty"`
}

// SubscriptionResult is the verdict on one subscription.
type SubscriptionResult struct {
	TenantID       string   `json:"tenantId"`
	SubscriptionID string   `json:"subscriptionId"`
	DisplayName    string   `json:"displayName"`
	Status         Status   `json:"status"`
	Roles          []string `json:"roles"`
	Detail         string   `json:"detail,omitempty"`

	// transient marks an error verdict caused by transient trouble.
	transient  bool
	retryAfter time.Duration
	// unreachable marks a named subscription the identity could not read at all.
	unreachable bool
}

// Result is the result object of docs/contracts.md: the ReturnValue of every invocation
// and the body of every HTTP answer that carries results.
type Result struct {
	PartnerID string     `json:"partnerId"`
	Principal Principal  `json:"principal"`
	Link      LinkResult `json:"link"`
	// Links has one entry per customer tenant in direct mode (PAL_IDENTITY=direct).
	Links   []TenantLink         `json:"links,omitempty"`
	Results []SubscriptionResult `json:"results"`
	Summary map[Status]int       `json:"summary"`
}

// NewSummary returns a summary with every status at zero, as a result object and the report show it.
func NewSummary() map[Status]int {
	m := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		m[s] = 0
	}
	return m
}

// Count counts v in r's summary (a [NewSummary] when r has none yet). It is
// the one tally of verdicts: both engines, for requests and sweeps, and the
// sweep worker count with it.
func (r *Result) Count(v SubscriptionResult) {
	if r.Summary == nil {
		r.Summary = NewSummary()
	}
	r.Summary[v.Status]++
}

// requestResult is the result of a request: every verdict listed, in order,
// and counted.
func requestResult(partnerID string, p Principal, link LinkResult, results []SubscriptionResult) *Result {
	if results == nil {
		results = []SubscriptionResult{}
	}
	res := &Result{PartnerID: partnerID, Principal: p, Link: link, Results: results, Summary: NewSummary()}
	for _, r := range results {
		res.Count(r)
	}
	sortResults(res.Results)
	return res
}

// addSwept counts v and, unless it is attributed, lists it: a sweep's result
// lists the subscriptions that need attention and counts them all.
func (r *Result) addSwept(v SubscriptionResult) {
	r.Count(v)
	if v.Status != StatusAttributed {
		r.Results = append(r.Results, v)
	}
}

// AddSwept counts each of vs in r and lists those not attributed, keeping
// r's order: a sweep's result gains what was judged after the sweep (the
// verdicts of [Engine.ConfirmGone]).
func (r *Result) AddSwept(vs []SubscriptionResult) {
	for _, v := range vs {
		r.addSwept(v)
	}
	sortResults(r.Results)
}

// sortResults orders results by tenant, then subscription ID.
func sortResults(rs []SubscriptionResult) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].TenantID != rs[j].TenantID {
			return rs[i].TenantID < rs[j].TenantID
		}
		return rs[i].SubscriptionID < rs[j].SubscriptionID
	})
}

// Errors returns the results whose status is [StatusError].
func (r *Result) Errors() []SubscriptionResult {
	var out []SubscriptionResult
	for _, s := range r.Results {
		if s.Status == StatusError {
			out = append(out, s)
		}
	}
	return out
}

// Unreachable returns the IDs of the named subscriptions the identity could not
// reach at all (a Lighthouse delegation that may still be on its way).
func (r *Result) Unreachable() []string {
	var ids []string
	for _, s := range r.Results {
		if s.unreachable {
			ids = append(ids, s.SubscriptionID)
		}
	}
	return ids
}

// Transient reports whether any error verdict came from transient trouble, and the
// longest Retry-After Azure asked for among them.
func (r *Result) Transient() (bool, time.Duration) {
	var found bool
	var longest time.Duration
	for _, s := range r.Results {
		if s.Status == StatusError && s.transient {
			found = true
			if s.retryAfter > longest {
				longest = s.retryAfter
			}
		}
	}
	return found, longest
}
