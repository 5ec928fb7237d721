package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// throttledEngine is a Lighthouse-like engine whose every batch meets
// transient trouble.
type throttledEngine struct{ trigger.Engine }

func (throttledEngine) StartSweep(context.Context, *zerolog.Logger, *pal.SweepOptions) (*pal.SweepRun, error) {
	return nil, errors.New("not in this test")
}

func (throttledEngine) JudgeBatch(context.Context, *zerolog.Logger, pal.Principal, pal.LinkResult, pal.SweepBatch, func(pal.SubscriptionResult) error) error {
	return &pal.Error{Code: pal.CodeTransient, Message: "ARM throttled"}
}

func (throttledEngine) ConfirmGone(context.Context, *zerolog.Logger, pal.LinkResult, []pal.Subscription) []pal.SubscriptionResult {
	return nil
}

// downSender is a queue whose every send fails.
type downSender struct{}

func (downSender) SendMessage(context.Context, servicebus.OutgoingMessage) error {
	return errors.New("amqp: connection refused")
}

func (downSender) ScheduleMessage(context.Context, servicebus.OutgoingMessage, time.Time) error {
	return errors.New("amqp: connection refused")
}

func (downSender) SendMessages(context.Context, []servicebus.OutgoingMessage) error {
	return errors.New("amqp: connection refused")
}

// TestSweepWorkerLastDeliveryFollowsTheSetting: the wiring gives the
// sweep-check function the sweep queue's max delivery count from
// PAL_SWEEP_MAX_DELIVERY_COUNT (Terraform sets it from the queue's
// max_delivery_count). On that delivery a work item whose retry cannot be
// scheduled is counted as failed in its run before Service Bus dead-letters
// it; before the fix the handler assumed 10, so with a queue of 5 the item
// dead-lettered uncounted and its run stayed running.
func TestSweepWorkerLastDeliveryFollowsTheSetting(t *testing.T) {
	for _, tt := range []struct {
		setting string
		last    int
	}{{"5", 5}, {"10", 10}, {"", 10}} {
		t.Run("count="+tt.setting, func(t *testing.T) {
			s, err := loadSettings(envFrom(map[string]string{envPartnerID: "1234567", envSweepMaxDelivery: tt.setting}), noHostJSON)
			if err != nil {
				t.Fatal(err)
			}
			rec := record.NewMemory()
			if err := rec.StartRun(t.Context(), record.Run{ID: "run-1", StartedAt: time.Now(), Outcome: record.OutcomeRunning, ItemsSent: 1, Listed: true}); err != nil {
				t.Fatal(err)
			}
			fns, err := functions(s, throttledEngine{}, rec, nil, downSender{}, downSender{})
			if err != nil {
				t.Fatal(err)
			}
			worker := fns[trigger.SweepCheckFunction]
			if worker == nil {
				t.Fatal("no sweep-check function with Service Bus and a Lighthouse engine")
			}
			// A work item as the coordinator sends it (docs/contracts.md, "Sweep work items").
			const tenant = "11111111-0000-4000-8000-000000000001"
			body, _ := json.Marshal(`{"kind":"check","runId":"run-1","item":0,"tenantId":"` + tenant + `",` +
				`"subscriptions":[{"id":"22222222-0000-4000-8000-000000000001"}],` +
				`"principal":{"tenantId":"33333333-0000-4000-8000-000000000001","objectId":"44444444-0000-4000-8000-000000000001"},` +
				`"link":{"action":"none","partnerId":"1234567"}}`)
			deliver := func(n int) customhandler.Result {
				id, _ := json.Marshal(fmt.Sprintf("%q", "run-1/"+tenant+"/0"))
				return worker(t.Context(), &customhandler.Invocation{ID: "w", Log: zerolog.Nop(),
					Data:     map[string]json.RawMessage{"item": body},
					Metadata: map[string]json.RawMessage{"MessageId": id, "DeliveryCount": json.RawMessage(fmt.Sprintf(`"%d"`, n))}})
			}
			if r := deliver(tt.last - 1); r.Failure == nil {
				t.Fatal("delivery before the last: got success, want a failure for redelivery")
			}
			if run, _ := rec.LastRun(t.Context()); run.ItemsFailed != 0 {
				t.Fatalf("delivery %d of %d: the item was counted as failed: %+v", tt.last-1, tt.last, run)
			}
			r := deliver(tt.last)
			run, _ := rec.LastRun(t.Context())
			if r.Failure == nil || run.ItemsFailed != 1 || run.Outcome != record.OutcomePartial || !strings.Contains(run.Detail, "last delivery") {
				t.Errorf("delivery %d of %d: got %+v and run %+v; want a failure counted in a partial run", tt.last, tt.last, r.Failure, run)
			}
		})
	}
}
