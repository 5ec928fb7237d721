package trigger

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// workItemKindCheck is the kind of a sweep work item: judge a batch of one
// tenant's subscriptions and record the verdicts.
const workItemKindCheck = "check"

// maxWorkItemSubscriptions bounds the subscriptions of one work item; a
// larger tenant is split over several items. 50 subscriptions encode to
// about 8 KB, far below Service Bus's 256 KB (standard tier) message limit.
const maxWorkItemSubscriptions = pal.DefaultMaxBatch

// maxWorkItemBytes is the size a work item body must stay under (Service
// Bus standard tier: 256 KB for the whole message, headers included).
const maxWorkItemBytes = 192 << 10

// workItem is the body of a message on the sweep queue (PAL_SWEEP_QUEUE),
// JSON, the contract between the coordinator (the sweep function) and the
// workers (the sweep-check function):
//
//	{"kind": "check", "runId": "…", "item": 7, "tenantId": "…",
//	 "subscriptions": [{"id": "…", "displayName": "…", "state": "Enabled"}],
//	 "principal": {"tenantId": "…", "objectId": "…"},
//	 "link": {"action": "none", "partnerId": "1234567"}}
//
// Item numbers the run's work items from 0; the message's MessageId is
// "<runId>/<tenantId>/<item>" (see workItemMessageID), so Service Bus
// duplicate detection drops a repeated send. Scheduled retry copies carry the
// same body and a MessageId ending in "/attempt-N".
type workItem struct {
	Kind          string                 `json:"kind"`
	RunID         string                 `json:"runId"`
	Item          int                    `json:"item"`
	TenantID      string                 `json:"tenantId"`
	Subscriptions []workItemSubscription `json:"subscriptions"`
	Principal     pal.Principal          `json:"principal"`
	Link          pal.LinkResult         `json:"link"`
}

// workItemSubscription is one subscription of a work item, as the
// coordinator's listing found it.
type workItemSubscription struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	State       string `json:"state,omitempty"`
}

// newWorkItem builds the work item of one batch.
func newWorkItem(runID string, item int, principal pal.Principal, link pal.LinkResult, b pal.SweepBatch) workItem {
	w := workItem{Kind: workItemKindCheck, RunID: runID, Item: item, TenantID: b.TenantID,
		Principal: principal, Link: link, Subscriptions: make([]workItemSubscription, 0, len(b.Subscriptions))}
	for _, s := range b.Subscriptions {
		w.Subscriptions = append(w.Subscriptions, workItemSubscription{ID: s.ID, DisplayName: s.DisplayName, State: s.State})
	}
	return w
}

// Batch is the work item as the engine's batch.
func (w workItem) Batch() pal.SweepBatch {
	b := pal.SweepBatch{TenantID: w.TenantID, Subscriptions: make([]pal.Subscription, 0, len(w.Subscriptions))}
	for _, s := range w.Subscriptions {
		b.Subscriptions = append(b.Subscriptions, pal.Subscription{ID: s.ID, TenantID: w.TenantID, DisplayName: s.DisplayName, State: s.State})
	}
	return b
}

// workItemMessageID is the deterministic MessageId of a work item.
func workItemMessageID(runID, tenantID string, item int) string {
	return runID + "/" + tenantID + "/" + strconv.Itoa(item)
}

// Message is the queue message carrying w.
func (w workItem) Message() (QueueMessage, error) {
	body, err := json.Marshal(w)
	if err != nil {
		return QueueMessage{}, fmt.Errorf("work item %d of run %s: %w", w.Item, w.RunID, err)
	}
	if len(body) > maxWorkItemBytes {
		return QueueMessage{}, fmt.Errorf("work item %d of run %s is %d bytes, more than %d", w.Item, w.RunID, len(body), maxWorkItemBytes)
	}
	return QueueMessage{Body: body, MessageID: workItemMessageID(w.RunID, w.TenantID, w.Item),
		CorrelationID: w.RunID, ContentType: "application/json"}, nil
}

// decodeWorkItem reads and checks a work item body. Every problem is the
// sender's: invalid input with the field named.
func decodeWorkItem(body []byte) (workItem, error) {
	var w workItem
	bad := func(field, problem string) (workItem, error) {
		return w, &pal.Error{Code: pal.CodeInvalidInput, Message: "work item: " + field + " " + problem,
			Fields: map[string]string{field: problem}}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return bad("body", "is not a work item: "+err.Error())
	}
	switch {
	case w.Kind != workItemKindCheck:
		return bad("kind", fmt.Sprintf("is %q, want %q", w.Kind, workItemKindCheck))
	case w.RunID == "" || len(w.RunID) > 64:
		return bad("runId", "is missing or longer than 64 characters")
	case w.Item < 0:
		return bad("item", "is negative")
	case !pal.IsGUID(w.TenantID):
		return bad("tenantId", "is not a GUID")
	case len(w.Subscriptions) == 0 || len(w.Subscriptions) > maxWorkItemSubscriptions:
		return bad("subscriptions", fmt.Sprintf("must hold 1 to %d subscriptions", maxWorkItemSubscriptions))
	case !pal.IsGUID(w.Principal.TenantID) || !pal.IsGUID(w.Principal.ObjectID):
		return bad("principal", "needs a tenantId and an objectId (GUIDs)")
	}
	for _, s := range w.Subscriptions {
		if !pal.IsGUID(s.ID) {
			return bad("subscriptions", fmt.Sprintf("%q is not a subscription GUID", s.ID))
		}
	}
	return w, nil
}
